"""Shared by the CSV and JSON readers: which columns index the points, and how cells become
numbers (an empty or ``NA`` cell is *missing*, ``nan``/``inf`` are *values*, text is *bad*)."""

from __future__ import annotations

import numpy as np
import pandas as pd

# in order of preference: the first present is the step axis
STEP_COLUMNS = ["step", "global_step", "Step", "trainer/global_step", "_step", "iteration", "iter",
                "Iteration", "epoch", "Epoch"]
WALL_COLUMNS = ["wall_time", "Wall time", "timestamp", "_timestamp", "time", "created_at"]
MISSING = {"", "na", "n/a", "null", "none", "nat", "<na>"}
NONFINITE = {"nan", "-nan", "+nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}


def to_numbers(cells: pd.Series):
    """Return ``(values, missing_mask, bad_mask)`` for a column of cells (strings or numbers)."""
    if cells.dtype.kind in "fiub":  # parsed numbers: NaN here is a logged NaN, not a gap
        values = cells.to_numpy(dtype=np.float64)
        return values, np.zeros(len(values), dtype=bool), np.zeros(len(values), dtype=bool)
    if cells.dtype == object:  # JSON: None is a gap, float('nan') a logged value
        cells = cells.map(lambda x: "" if x is None else x if isinstance(x, str) else repr(x))
    text = cells.astype(str).str.strip()
    lower = text.str.lower()
    missing = (lower.isin(MISSING) | cells.isna()).to_numpy()
    values = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(values) & ~missing & ~lower.isin(NONFINITE).to_numpy()
    return values, missing, bad


def step_numbers(cells: pd.Series, name: str):
    """Return ``(steps, ok_mask, problem or None)``: a step must be a finite number within int64
    (``1e30`` or ``inf`` would otherwise wrap to a wrong step silently)."""
    steps = to_numbers(cells)[0]
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(steps) & (np.abs(steps) < 2.0**63)
    n = int((~ok).sum())
    problem = f"{n} rows without a usable {name!r} (empty, text, non-finite or beyond int64); skipped" if n else None
    return steps, ok, problem


def pick(columns, candidates) -> str | None:
    present = set(columns)
    return next((c for c in candidates if c in present), None)


def wide_to_long(table: pd.DataFrame, step_col: str | None, wall_col: str | None, where: str):
    """Melt a wide table (one column per metric) into frame arrays; return them and warnings."""
    warnings = []
    n = len(table)
    if step_col is None:
        steps, step_ok = table.index.to_numpy(dtype=np.float64), np.ones(n, dtype=bool)  # row numbers
    else:
        steps, step_ok, problem = step_numbers(table[step_col], step_col)
        if problem:
            warnings.append(f"{where}: {problem}")
    walls = to_numbers(table[wall_col])[0] if wall_col else np.full(n, np.nan)
    metrics, all_steps, all_walls, all_values = [], [], [], []
    for col in table.columns:
        if col in (step_col, wall_col) or col in STEP_COLUMNS:
            continue
        values, missing, bad = to_numbers(table[col])
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            warnings.append(f"{where}: column {col!r} has {int(bad.sum())} non-numeric cells "
                            f"(first {str(table[col].iloc[first])[:20]!r} in data row {table.index[first] + 1}); "
                            "skipped")
        keep = ~missing & ~bad & step_ok
        if not keep.any():
            continue
        k = int(keep.sum())
        metrics.append(np.full(k, str(col), dtype=object))
        all_steps.append(steps[keep])
        all_walls.append(walls[keep])
        all_values.append(values[keep])
    if not metrics:
        return None, warnings
    cat = np.concatenate(metrics)
    return (cat, np.concatenate(all_steps).astype(np.int64), np.concatenate(all_walls),
            np.concatenate(all_values)), warnings
