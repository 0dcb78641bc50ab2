"""Shared by the CSV and JSON readers: which columns index the points, and how cells become
numbers (an empty or ``NA`` cell is *missing*, ``nan``/``inf`` are *values*, text is *bad*).

Two ways in, one result. The fast path hands over columns a C parser already turned into
float64 (:class:`Numbers`: values and which cells were missing); every other column goes
through :func:`to_numbers`, the tolerant path for text cells. Both give the same
``(values, missing, bad)`` for the same cells (tests/test_readers_fastpath.py checks it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from lossctl.frame import category_dtype, from_codes

# in order of preference: the first present is the step axis
STEP_COLUMNS = ["step", "global_step", "Step", "trainer/global_step", "_step",
                # an agent's progress: stable-baselines3's and OpenAI baselines' progress.csv, RLlib's
                "time/total_timesteps", "total_timesteps", "misc/total_timesteps", "timesteps_total",
                "iteration", "iter", "Iteration", "epoch", "Epoch"]
WALL_COLUMNS = ["wall_time", "Wall time", "timestamp", "_timestamp", "time", "created_at"]
MISSING = {"", "na", "n/a", "null", "none", "nat", "<na>"}
NONFINITE = {"nan", "-nan", "+nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}


class Numbers(NamedTuple):
    """A column already parsed to float64 by a fast path; ``missing`` marks empty cells (None:
    no cell was missing). NaN in ``values`` where not missing is a logged NaN."""

    values: np.ndarray
    missing: np.ndarray | None = None


def numbers_of(cells) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(values, missing_mask, bad_mask)`` of a :class:`Numbers` or a column of cells."""
    if isinstance(cells, Numbers):
        n = len(cells.values)
        missing = np.zeros(n, dtype=bool) if cells.missing is None else cells.missing
        return cells.values, missing, np.zeros(n, dtype=bool)
    return to_numbers(cells)


def to_numbers(cells: pd.Series):
    """Return ``(values, missing_mask, bad_mask)`` for a column of cells (strings or numbers)."""
    if cells.dtype.kind in "fiub":  # parsed numbers: NaN here is a logged NaN, not a gap
        values = cells.to_numpy(dtype=np.float64)
        return values, np.zeros(len(values), dtype=bool), np.zeros(len(values), dtype=bool)
    if cells.dtype == object:  # JSON: None is a gap, float('nan') a logged value
        cells = cells.map(lambda x: "" if x is None else x if isinstance(x, str) else repr(x))
    text = cells.astype(str)
    n = len(text)
    # Most cells of a column are plain numbers: parse them all at once, then look closer only
    # at the cells that did not parse (missing, nan/inf spellings, padded or bad text).
    values = _numeric(text).copy()
    missing, bad = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    redo = np.flatnonzero(np.isnan(values))
    if len(redo):
        sub = text.iloc[redo].str.strip()
        lower = sub.str.lower()
        gap = (lower.isin(MISSING) | cells.iloc[redo].isna()).to_numpy()
        again = _numeric(sub.where(~gap))
        values[redo] = again
        missing[redo] = gap
        bad[redo] = np.isnan(again) & ~gap & ~lower.isin(NONFINITE).to_numpy()
    return values, missing, bad


def _numeric(text: pd.Series) -> np.ndarray:
    """float64 of text cells, NaN where a cell is not a number (nor a spelling of NaN/inf)."""
    return pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def step_numbers(cells, name: str):
    """Return ``(steps, ok_mask, problem or None)``: a step must be a finite number within int64
    (``1e30`` or ``inf`` would otherwise wrap to a wrong step silently)."""
    steps = numbers_of(cells)[0]
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(steps) & (np.abs(steps) < 2.0**63)
    n = int((~ok).sum())
    problem = f"{n} rows without a usable {name!r} (empty, text, non-finite or beyond int64); skipped" if n else None
    return steps, ok, problem


def pick(columns, candidates) -> str | None:
    present = set(columns)
    return next((c for c in candidates if c in present), None)


def unique_names(names: Sequence[str]) -> list[str]:
    """Column names made unique as pandas does (``a``, ``a.1``, ...): stripping white space can
    make two of them equal (``a ,a``)."""
    seen: set[str] = set()
    out = []
    for name in names:
        new, i = name, 0
        while new in seen:
            i += 1
            new = f"{name}.{i}"
        seen.add(new)
        out.append(new)
    return out


def wide_to_long(columns: Sequence[tuple[str, object]], n: int, step_col: str | None,
                 wall_col: str | None, where: str, first_row: int = 0):
    """Melt a wide table into frame arrays; return them and warnings.

    ``columns`` are ``(name, cells)`` pairs in file order, each cells a :class:`Numbers` (fast
    path) or a pandas Series of ``n`` cells; data row ``i`` is row ``first_row + i + 1`` of
    the file. The arrays are ``(metric, step, wall, value)``, ``metric`` a Categorical built
    from codes (no array of n strings)."""
    warnings: list[str] = []
    if n == 0:
        return None, warnings
    by_name = dict(columns)
    if step_col is None:
        steps = np.arange(first_row, first_row + n, dtype=np.float64)  # row numbers
        step_ok = np.ones(n, dtype=bool)
    else:
        steps, step_ok, problem = step_numbers(by_name[step_col], step_col)
        if problem:
            warnings.append(f"{where}: {problem}")
    all_ok = bool(step_ok.all())
    walls = numbers_of(by_name[wall_col])[0] if wall_col else None
    names, keeps, parts = [], [], []
    for col, cells in columns:
        if col in (step_col, wall_col) or col in STEP_COLUMNS:
            continue
        values, missing, bad = numbers_of(cells)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            warnings.append(f"{where}: column {col!r} has {int(bad.sum())} non-numeric cells "
                            f"(first {str(cells.iloc[first])[:20]!r} in data row {first_row + first + 1}); "
                            "skipped")
            keep = ~missing & ~bad & step_ok
        elif missing.any() or not all_ok:
            keep = ~missing & step_ok
        else:
            keep = None  # every cell is a point
        if keep is not None and not keep.any():
            continue
        names.append(str(col))
        keeps.append(keep)
        parts.append(values)
    if not names:
        return None, warnings
    counts = [n if k is None else int(np.count_nonzero(k)) for k in keeps]
    categories = sorted(set(names))
    code_of = {c: i for i, c in enumerate(categories)}
    codes = np.repeat(np.array([code_of[m] for m in names], dtype=np.int32), counts)
    metric = from_codes(codes, category_dtype(categories))  # sorted(set(...)): distinct, in range

    def gather(arrays):
        return np.concatenate([a if k is None else a[k] for a, k in zip(arrays, keeps)])

    step = gather([steps] * len(names)).astype(np.int64)
    wall = None if walls is None else gather([walls] * len(names))
    return (metric, step, wall, gather(parts)), warnings
