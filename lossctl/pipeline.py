"""The analyze pipeline over many runs: find them, then read and analyse each where the work
is sent (worker processes or a Dask cluster), streaming the reports back in order.

A worker returns a slim report: the run's frame is dropped once its series are built, so what
travels back and stays in memory is the series, the findings and the run's metadata.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from lossctl.analysis import RunReport, analyze_run
from lossctl.config import Config
from lossctl.discovery import RunFilter, discover, select
from lossctl.errors import InputError
from lossctl.parallel import ordered_map
from lossctl.sources.base import RunRef
from lossctl.sweep.table import row_of

PARALLEL_MIN_RUNS = 8  # fewer runs than this are analysed here: starting workers costs more
PARALLEL_MIN_BYTES = 32 << 20  # ... unless they are this big


@dataclass
class Outcome:
    """What one RunRef gave: its reports, or why it gave none."""

    reports: list[RunReport] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # input problems that left no run behind
    skipped: list[str] = field(default_factory=list)  # files that were not logs after all


@dataclass
class Task:
    ref: RunRef
    config: Config
    overrides: dict
    verify: bool = True


def analyze_ref(task: Task) -> Outcome:
    """Read one RunRef and analyse every run it holds (runs in a worker)."""
    try:
        res = task.ref.read(task.verify)
    except InputError as exc:
        return Outcome(errors=[str(exc)])
    out = Outcome(skipped=res.skipped)
    for run in res.runs:
        if run.frame.empty:
            out.errors += run.warnings
            continue
        report = analyze_run(run, task.config, task.overrides)
        report.row = row_of(report)  # here, in parallel, rather than in the sweep section's serial pass
        run.slim()  # the series in report.view hold the points from here on
        out.reports.append(report)
    return out


def lost(task: Task, exc: BaseException) -> Outcome:
    """A task the cluster gave up on: reported as an input problem, never dropped."""
    return Outcome(errors=[(f"{task.ref.path}: not analysed: the worker running it failed "
                           f"({type(exc).__name__}: {str(exc)[:160]})")])


@dataclass
class Found:
    refs: list[RunRef]
    errors: list[str]
    notes: list[str]


def find_all(targets: list[str], stdin=None, chosen: RunFilter | None = None) -> Found:
    """The runs of every target (those ``chosen`` keeps: ``--experiment``, ``--run-name``); a
    target that cannot be listed is an error line, not fatal."""
    found = Found([], [], [])
    for target in targets:
        try:
            d, left_out = select(discover(target, stdin), chosen)
        except InputError as exc:
            found.errors.append(str(exc))
            continue
        found.refs += d.refs
        found.notes += d.notes
        if left_out and not d.refs:
            shown = ", ".join(left_out[:5]) + (", ..." if len(left_out) > 5 else "")
            found.errors.append(f"{target}: no run matches {chosen.describe()} (found {len(left_out)}: {shown})")
        elif not d.refs:
            found.errors.append(f"{target}: no training logs found (looked for TensorBoard event files, "
                                "CSV and JSON histories)")
    return found


def analyze_refs(refs: list[RunRef], config: Config, overrides: dict | None = None, verify: bool = True,
                 jobs: int | None = None, scheduler: str | None = None, progress=None) -> Iterator[Outcome]:
    """One Outcome per ref, in order, computed in parallel when it pays."""
    tasks = [Task(ref, config, dict(overrides or {}), verify) for ref in refs]
    parallel = (len(refs) >= PARALLEL_MIN_RUNS or sum(r.size for r in refs) >= PARALLEL_MIN_BYTES) and \
        all(r.path != "<stdin>" for r in refs)
    yield from ordered_map(analyze_ref, tasks, jobs=jobs, parallel=parallel, scheduler=scheduler,
                           progress=progress, on_error=lost)
