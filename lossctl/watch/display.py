"""What `lossctl watch` prints: one plain line per event (new file, input warning, finding), so
its output can be piped to a log; on a terminal, also a live status line kept at the bottom."""

from __future__ import annotations

import time

from rich.console import Console
from rich.live import Live
from rich.text import Text

from lossctl.findings import Finding

STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def finding_lines(f: Finding, run_label: str) -> list[str]:
    where = f" steps {f.start_step:,}-{f.end_step:,}" if f.start_step is not None else ""
    lines = [f"{f.severity.upper()} {f.kind} {run_label} {f.metric}{where}: {f.message}"]
    if f.suggestions:
        lines.append(f"  try: {f.suggestions[0]}")
    return lines


class Display:
    """Plain lines, or (``live=True``) the same lines above a status line redrawn in place."""

    def __init__(self, console: Console, live: bool):
        self.console = console
        self.live = Live(Text(""), console=console, transient=True, auto_refresh=False) if live else None
        if self.live:
            self.live.start()

    def line(self, text: str, style: str | None = None) -> None:
        stamp = time.strftime("%H:%M:%S")
        self.console.print(Text(f"{stamp} {text}", style=style or ""), soft_wrap=True, highlight=False)

    def finding(self, f: Finding, run_label: str) -> None:
        for i, text in enumerate(finding_lines(f, run_label)):
            self.line(text, STYLE[f.severity] if i == 0 else "dim")

    def status(self, text: str) -> None:
        if self.live:
            self.live.update(Text(text, style="dim"), refresh=True)

    def close(self) -> None:
        if self.live:
            self.live.stop()
