"""How each hyperparameter goes with the final loss (or return), over the runs that did not fail.

Numeric hyperparameters: Spearman's rank correlation (average ranks for ties) between the value
and the final value, with the number of runs ``n`` it is computed on; ``None`` below
``MIN_RUNS`` runs or when either side is constant. Categorical ones: the value with the best
median final value (the lowest loss, the highest return) and the one with the worst (each with
its ``n``). Runs that diverged or went NaN/Inf have no meaningful final value and are left out;
how many is reported.
"""

from __future__ import annotations

import numpy as np

from lossctl.sweep.separate import Column

MIN_RUNS = 3


def average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties sharing their mean rank (vectorised)."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    starts = np.r_[0, np.flatnonzero(xs[1:] != xs[:-1]) + 1]
    ends = np.r_[starts[1:], len(xs)]
    mean_rank = (starts + ends + 1) / 2.0  # 1-based average of positions start..end-1
    ranks = np.empty(len(x))
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


def spearman(x: np.ndarray, y: np.ndarray) -> float | None:
    if len(x) < MIN_RUNS:
        return None
    rx, ry = average_ranks(x), average_ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denom = float(np.sqrt(np.dot(rx, rx) * np.dot(ry, ry)))
    return float(np.dot(rx, ry) / denom) if denom > 0 else None


def association(col: Column, final: np.ndarray, failed: np.ndarray, higher: bool = False) -> dict:
    """The JSON-ready association of one hyperparameter with the final value (``higher``: higher
    is better, a return)."""
    use = col.known & np.isfinite(final) & ~failed
    excluded = int((col.known & failed).sum())
    out = {"hparam": col.key, "type": "numeric" if col.numeric else "category", "n": int(use.sum()),
           "excluded_failed": excluded}
    if col.numeric:
        rho = spearman(col.numbers[use], final[use])
        out["spearman"] = rho
        return out
    codes, y = col.codes[use], final[use]
    order = np.argsort(codes, kind="stable")
    cs, ys = codes[order], y[order]
    starts = np.r_[0, np.flatnonzero(cs[1:] != cs[:-1]) + 1] if len(cs) else np.array([], dtype=np.int64)
    meds = [(float(np.median(g)), col.labels[int(cs[i])], int(len(g)))
            for i, g in zip(starts, np.split(ys, starts[1:]))]
    if len(meds) < 2:
        out["best"] = out["worst"] = None
        return out
    meds.sort(reverse=higher)
    out["best"] = {"value": meds[0][1], "median_final": meds[0][0], "n": meds[0][2]}
    out["worst"] = {"value": meds[-1][1], "median_final": meds[-1][0], "n": meds[-1][2]}
    return out
