"""What the single-run plot and the multi-run overlay share: the y scale (log when the values
span more than 30x), braille lines on a grid of character cells, and the axes around them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.text import Text

BRAILLE = 0x2800
# dot bit for (x in 0..1, y in 0..3 from the top) inside one braille cell
DOT = [[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]]


@dataclass
class YScale:
    """Maps values to dot rows (0 at the top) over ``rows`` dot rows."""

    lo: float  # transformed (log10 when ``log``)
    hi: float
    log: bool
    rows: int

    @classmethod
    def fit(cls, columns: list[np.ndarray], height: int) -> YScale:
        finite = np.concatenate([c[np.isfinite(c)] for c in columns] or [np.array([])])
        if len(finite) == 0:
            finite = np.array([0.0, 1.0])
        lo, hi = float(finite.min()), float(finite.max())
        log = lo > 0 and hi / lo > 30
        tlo, thi = (np.log10(lo), np.log10(hi)) if log else (lo, hi)
        if not thi - tlo > 0:  # a flat curve: give it a band around its value
            pad = max(abs(thi), 1.0) * 0.05
            thi, tlo = thi + pad, tlo - pad
        return cls(float(tlo), float(thi), log, height * 4)

    def row(self, v: float) -> int:
        t = np.log10(v) if self.log else v
        return int(np.clip(round((self.hi - t) / (self.hi - self.lo) * (self.rows - 1)), 0, self.rows - 1))

    def labels(self, height: int) -> list[str]:
        """The y-axis label of each character row: top, middle and bottom values, else blank."""
        fmt = (lambda v: f"{10 ** v:.3g}") if self.log else (lambda v: f"{v:.3g}")
        marks = {0: fmt(self.hi), height // 2: fmt((self.hi + self.lo) / 2), height - 1: fmt(self.lo)}
        return [marks.get(r, "") for r in range(height)]


def bridge(y: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """Empty columns between drawn ones filled by interpolation (a short per-epoch log on a wide
    plot stays one line); ``keep`` marks columns to leave empty (NaN logged there)."""
    have = np.flatnonzero(np.isfinite(y))
    if len(have) < 2:
        return y
    gap = ~np.isfinite(y) if keep is None else ~np.isfinite(y) & ~keep
    gap[: have[0]] = gap[have[-1] + 1:] = False
    y = y.copy()
    y[gap] = np.interp(np.flatnonzero(gap), have, y[have])
    return y


def draw_line(cells: np.ndarray, styles: list[list], y: np.ndarray, scale: YScale, style) -> tuple | None:
    """Braille dots for ``y`` (one value per dot column), consecutive columns joined vertically;
    returns the (row, column) cell of the last dot, or None when nothing was drawn."""
    prev, last = None, None
    for x in range(len(y)):
        if not np.isfinite(y[x]):
            prev = None
            continue
        r = scale.row(y[x])
        for rr in (range(min(r, prev), max(r, prev) + 1) if prev is not None else [r]):
            cells[rr // 4, x // 2] |= DOT[rr % 4][x % 2]
            styles[rr // 4][x // 2] = style
        prev, last = r, (r // 4, x // 2)
    return last


def row_start(label: str, width: int) -> Text:
    """The left margin of a plot row: its y label and tick, or the bare axis."""
    return Text(f"{label:>{width}} ┤" if label else " " * width + " │", style="dim")


def x_axis(margin: int, width: int, name: str, lo: int, hi: int) -> list[Text]:
    left, right = f"{name} {lo:,}", f"{hi:,}"
    return [Text(" " * margin + " └" + "─" * width, style="dim"),
            Text(" " * (margin + 2) + left + " " * max(1, width - len(left) - len(right)) + right, style="dim")]
