"""The sweep section of the terminal reports (``analyze`` and ``compare``): the ranked table,
capped at ``MAX_ROWS`` rows, then the sentences (best run, what separates the failures)."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from lossctl.detectors.stats import fmt
from lossctl.sweep.text import fmt_value, vs_best

MAX_ROWS = 30
MAX_HPARAMS = 6  # columns; JSON has them all
STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan", "ok": "green"}
VERDICT_STYLE = {"better": "green", "same": "dim", "worse": "bold red"}
ROLE_LABEL = {"val_loss": "validation loss", "loss": "training loss", "reward": "return (highest first)"}


def _final(x) -> str:
    return fmt(x) if isinstance(x, float) else str(x)


def ranked_by(sweep: dict) -> str:
    roles = sweep["ranked_by"]["roles"]
    what = " or ".join(ROLE_LABEL.get(r, r) for r in roles) or "loss"
    if roles == ["loss", "val_loss"]:
        what = "validation loss (training loss where a run has none)"
    return what


def shown_hparams(sweep: dict, limit: int | None = MAX_HPARAMS) -> list[str]:
    """The hyperparameter columns: those a sentence names first (so its numbers are in the
    table beside it), then the other varying ones, at most ``limit``."""
    named = [s.get("hparam") or (s.get("closest") or {}).get("hparam") for s in sweep["separations"]]
    keys = list(dict.fromkeys([k for k in named if k] + sweep["varying"]))
    return keys[:limit] if limit else keys


def _table(sweep: dict, hp: list[str]) -> Table:
    t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold", expand=False)
    t.add_column("#", justify="right")
    t.add_column("run", no_wrap=True)
    t.add_column("final", justify="right")
    t.add_column("status")
    t.add_column("findings", overflow="fold")
    t.add_column("vs best")
    for k in hp:
        t.add_column(k, justify="right")
    for row in sweep["table"][:MAX_ROWS]:
        best = sweep["best"]["run"] if sweep["best"] else None
        verdict = Text(vs_best(row, best), style="bold green" if row["run"] == best
                       else VERDICT_STYLE.get(row["vs_best"], "dim"))
        t.add_row(str(row["rank"]), row["run"], _final(row["final"]), Text(row["status"], style=STYLE[row["status"]]),
                  ", ".join(row["kinds"]) or "-", verdict,
                  *[fmt_value(row["hparams"][k]) if k in row["hparams"] else "-" for k in hp])
    return t


def print_sweep(console: Console, sweep: dict | None) -> None:
    if not sweep:
        return
    head = Text("sweep", style="bold")
    head.append(f"  {sweep['runs']:,} runs ranked by final {ranked_by(sweep)}: the mean of the last 5% of "
                "each run's steps; runs that diverged or went NaN last", style="dim")
    console.print(head)
    hp = shown_hparams(sweep)
    t = _table(sweep, hp)
    wide = console.options.update_width(10_000)  # its natural width, not capped at the console's
    while hp and console.measure(t, options=wide).maximum > console.width:  # fewer columns, not squeezed ones
        hp = hp[:-1]
        t = _table(sweep, hp)
    console.print(t)
    more = len(sweep["table"]) - MAX_ROWS
    if more > 0:
        console.print(Text(f"  {more:,} more in --format json", style="dim"))
    if len(sweep["varying"]) > len(hp):
        console.print(Text(f"  {len(sweep['varying']) - len(hp)} more varying hyperparameters in "
                           "--format json", style="dim"))
    lines = [t for t in ([sweep["best"]["sentence"]] if sweep["best"] else []) + sweep["sentences"] if t]
    for line in lines:
        console.print(Text(line))
