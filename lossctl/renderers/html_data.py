"""The curves as the HTML report carries them: reduced for display without losing what matters,
packed as base64 typed arrays (numpy only; no plotting library here).

A series longer than twice the column budget keeps, per display column, its lowest and highest
finite point (so a spike is never averaged away), the first non-finite point (the line breaks
there), the series' first and last point and the points nearest to the steps that must stay
(a finding's onset and end). For TensorBoard's smoothing it also carries each column's mean
and count: the page smooths those with the weight ``w**count``, which is TensorBoard's EMA on
the curve re-logged at the display resolution. Non-finite values are also listed as step
ranges so the page can mark them.
"""

from __future__ import annotations

import base64

import numpy as np

MAX_NONFINITE_RANGES = 200  # per series; more are merged per display column
TOTAL_COLUMNS = 200_000  # display columns shared by the dense series of one page
MIN_COLUMNS, MAX_COLUMNS = 500, 4000


def columns_for(n_dense: int) -> int:
    """Display columns per dense series so a page of ``n_dense`` of them stays a few MB."""
    return int(np.clip(TOTAL_COLUMNS // max(n_dense, 1), MIN_COLUMNS, MAX_COLUMNS))


def pack(a: np.ndarray, kind: str) -> dict:
    """``{"t": type, "b": base64}`` of ``a`` as a little-endian typed array the page decodes."""
    a = np.ascontiguousarray(a, dtype={"f4": "<f4", "f8": "<f8", "i4": "<i4", "u1": "u1", "u2": "<u2",
                                        "u4": "<u4"}[kind])
    return {"t": kind, "b": base64.b64encode(a.tobytes()).decode("ascii")}


def _step_kind(steps: np.ndarray) -> str:
    return "i4" if len(steps) == 0 or (steps.min() >= -(2**31) and steps.max() < 2**31) else "f8"


def _count_kind(counts: np.ndarray) -> str:
    top = int(counts.max()) if len(counts) else 0
    return "u1" if top < 2**8 else "u2" if top < 2**16 else "u4"


def nonfinite_ranges(steps: np.ndarray, values: np.ndarray, lo: int, hi: int, cols: int) -> list[list]:
    """``[[first_step, last_step, count, what]]`` for consecutive non-finite points (what: nan,
    inf, -inf, or mixed); merged per display column when there are too many."""
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad) == 0:
        return []
    what = np.where(np.isnan(values[bad]), 0, np.where(values[bad] > 0, 1, 2))
    # a new range where the index jumps, or the kind changes
    if len(bad) > MAX_NONFINITE_RANGES * 4:
        col = (steps[bad] - lo) * cols // max(hi - lo + 1, 1)
        brk = np.flatnonzero(np.diff(col) != 0) + 1
    else:
        brk = np.flatnonzero((np.diff(bad) != 1) | (np.diff(what) != 0)) + 1
    names = ("nan", "inf", "-inf")
    out = []
    for seg_idx, seg_what in zip(np.split(bad, brk), np.split(what, brk)):
        kinds = set(seg_what.tolist())
        out.append([int(steps[seg_idx[0]]), int(steps[seg_idx[-1]]), len(seg_idx),
                    names[kinds.pop()] if len(kinds) == 1 else "mixed"])
    return out


def _first_per_segment(mask: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """Index of the first True of ``mask`` in each segment that has one."""
    idx = np.flatnonzero(mask)
    s = seg[idx]
    return idx[np.r_[True, s[1:] != s[:-1]]] if len(idx) else idx


def extremes(steps: np.ndarray, values: np.ndarray, cols: int, keep_steps=(), lo=None, hi=None):
    """Indices to draw a long series at ``cols`` columns without hiding anything: per column the
    lowest and highest finite point and the first non-finite one, the first and last point, and
    the points at ``keep_steps``. Also ``(column, count, mean)`` of each column's finite points.
    ``steps`` must be sorted (a series' steps are); O(n), no sort."""
    n = len(steps)
    lo = int(steps[0]) if lo is None else lo
    hi = int(steps[-1]) if hi is None else hi
    col = np.minimum((steps - lo) * cols // max(hi - lo + 1, 1), cols - 1)
    starts = np.flatnonzero(np.r_[True, col[1:] != col[:-1]])
    seg = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, n]))
    fin = np.isfinite(values)
    vmin = np.where(fin, values, np.inf)
    vmax = np.where(fin, values, -np.inf)
    mins = np.minimum.reduceat(vmin, starts)
    maxs = np.maximum.reduceat(vmax, starts)
    keep = [np.array([0, n - 1]),
            _first_per_segment(fin & (vmin == mins[seg]), seg),
            _first_per_segment(fin & (vmax == maxs[seg]), seg),
            _first_per_segment(~fin, seg)]  # the first non-finite point of a column: the line breaks there
    counts = np.add.reduceat(fin.astype(np.int64), starts)
    sums = np.add.reduceat(np.where(fin, values, 0.0), starts)
    have = counts > 0
    means = (col[starts][have], counts[have], sums[have] / counts[have]) if have.any() else None
    if len(keep_steps):
        ks = np.searchsorted(steps, np.asarray(sorted(keep_steps), dtype=np.int64))
        keep.append(np.clip(ks, 0, n - 1))
    idx = np.sort(np.concatenate(keep))
    return idx[np.r_[True, idx[1:] != idx[:-1]]], means


def reduce(steps: np.ndarray, values: np.ndarray, cols: int, keep_steps=()) -> dict:
    """The series for the page: all points when short, else the column extremes (see module)."""
    steps = np.asarray(steps, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    n = len(steps)
    out: dict = {"n": n}
    if n == 0:
        out["x"], out["y"] = pack(steps, "i4"), pack(values, "f4")
        return out
    lo, hi = int(steps[0]), int(steps[-1])
    bad = nonfinite_ranges(steps, values, lo, hi, cols)
    if bad:
        out["bad"] = bad
    if n <= 2 * cols:
        out["x"], out["y"] = pack(steps, _step_kind(steps)), pack(values, "f4")
        return out
    idx, means = extremes(steps, values, cols, keep_steps, lo, hi)
    if means is not None:
        ucol, counts, mean = means
        out["sc"] = pack(ucol, "u2" if cols < 2**16 else "u4")
        out["sn"] = pack(counts, _count_kind(counts))
        out["sy"] = pack(mean, "f4")
        out["lo"], out["hi"], out["cols"] = lo, hi, cols
    out["x"], out["y"] = pack(steps[idx], _step_kind(steps[idx])), pack(values[idx], "f4")
    return out
