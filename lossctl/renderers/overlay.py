"""Several runs' curves in one terminal plot: braille lines, one colour per run, a letter at
the end of each curve so the runs stay apart in plain text too.

Dense curves are smoothed for display as the single-run plot does (TensorBoard's EMA), then
reduced to one value per dot column, so runs of a million points draw instantly.
"""

from __future__ import annotations

import numpy as np
from rich.text import Text

from lossctl.renderers.plot import _DOT, BRAILLE, _columns, ema_debiased

COLOURS = ["cyan", "magenta", "yellow", "green", "blue", "red"]


def overlay(series, width: int = 72, height: int = 10, axis: str = "step") -> list[Text]:
    """Lines of a plot of ``series`` = [(letter, label, steps, values, style)]."""
    series = [s for s in series if len(s[2])]
    if not series:
        return []
    lo_step = min(int(s[2][0]) for s in series)
    hi_step = max(int(s[2][-1]) for s in series)
    dots = width * 2
    cols = []
    for _, _, steps, values, _ in series:
        shown = ema_debiased(values) if len(values) > dots else values
        y, _bad = _columns(steps, shown, lo_step, hi_step, dots)
        have = np.flatnonzero(np.isfinite(y))
        if len(have) > 1:  # bridge empty columns of sparse (per-epoch) curves
            gap = ~np.isfinite(y)
            gap[: have[0]] = gap[have[-1] + 1:] = False
            y[gap] = np.interp(np.flatnonzero(gap), have, y[have])
        cols.append(y)
    finite = np.concatenate([c[np.isfinite(c)] for c in cols])
    if len(finite) == 0:
        finite = np.array([0.0, 1.0])
    lo, hi = float(finite.min()), float(finite.max())
    log = lo > 0 and hi / lo > 30
    tf = np.log10 if log else (lambda v: v)
    tlo, thi = tf(lo), tf(hi)
    if not thi - tlo > 0:
        pad = max(abs(thi), 1.0) * 0.05
        thi, tlo = thi + pad, tlo - pad
    rows = height * 4
    cells = np.zeros((height, width + 2), dtype=np.int64)
    style = [[None] * (width + 2) for _ in range(height)]
    letters = [[None] * (width + 2) for _ in range(height)]
    ends = []
    for (letter, _, _, _, st), y in zip(series, cols):
        prev = None
        last = None
        for x in range(dots):
            if not np.isfinite(y[x]):
                prev = None
                continue
            r = int(np.clip(round((thi - tf(y[x])) / (thi - tlo) * (rows - 1)), 0, rows - 1))
            for rr in (range(min(r, prev), max(r, prev) + 1) if prev is not None else [r]):
                cells[rr // 4, x // 2] |= _DOT[rr % 4][x % 2]
                style[rr // 4][x // 2] = st
            prev, last = r, (r // 4, x // 2)
        if last is not None:
            ends.append((letter, st, last))
    for letter, st, (r, c) in ends:  # the run's letter just right of its curve's end
        for cc in range(c + 1, width + 2):
            if not cells[r, cc] and letters[r][cc] is None:
                letters[r][cc], style[r][cc] = letter, st
                break
    fmt = (lambda v: f"{10 ** v:.3g}") if log else (lambda v: f"{v:.3g}")
    labels = [fmt(thi), fmt((thi + tlo) / 2), fmt(tlo)]
    lw = max(len(s) for s in labels)
    lines = []
    for r in range(height):
        label = labels[0] if r == 0 else labels[1] if r == height // 2 else labels[2] if r == height - 1 else ""
        t = Text(f"{label:>{lw}} ┤" if label else " " * lw + " │", style="dim")
        for x in range(width + 2):
            if letters[r][x]:
                t.append(letters[r][x], style=f"bold {style[r][x]}")
            elif cells[r, x]:
                t.append(chr(BRAILLE + int(cells[r, x])), style=style[r][x])
            else:
                t.append(" ")
        lines.append(t)
    lines.append(Text(" " * lw + " └" + "─" * width, style="dim"))
    left, right = f"{axis} {lo_step:,}", f"{hi_step:,}"
    lines.append(Text(" " * (lw + 2) + left + " " * max(1, width - len(left) - len(right)) + right, style="dim"))
    legend = Text(" " * (lw + 2))
    for letter, label, _, _, st in series:
        legend.append(f"⣿ {letter} ", style=st)
        legend.append(label + "   ")
    if any(len(s[3]) > dots for s in series):
        legend.append("smoothed  ", style="dim")
    if log:
        legend.append("log scale", style="dim")
    lines.append(legend)
    return lines
