"""Several runs' curves in one terminal plot: braille lines, one colour per run, a letter at
the end of each curve so the runs stay apart in plain text too.

Dense curves are smoothed for display as the single-run plot does (TensorBoard's EMA), then
reduced to one value per dot column, so runs of a million points draw instantly.
"""

from __future__ import annotations

import numpy as np
from rich.text import Text

from lossctl.renderers.canvas import BRAILLE, YScale, bridge, draw_line, row_start, x_axis
from lossctl.renderers.plot import column_means, ema_debiased

COLOURS = ["cyan", "magenta", "yellow", "green", "blue", "red"]


def overlay(series, width: int = 72, height: int = 10, axis: str = "step") -> list[Text]:
    """Lines of a plot of ``series`` = [(letter, label, steps, values, style)]."""
    series = [s for s in series if len(s[2])]
    if not series:
        return []
    lo_step = min(int(s[2][0]) for s in series)
    hi_step = max(int(s[2][-1]) for s in series)
    dots = width * 2
    cols = [bridge(column_means(steps, ema_debiased(values) if len(values) > dots else values,
                            lo_step, hi_step, dots)[0])
            for _, _, steps, values, _ in series]
    scale = YScale.fit(cols, height)
    cells = np.zeros((height, width + 2), dtype=np.int64)
    style = [[None] * (width + 2) for _ in range(height)]
    letters = [[None] * (width + 2) for _ in range(height)]
    ends = []
    for (letter, _, _, _, st), y in zip(series, cols):
        if (last := draw_line(cells, style, y, scale, st)) is not None:
            ends.append((letter, st, last))
    for letter, st, (r, c) in ends:  # the run's letter just right of its curve's end
        for cc in range(c + 1, width + 2):
            if not cells[r, cc] and letters[r][cc] is None:
                letters[r][cc], style[r][cc] = letter, st
                break
    labels = scale.labels(height)
    lw = max(len(s) for s in labels)
    lines = []
    for r in range(height):
        t = row_start(labels[r], lw)
        for x in range(width + 2):
            if letters[r][x]:
                t.append(letters[r][x], style=f"bold {style[r][x]}")
            elif cells[r, x]:
                t.append(chr(BRAILLE + int(cells[r, x])), style=style[r][x])
            else:
                t.append(" ")
        lines.append(t)
    lines += x_axis(lw, width, axis, lo_step, hi_step)
    legend = Text(" " * (lw + 2))
    for letter, label, _, _, st in series:
        legend.append(f"⣿ {letter} ", style=st)
        legend.append(label + "   ")
    if any(len(s[3]) > dots for s in series):
        legend.append("smoothed  ", style="dim")
    if scale.log:
        legend.append("log scale", style="dim")
    lines.append(legend)
    return lines
