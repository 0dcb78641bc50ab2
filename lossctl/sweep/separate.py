"""What separates the failures: for each kind of finding some runs have and others lack, the
single hyperparameter split that best separates them.

A split is a threshold for a numeric hyperparameter (``lr >= 3e-3`` on one side, ``lr <= 1e-3``
on the other: every cut between two neighbouring distinct values is tried, the kind on the
high side or on the low side) or a value set for a categorical one (``optimizer = sgd``: the
values where most runs have the kind, against the rest). Runs that do not have the
hyperparameter take no part in its split and are counted as such. Kinds found on exactly the
same runs (a run that diverged to NaN has both ``divergence`` and ``nonfinite``) are one group.

A split is **reported** only when it has enough runs behind it and holds for nearly all of
them (the thresholds below): at least ``MIN_WITH`` runs on the kind's side have the kind, at
least ``MIN_WITHOUT`` runs on the other side lack it, and the runs on the wrong side (the
*exceptions*, named in the report) number at most ``max(MAX_EXCEPTIONS, MAX_EXCEPTION_SHARE x
runs in the split)``: 1 in a sweep of up to 19 runs, 10 % beyond. Three runs a side is the
fewest for which "all of them" says more than chance: with two runs with a kind and a numeric
hyperparameter taking several values, some threshold separates them by luck alone most of
the time. A categorical hyperparameter is tried only when it has fewer distinct values than
half its runs (each value seen twice on average), so a run id or timestamp never "explains" a
failure. ``seed``-like keys (:data:`NOT_CAUSES`) are never tried: a seed changes which run
fails, not why.

Among hyperparameters the split with the fewest exceptions wins, then the one covering more
runs, then the order the hyperparameters were first seen. The search is vectorised: one sort
per numeric hyperparameter, then cumulative counts give every cut at once (O(n log n) per
hyperparameter and group, never a loop over pairs of runs).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MIN_WITH = 3
MIN_WITHOUT = 3
MAX_EXCEPTIONS = 1
MAX_EXCEPTION_SHARE = 0.10
NOT_CAUSES = {"seed", "random_seed", "rng_seed", "trial", "trial_id", "run", "run_id", "id", "version",
              "rep", "repeat", "replica", "fold", "index", "idx"}


def allowed_exceptions(n: int) -> int:
    return max(MAX_EXCEPTIONS, int(MAX_EXCEPTION_SHARE * n))


@dataclass
class Column:
    """One hyperparameter across the runs: ``known`` where a run has it; ``numbers`` (numeric) or
    ``codes`` into ``labels`` (categorical)."""

    key: str
    known: np.ndarray  # bool, per run
    numeric: bool
    numbers: np.ndarray | None = None  # float, per run (NaN where unknown)
    codes: np.ndarray | None = None  # int, per run (-1 where unknown)
    labels: list = field(default_factory=list)
    order: np.ndarray | None = None  # runs that have it, by value (numeric)


def columns(rows, keys: list[str]) -> list[Column]:
    out = []
    n = len(rows)
    for key in keys:
        vals = [r.hparams.get(key) for r in rows]
        known = np.array([v is not None for v in vals], dtype=bool)
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals if v is not None)
        if numeric:
            x = np.array([float(v) if v is not None else np.nan for v in vals], dtype=np.float64)
            known &= np.isfinite(x)
            idx = np.flatnonzero(known)
            out.append(Column(key, known, True, numbers=x, order=idx[np.argsort(x[idx], kind="stable")]))
        else:
            text = [None if v is None else str(v).lower() if isinstance(v, bool) else str(v) for v in vals]
            labels = sorted({t for t in text if t is not None})
            pos = {t: i for i, t in enumerate(labels)}
            codes = np.fromiter((pos[t] if t is not None else -1 for t in text), dtype=np.int64, count=n)
            out.append(Column(key, known, False, codes=codes, labels=labels))
    return out


@dataclass
class Split:
    key: str
    kind_side: str  # "high" / "low" (numeric) or "values" (categorical)
    threshold: float | None = None  # kind side: >= threshold (high) or <= threshold (low)
    bound: float | None = None  # the healthy side's extreme value: the bound the fix names
    values: list = field(default_factory=list)  # categorical: the kind side's values
    others: list = field(default_factory=list)  # categorical: the healthy side's values
    kind_runs: np.ndarray | None = None  # indices of runs on the kind's side
    healthy_runs: np.ndarray | None = None
    exceptions: int = 0
    covered: int = 0
    equally: list = field(default_factory=list)  # other hyperparameters that split as well


def numeric_split(col: Column, has: np.ndarray) -> Split | None:
    """The best threshold on a numeric column for the runs flagged ``has`` (None: no valid cut)."""
    order = col.order
    v = col.numbers[order]
    y = has[order]
    n = len(order)
    if n < MIN_WITH + MIN_WITHOUT:
        return None
    cuts = np.flatnonzero(v[1:] != v[:-1])  # low side = order[:cut + 1]
    if not len(cuts):
        return None
    cw = np.cumsum(y)
    total = int(cw[-1])
    low_n = cuts + 1
    low_with = cw[cuts]
    high_n = n - low_n
    high_with = total - low_with
    # kind high: exceptions are the low side's runs with it and the high side's runs without
    exc_high = low_with + (high_n - high_with)
    ok_high = (high_with >= MIN_WITH) & ((low_n - low_with) >= MIN_WITHOUT)
    exc_low = (low_n - low_with) + high_with
    ok_low = (low_with >= MIN_WITH) & ((high_n - high_with) >= MIN_WITHOUT)
    big = n + 1
    e_high = np.where(ok_high, exc_high, big)
    e_low = np.where(ok_low, exc_low, big)
    ih, il = int(np.argmin(e_high)), int(np.argmin(e_low))
    if min(e_high[ih], e_low[il]) >= big:
        return None
    if e_high[ih] <= e_low[il]:
        c, side, exc = cuts[ih], "high", int(e_high[ih])
        kind, healthy = order[c + 1:], order[:c + 1]
        threshold, bound = float(v[c + 1]), float(v[c])
    else:
        c, side, exc = cuts[il], "low", int(e_low[il])
        kind, healthy = order[:c + 1], order[c + 1:]
        threshold, bound = float(v[c]), float(v[c + 1])
    return Split(col.key, side, threshold=threshold, bound=bound, kind_runs=kind, healthy_runs=healthy,
                 exceptions=exc, covered=n)


def category_split(col: Column, has: np.ndarray) -> Split | None:
    """The best value set on a categorical column: the values where most runs have the kind."""
    idx = np.flatnonzero(col.known)
    n, k = len(idx), len(col.labels)
    if n < MIN_WITH + MIN_WITHOUT or k < 2 or 2 * k > n:
        return None
    codes = col.codes[idx]
    count = np.bincount(codes, minlength=k)
    with_ = np.bincount(codes, weights=has[idx], minlength=k).astype(np.int64)
    bad = 2 * with_ > count
    if bad.all() or not bad.any():
        return None
    kind_with = int(with_[bad].sum())
    healthy_without = int((count - with_)[~bad].sum())
    if kind_with < MIN_WITH or healthy_without < MIN_WITHOUT:
        return None
    exc = int((count - with_)[bad].sum() + with_[~bad].sum())
    on_kind = bad[codes]
    return Split(col.key, "values", values=[col.labels[i] for i in np.flatnonzero(bad)],
                 others=[col.labels[i] for i in np.flatnonzero(~bad)], kind_runs=idx[on_kind],
                 healthy_runs=idx[~on_kind], exceptions=exc, covered=n)


def best_split(cols: list[Column], has: np.ndarray) -> Split | None:
    """The split with the fewest exceptions over the columns (then more runs, then column order);
    ``equally`` lists the other hyperparameters whose best split scores the same (confounded
    in this sweep: the data cannot tell which one matters)."""
    found = []
    for col in cols:
        s = numeric_split(col, has) if col.numeric else category_split(col, has)
        if s is not None:
            found.append(s)
    if not found:
        return None
    best = min(found, key=lambda s: (s.exceptions, -s.covered))
    best.equally = [s.key for s in found if s is not best and (s.exceptions, s.covered) == (best.exceptions, best.covered)]
    return best


def holds(split: Split | None) -> bool:
    return split is not None and split.exceptions <= allowed_exceptions(split.covered)


def kind_groups(rows) -> list[tuple[list[str], np.ndarray]]:
    """``(kinds, has)`` for each set of runs that some kinds are found on, the kinds of a group
    found on exactly those runs; only kinds some runs have and others lack. Ordered by how
    many runs have them (most first), then kind."""
    n = len(rows)
    kinds = sorted({k for r in rows for k in r.kinds})
    groups: dict[bytes, tuple[list[str], np.ndarray]] = {}
    for kind in kinds:
        has = np.fromiter((kind in r.kinds for r in rows), dtype=bool, count=n)
        c = int(has.sum())
        if 0 < c < n:
            groups.setdefault(np.packbits(has).tobytes(), ([], has))[0].append(kind)
    return sorted(groups.values(), key=lambda g: (-int(g[1].sum()), g[0]))
