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


def verdicts(reports: list, best: int | None) -> list[tuple[str | None, str | None, str | None]]:
    """``(verdict, reason, role judged)`` per report against ``reports[best]``; Nones for the best.
    The role is the one both runs log (the training loss when one of them has no validation
    loss), which may differ from the role a run is ranked by."""
    out: list[tuple[str | None, str | None, str | None]] = []
    memo: dict = {}  # the best run's curve statistics, once per step range
    for i, r in enumerate(reports):
        if best is None or i == best:
            out.append((None, None, None))
            continue
        try:
            m = pair_metric(reports[best], r, memo=memo, brief=True)
            v = judge(reports[best], r, metric=m)
        except InputError as e:
            out.append((None, e.problem, None))
            continue
        out.append((v.verdict, v.reason, m.key))
    return out
