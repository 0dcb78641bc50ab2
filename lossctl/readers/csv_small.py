"""Small all-numeric CSV files read by pandas' C parser without ``pandas.read_csv``.

On a file of a few KB, ``read_csv`` spends most of its time in its Python layers (option
checks, the wrapper, the DataFrame and the Series taken from it): about 0.2 ms against 0.04 ms
for the C reader itself. A sweep reads thousands of such files. Here the C reader
(``pandas._libs.parsers.TextReader``) is called directly with the options ``read_csv`` gives
it, so every number is the one ``read_csv`` parses (its tokenizer and float parser, not
Python's ``float``). Only the plain case is taken: one header row of distinct, non-empty
names, every column parsed to int64/uint64/float64, one chunk, no warning. Anything else
(text cells, ragged rows, a private API that changed) returns None and the file goes through
``read_csv`` as before (tests/test_csv_small.py compares both on every CSV at hand).
"""

from __future__ import annotations

import io
import warnings

import numpy as np

from lossctl.readers.columns import Numbers

try:  # private: its options are those read_csv (pandas 2.0-3.1) passes to it
    from pandas._libs.parsers import TextReader
except ImportError:  # pragma: no cover - a pandas without it: read_csv for every file
    TextReader = None

MAX_BYTES = 1 << 20  # above this read_csv's own overhead is a small part of the parse


def _options(sep: str, skipinitialspace: bool) -> dict:
    """What ``read_csv(sep=sep, keep_default_na=False, na_values=[""], index_col=False,
    skipinitialspace=...)`` hands the C reader."""
    return {
        "delimiter": sep, "header": 0, "index_col": False, "allow_leading_cols": False, "names": None,
        "usecols": None, "dtype": None, "converters": {}, "skiprows": set(), "skip_blank_lines": True,
        "skipinitialspace": skipinitialspace, "na_filter": True, "na_values": {""}, "na_fvalues": set(),
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
            reader = TextReader(io.BytesIO(data), **_options(sep, skipinitialspace))
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
    if n == 0 or not all(isinstance(c, np.ndarray) and c.ndim == 1 and len(c) == n for c in columns):
        return None
    cells = []
    for col in columns:
        if col.dtype.kind in "iu" and col.dtype.itemsize == 8:
            cells.append(Numbers(col.astype(np.float64)))
        elif col.dtype == np.float64:
            missing = np.isnan(col)  # an empty cell: nan and NA spellings keep a column text here
            cells.append(Numbers(col, missing if missing.any() else None))
        else:
            return None
    return names, cells, n
