"""Which series of different runs are compared, and on which x axis.

Series are matched by role first (the training loss of one run against the training loss of
the other, whatever each logged it as), then by identical name for other metrics with a known
direction (losses lower, accuracies higher). Runs that log per epoch (Keras) are compared by
epoch; a per-step run compared with them is reduced to per-epoch values first, its epoch
length read from its validation clock (one validation per epoch), as Keras would have logged
it: the mean training loss of the epoch and the validation loss at its end.
"""

from __future__ import annotations

import numpy as np

from lossctl.detectors.base import RunView, Series
from lossctl.errors import InputError
from lossctl.roles import direction, objective_names

PER_EPOCH_FORMATS = {"keras_csv", "keras_json"}
LOSS_ROLES = (("val_loss", "validation loss"), ("loss", "training loss"))
# the roles a comparison is judged on, first found first: a reinforcement-learning agent by its
# return, since its losses are objectives with no better direction (roles.objective_names)
JUDGED_ROLES = (("reward", "return", "higher"), *((r, label, "lower") for r, label in LOSS_ROLES))
def is_per_epoch(report) -> bool:
    return all(f in PER_EPOCH_FORMATS for f in report.run.format.split("+"))


def views_on_common_axis(reports, role: str | None = None) -> tuple[str, list[RunView]]:
    """``(axis, views)``: per-step views converted to epochs when any run logs per epoch
    (``role``: only that role's series is converted, all a verdict reads)."""
    flags = [is_per_epoch(r) for r in reports]
    if all(flags) or not any(flags):
        return ("epoch" if all(flags) else "step"), [r.view for r in reports]
    return "epoch", [r.view if f else per_epoch_view(r, role) for r, f in zip(reports, flags)]


def per_epoch_view(report, role: str | None = None) -> RunView:
    """The run as a per-epoch log: each series' mean per epoch (or only ``role``'s), epochs from
    the validation clock. The series are kept on the report as they are converted: a sweep
    judges every run against one best run, each converted once."""
    view = report.view
    done = report.__dict__.setdefault("_per_epoch_series", {})
    names = list(view.series) if role is None else [view.roles[role]] if view.role(role) is not None else []
    if todo := [n for n in names if n not in done]:
        done.update(_per_epoch_series(report, todo))
    return RunView(view.run, {n: done[n] for n in names if done[n] is not None}, dict(view.roles))


def _per_epoch_series(report, names: list[str]) -> dict[str, Series | None]:
    view = report.view
    val = view.role("val_loss")
    spe = _steps_per_epoch(val.steps) if val is not None else None
    if spe is None:
        raise InputError(report.run.path, "logs per step and the other run per epoch, but its epoch "
                         "length is unknown (no regular validation series); compare runs logged alike")
    first_end = int(val.steps[0])
    series = {}
    for name in names:
        s = view.series[name]
        epoch = -((first_end - s.steps) // spe)  # ceil((step - first_end) / spe): 0 up to first_end
        keep = epoch >= 0
        e, v = epoch[keep], s.values[keep]
        if len(e) == 0:
            series[name] = None
            continue
        ok = np.isfinite(v)
        n = int(e[-1]) + 1
        sums = np.bincount(e[ok], weights=v[ok], minlength=n)
        counts = np.bincount(e, minlength=n)
        bad = np.bincount(e[~ok], minlength=n)
        present = counts > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(bad > 0, np.nan, sums / np.maximum(counts, 1))
        series[name] = Series(name, np.flatnonzero(present).astype(np.int64), means[present])
    return series


def _steps_per_epoch(steps: np.ndarray) -> int | None:
    if len(steps) < 2:
        return None
    d = np.diff(steps)
    spe = int(np.median(d))
    if spe < 1 or np.mean(np.abs(d - spe) <= max(1, spe // 20)) < 0.8:
        return None
    return spe


def matched_metrics(views: list[RunView]) -> list[tuple[str, str, str, list[str | None]]]:
    """``(key, label, direction, [metric name per view or None])``, baseline's metrics only."""
    base = views[0]
    out, used = [], [set() for _ in views]
    objectives = set(objective_names(base.series))
    for role, label, better in JUDGED_ROLES:
        if base.role(role) is None or base.roles[role] in objectives:
            continue
        names = [v.roles.get(role) if v.role(role) is not None else None for v in views]
        for u, n in zip(used, names):
            u.add(n)
        out.append((role, label, better, names))
    skip = {base.roles.get("lr"), base.roles.get("grad_norm")}
    for name in sorted(base.series):
        d = direction(name)
        if name in used[0] or name in skip or name in objectives or d is None:
            continue
        names = [name if name in v.series and name not in u else None for v, u in zip(views, used)]
        if any(n is not None for n in names[1:]):
            out.append((name, name, d, names))
    return out


def common_range(series: list[Series]) -> tuple[int, int] | None:
    lo = max(int(s.steps[0]) for s in series)
    hi = min(int(s.steps[-1]) for s in series)
    return (lo, hi) if hi >= lo else None


def interp_at(s: Series, x: float) -> float:
    """The curve's value at ``x`` by linear interpolation between finite points."""
    ok = np.isfinite(s.values)
    if not ok.any():
        return float("nan")
    return float(np.interp(x, s.steps[ok], s.values[ok]))
