"""``lossctl compare --format json``: the comparison as data (shape documented in README)."""

from __future__ import annotations

from lossctl import __version__
from lossctl.compare.model import CurveStats, num
from lossctl.renderers.json_text import dumps
from lossctl.report import run_dict
from lossctl.sweep import sweep_dict


def stability(r, metric: str) -> list[dict]:
    return [{"kind": f.kind, "severity": f.severity, "start_step": f.start_step, "end_step": f.end_step}
            for f in r.findings if f.metric == metric]


def _curve(m, i: int, r) -> dict | None:
    s = m.stats[i]
    if s is None:
        return None
    out = {"run": s.run, "metric": s.metric}
    out.update({k: num(getattr(s, k)) for k in ("points", "first_step", "last_step", "final", "final_at_end",
                                                "best", "best_step", "reached_at", "auc", "noise")})
    out["stability"] = stability(r, s.metric)
    if i == 0:
        out["delta"] = None
    else:
        out["delta"] = {k: dict(zip(("abs", "pct"), map(num, m.delta(i, k)))) for k in CurveStats.FIELDS}
    return out


def comparison_dict(c, errors=None) -> dict:
    out = {
        "schema": 1, "lossctl_version": __version__, "command": "compare",
        "baseline": c.reports[0].label, "axis": c.axis, "max_regression_pct": num(c.max_regression),
        "runs": [{"label": r.label, **run_dict(r)} for r in c.reports],
        "metrics": [{"metric": m.key, "label": m.label, "better": m.direction, "axis": m.axis,
                     "common_range": [int(m.common[0]), int(m.common[1])], "target": num(m.target),
                     "runs": [_curve(m, i, r) for i, r in enumerate(c.reports)]} for m in c.metrics],
        "verdicts": [v.to_dict() for v in c.verdicts],
        "summary": {"runs": len(c.reports),
                    **{k: sum(v.verdict == k for v in c.verdicts) for k in ("better", "same", "worse")}},
    }
    if len(c.reports) > 2:  # the baseline and several runs: the sweep view of them all (README)
        out["sweep"] = sweep_dict(c.reports)
    if errors:
        out["errors"] = list(errors)
    return out


def render(comparison, errors, *, color: bool = False, width: int = 100) -> str:
    return dumps(comparison_dict(comparison, errors)) + "\n"
