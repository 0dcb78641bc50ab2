"""The JSON-ready report (DESIGN.md section 3) and the exit code (section 4)."""

from __future__ import annotations

import numpy as np

from lossctl import __version__
from lossctl.analysis import RunReport
from lossctl.findings import SEVERITIES, severity_rank
from lossctl.sweep import sweep_dict
from lossctl.text import plural


def _num(x):
    x = float(x)
    return x if np.isfinite(x) else str(x)


def metric_summary(s) -> dict:
    v = s.values
    fin = v[np.isfinite(v)]
    return {"points": len(v), "first_step": int(s.steps[0]), "last_step": int(s.steps[-1]),
            "last": _num(v[-1]), "min": _num(fin.min()) if len(fin) else None,
            "nonfinite": int(len(v) - len(fin))}


def run_dict(r: RunReport) -> dict:
    return {
        "run": r.run.name,
        "path": r.run.path,
        "format": r.run.format,
        "roles": dict(r.view.roles),
        "metrics": {m: metric_summary(s) for m, s in r.view.series.items()},
        "status": r.status,
        "findings": [f.to_dict() for f in r.findings],
        "warnings": list(r.run.warnings),
        **({"hparams": dict(r.run.hparams)} if r.run.hparams else {}),
        **({"baseline": r.baseline.to_dict()} if r.baseline is not None else {}),
    }


def report_dict(reports: list[RunReport], errors: list[str] | None = None) -> dict:
    c = counts(reports)
    out = {"schema": 1, "lossctl_version": __version__, "runs": [run_dict(r) for r in reports],
           "summary": {"runs": len(reports), "error": c["error"], "warning": c["warning"], "info": c["info"]}}
    judged = [r.baseline for r in reports if r.baseline is not None]
    if judged:
        out["summary"]["worse_than_baseline"] = sum(v.verdict == "worse" for v in judged)
    if len(reports) > 1:
        out["sweep"] = sweep_dict(reports)
    if errors:
        out["errors"] = list(errors)
    return out


def failing(r: RunReport, fail_on: str | None = None) -> list:
    """The findings of ``r`` at or above the fail level (the run's own unless given)."""
    level = fail_on or r.fail_on
    if level == "never":
        return []
    floor = severity_rank(level)
    return [f for f in r.findings if severity_rank(f.severity) >= floor]


def exit_code(reports: list[RunReport], fail_on: str) -> int:
    """1 when a finding is at or above ``fail_on`` or a run is worse than its baseline."""
    worse = any(r.baseline is not None and r.baseline.verdict == "worse" for r in reports)
    return int(worse or any(failing(r, fail_on) for r in reports))


def counts(reports) -> dict[str, int]:
    return {s: sum(f.severity == s for r in reports for f in r.findings) for s in SEVERITIES}


def summary_parts(reports) -> list[tuple[str, str | None]]:
    """The summary line across runs as ``(text, style key)`` pieces: a severity, "worse",
    "lead" for the opening, or None; renderers style the pieces or join them."""
    c = counts(reports)
    bad = sum(1 for r in reports if r.findings)
    parts = [(f"{plural(len(reports), 'run')} analysed, {bad} with findings: ", "lead")]
    for s in ("error", "warning", "info"):
        parts.append((plural(c[s], s, "info" if s == "info" else None), s if c[s] else None))
        parts.append((", " if s != "info" else "", None))
    judged = [r.baseline for r in reports if r.baseline is not None]
    if judged:
        worse = sum(v.verdict == "worse" for v in judged)
        parts.append((f"; {worse} of {len(judged)} worse than the baseline", "worse" if worse else None))
    return parts


def summary_line(reports) -> str:
    return "".join(text for text, _ in summary_parts(reports))
