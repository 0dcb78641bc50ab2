"""One JSON object per line with a step-like key: detectron2's ``metrics.json``
(``JSONWriter``: ``{"iteration": 19, "loss_box_reg": 0.1, "lr": 0.0004, "total_loss": 1.2, ...}``),
mmcv's ``*.log.json`` (mmdetection 2: ``{"mode": "train", "epoch": 1, "iter": 50, "lr": 0.02,
"memory": 3843, "data_time": 0.05, "loss": 1.2, "time": 0.5}``), mmengine's ``scalars.json``
(``{"lr": 0.02, "data_time": 0.01, "loss": 1.2, "time": 0.3, "epoch": 1, "iter": 50,
"memory": 3349, "step": 50}``), LLaMA-Factory's ``trainer_log.jsonl`` (``LogCallback``:
``{"current_steps": 10, "total_steps": 500, "loss": 2.9, "lr": 5e-05, "epoch": 0.04, "percentage":
2.0, "elapsed_time": "0:00:38", ...}``, whose ``total_steps`` and ``percentage`` are progress, not
metrics) and any JSONL history.

The step is the first present of ``step``, ``global_step``, ``current_steps``, ``iteration``,
``iter``, ``it``, ``epoch``. mmcv counts ``iter`` within the ``epoch`` (a line with a ``mode``): the global step is
derived as for other epoch counters, the iterations per epoch being the largest ``iter`` logged
(when mmcv's ``ignore_last`` leaves an epoch's last iterations unlogged, later epochs' steps are
short by those; mmcv's ``IterBasedRunner``, mmsegmentation 0.x, logs a global ``iter`` in the same
shape, which only the whole file tells apart: the scanner takes ``iter`` as the step when it never
falls back as the epoch rises).
Evaluation lines are placed at the step of the training line before them, their
metrics prefixed ``val/`` unless their name already says validation, so that ``val/loss`` pairs
with ``loss``: mmcv's ``"mode": "val"`` lines (their ``iter`` is the size of the validation
loader, not a step) and mmengine's evaluation lines (``LoggerHook.after_val_epoch``: the metrics,
then ``data_time`` and ``time``, then ``step``, which is the epoch in epoch-based loops; no ``iter``,
which every training line carries, and no loss). An evaluation line's learning rate is the
training line's again and is dropped.
"""

from __future__ import annotations

import json
import math
import re

from lossctl.readers.console.base import Layout
from lossctl.roles import VAL_WORDS, is_loss_like, words

NAME = "jsonlines"
ORDER = ["step", "global_step", "current_steps", "iteration", "iter", "it", "epoch"]
PROGRESS = {"current_steps": ("total_steps", "percentage")}  # a counter's companions: not metrics
MARKER = re.compile(r'^(?:json_stats: )?\{\s*"[^"]+"\s*:')
EVAL_MODES = ("val", "eval", "test")
MMENGINE_EVAL_TAIL = ["data_time", "time", "step"]  # LogProcessor.get_log_after_epoch + add_scalars


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _numeric(doc: dict) -> list[tuple[str, float]]:
    return [(k, float(v)) for k, v in doc.items() if _number(v)]


def _evaluation(doc: dict, counters: list[str]) -> bool:
    """An evaluation result rather than a training line: mmcv's ``mode``, or mmengine's shape
    (without a loss: a hand-written log of ``loss, data_time, time, step`` stays training lines)."""
    if doc.get("mode") in EVAL_MODES:
        return True
    return (counters == ["step"] and [k.rsplit("/", 1)[-1] for k in list(doc)[-3:]] == MMENGINE_EVAL_TAIL
            and not any(is_loss_like(k) for k in doc))


def val_name(key: str) -> str:
    return key if VAL_WORDS & set(words(key)) else "val/" + key


def _names(doc: dict) -> tuple[dict[str, str | None], bool] | None:
    """Each numeric key's slot or metric name, and whether the line is an evaluation result."""
    counters = [k for k in ORDER if _number(doc.get(k))]
    if not counters:
        return None
    if _evaluation(doc, counters):
        return {k: None if k in ORDER or k == "lr" else val_name(k) for k, _ in _numeric(doc)}, True
    within = counters[0] == "iter" and "epoch" in counters and isinstance(doc.get("mode"), str)  # mmcv
    out: dict[str, str | None] = {}
    progress = PROGRESS.get(counters[0], ())
    losses = [k for k in doc if is_loss_like(k)]
    held_out = losses and all(VAL_WORDS & set(words(k)) for k in losses)  # its epoch is the training line's
    for k, _ in _numeric(doc):
        if k in progress:
            out[k] = None
        elif within and k in ("epoch", "iter"):
            out[k] = "@epoch" if k == "epoch" else "@batch"
        elif k == counters[0]:
            out[k] = "@step"
        elif k in ORDER:
            out[k] = "epoch" if k == "epoch" and not held_out else None
        else:
            out[k] = k
    return out, False


LABELLED = re.compile(r'^json_stats: (\{".*\})\s*$')  # Detectron's and PySlowFast's logged stats
FRACTION = re.compile(r"^(\d+)/(\d+)$")  # PySlowFast's "epoch": "3/20", "iter": "10/316"
SKIP_TYPES = {"val_iter", "test_iter", "train_epoch"}  # PySlowFast: an evaluation's progress; epoch means


def _load(line: str) -> dict | None:
    """The object of a line (after a ``json_stats: `` label), with counters printed as ``n/total``
    strings made numbers (``iter`` then counts within the epoch, as ``"mode"`` says for mmcv)."""
    if m := LABELLED.match(line.strip()):
        line = m.group(1)
    try:
        doc = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict):
        return None
    for k in ("epoch", "iter"):
        if isinstance(doc.get(k), str) and (f := FRACTION.match(doc[k])):
            doc[k] = int(f.group(1))
            doc.setdefault("mode", "train")  # a counter of a total: within its epoch
    if isinstance(doc.get("_type"), str):  # PySlowFast: train_iter_, val_epoch, ...
        doc["mode"] = "val" if doc["_type"].startswith("val") else "train"
    return doc


def parse(line: str) -> dict[str, float] | None:
    doc = _load(line)
    got = _names(doc) if doc else None
    if not got:
        return None
    return {got[0][k]: v for k, v in _numeric(doc) if got[0].get(k)}


def detect(line: str, nums) -> Layout | None:
    s = line.strip()
    if not (s.startswith('{"') and s.endswith("}")) and not LABELLED.match(s):
        return None
    doc = _load(s)
    if doc is None:
        return None
    if doc.get("_type") in SKIP_TYPES:
        return Layout(NAME, tuple(None for _ in nums), kind="skip")
    got = _names(doc)
    if got is None:
        return Layout(NAME, tuple(None for _ in nums), kind="skip")  # a header (env_info, config)
    names, evaluation = got
    kind = "carry_step" if evaluation else "record"
    numeric = _numeric(doc)
    same = len(numeric) == len(nums) and all(
        float(x.group()) == v or (math.isnan(v) and math.isnan(float(x.group())))
        for x, (_, v) in zip(nums, numeric))
    if same:
        return Layout(NAME, tuple(names[k] for k, _ in numeric), kind=kind)
    return Layout(NAME, (), parse=parse, kind=kind)
