"""The JSON-ready report (DESIGN.md section 3) and the exit code (section 4)."""

from __future__ import annotations

import numpy as np

from lossctl import __version__
from lossctl.analysis import RunReport
from lossctl.findings import SEVERITIES, severity_rank


def _num(x):
    x = float(x)
    return x if np.isfinite(x) else str(x)


def metric_summary(s) -> dict:
    v = s.values
    fin = v[np.isfinite(v)]
    return {"points": int(len(v)), "first_step": int(s.steps[0]), "last_step": int(s.steps[-1]),
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
    }


def report_dict(reports: list[RunReport], errors: list[str] | None = None) -> dict:
    counts = {s: sum(1 for r in reports for f in r.findings if f.severity == s) for s in SEVERITIES}
    out = {"schema": 1, "lossctl_version": __version__, "runs": [run_dict(r) for r in reports],
           "summary": {"runs": len(reports), "error": counts["error"], "warning": counts["warning"],
                       "info": counts["info"]}}
    if errors:
        out["errors"] = list(errors)
    return out


def exit_code(reports: list[RunReport], fail_on: str) -> int:
    if fail_on == "never":
        return 0
    floor = severity_rank(fail_on)
    return int(any(severity_rank(f.severity) >= floor for r in reports for f in r.findings))
