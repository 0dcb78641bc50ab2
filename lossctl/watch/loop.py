"""The poll loop of `lossctl watch` and when it stops.

Exit 1 at the first finding at or above ``exit_on`` (so a training script running watch beside
itself can kill a diverging job); exit 0 when ``timeout`` seconds passed without one, or when no
new data arrived for ``idle`` seconds. Ctrl-C is the caller's (exit 130).
"""

from __future__ import annotations

import time

from lossctl.findings import severity_rank
from lossctl.watch.display import Display
from lossctl.watch.session import Session


def watch(session: Session, display: Display, exit_on: str = "error", interval: float = 2.0,
          timeout: float | None = None, idle: float | None = None, clock=time.monotonic,
          sleep=time.sleep) -> int:
    start = last_data = clock()
    polls = 0
    while True:
        up = session.poll()
        polls += 1
        now = clock()
        if up.points or up.files:
            last_data = now
        for path in up.files:
            display.line(f"following {path}", "dim")
        for w in up.warnings:
            display.line(f"input problem: {w}", "yellow")
        stop = False
        for f in up.findings:
            display.finding(f, _label(session, f.run))
            stop |= exit_on != "never" and severity_rank(f.severity) >= severity_rank(exit_on)
        if stop:
            display.line(f"stopping: a finding at or above {exit_on} (exit 1)", "bold")
            return 1
        if getattr(session, "finished", False):
            display.line("input ended (exit 0)", "dim")
            return 0
        if timeout is not None and now - start >= timeout:
            which = "" if exit_on == "never" else f" without a finding at or above {exit_on}"
            display.line(f"stopping: {timeout:g} s passed{which} (exit 0)", "dim")
            return 0
        if idle is not None and now - last_data >= idle:
            display.line(f"stopping: no new data for {idle:g} s (exit 0)", "dim")
            return 0
        display.status(status_line(session, polls, now - last_data))
        wait = [interval] + ([start + timeout - now] if timeout is not None else []) + (
            [last_data + idle - now] if idle is not None else [])
        sleep(max(0.0, min(wait)))


def _label(session: Session, run: str) -> str:
    report = session.reports.get(run)
    return report.run.path if report else run


def status_line(session: Session, polls: int, quiet_for: float) -> str:
    """One line: per run its points, last step and last loss; then poll count and data age."""
    parts = []
    for r in session.reports.values():
        loss = r.view.role("loss") or r.view.role("val_loss")
        last = f" · step {int(loss.steps[-1]):,} loss {loss.values[-1]:.4g}" if loss is not None and len(loss) else ""
        icon = {"ok": "ok", "info": "info", "warning": "WARN", "error": "ERROR"}[r.status]
        parts.append(f"{r.run.path}: {r.run.points:,} pts{last} [{icon}]")
    runs = " | ".join(parts) if parts else "waiting for logs"
    chosen = getattr(session, "chosen", None)
    if not parts and chosen:
        left = sorted(getattr(session, "left_out", ()))
        shown = ", ".join(left[:3]) + (", ..." if len(left) > 3 else "")
        runs = f"waiting for a run matching {chosen.describe()}" + (f" (left out: {shown})" if left else "")
    return f"{runs} · poll {polls} · last data {quiet_for:.0f}s ago"
