"""The sweep's runs as rows: final loss, status, finding kinds, hyperparameters; ranked.

Each run's final value is the one ``compare`` computes (:func:`lossctl.compare.metrics.final_value`:
the mean of the last 5 % of the run's steps) of the series ``compare`` judges it on: its
validation loss, or its training loss when it logs no validation loss, or a reinforcement-learning
agent's return (higher is better; its losses are objectives with no better direction). A run that diverged or went NaN/Inf (a ``divergence`` or
``nonfinite`` finding) is *failed*: its final loss means nothing, so failed runs rank after
every other run whatever their number, and statistics over final losses leave them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lossctl.compare.align import JUDGED_ROLES
from lossctl.compare.metrics import final_value
from lossctl.roles import objective_names
from lossctl.sweep.hparams import hparams_of

FAILED_KINDS = ("divergence", "nonfinite")


@dataclass
class Row:
    run: str  # the run's label, as the rest of the report names it
    final: float  # NaN when the run has no loss or no finite point near its end
    metric: str | None  # the series the final value is of, as logged
    role: str | None  # "val_loss", "loss" or "reward"
    status: str
    kinds: tuple[str, ...]
    hparams: dict = field(default_factory=dict)
    hparams_source: str = "none"  # "logged" | "name" | "none"
    higher: bool = False  # higher is better (a return)

    @property
    def failed(self) -> bool:
        return any(k in FAILED_KINDS for k in self.kinds)


def row_of(report) -> Row:
    """One run's row (O(points of its loss series))."""
    view = report.view
    objectives = set(objective_names(view.series))
    role, better = next(((r, b) for r, _, b in JUDGED_ROLES
                         if view.role(r) is not None and view.roles[r] not in objectives), (None, "lower"))
    s = view.role(role) if role else None
    final = final_value(s, 1.0 if better == "lower" else -1.0) if s is not None and len(s) else float("nan")
    hp, source = hparams_of(report.run)
    kinds = tuple(dict.fromkeys(f.kind for f in report.findings))
    return Row(report.label, final, s.metric if s is not None else None, role, report.status, kinds, hp, source,
               better == "higher")


def rank(rows: list[Row]) -> np.ndarray:
    """Indices of ``rows`` best first: runs that did not fail by final value (the lowest loss or
    the highest return first, missing last), then failed runs the same way; ties by name.
    Vectorised (lexsort)."""
    final = np.array([-r.final if r.higher else r.final for r in rows], dtype=np.float64)
    failed = np.array([r.failed for r in rows], dtype=bool)
    # a tree mixing agents with other runs ranks the others by loss, the agents after them (a
    # return and a loss are not one scale)
    judged = [r.higher for r in rows if r.role]
    agents = bool(judged) and all(judged)
    missing = ~np.isfinite(final) | np.array([r.higher != agents for r in rows], dtype=bool)
    names = np.array([r.run for r in rows], dtype=object)
    name_order = np.empty(len(rows), dtype=np.int64)
    name_order[np.argsort(names, kind="stable")] = np.arange(len(rows))
    return np.lexsort((name_order, np.where(missing, 0.0, final), missing, failed))


def varying(rows: list[Row]) -> list[str]:
    """Hyperparameters with more than one distinct value across the runs that have them, in the
    order first seen."""
    seen: dict[str, set] = {}
    for r in rows:
        for k, v in r.hparams.items():
            seen.setdefault(k, set()).add(_hashable(v))
    return [k for k, vals in seen.items() if len(vals) > 1]


def _hashable(v):
    """A set member for a value; True and 1 stay distinct."""
    return (isinstance(v, bool), v if isinstance(v, (int, float, str)) or v is None else repr(v))
