"""The common long frame every reader returns (DESIGN.md section 1).

One row per logged point: ``run, metric, step, wall_time, value``. Readers build it with
:func:`make_frame`; re-logged steps after a restart are resolved once, here, by
:func:`drop_superseded`, so every format follows TensorBoard's rule the same way.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

COLUMNS = ["run", "metric", "step", "wall_time", "value"]


def make_frame(metric, step, wall_time, value, run: str = ".", copy: bool = True) -> pd.DataFrame:
    """Build a frame with the contract's dtypes from array-likes of equal length. ``copy=False``:
    the frame holds the arrays given (the caller's own, not used again) without copying them
    into one block (pandas' consolidation of 8M points costs about a second)."""
    step = np.asarray(step, dtype=np.int64)
    n = len(step)
    wall = np.full(n, np.nan) if wall_time is None else np.asarray(wall_time, dtype=np.float64)
    metric = pd.Categorical(metric) if not isinstance(metric, pd.Categorical) else metric
    return pd.DataFrame(
        {
            "run": constant_category(run, n),
            "metric": metric,
            "step": step,
            "wall_time": wall,
            "value": np.asarray(value, dtype=np.float64),
        },
        copy=None if copy else False,
    )


def constant_category(value: str, n: int) -> pd.Categorical:
    """``n`` copies of one label, built from codes (a Python list of n strings would cost more
    than reading the file they came from) and a ready dtype (pandas validates categories
    given as a list once more on every call: half a millisecond a run in a sweep)."""
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), dtype=_one_label(value))


@functools.lru_cache(maxsize=64)
def _one_label(value: str) -> pd.CategoricalDtype:
    return pd.CategoricalDtype([value])


def empty_frame(run: str = ".") -> pd.DataFrame:
    return make_frame([], [], [], [], run)


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate frames, keeping categorical columns categorical."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_frame()
    if len(frames) == 1 and all(isinstance(frames[0][c].dtype, pd.CategoricalDtype) for c in ("run", "metric")):
        return frames[0].reset_index(drop=True)
    out = pd.concat(frames, ignore_index=True)
    for col in ("run", "metric"):
        out[col] = out[col].astype("category")
    return out


def drop_superseded(frame: pd.DataFrame, purges: list[tuple[int, int]] | None = None):
    """Apply the restart rule; return ``(frame, points_replaced)``.

    Rows must be in the order they were written. A point is superseded when a *later* point of
    the same metric has a step at or below its own (training resumed from an older checkpoint
    and logged those steps again), or when a later ``SessionLog.START`` at step ``s`` (given as
    ``purges``: ``(row_position, s)``) follows it and its step is ``>= s``.
    """
    n = len(frame)
    if n == 0:
        return frame, 0
    steps = frame["step"].to_numpy()
    codes = frame["metric"].cat.codes.to_numpy()
    keep = np.ones(n, dtype=bool)
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    for idx in np.split(order, bounds):
        s = steps[idx]
        if len(s) < 2 or np.all(s[1:] > s[:-1]):
            continue  # strictly increasing: nothing re-logged (the common case, O(n) check)
        later_min = np.minimum.accumulate(s[::-1])[::-1]
        later_min = np.append(later_min[1:], np.iinfo(np.int64).max)
        keep[idx[s >= later_min]] = False
    for pos, start in purges or []:
        keep[:pos] &= ~(steps[:pos] >= start)
    dropped = int(n - keep.sum())
    if dropped:
        frame = frame[keep].reset_index(drop=True)
    return frame, dropped
