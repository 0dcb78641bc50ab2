"""``--format markdown``: a summary for ``$GITHUB_STEP_SUMMARY`` (or a PR comment).

A table of the runs (status, findings, verdict against the baseline when there is one), then
every finding with kind, severity, metric, steps and message. GitHub-flavoured Markdown:
pipes in text are escaped, line breaks folded.
"""

from __future__ import annotations

from lossctl.renderers.ci import by_severity, failing_count, run_label, steps
from lossctl.report import summary_line

ICON = {"error": "❌", "warning": "⚠️", "info": "ℹ️", "ok": "✅"}
VERDICT = {"worse": "❌ worse", "same": "✅ same", "better": "✅ better"}


def cell(text) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def code(text) -> str:
    t = cell(text).replace("`", "'")
    return f"`{t}`"


def render(reports, errors, *, color: bool = False, width: int = 100, html_report: str | None = None) -> str:
    fail_on = reports[0].fail_on if reports else "error"
    failed = failing_count(reports)
    lines = ["## lossctl", ""]
    result = "❌ failed" if failed else "✅ passed"
    lines += [f"**{result}** — {summary_line(reports)} (fail level: `{fail_on}`).", ""]
    if html_report:
        lines += [f"📈 HTML report with the curves and findings: {code(html_report)}", ""]
    judged = any(r.baseline is not None for r in reports)
    head = "| run | status | findings |" + (" vs baseline |" if judged else "")
    lines += [head, "| --- | --- | ---: |" + (" --- |" if judged else "")]
    for r in reports:
        row = f"| {code(run_label(r))} | {ICON[r.status]} {r.status} | {len(r.findings)} |"
        if judged:
            v = r.baseline
            row += f" {VERDICT[v.verdict]}: {cell(v.reason)} |" if v is not None else " (baseline) |"
        lines.append(row)
    pairs = by_severity(reports)
    if pairs:
        lines += ["", "| run | kind | severity | metric | steps | message |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for r, f in pairs:
            lines.append(f"| {code(run_label(r))} | {f.kind} | {ICON[f.severity]} {f.severity} | "
                         f"{code(f.metric)} | {steps(f)} | {cell(f.message)} |")
    problems = errors + [w for r in reports for w in r.run.warnings]
    if problems:
        lines += ["", "**Input problems**", ""] + [f"- {cell(p)}" for p in problems]
    return "\n".join(lines) + "\n"
