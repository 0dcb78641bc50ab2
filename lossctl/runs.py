"""Reading every run below what the user named into the common frame.

:func:`lossctl.discovery.discover` finds the runs (each source says which runs a directory
holds); :func:`load_runs` reads them, in worker processes when there are several and enough
bytes to pay for starting them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from lossctl.discovery import RunFilter, discover, select
from lossctl.parallel import ordered_map
from lossctl.run import Run, assemble_run
from lossctl.sources.base import ReadResult, RunRef

__all__ = ["LoadResult", "Run", "assemble_run", "load_runs", "same_run"]

PARALLEL_MIN_BYTES = 32 << 20  # below this, starting processes costs more than it saves


@dataclass
class LoadResult:
    runs: list[Run]
    errors: list[str]  # input problems that left no readable run behind
    notes: list[str] = field(default_factory=list)  # found but not read (deleted runs, ...)


def load_runs(target: str | os.PathLike, verify: bool = True, progress=None,
              jobs: int | None = None, stdin=None, chosen: RunFilter | None = None) -> LoadResult:
    """Read every run below ``target`` (a run directory, a tree of runs, one log file, a URL,
    or ``-`` for standard input), or those ``chosen`` keeps (``--experiment``, ``--run-name``).
    ``progress(done, total)`` is called as runs finish."""
    found, left_out = select(discover(target, stdin), chosen)
    refs = found.refs
    runs, errors, skipped, notes = [], [], [], list(found.notes)
    if left_out and not refs:
        shown = ", ".join(left_out[:5]) + (", ..." if len(left_out) > 5 else "")
        return LoadResult([], [f"{target}: no run matches {chosen.describe()} (found {len(left_out)}: {shown})"],
                          found.notes)
    parallel = sum(r.size for r in refs) >= PARALLEL_MIN_BYTES and all(_picklable(r) for r in refs)
    for res in ordered_map(_read, [(ref, verify) for ref in refs], jobs=jobs, parallel=parallel,
                           progress=progress):
        skipped += res.skipped
        notes += res.notes
        for run in res.runs:
            if run.frame.empty:
                errors.extend(run.warnings)
            else:
                runs.append(run)
    if not runs and not errors:
        errors = skipped
    if not runs and not errors:
        errors.append(f"{target}: no training logs found (looked for TensorBoard event files, "
                      "CSV and JSON histories, console logs)")
    return LoadResult(runs, errors, notes)


def _read(item: tuple[RunRef, bool]) -> ReadResult:
    ref, verify = item
    return ref.read(verify)


def _picklable(ref: RunRef) -> bool:
    return ref.path != "<stdin>"


def same_run(a: Run, b: Run) -> bool:
    """Whether two runs are one (the same directory named twice, or one run of one database)."""
    if (a.name, a.path) == (b.name, b.path):
        return True
    pa, _, fa = a.path.partition("#")
    pb, _, fb = b.path.partition("#")
    try:
        return fa == fb and os.path.samefile(pa, pb)
    except OSError:
        return False
