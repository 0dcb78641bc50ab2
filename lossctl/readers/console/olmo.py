"""AllenAI OLMo (``olmo/train.py``, ``Trainer.log_metrics_to_console``) and OLMo-core
(``ConsoleLoggerCallback.log_metrics``, ``EvaluatorCallback``): one log record per step, a step
line and then one indented ``name=value`` line per metric, behind the logging prefix
``%(asctime)s\\t%(hostname)s:%(local_rank)s\\t%(name)s:%(lineno)s\\t%(levelname)s\\t``:

    2025-12-07 17:31:02.824	node-02:0	olmo.train:979	INFO	[step=1/7630,epoch=0]
        train/CrossEntropyLoss=11.28
        train/Perplexity=79,551
    [step=10/1000,epoch=0,eta=1h2m3s]                   (OLMo-core; ``/???`` without max steps)
        train/CE loss=3.21
        throughput/total tokens=1.311B

Each metric line is a point at the step printed above it (evaluations, ``piqa`` then
``    eval/downstream/piqa_len_norm=0.6000``, at the step they follow; ``Pre-train system
metrics`` at 0, where OLMo logs them to W&B). Values are ``format_float``'s: ``{int(v):,d}`` past 1000 (thousands commas),
``{v:.2E}`` or ``str(v)`` below 1e-4, and in OLMo-core ``1.311B`` (B, T, P, E) past 1e9. The
thousands groups are separate numbers to the scanner; :func:`resolve` joins them. A metric line
alone (``    lr=0.001`` in some other script's config dump) is too plain to tell the tool: it
is read only in a log that has OLMo's step lines.
"""

from __future__ import annotations

import re

import numpy as np

from lossctl.readers.console.base import NUMBER, Layout

NAME = "olmo"
SEES_PREFIX = True  # a metric line is indented by exactly four spaces, which the prefix holds
STEP = re.compile(r"^\[step=\d+/(?:\d+|\?\?\?),epoch=\d+(?:,eta=[^\]\s]*)?\]\s*$")
EVAL_PROGRESS = re.compile(r"^\[(?:eval_step=\d+/\d+|eval=[^,\]]+,step=\d+(?:/\d+)?)\]\s*$")
VALUE = rf"-?\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?(?=[BTPE]?\s*$)|{NUMBER}"
METRIC = re.compile(rf"^([^=\s][^=]*)=({VALUE})([BTPE]?)\s*$")
INDENT = re.compile(r"(?:^|\S)    $")
SCALE = {"B": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}
PART = "\x00,"  # slot name suffix of a thousands group after the first
# OLMo logs the system metrics printed before training to W&B at step 0; a fresh training in an
# appended log starts there (and is told from the one before it)
PRE_TRAIN = re.compile(r"^Pre-train system metrics\s*$")
MARKER = re.compile(r"^\[step=\d+/")


def _step_zero(_line: str) -> dict[str, float]:
    return {"@step": 0.0}


def detect(line: str, nums, prefix: str = "") -> Layout | None:
    if PRE_TRAIN.match(line):
        return Layout(NAME, (None,) * len(nums), parse=_step_zero)
    if STEP.match(line):
        return Layout(NAME, ("@step",) + (None,) * (len(nums) - 1)) if nums else None
    if EVAL_PROGRESS.match(line):
        return Layout(NAME, (None,) * len(nums), kind="skip")
    m = METRIC.match(line)
    if not m or not INDENT.search(prefix):
        return None
    name = m.group(1).rstrip()
    value = [x for x in nums if x.start() >= m.start(2)]
    if not value or value[0].start() != m.start(2):
        return None
    parts = [name] + [f"{name}{PART}{i}" for i in range(1, len(value))]
    where = dict(zip((x.start() for x in value), parts))
    names = {}
    if len(parts) > 1 or m.group(3):
        names = {"parts": parts, "scale": SCALE.get(m.group(3), 1.0)}
    return Layout(NAME, tuple(where.get(x.start()) for x in nums), kind="carry_step", names=names,
                  activates=False)


def resolve(groups: list) -> list:
    """Values printed in thousands groups (``79,551`` read as 79 and 551) or with a scale letter
    (``1.311B``) made whole, a column at a time."""
    for g in groups:
        parts, scale = g.layout.names.get("parts"), g.layout.names.get("scale", 1.0)
        if not parts or parts[0] not in g.metrics:
            continue
        v = g.metrics[parts[0]]
        with np.errstate(over="ignore", invalid="ignore"):  # 999,999,... past float64: inf, as printed
            for p in parts[1:]:
                rest = g.metrics.pop(p, None)
                g.present.pop(p, None)
                if rest is not None:
                    v = v * 1000 + np.copysign(rest, v)
            g.metrics[parts[0]] = v * scale
    return groups
