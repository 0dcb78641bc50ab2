"""``lossctl compare`` for people: the runs, one table per metric (each run's value with its
change against the baseline below it), the judged metric's curves drawn together, verdicts."""

from __future__ import annotations

import io
import string

from rich.console import Console
from rich.text import Text

from lossctl.compare.align import is_per_epoch
from lossctl.compare.model import fmt_pct, fmt_signed
from lossctl.detectors.stats import fmt
from lossctl.renderers.overlay import COLOURS, overlay
from lossctl.renderers.sweep import print_sweep
from lossctl.renderers.terminal import ICON, STYLE, VERDICT_ICON, VERDICT_STYLE
from lossctl.sweep import sweep_dict
from lossctl.text import plural

HEADERS = ("run", "final", "best ({axis})", "reaches {target}", "AUC", "stability")


def letter(i: int) -> str:
    return string.ascii_uppercase[i % 26] + ("" if i < 26 else str(i // 26))


def _label(r) -> str:
    return r.label


def _delta(d) -> str:
    a, p = d
    return "" if a is None else f"{fmt_signed(a)} ({fmt_pct(p)})"


def _stability(r, metric: str) -> tuple[str, str]:
    found = [f for f in r.findings if f.metric == metric]
    if not found:
        return "ok", "dim"
    text = ", ".join(f"{ICON[f.severity]} {f.kind}" + (f" {f.start_step:,}–{f.end_step:,}" if f.start_step is not None
                                                       else "") for f in found)
    return text, STYLE[found[0].severity]


def _table(console: Console, c, m) -> None:
    base = m.stats[0]
    names = "  ".join(f"{letter(i)} {s.metric}" for i, s in enumerate(m.stats) if s is not None)
    head = Text(m.label, style="bold")
    head.append(f"  ({m.direction} is better)  {names}  ·  common {m.axis}s {m.common[0]:,}–{m.common[1]:,}",
                style="dim")
    console.print(head)
    rows = []  # (cells, styles) per printed line
    for i, (r, s) in enumerate(zip(c.reports, m.stats)):
        if s is None:
            rows.append(([letter(i), "not logged", "", "", "", ""], [None] * 6))
            continue
        stab, stab_style = _stability(r, s.metric)
        reached = f"{m.axis} {s.reached_at:,}" if s.reached_at is not None else "never"
        best = f"{fmt(s.best)} ({s.best_step:,})" if s.best_step is not None else fmt(s.best)
        rows.append(([letter(i), fmt(s.final), best, reached, fmt(s.auc), stab],
                     [None, "bold", None, None, None, stab_style]))
        if i and base is not None:
            rows.append((["", *(_delta(m.delta(i, k)) for k in ("final", "best", "reached_at", "auc")), ""],
                         ["dim"] * 6))
    heads = [h.format(axis=m.axis, target=fmt(m.target)) for h in HEADERS]
    widths = [max(len(x) for x in col) for col in zip(heads, *(cells for cells, _ in rows))]
    line = Text("  ")
    for h, w in zip(heads, widths):
        line.append(f"{h:<{w}}  ", style="dim")
    console.print(line)
    for cells, styles in rows:
        t = Text("  ")
        for x, w, st in zip(cells, widths, styles):
            t.append(f"{x:<{w}}  ", style=st)
        console.print(t)
    console.print()


def render(comparison, errors, *, color: bool = False, width: int = 100) -> str:
    c = comparison
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=color, no_color=not color,
                      color_system="standard" if color else None, highlight=False, soft_wrap=True,
                      emoji=False)
    judged = c.metrics[0] if c.metrics else None
    head = Text(f"compare {len(c.reports)} runs against baseline A", style="bold")
    if judged is not None:
        head.append(f"  · verdict on {judged.label}, tolerance {fmt_pct(c.max_regression, sign=False)}",
                    style="dim")
    console.print(head)
    pad = max(len(_label(r)) for r in c.reports)
    for i, r in enumerate(c.reports):
        t = Text(f"  {letter(i)}  ", style=f"bold {COLOURS[i % len(COLOURS)]}")
        t.append(f"{_label(r):<{pad}}", style="bold")
        first = min(int(s.steps.min()) for s in r.view.series.values())
        last = max(int(s.steps.max()) for s in r.view.series.values())
        unit = "epochs" if is_per_epoch(r) else "steps"
        t.append(f"  {r.run.format} · {r.run.points:,} points · {unit} {first:,}–{last:,}", style="dim")
        t.append(f"  {ICON[r.status]} {r.status.upper()}", style=STYLE[r.status])
        if i == 0:
            t.append("  (baseline)", style="dim")
        console.print(t)
    console.print()
    for m in c.metrics:
        _table(console, c, m)
    if judged is not None:
        series = [(letter(i), _label(r), s.steps, s.values, COLOURS[i % len(COLOURS)])
                  for i, (r, s) in enumerate(zip(c.reports, judged.curves)) if s is not None]
        for line in overlay(series, width=max(30, width - 14), height=10, axis=judged.axis):
            console.print(line)
        console.print()
    console.print(Text("verdict", style="bold"))
    for i, v in enumerate(c.verdicts, 1):
        t = Text(f"  {letter(i)}  ")
        t.append(f"{VERDICT_ICON[v.verdict]} {v.verdict:<6}", style=VERDICT_STYLE[v.verdict])
        t.append(f"  {v.reason}")
        console.print(t)
    for e in errors:
        console.print(Text(f"! {e}", style="yellow"))
    for r in c.reports:
        for w in r.run.warnings:
            console.print(Text(f"! {w}", style="yellow"))
    worse = len(c.worse)
    n = len(c.verdicts)
    console.print(Text(f"{worse} of {plural(n, 'run')} worse than the baseline",
                       style="bold red" if worse else "bold green"))
    if len(c.reports) > 2:  # the baseline and a tree (or several runs): the sweep view of them all
        console.print()
        print_sweep(console, sweep_dict(c.reports))
    return "".join(line.rstrip() + "\n" for line in buf.getvalue().splitlines())
