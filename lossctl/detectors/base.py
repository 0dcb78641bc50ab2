"""What a detector is, and the view of a run it receives.

A detector is a class with a stable ``kind``, a default ``severity``, a one-line ``summary``,
its ``thresholds`` (defaults, overridable from config) and a ``detect`` method. Its docstring
is the documentation ``lossctl explain KIND`` prints; ``{threshold}`` fields in it are filled
with the values in force.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from lossctl.detectors.stats import binned
from lossctl.findings import Finding
from lossctl.roles import LossPair


@dataclass
class Series:
    metric: str
    steps: np.ndarray  # int64, sorted
    values: np.ndarray  # float64, NaN/Inf kept
    # what several detectors derive from the same series, computed once per analysis (the
    # arrays are treated as read-only, as the series' own are)
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.values)

    def finite(self) -> Series:
        if (f := self._memo.get("finite")) is None:
            ok = np.isfinite(self.values)
            f = self._memo["finite"] = self if ok.all() else Series(self.metric, self.steps[ok], self.values[ok])
        return f

    def forget(self) -> None:
        """Drop what detectors derived: a report keeps its series, sent between processes and
        held for the whole sweep, not their by-products."""
        self._memo.clear()

    def binned(self):
        """:func:`stats.binned` of the series with the default bins (divergence, plateau and
        overfitting all start from it)."""
        if (b := self._memo.get("binned")) is None:
            b = self._memo["binned"] = binned(self.steps, self.values)
        return b


@dataclass
class RunView:
    """One run as detectors see it: its series by metric name, and the roles (the loss roles
    are one loss pair; ``pairs`` lists every pair the run logs, this view's first)."""

    run: str
    series: dict[str, Series]
    roles: dict[str, str] = field(default_factory=dict)
    pairs: list[LossPair] = field(default_factory=list)
    pair_of: dict[str, int] = field(default_factory=dict)  # loss series -> index in ``pairs``

    def pair_views(self) -> list[RunView]:
        """A view per loss pair, each with that pair as its loss roles and the other roles
        (lr, grad norm) shared: detectors judge each pair as they judge the primary one."""
        shared = {k: v for k, v in self.roles.items() if k not in ("loss", "val_loss")}
        return [self] + [RunView(self.run, self.series, {**shared, **p.roles()}) for p in self.pairs[1:]]

    def role(self, name: str) -> Series | None:
        metric = self.roles.get(name)
        return self.series.get(metric) if metric else None

    def losses(self) -> list[Series]:
        """Training loss first, then validation loss (those present)."""
        return [s for r in ("loss", "val_loss") if (s := self.role(r)) is not None]


class Detector:
    kind: ClassVar[str]
    severity: ClassVar[str]
    summary: ClassVar[str]
    thresholds: ClassVar[dict[str, float]] = {}
    # kinds that, found on the same metric, explain this one away (e.g. a diverging loss also
    # swings; a saw-tooth also oscillates): the stronger diagnosis is reported alone
    suppressed_by: ClassVar[tuple[str, ...]] = ()
    # whether it judges any logged objective, or only a loss that training drives down (a
    # reinforcement-learning objective is judged by the first kind only: see roles.is_objective)
    any_objective: ClassVar[bool] = False

    def __init__(self, thresholds: dict | None = None, severity: str | None = None):
        self.t = {**type(self).thresholds, **(thresholds or {})}
        self.level = severity or type(self).severity

    def detect(self, run: RunView) -> list[Finding]:
        raise NotImplementedError

    @staticmethod
    def explains(mine: Finding, other: Finding) -> bool:
        """Whether my finding ``mine`` explains away ``other`` (a kind that lists mine in its
        ``suppressed_by``, on the same metric); a detector narrows this when its evidence says
        how much it explains."""
        return True

    def judged(self, run: RunView, *roles: str, min_points: float | None = None) -> tuple[Series, Series] | None:
        """The first of ``roles`` the run logs and its finite points, or None when it has fewer
        than ``min_points`` of them (default: the ``min_points`` threshold)."""
        s = next((x for r in roles if (x := run.role(r)) is not None), None)
        if s is None:
            return None
        f = s.finite()
        return (s, f) if len(f) >= (self.t["min_points"] if min_points is None else min_points) else None

    def finding(self, run: RunView, series: Series, start, end, message: str, evidence: dict,
                suggestions: list[str], severity: str | None = None) -> Finding:
        return Finding(
            kind=self.kind, severity=severity or self.level, run=run.run, metric=series.metric,
            start_step=None if start is None else int(start), end_step=None if end is None else int(end),
            message=message, evidence={k: _plain(v) for k, v in evidence.items()},
            suggestions=suggestions,
        )

    @classmethod
    def explain(cls, thresholds: dict | None = None) -> str:
        import inspect
        import textwrap

        values = {**cls.thresholds, **(thresholds or {})}
        doc = inspect.cleandoc(cls.__doc__ or "").format(**values)
        paragraphs = [" ".join(p.split()) for p in doc.split("\n\n")]
        return "\n\n".join(textwrap.fill(p, 88) for p in paragraphs)


def _plain(v):
    """JSON-friendly scalar: numpy numbers to Python, non-finite floats to strings."""
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return v if np.isfinite(v) else str(v)
    return v
