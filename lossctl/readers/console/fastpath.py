"""The console scanner's per-byte work: index the lines of a log by skeleton, and parse the
numbers of many lines of one shape at once. In C (``_lines.c``) when it was built, else with
numpy and pandas' C tokenizer; both give the same answers (tests/test_readers_console_fastpath.py).

:func:`index` gives the line offsets and one code per line (lines with the same code have the
same skeleton, numbered in order of first sighting); :func:`numbers` the float64 numbers at
given token positions of given lines, with a mask of the lines whose tokens did not fit (the
scanner reads those one by one).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

try:
    from lossctl.readers.console import _lines
except ImportError:  # no C compiler at install time: numpy/pandas below, same results
    _lines = None

DIGITS = b"0123456789"


class Lines:
    """The lines of a log (``data.split(b"\\n")`` without its empty last piece), sliced on demand."""

    def __init__(self, data: bytes, starts: np.ndarray, keys=()):
        self.data, self.starts = data, starts
        self.keys = keys  # per skeleton code, a key equal for equal skeletons in any log

    def __len__(self) -> int:
        return len(self.starts) - 1

    def __getitem__(self, i) -> bytes:
        return self.data[self.starts[i]:self.starts[i + 1] - 1]


def index(data: bytes, use_c: bool = True) -> tuple[Lines, np.ndarray]:
    """The lines of ``data`` and a skeleton code per line (codes numbered by first sighting)."""
    if _lines is not None and use_c:
        s, h = _lines.index(data)
        starts = np.frombuffer(s, dtype=np.int64)
        if not len(h):
            return Lines(data, starts), np.zeros(0, np.int64)
        codes, keys = pd.factorize(np.frombuffer(h, dtype=np.uint64))
        return Lines(data, starts, keys.tolist()), codes.astype(np.int64, copy=False)
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    if data and not data.endswith(b"\n"):
        ends = np.append(ends, len(data))
    starts = np.concatenate([[0], ends + 1]).astype(np.int64)
    n = len(ends)
    if not n:
        return Lines(data, starts), np.zeros(0, dtype=np.int64)
    skel = data.translate(None, DIGITS).split(b"\n")[:n]
    codes, keys = pd.factorize(np.array(skel, dtype=object), use_na_sentinel=False)
    return Lines(data, starts, list(keys)), codes.astype(np.int64, copy=False)


def longest(data: bytes, use_c: bool = True) -> int:
    """The length of the longest line of ``data``."""
    return extent(data, use_c)[0]


def extent(data: bytes, use_c: bool = True) -> tuple[int, int]:
    """The length of the longest line of ``data`` and its number of line ends, in one pass."""
    if _lines is not None and use_c:
        return _lines.longest(data)
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    return int(np.diff(np.append(ends, len(data)), prepend=-1).max()) - 1, len(ends)


def numbers(lines: Lines, rows: np.ndarray, table: bytes, ntok: int, cols: list[int],
            use_c: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Tokens ``cols`` of the lines ``rows`` as float64 (one column each), a token being a run of
    bytes ``table`` keeps (``line.translate(table).split()``), and the mask of the rows that hold
    ``ntok`` tokens whose wanted ones are numbers. Rows outside the mask hold garbage."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    cols = sorted(cols)
    if _lines is not None and use_c:
        v, ok = _lines.numbers(lines.data, lines.starts, rows, table, ntok, np.array(cols, dtype=np.int64))
        return (np.frombuffer(v, dtype=np.float64).reshape(len(rows), len(cols)),
                np.frombuffer(ok, dtype=np.uint8).astype(bool))
    values = np.full((len(rows), len(cols)), np.nan)
    if not len(rows):
        return values, np.zeros(0, dtype=bool)
    body = b"\n".join(lines[i] for i in rows.tolist()).translate(table)
    keep = np.frombuffer(body, dtype=np.uint8) != 32
    newline = np.frombuffer(body, dtype=np.uint8) == 10
    keep &= ~newline
    first = keep & ~np.concatenate([[False], keep[:-1]])  # a token's first byte
    line_of = np.concatenate([[0], np.cumsum(newline)[:-1]])
    ok = np.bincount(line_of[first], minlength=len(rows)) == ntok
    if not ok.any():
        return values, ok
    fit = body if ok.all() else b"\n".join(x for x, good in zip(body.split(b"\n"), ok.tolist()) if good)
    try:
        table_ = pd.read_csv(io.BytesIO(fit), sep=r"\s+", header=None,
                             usecols=None if len(cols) == ntok else cols, names=range(ntok),
                             dtype=np.float64, engine="c", na_filter=False, skip_blank_lines=False)
    except (ValueError, pd.errors.ParserError):
        return values, np.zeros(len(rows), dtype=bool)
    if len(table_) != int(ok.sum()):
        return values, np.zeros(len(rows), dtype=bool)
    values[ok] = table_[cols].to_numpy()
    return values, ok
