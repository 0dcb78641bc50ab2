"""``--format markdown``: a summary for ``$GITHUB_STEP_SUMMARY`` (or a PR comment).

A table of the runs (status, findings, verdict against the baseline when there is one), then
every finding with kind, severity, metric, steps and message; with several runs, the sweep
section (ranked runs, the best run, what separates the failures). GitHub-flavoured Markdown:
pipes in text are escaped, line breaks folded.
"""

from __future__ import annotations

from lossctl.detectors.stats import fmt
from lossctl.renderers.ci import by_severity, failing_count, pair_text, run_label, steps
from lossctl.renderers.sweep import ranked_by, shown_hparams
from lossctl.report import summary_line
from lossctl.sweep import sweep_dict
from lossctl.sweep.text import fmt_value, vs_best

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
            pair = pair_text(f.evidence.get("pair"))
            lines.append(f"| {code(run_label(r))} | {f.kind} | {ICON[f.severity]} {f.severity} | "
                         f"{code(f.metric)}{f' (pair {cell(pair)})' if pair else ''} | {steps(f)} | {cell(f.message)} |")
    problems = errors + [w for r in reports for w in r.run.warnings]
    if problems:
        lines += ["", "**Input problems**", ""] + [f"- {cell(p)}" for p in problems]
    if len(reports) > 1:
        lines += sweep_lines(sweep_dict(reports))
    return "\n".join(lines) + "\n"


MAX_SWEEP_ROWS = 30


def sweep_lines(sweep: dict | None) -> list[str]:
    """The sweep section: the ranked table (at most ``MAX_SWEEP_ROWS`` rows), then the sentences."""
    if not sweep:
        return []
    hp = shown_hparams(sweep, None)
    best = sweep["best"]["run"] if sweep["best"] else None
    out = ["", "### Sweep", "",
           (f"{sweep['runs']:,} runs ranked by final {ranked_by(sweep)}: the mean of the last 5% of each "
            "run's steps; runs that diverged or went NaN last."), "",
           "| # | run | final | status | findings | vs best |" + "".join(f" {cell(k)} |" for k in hp),
           "| ---: | --- | ---: | --- | --- | --- |" + " ---: |" * len(hp)]
    for row in sweep["table"][:MAX_SWEEP_ROWS]:
        final = row["final"]
        vs = vs_best(row, best)
        out.append(f"| {row['rank']} | {code(row['run'])} | {fmt(final) if isinstance(final, float) else final} | "
                   f"{ICON[row['status']]} {row['status']} | {', '.join(row['kinds']) or '-'} | {vs} |"
                   + "".join(f" {cell(fmt_value(row['hparams'][k])) if k in row['hparams'] else '-'} |"
                             for k in hp))
    more = len(sweep["table"]) - MAX_SWEEP_ROWS
    if more > 0:
        out += ["", f"{more:,} more runs in `--format json`."]
    lines = [t for t in ([sweep["best"]["sentence"]] if sweep["best"] else []) + sweep["sentences"] if t]
    out += [""] + [f"- {cell(t)}" for t in lines]
    return out
