"""The quality metrics a run logs beside its losses (accuracy, IoU, F1, AUC, BLEU, perplexity),
read as evidence for or against a loss finding: a model whose accuracy keeps improving is
learning, whatever its loss curve suggests."""

from __future__ import annotations

import numpy as np

from lossctl.detectors.base import RunView
from lossctl.roles import VAL_WORDS, direction, is_loss_like, words


def quality_trend(run: RunView, start: int, end: int, like: str | None = None) -> dict | None:
    """The quality metric that improves most over steps ``start``..``end``: its name, its value
    at either end (the median of the first and last third of its points there) and its relative
    improvement in its own direction; None when the run logs no quality metric with 3 or more
    finite points in the span. ``like``: a validation loss; only the held-out metrics sharing
    most name words with it are candidates (``val_loss`` -> ``val_accuracy``, ``eval_g0_loss``
    -> ``eval_g0_f1``, not another split's)."""
    best = None
    names = [n for n in run.series if direction(n) is not None and not is_loss_like(n)]
    if like is not None:
        mine = set(words(like))
        overlap = {n: len(mine & set(words(n))) for n in names if VAL_WORDS & set(words(n))}
        top = max(overlap.values(), default=0)
        names = [n for n, k in overlap.items() if k == top]
    for name in names:
        s = run.series[name]
        d = direction(name)
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
