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
    if not isinstance(metric, pd.Categorical):
        metric = pd.Categorical(metric)
    elif copy:
        metric = metric.copy()
    arrays = [constant_category(run, n), metric, step, wall, np.asarray(value, dtype=np.float64)]
    if copy and _from_arrays is not None and all(len(a) == n for a in arrays):
        # the DataFrame the constructor below makes (numpy columns copied into consolidated
        # blocks, a RangeIndex), without its checks of each column: 15 us instead of 55, once
        # per file (tests/test_frame_build.py compares the two)
        return _from_arrays(arrays, columns=_COLUMNS, index=pd.RangeIndex(n), verify_integrity=False)
    return pd.DataFrame(dict(zip(COLUMNS, arrays)), copy=None if copy else False)


_from_arrays = getattr(pd.DataFrame, "_from_arrays", None)  # private: None makes the public path
_COLUMNS = pd.Index(COLUMNS)


def constant_category(value: str, n: int) -> pd.Categorical:
    """``n`` copies of one label, built from codes (a Python list of n strings would cost more
    than reading the file they came from) and a ready dtype (pandas validates categories
    given as a list once more on every call: half a millisecond a run in a sweep)."""
    return from_codes(np.zeros(n, dtype=np.int8), category_dtype([value]))


def category_dtype(categories: list[str]) -> pd.CategoricalDtype:
    """The unordered dtype of ``categories``, which the caller knows are distinct strings (sorted
    metric names, one run's label). A sweep's runs log the same metrics, so the dtypes are
    kept (a dtype is immutable; frames share them as pandas' own operations do): building one
    costs about 15 us, pandas' checks for nulls and duplicates as much again."""
    return _category_dtype(tuple(categories))


@functools.lru_cache(maxsize=256)
def _category_dtype(categories: tuple[str, ...]) -> pd.CategoricalDtype:
    fast = getattr(pd.CategoricalDtype, "_from_fastpath", None)  # private: skips those checks
    return pd.CategoricalDtype(list(categories)) if fast is None else fast(list(categories), False)


def from_codes(codes: np.ndarray, dtype: pd.CategoricalDtype) -> pd.Categorical:
    """``Categorical.from_codes`` of codes the caller made in range, without checking them again
    (pandas >= 2.1)."""
    try:
        return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)
    except TypeError:  # pandas 2.0: no validate
        return pd.Categorical.from_codes(codes, dtype=dtype)


def empty_frame(run: str = ".") -> pd.DataFrame:
    return make_frame([], [], [], [], run)


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate frames, keeping categorical columns categorical."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_frame()
    if len(frames) == 1 and all(isinstance(column(frames[0], c).dtype, pd.CategoricalDtype) for c in ("run", "metric")):
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
    steps = column(frame, "step")
    codes = column(frame, "metric").codes
    order = np.argsort(codes, kind="stable")
    in_order, steps_in_order = codes[order], steps[order]
    same = in_order[1:] == in_order[:-1]
    if not purges and not np.any(same & (steps_in_order[1:] <= steps_in_order[:-1])):
        return frame, 0  # every metric's steps strictly increase: nothing re-logged (the common case)
    keep = np.ones(n, dtype=bool)
    bounds = np.flatnonzero(~same) + 1
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


def column(frame: pd.DataFrame, name: str):
    """The array behind one column (numpy, or a Categorical), without the Series ``frame[name]``
    builds (6 us each time, a few times a run): pandas' private ``_get_column_array`` where
    present."""
    get = getattr(frame, "_get_column_array", None)
    at = frame.columns.get_loc(name)
    if get is None or not isinstance(at, int):
        series = frame[name]
        return series.array if isinstance(series.dtype, pd.CategoricalDtype) else series.to_numpy()
    return get(at)
