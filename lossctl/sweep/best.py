"""The best run of a sweep, and each other run judged against it by the ``compare`` rule.

The best run is the first of the ranking (lowest final loss, or highest return for agents,
among runs that did not diverge or go NaN); with no such run there is none. Every other run is judged once against it with
:func:`lossctl.compare.judge` (so ``n - 1`` verdicts for ``n`` runs, never a comparison of
every pair): ``worse`` when it has an error the best run lacks or its final value is worse by
more than the two curves' noise. A run that cannot be judged against it (no common loss or
step range) has no verdict and the reason is kept.
"""

from __future__ import annotations

from lossctl.compare import judge
from lossctl.compare.verdict import pair_metric
from lossctl.errors import InputError


def verdicts(reports: list, best: int | None) -> list[tuple[str | None, str | None]]:
    """``(verdict, reason)`` per report against ``reports[best]``; ``(None, None)`` for the best."""
    out: list[tuple[str | None, str | None]] = []
    memo: dict = {}  # the best run's curve statistics, once per step range
    for i, r in enumerate(reports):
        if best is None or i == best:
            out.append((None, None))
            continue
        try:
            v = judge(reports[best], r, metric=pair_metric(reports[best], r, memo=memo, brief=True))
        except InputError as e:
            out.append((None, e.problem))
            continue
        out.append((v.verdict, v.reason))
    return out
