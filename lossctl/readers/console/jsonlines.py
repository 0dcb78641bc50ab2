"""One JSON object per line with a step-like key: detectron2's ``metrics.json``
(``JSONWriter``: ``{"iteration": 19, "loss_box_reg": 0.1, "lr": 0.0004, "total_loss": 1.2, ...}``),
mmdetection 2's ``*.log.json`` (``{"mode": "train", "epoch": 1, "iter": 50, "lr": 0.002,
"loss": 1.2, ...}``, the counter ``iter`` within the epoch), mmengine's ``scalars.json``
(``{"lr": ..., "loss": ..., "epoch": 1, "iter": 50, "step": 50}``) and any JSONL history.

The step is the first present of ``step``, ``global_step``, ``iteration``, ``iter``, ``it``,
``epoch`` (mmdetection 2's ``iter`` is counted within the ``epoch``: the global step is then
derived as for other epoch counters); ``"mode": "val"`` rows are prefixed ``val/``.
"""

from __future__ import annotations

import json
import math
import re

from lossctl.readers.console.base import Layout

NAME = "jsonlines"
ORDER = ["step", "global_step", "iteration", "iter", "it", "epoch"]
MARKER = re.compile(r'^\{\s*"[^"]+"\s*:')


def _numeric(doc: dict) -> list[tuple[str, float]]:
    return [(k, float(v)) for k, v in doc.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)]


def _names(doc: dict) -> dict[str, str | None] | None:
    keys = [k for k in ORDER if isinstance(doc.get(k), (int, float)) and not isinstance(doc.get(k), bool)]
    if not keys:
        return None
    mode = doc.get("mode")
    prefix = "val/" if mode in ("val", "eval", "test") else ""
    within = keys[0] == "iter" and "epoch" in keys and isinstance(mode, str)  # mmdetection 2
    out: dict[str, str | None] = {}
    for k, _ in _numeric(doc):
        if within and k == "epoch":
            out[k] = "@epoch"
        elif within and k == "iter":
            out[k] = "@batch"
        elif k == keys[0]:
            out[k] = "@step"
        elif k in ORDER:
            out[k] = "epoch" if k == "epoch" else None
        else:
            out[k] = prefix + k if prefix and not k.startswith(prefix) and k != "lr" else k
    return out


def _load(line: str) -> dict | None:
    try:
        doc = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


def parse(line: str) -> dict[str, float] | None:
    doc = _load(line)
    names = _names(doc) if doc else None
    if not names:
        return None
    return {names[k]: v for k, v in _numeric(doc) if names.get(k)}


def detect(line: str, nums) -> Layout | None:
    s = line.strip()
    if not (s.startswith('{"') and s.endswith("}")):
        return None
    doc = _load(s)
    if doc is None:
        return None
    names = _names(doc)
    if names is None:
        return Layout(NAME, tuple(None for _ in nums), kind="skip")  # a header (env_info, config)
    numeric = _numeric(doc)
    same = len(numeric) == len(nums) and all(
        float(x.group()) == v or (math.isnan(v) and math.isnan(float(x.group())))
        for x, (_, v) in zip(nums, numeric))
    if same:
        return Layout(NAME, tuple(names[k] for k, _ in numeric))
    return Layout(NAME, (), parse=parse)
