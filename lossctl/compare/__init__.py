"""Comparing runs against a baseline: aligned curves, side-by-side statistics, verdicts.

``align`` decides which series meet on which axis, ``metrics`` summarises each curve on the
common range, ``verdict`` judges a run against the baseline (the one rule ``analyze
--baseline`` also uses); :func:`compare` assembles them for ``lossctl compare``.
"""

from __future__ import annotations

from lossctl.compare.align import matched_metrics, views_on_common_axis
from lossctl.compare.metrics import compare_metric
from lossctl.compare.model import Comparison, CurveStats, MetricComparison, Verdict
from lossctl.compare.verdict import judge, judged_role

__all__ = ["Comparison", "CurveStats", "MetricComparison", "Verdict", "compare", "judge"]


def compare(reports: list, *, max_regression: float = 0.0, target: float | None = None) -> Comparison:
    """Compare RunReports, the first being the baseline.

    The table covers the step range common to all runs that log a metric; each verdict uses
    the range its run shares with the baseline (so it is the verdict of a two-run comparison).
    ``target`` (steps to reach) applies to the judged metric; other metrics use the baseline's
    final value. Raises InputError when a run cannot be judged.
    """
    base = reports[0]
    roles = [judged_role(base, r) for r in reports[1:]]
    axis, views = views_on_common_axis(reports)
    names = [r.label for r in reports]
    metrics = []
    for key, label, direction, metric_names in matched_metrics(views):
        curves = [v.series.get(n) if n else None for v, n in zip(views, metric_names)]
        m = compare_metric(key, label, direction, axis, curves, names,
                           target if key in roles[:1] else None)
        if m is not None:
            metrics.append(m)
    metrics.sort(key=lambda m: (m.key != (roles[0] if roles else None),))
    verdicts = []
    for r, role in zip(reports[1:], roles):
        reuse = next((m for m in metrics if m.key == role), None) if len(reports) == 2 else None
        verdicts.append(judge(base, r, max_regression=max_regression, target=target, metric=reuse))
    return Comparison(reports, axis, metrics, verdicts, max_regression)
