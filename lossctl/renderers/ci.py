"""What the CI formats (github, junit, markdown) share: findings across runs in severity
order, where a finding lies, and the file a run was read from."""

from __future__ import annotations

from lossctl.findings import severity_rank
from lossctl.report import failing


def by_severity(reports) -> list:
    """``(report, finding)`` pairs of all runs, most severe first (run order kept within)."""
    pairs = [(r, f) for r in reports for f in r.findings]
    return sorted(pairs, key=lambda p: -severity_rank(p[1].severity))


def steps(f) -> str:
    if f.start_step is None:
        return ""
    return f"{f.start_step:,}" if f.end_step in (None, f.start_step) else f"{f.start_step:,}–{f.end_step:,}"


def pair_text(p) -> str:
    """A loss pair as roles (``evidence["pair"]`` of a finding in a run that logs several, or
    ``LossPair.roles()``) in words; '' for none."""
    if not isinstance(p, dict) or not p:
        return ""
    if len(p) == 2:
        return f"{p['loss']} / {p['val_loss']}"
    return f"{next(iter(p.values()))} ({'training' if 'loss' in p else 'validation'} only)"


def log_file(r) -> str:
    """The run's first log file as lossctl was given it (a path annotations can point at)."""
    return r.run.files[0] if r.run.files else r.run.path


def run_label(r) -> str:
    return r.label


def failing_count(reports) -> int:
    """Findings at or above each run's fail level, plus runs worse than their baseline."""
    return (sum(len(failing(r)) for r in reports)
            + sum(r.baseline is not None and r.baseline.verdict == "worse" for r in reports))
