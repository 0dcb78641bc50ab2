"""The report a person reads: per run a header, the loss curves drawn, then the findings with
their evidence and fixes; a summary line across runs. Plain aligned text when not a terminal."""

from __future__ import annotations

import io

from rich.console import Console
from rich.padding import Padding
from rich.text import Text

from lossctl.detectors.stats import fmt
from lossctl.renderers.ci import pair_text
from lossctl.renderers.plot import plot
from lossctl.renderers.sweep import print_sweep
from lossctl.report import summary_parts
from lossctl.roles import shown_roles
from lossctl.sweep import sweep_dict

STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan", "ok": "green"}
ICON = {"error": "✖", "warning": "▲", "info": "●", "ok": "✔"}
MAX_SUGGESTIONS = 3
MAX_EVIDENCE = 10  # the key numbers come first in each detector's evidence; JSON has them all
VERDICT_ICON = {"better": "✔", "same": "=", "worse": "✖"}
VERDICT_STYLE = {"better": "green", "same": "dim", "worse": "bold red"}

ROLE_STYLE = {"loss": "cyan", "val_loss": "magenta", "reward": "green"}


def _evidence(ev: dict) -> str:
    parts = []
    for k, v in ev.items():
        if v is None or isinstance(v, dict):  # structured items (the pair) are shown elsewhere
            continue
        if isinstance(v, float):
            v = fmt(v)
        elif isinstance(v, int) and not isinstance(v, bool):
            v = f"{v:,}"
        parts.append(f"{k}={v}")
    more = len(parts) - MAX_EVIDENCE
    if more > 1:  # hiding one item saves no line
        parts = parts[:MAX_EVIDENCE] + [f"{more} more with --format json"]
    return " · ".join(parts)


def _run(console: Console, r, width: int) -> None:
    run = r.run
    head = Text()
    head.append(f"{run.name if run.name != '.' else run.path}", style="bold")
    head.append(f"  {run.format} · {run.points:,} points", style="dim")
    status = r.status
    head.append(f"  {ICON[status]} {status.upper()}", style=STYLE[status])
    console.print(head)
    roles = "  ".join(f"{k}={v}" for k, v in r.view.roles.items())
    console.print(Text(f"roles: {roles or 'none recognised'}", style="dim"))
    if len(r.view.pairs) > 1:
        more = ", ".join(pair_text(p.roles()) for p in r.view.pairs[1:])
        console.print(Text(f"other loss pairs judged: {more}", style="dim"))
    if r.baseline is not None:
        v = r.baseline
        t = Text(f"vs baseline {v.baseline}: ")
        t.append(f"{VERDICT_ICON[v.verdict]} {v.verdict}", style=VERDICT_STYLE[v.verdict])
        t.append(f"  {v.reason}")
        console.print(t)
    series = [(r.view.roles[role], s.steps, s.values, ROLE_STYLE[role])
              for role in shown_roles(r.view.roles, r.view.series) if (s := r.view.role(role)) is not None]
    main = r.findings[0] if r.findings else None
    mark = (main.start_step, main.end_step) if main and main.start_step is not None else None
    for line in plot(series, width=max(30, width - 12), height=8, mark=mark,
                     mark_style=STYLE[main.severity] if main else "red"):
        console.print(line)
    for f in r.findings:
        t = Text("  ")
        t.append(f"{ICON[f.severity]} {f.severity:<7}", style=STYLE[f.severity])
        t.append(f" {f.kind:<18}", style="bold")
        where = f"steps {f.start_step:,}–{f.end_step:,}" if f.start_step is not None else ""
        pair = pair_text(f.evidence.get("pair"))
        t.append(f" {f.metric}  {where}" + (f"  (pair {pair})" if pair else ""), style="dim")
        console.print(t)
        console.print(Padding(Text(f.message), (0, 0, 0, 4), expand=False))
        console.print(Padding(Text("evidence: " + _evidence(f.evidence), style="dim"), (0, 0, 0, 4), expand=False))
        for i, s in enumerate(f.suggestions[:MAX_SUGGESTIONS], 1):
            console.print(Padding(Text(f"{i}. {s}"), (0, 0, 0, 4), expand=False))
    for w in run.warnings:
        console.print(Padding(Text(f"! {w}", style="yellow"), (0, 0, 0, 2), expand=False))
    console.print()


def render(reports, errors, *, color: bool = False, width: int = 100) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=color, no_color=not color,
                      color_system="standard" if color else None, highlight=False, soft_wrap=False,
                      emoji=False)
    for r in reports:
        _run(console, r, width)
    for e in errors:
        console.print(Text(f"! {e}", style="yellow"))
    summary = Text()
    styles = {**STYLE, "lead": "bold", "worse": VERDICT_STYLE["worse"], None: "dim"}
    for text, key in summary_parts(reports):
        summary.append(text, style=styles[key] if text.strip(", ") else "")
    console.print(summary)
    if len(reports) > 1:
        console.print()
        print_sweep(console, sweep_dict(reports))
    return "".join(line.rstrip() + "\n" for line in buf.getvalue().splitlines())
