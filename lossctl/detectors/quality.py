"""The quality metrics a run logs beside its losses (accuracy, IoU, F1, AUC, BLEU, perplexity),
read as evidence for or against a loss finding: a model whose accuracy keeps improving is
learning, whatever its loss curve suggests."""

from __future__ import annotations

import numpy as np

from lossctl.detectors.base import RunView
from lossctl.roles import direction, is_loss_like


def quality_trend(run: RunView, start: int, end: int) -> dict | None:
    """The quality metric that improves most over steps ``start``..``end``: its name, its value
    at either end (the median of the first and last third of its points there) and its relative
    improvement in its own direction; None when the run logs no quality metric with 3 or more
    finite points in the span."""
    best = None
    for name, s in run.series.items():
        d = direction(name)
        if d is None or is_loss_like(name):
            continue
        ok = np.isfinite(s.values) & (s.steps >= start) & (s.steps <= end)
        v = s.values[ok]
        if len(v) < 3:
            continue
        k = max(1, len(v) // 3)
        first, last = float(np.median(v[:k])), float(np.median(v[-k:]))
        if first == 0:
            continue
        gain = (last - first) / abs(first) * (1 if d == "higher" else -1)
        if best is None or gain > best["quality_gain"]:
            best = {"quality_metric": name, "quality_first": first, "quality_last": last,
                    "quality_gain": round(gain, 4)}
    return best
