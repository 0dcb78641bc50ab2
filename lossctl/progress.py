"""A progress bar for reading many runs: shown on a terminal only, and only once reading has
taken more than a moment (so quick runs print nothing extra). rich is imported only then."""

from __future__ import annotations

import sys
import time

DELAY_S = 0.5


class ReadProgress:
    def __init__(self, label: str = "reading runs"):
        self.enabled = sys.stderr.isatty()
        self.t0 = time.monotonic()
        self.label = label
        self.bar = None  # a rich Progress once shown
        self.task = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total < 2:
            return
        if self.bar is None:
            if time.monotonic() - self.t0 < DELAY_S or done >= total:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn(self.label), BarColumn(), MofNCompleteColumn(),
                                TimeRemainingColumn(), console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=total)
        self.bar.update(self.task, completed=done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
