"""Small all-numeric CSV files read by pandas' C parser without ``pandas.read_csv``.

On a file of a few KB, ``read_csv`` spends most of its time in its Python layers (option
checks, the wrapper, the DataFrame and the Series taken from it): about 0.2 ms against 0.04 ms
for the C reader itself. A sweep reads thousands of such files. Here the C reader
(``pandas._libs.parsers.TextReader``) is called directly with the options ``read_csv`` gives
it, so every number is the one ``read_csv`` parses (its tokenizer and float parser, not
Python's ``float``). Only the plain case is taken: one header row of distinct, non-empty
names, every column parsed to int64/uint64/float64 (``nan`` cells aside: a diverged run's
file, read a second time with them as NA), one chunk, no warning. Anything else (other text
cells, ragged rows, a private API that changed) returns None and the file goes through
``read_csv`` and the tolerant path as before (tests/test_csv_small.py compares both on every
CSV at hand).
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd

from lossctl.readers.columns import Numbers

try:  # private: its options are those read_csv (pandas 2.0-3.1) passes to it
    from pandas._libs.parsers import TextReader
except ImportError:  # pragma: no cover - a pandas without it: read_csv for every file
    TextReader = None

MAX_BYTES = 1 << 20  # above this read_csv's own overhead is a small part of the parse


def _read(data: bytes, sep: str, skipinitialspace: bool, na_values: set[str], floats: list[int]) -> list | None:
    """The columns (by position) of one more read with these NA spellings, the columns
    ``floats`` parsed as the tolerant path reads such a column, each cell with ``float()``
    (``-0`` in a column with ``nan`` cells is -0.0 there, where an integer parse gives 0, and 20
    digits round as Python rounds them), or None."""
    options = _options(sep, skipinitialspace, na_values)
    options["dtype"] = dict.fromkeys(floats, np.dtype(np.float64))
    options["float_precision"] = "round_trip"  # Python's own parse, as float() gives it
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            chunks = TextReader(io.BytesIO(data), **options).read_low_memory(None)
    except Exception:  # noqa: BLE001 - as in numeric_table
        return None
    if len(chunks) != 1 or sorted(chunks[0]) != list(range(len(chunks[0]))):
        return None
    return [chunks[0][i] for i in range(len(chunks[0]))]


def _options(sep: str, skipinitialspace: bool, na_values: set[str]) -> dict:
    """What ``read_csv(sep=sep, keep_default_na=False, na_values=[""], index_col=False,
    skipinitialspace=...)`` hands the C reader."""
    return {
        "delimiter": sep, "header": 0, "index_col": False, "allow_leading_cols": False, "names": None,
        "usecols": None, "dtype": None, "converters": {}, "skiprows": set(), "skip_blank_lines": True,
        "skipinitialspace": skipinitialspace, "na_filter": True, "na_values": na_values, "na_fvalues": set(),
        "keep_default_na": False, "true_values": None, "false_values": None, "decimal": ".", "thousands": None,
        "comment": None, "lineterminator": None, "quotechar": '"', "quoting": 0, "doublequote": True,
        "escapechar": None, "float_precision": None, "encoding_errors": "strict", "on_bad_lines": 0,
        "dtype_backend": "numpy",
    }


def numeric_table(data: bytes, sep: str, skipinitialspace: bool) -> tuple[list[str], list[Numbers], int] | None:
    """``(column names, one Numbers per column, rows)`` of UTF-8 CSV ``data`` whose every
    column is numeric, as ``read_csv`` with the CSV reader's options would give them; None
    when the file is not that plain case (or the C reader cannot be used as here)."""
    if TextReader is None or len(data) > MAX_BYTES:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a warning (rows longer than the header...): read_csv decides
            reader = TextReader(io.BytesIO(data), **_options(sep, skipinitialspace, {""}))
            header = reader.header
            if (reader.leading_cols or reader.unnamed_cols or header is None or len(header) != 1):
                return None
            names = header[0]
            if not names or len(set(names)) != len(names) or not all(isinstance(c, str) and c for c in names):
                return None
            chunks = reader.read_low_memory(None)
    except Exception:  # noqa: BLE001 - a parse error or a changed private API: read_csv says what
        return None
    if len(chunks) != 1 or sorted(chunks[0]) != list(range(len(names))):
        return None
    columns = [chunks[0][i] for i in range(len(names))]
    n = len(columns[0])
    if n == 0 or not all(getattr(c, "ndim", 0) == 1 and len(c) == n for c in columns):
        return None
    text = [i for i, c in enumerate(columns) if not _numeric(c)]
    gaps = {}
    if text:
        # ``nan`` cells (a diverged run) leave a column text: read again with them as NA (the
        # empty cells, NA the first time, are the missing ones); any other text, the tolerant
        # path judges cell by cell
        nans, with_nan = set(), []
        for i in text:
            words = {w for w in pd.unique(columns[i]) if isinstance(w, str) and w.lower() == "nan"}
            nans |= words
            with_nan += [i] * bool(words)
            cells = np.asarray(columns[i], dtype=object)
            gaps[i] = np.asarray(pd.isna(cells), dtype=bool) | (cells == "")  # a string array keeps "" as ""
        if not nans:
            return None
        again = _read(data, sep, skipinitialspace, {"", *nans}, with_nan)
        if again is None or len(again) != len(columns) or not all(_numeric(again[i]) and len(again[i]) == n for i in text):
            return None
        for i in text:
            columns[i] = again[i]
    cells = []
    for i, col in enumerate(columns):
        if col.dtype.kind in "iu":
            cells.append(Numbers(col.astype(np.float64)))
        else:
            missing = gaps[i] if i in gaps else np.isnan(col)  # an empty cell
            cells.append(Numbers(col, missing if missing.any() else None))
    return names, cells, n


def _numeric(column) -> bool:
    """A column the C parser made numbers of, as ``read_csv`` would keep it."""
    return isinstance(column, np.ndarray) and (column.dtype == np.float64 or
                                                (column.dtype.kind in "iu" and column.dtype.itemsize == 8))
