"""``--format github``: workflow commands that GitHub Actions turns into annotations.

GitHub shows at most 10 error, 10 warning and 10 notice annotations per step and drops the
rest silently, so the most severe come first and one final notice counts what did not fit.
Messages escape ``%``, CR and LF; properties (file, title) also ``:`` and ``,``.
"""

from __future__ import annotations

from lossctl.renderers.ci import by_severity, log_file, run_label
from lossctl.report import summary_line
from lossctl.text import plural

LIMIT = 10  # annotations of one level GitHub shows per step
LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def command(level: str, message: str, **props) -> str:
    p = ",".join(f"{k}={escape_property(str(v))}" for k, v in props.items() if v is not None)
    return f"::{level}{' ' + p if p else ''}::{escape_data(message)}"


def _annotations(reports, errors) -> list[tuple[str, dict, str]]:
    out = []
    for r in reports:
        v = r.baseline
        if v is not None:
            level = "error" if v.verdict == "worse" else "notice"
            out.append((level, {"file": log_file(r), "title": f"lossctl: {v.verdict} than baseline {v.baseline}"
                                if v.verdict != "same" else f"lossctl: same as baseline {v.baseline}"},
                        v.reason))
    for r, f in by_severity(reports):
        msg = f.message + (f" Try: {f.suggestions[0]}" if f.suggestions else "")
        out.append((LEVEL[f.severity], {"file": log_file(r), "title": f"lossctl: {f.kind} in {run_label(r)}"},
                    msg))
    for e in errors:
        out.append(("error", {"title": "lossctl: unreadable input"}, e))
    for r in reports:
        for w in r.run.warnings:
            out.append(("warning", {"file": log_file(r), "title": "lossctl: input problem"}, w))
    order = {"error": 0, "warning": 1, "notice": 2}
    return sorted(out, key=lambda a: order[a[0]])


def render(reports, errors, *, color: bool = False, width: int = 100) -> str:
    items = _annotations(reports, errors)
    shown, left = [], {"error": 0, "warning": 0, "notice": 0}
    used = {"error": 0, "warning": 0, "notice": 0}
    for level, props, msg in items:
        if used[level] < LIMIT:
            used[level] += 1
            shown.append((level, props, msg))
        else:
            left[level] += 1
    if any(left.values()) and used["notice"] == LIMIT:  # make room for the summary notice
        drop = max(i for i, a in enumerate(shown) if a[0] == "notice")
        shown.pop(drop)
        left["notice"] += 1
    lines = [f"lossctl: {summary_line(reports)}"]
    lines += [command(level, msg, **props) for level, props, msg in shown]
    if any(left.values()):
        parts = [plural(n, k) for k, n in left.items() if n]
        lines.append(command("notice", f"{plural(sum(left.values()), 'more annotation')} not shown ({', '.join(parts)}): "
                             "GitHub shows 10 of each level per step. The job summary and "
                             "`lossctl analyze --format json` list every finding.",
                             title="lossctl: more findings"))
    return "\n".join(lines) + "\n"
