"""What a comparison produces: per-curve statistics, per-metric groups, per-run verdicts.

Plain dataclasses so renderers (terminal, JSON) and ``analyze --baseline`` read one shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lossctl.detectors.base import Series
from lossctl.detectors.stats import fmt


def num(x):
    """JSON-ready number: None for missing, a string for NaN/Inf (as the analyze report does)."""
    if x is None:
        return None
    if isinstance(x, (int, np.integer)):
        return int(x)
    x = float(x)
    return x if np.isfinite(x) else str(x)


def delta(value, base) -> tuple[float | None, float | None]:
    """``(value - base, percent of |base|)``; None where either side is missing."""
    if value is None or base is None or not (np.isfinite(value) and np.isfinite(base)):
        return None, None
    d = float(value) - float(base)
    if base == 0:
        return d, (0.0 if d == 0 else None)
    return d, 100.0 * d / abs(float(base))


def fmt_pct(p: float | None, sign: bool = True) -> str:
    if p is None or not np.isfinite(p):
        return "n/a"
    s = "+" if sign and p > 0 else ""
    if abs(p) >= 1000:
        return f"{s}{p:,.0f}%"
    return f"{s}{p:.2g}%" if abs(p) < 1 else f"{s}{p:.3g}%"


def fmt_signed(x: float | None) -> str:
    if x is None:
        return "n/a"
    return ("+" if x > 0 else "") + fmt(x)


@dataclass
class CurveStats:
    """One run's curve of one metric, summarised on the metric's common range."""

    run: str
    metric: str  # as logged in this run
    points: int
    first_step: int
    last_step: int
    final: float  # mean of the last few percent of the common range (compared across runs)
    final_at_end: float  # the same at the run's own last step
    best: float  # of the curve smoothed over the final window
    best_step: int | None
    reached_at: int | None  # first step the smoothed curve reaches the target
    auc: float  # area under the curve on the common range
    noise: float  # point-to-point spread around the local trend of the final stretch

    FIELDS = ("final", "best", "reached_at", "auc")


@dataclass
class MetricComparison:
    """One metric across runs (baseline first); ``stats[i]`` is None where run i lacks it."""

    key: str  # role (``val_loss``, ``loss``) or the shared metric name
    label: str
    direction: str  # "lower" or "higher" is better
    axis: str  # "step" or "epoch"
    common: tuple[int, int]
    target: float
    stats: list[CurveStats | None]
    curves: list[Series | None] = field(repr=False, default_factory=list)

    def delta(self, i: int, name: str):
        base, cur = self.stats[0], self.stats[i]
        if base is None or cur is None:
            return None, None
        return delta(getattr(cur, name), getattr(base, name))


@dataclass
class Verdict:
    """One run judged against the baseline on one metric."""

    run: str
    baseline: str
    metric: str  # role or name judged
    names: tuple[str, str]  # the metric as logged in (baseline, run)
    verdict: str  # better | same | worse
    reason: str
    final: tuple[float, float]  # (baseline, run) on the pair's common range
    change: float | None
    change_pct: float | None
    noise: float  # combined noise bound, in the metric's units
    noise_pct: float | None
    tolerance_pct: float
    axis: str
    common: tuple[int, int]
    new_errors: list = field(default_factory=list)  # findings the baseline lacks

    def to_dict(self) -> dict:
        return {
            "run": self.run, "baseline": self.baseline, "verdict": self.verdict, "reason": self.reason,
            "metric": self.metric, "names": {"baseline": self.names[0], "run": self.names[1]},
            "final": {"baseline": num(self.final[0]), "run": num(self.final[1])},
            "change": num(self.change), "change_pct": num(self.change_pct),
            "noise": num(self.noise), "noise_pct": num(self.noise_pct),
            "tolerance_pct": num(self.tolerance_pct),
            "axis": self.axis, "common_range": [int(self.common[0]), int(self.common[1])],
            "new_errors": [{"kind": f.kind, "metric": f.metric, "start_step": f.start_step,
                            "end_step": f.end_step} for f in self.new_errors],
        }


@dataclass
class Comparison:
    reports: list  # RunReport, baseline first
    axis: str
    metrics: list[MetricComparison]
    verdicts: list[Verdict]
    max_regression: float

    @property
    def worse(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.verdict == "worse"]
