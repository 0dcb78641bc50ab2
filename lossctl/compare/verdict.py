"""Better, same or worse than the baseline: one rule, used by ``compare`` and ``analyze --baseline``.

The judged metric is the validation loss when both runs log one, else the training loss; for
reinforcement-learning runs, whose losses are objectives with no better direction, the return
(higher is better).
A run with an error finding (divergence, NaN) that the baseline lacks is worse whatever its
numbers. Otherwise the runs' final values (on the step range both cover) are compared: the
difference counts only when it exceeds both the noise of the two curves near their ends,
``sqrt(noise_a**2 + noise_b**2)``, and the tolerance (``--max-regression``, in percent of the
baseline's value). Every quantity scales with the loss, so the verdict does not depend on it.
"""

from __future__ import annotations

import math

import numpy as np

from lossctl.compare.align import JUDGED_ROLES, views_on_common_axis
from lossctl.compare.metrics import compare_metric
from lossctl.compare.model import MetricComparison, Verdict, delta, fmt_pct, fmt_signed
from lossctl.detectors.stats import fmt
from lossctl.errors import InputError
from lossctl.roles import objective_names

ROLE_LABEL = {role: label for role, label, _ in JUDGED_ROLES}
BETTER = {role: better for role, _, better in JUDGED_ROLES}


def judged_role(base, run) -> str:
    """The role both runs are judged on, or InputError naming what the run lacks."""
    objectives = set(objective_names(base.view.series))
    theirs = set(objective_names(run.view.series))
    have = [r for r in ROLE_LABEL if base.view.role(r) is not None and base.view.roles[r] not in objectives]
    for role in have:
        if run.view.role(role) is not None and run.view.roles[role] not in theirs:
            return role
    if not have:
        if objectives:
            raise InputError(base.run.path, f"its losses ({', '.join(sorted(objectives))}) are reinforcement-learning "
                             "objectives, which no direction makes better, and it logs no reward or return "
                             "to compare instead")
        raise InputError(base.run.path, "the baseline has no training or validation loss to compare "
                         f"(metrics: {', '.join(sorted(base.view.series)) or 'none'}); name one with --loss")
    role = have[-1]
    if theirs and run.view.role(role) is not None:
        raise InputError(run.run.path, f"its losses ({', '.join(sorted(theirs))}) are reinforcement-learning "
                         f"objectives, not a {ROLE_LABEL[role]} to compare with the baseline's "
                         f"{base.view.roles[role]!r}")
    raise InputError(run.run.path, f"no {ROLE_LABEL[role]} to compare with the baseline's "
                     f"{base.view.roles[role]!r} (metrics: {', '.join(sorted(run.view.series)) or 'none'})")


def pair_metric(base, run, target: float | None = None, memo: dict | None = None,
                brief: bool = False) -> MetricComparison:
    """The judged metric of ``run`` against ``base`` on the range both cover (``memo``, ``brief``:
    see :func:`lossctl.compare.metrics.compare_metric`)."""
    role = judged_role(base, run)
    axis, views = views_on_common_axis([base, run], role)
    m = compare_metric(role, ROLE_LABEL[role], BETTER[role], axis, [v.role(role) for v in views],
                       [base.label, run.label], target, memo, brief)
    if m is None:
        raise InputError(run.run.path, f"its {ROLE_LABEL[role]} shares no {axis} range with the baseline's")
    return m


def _role_of(report, metric: str) -> str:
    return next((r for r, m in report.view.roles.items() if m == metric), metric)


def new_errors(base, run) -> list:
    """Error findings of ``run`` whose kind the baseline does not show on the same role."""
    seen = {(f.kind, _role_of(base, f.metric)) for f in base.findings if f.severity == "error"}
    return [f for f in run.findings
            if f.severity == "error" and (f.kind, _role_of(run, f.metric)) not in seen]


def judge(base, run, *, max_regression: float = 0.0, target: float | None = None,
          metric: MetricComparison | None = None) -> Verdict:
    """Verdict of ``run`` (a RunReport) against ``base``; ``metric`` reuses a computed pair."""
    m = metric or pair_metric(base, run, target)
    a, b = m.stats[0], m.stats[1]
    name = b.metric
    change, pct = delta(b.final, a.final)
    noise = math.hypot(a.noise, b.noise)
    noise_pct = 100.0 * noise / abs(a.final) if a.final and np.isfinite(a.final) else None
    errors = new_errors(base, run)
    where = f"{m.axis}s {m.common[0]:,}–{m.common[1]:,}"
    tol = f"the tolerance ({fmt_pct(max_regression, sign=False)})"
    if errors:
        f = errors[0]
        at = f" from step {f.start_step:,}" if f.start_step is not None else ""
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        verdict = "worse"
        reason = f"{run.label} has a {f.kind} error on {f.metric}{at}{more} that the baseline lacks."
    elif not np.isfinite(b.final) or not np.isfinite(a.final):
        verdict = ("same" if not np.isfinite(b.final) and not np.isfinite(a.final)
                   else "worse" if not np.isfinite(b.final) else "better")
        reason = f"{name} ends at {fmt(b.final)} vs {fmt(a.final)} for the baseline ({where})."
    else:
        sign = 1.0 if m.direction == "lower" else -1.0
        gain = -sign * change  # > 0: better
        gain_pct = -sign * pct if pct is not None else math.copysign(math.inf, gain) if gain else 0.0
        beyond_noise = abs(gain) > noise
        beyond_tol = abs(gain_pct) > max_regression
        verdict = "same" if not (beyond_noise and beyond_tol) else "better" if gain > 0 else "worse"
        head = (f"{name} ends at {fmt(b.final)} vs {fmt(a.final)} for the baseline "
                f"({fmt_pct(pct) if pct is not None else fmt_signed(change)}, {where})")
        noise_txt = f"the noise (±{fmt_pct(noise_pct, sign=False) if noise_pct is not None else fmt(noise)})"
        if verdict != "same":
            why = f"beyond {noise_txt}" + (f" and {tol}" if max_regression > 0 else "")
        elif not beyond_noise:
            why = f"within {noise_txt}"
        else:
            why = f"within {tol}"
        reason = f"{head}, {why}."
    return Verdict(run=run.label, baseline=base.label, metric=m.key, names=(a.metric, b.metric),
                   verdict=verdict, reason=reason, final=(a.final, b.final), change=change,
                   change_pct=pct, noise=noise, noise_pct=noise_pct, tolerance_pct=max_regression,
                   axis=m.axis, common=m.common, new_errors=errors)
