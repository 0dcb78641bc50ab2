"""Unicode line plots for the terminal: braille dots for the main curve, bullets for a second.

Values are first smoothed for display with TensorBoard's debiased EMA (detection never sees
this), then reduced to one value per character column, so a million points draw as fast as
a hundred.
"""

from __future__ import annotations

import numpy as np
from rich.text import Text

from lossctl.renderers.canvas import BRAILLE, YScale, bridge, draw_line, row_start, x_axis


def ema_debiased(values: np.ndarray, weight: float = 0.6) -> np.ndarray:
    """TensorBoard's scalar smoothing: ``last = last*w + (1-w)*y; n += 1;
    smoothed = last/(1-w**n)``; non-finite values are passed through and skipped.

    Vectorised per chunk: within a chunk, ``last_j = w^(j+1)*last + (1-w)*w^j*cumsum(y_k/w^k)``;
    chunks are short enough that ``w^-k`` stays far from overflow.
    """
    out = np.array(values, dtype=np.float64, copy=True)
    ok = np.isfinite(out)
    y = out[ok]
    if not 0 < weight < 1 or len(y) == 0:
        return out
    chunk = max(1, int(150 / -np.log10(weight)))
    sm = np.empty_like(y)
    last, n = 0.0, 0
    for i in range(0, len(y), chunk):
        seg = y[i:i + chunk]
        pw = weight ** np.arange(len(seg))
        cur = weight * pw * last + (1 - weight) * pw * np.cumsum(seg / pw)
        sm[i:i + len(seg)] = cur / (1 - weight ** (n + np.arange(1, len(seg) + 1)))
        last, n = cur[-1], n + len(seg)
    out[ok] = sm
    return out


def column_means(steps, values, lo_step, hi_step, width):
    """Mean of finite values per column; NaN where a column has none."""
    col = ((steps - lo_step) * (width - 1) // max(hi_step - lo_step, 1)).astype(np.int64)
    ok = np.isfinite(values)
    sums = np.bincount(col[ok], weights=values[ok], minlength=width)[:width]
    counts = np.bincount(col[ok], minlength=width)[:width]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = sums / counts
    bad = np.zeros(width, dtype=bool)
    np.logical_or.at(bad, col[~ok], True)
    return out, bad


def plot(series, width: int = 72, height: int = 10, mark: tuple[int, int] | None = None,
         mark_style: str = "red") -> list[Text]:
    """Lines of a plot of ``series`` = [(label, steps, values, style)]; the first is drawn in
    braille, the others with bullets. ``mark`` underlines a step range below the x axis."""
    series = [s for s in series if len(s[1])]
    if not series:
        return []
    lo_step = min(int(s[1][0]) for s in series)
    hi_step = max(int(s[1][-1]) for s in series)
    cols = []
    for i, (_label, steps, values, _style) in enumerate(series):
        shown = ema_debiased(values) if i == 0 and len(values) > 2 * width else values
        cols.append(column_means(steps, shown, lo_step, hi_step, width if i else width * 2))
    scale = YScale.fit([c[0] for c in cols], height)
    cells = np.zeros((height, width), dtype=np.int64)
    cell_style = [[None] * width for _ in range(height)]
    glyph = [[None] * width for _ in range(height)]
    # main curve: braille; columns with no point are bridged, NaN ones are not
    y, bad = cols[0]
    draw_line(cells, cell_style, bridge(y, keep=bad), scale, series[0][3])
    for i, (*_, style) in enumerate(series[1:], 1):
        yv, _ = cols[i]
        for x in range(width):
            if np.isfinite(yv[x]):
                r = scale.row(yv[x]) // 4
                glyph[r][x] = "•"
                cell_style[r][x] = style
    nonfinite = np.zeros(width, dtype=bool)
    for c in cols:
        b = c[1]
        nonfinite |= b if len(b) == width else b.reshape(width, 2).any(axis=1)
    labels = scale.labels(height)
    lw = max(len(s) for s in labels)
    lines = []
    for r in range(height):
        t = row_start(labels[r], lw)
        for x in range(width):
            if r == 0 and nonfinite[x]:
                t.append("✖", style="bold red")
            elif glyph[r][x]:
                t.append(glyph[r][x], style=cell_style[r][x])
            elif cells[r, x]:
                t.append(chr(BRAILLE + int(cells[r, x])), style=cell_style[r][x])
            else:
                t.append(" ")
        lines.append(t)
    axis, ticks = x_axis(lw, width, "step", lo_step, hi_step)
    lines.append(axis)
    if mark is not None:
        a = int((mark[0] - lo_step) * (width - 1) // max(hi_step - lo_step, 1))
        b = int((mark[1] - lo_step) * (width - 1) // max(hi_step - lo_step, 1))
        m = Text(" " * (lw + 2) + " " * a)
        m.append("▔" * max(1, b - a + 1), style=mark_style)
        lines.append(m)
    lines.append(ticks)
    legend = Text(" " * (lw + 2))
    for i, (label, _, _, style) in enumerate(series):
        legend.append("⣿ " if i == 0 else "• ", style=style)
        legend.append(label + ("  (smoothed)" if i == 0 and len(series[0][2]) > 2 * width else "") + "   ")
    if scale.log:
        legend.append("log scale", style="dim")
    if nonfinite.any():
        legend.append("  ✖ NaN/Inf", style="bold red")
    lines.append(legend)
    return lines
