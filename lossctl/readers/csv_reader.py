"""CSV logs: Keras ``CSVLogger``, Lightning ``metrics.csv``, wandb/TensorBoard exports and plain CSV.

Wide layouts (one column per metric, a step-like column) and the long layout
(``step,metric,value``) are both read; empty and ``NA`` cells are missing points, ``nan`` and
``inf`` are logged values, other text is reported and skipped.
"""

from __future__ import annotations

import csv
import io
import warnings as pywarnings

import numpy as np
import pandas as pd

from lossctl.errors import InputError, NotALog
from lossctl.frame import make_frame
from lossctl.readers import CSV_SUFFIXES
from lossctl.readers.base import FileData
from lossctl.readers.columns import (
    STEP_COLUMNS,
    WALL_COLUMNS,
    Numbers,
    numbers_of,
    pick,
    step_numbers,
    unique_names,
    wide_to_long,
)
from lossctl.readers.csv_small import numeric_table
from lossctl.storage import as_blob, cannot_read

SUFFIXES = CSV_SUFFIXES
LONG_NAME = ["metric", "tag", "name", "key"]
LONG_VALUE = ["value", "Value"]


def _separator(first_line: str) -> str:
    counts = {sep: first_line.count(sep) for sep in (",", ";", "\t")}
    return max(counts, key=counts.get)


def _looks_like_header(line: str) -> bool:
    cells = [c.strip() for c in line.split(_separator(line))]
    return any(c and not _is_number(c) for c in cells)


def _looks_like_csv(text: str) -> bool:
    """A header line, then (if the head holds one complete) a data line with a number in it.

    Keeps out look-alikes such as Python ``logging`` output, whose ``12:00:00,123`` timestamps
    put a comma in every line but no number in any field."""
    lines = text.splitlines()
    if not lines or not _looks_like_header(lines[0]):
        return False
    sep = _separator(lines[0])
    header = lines[0].split(sep)
    complete = [ln for ln in (lines[1:] if text.endswith("\n") else lines[1:-1]) if ln.strip()]
    if not complete:
        return len(header) >= 2  # header only: claim it, so the user hears it has no rows
    row = [c.strip() for c in complete[0].split(sep)]
    return (len(row) >= 2 or len(header) == 1) and any(c and _is_number(c) for c in row)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _looks_like_data(line: str) -> bool:
    """A first line of numbers only (a CSV without its header)."""
    cells = [c.strip() for c in line.split(_separator(line))]
    return len(cells) >= 2 and all(c and _is_number(c) for c in cells)


def _tolerant_table(text: str, sep: str) -> tuple[pd.DataFrame, int]:
    """Parse rows whose field count varies (a header that grew mid-file, ragged rows); also
    return how many rows had more fields than their header (the extra fields are dropped)."""
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))  # a cell may be the whole file
    rows = list(csv.reader(io.StringIO(text), delimiter=sep))
    header, records, long_rows = rows[0], [], 0
    for row in rows[1:]:
        if not row:
            continue
        if row != header and set(row) >= set(header) and not any(_is_number(c) for c in row if c):
            header = row  # the header was rewritten with more columns
            continue
        long_rows += len(row) > len(header)
        records.append(dict(zip(header, row)))
    return pd.DataFrame.from_records(records).fillna(""), long_rows


class CsvReader:
    format = "csv"

    def sniff(self, path, head: bytes) -> bool:
        if path.suffix.lower() not in SUFFIXES | {""} or b"\x00" in head:  # "": a pipe
            return False
        try:
            text = head.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = head[: len(head) - 3].decode("utf-8-sig", errors="ignore")  # a cut multi-byte char
        if not path.suffix and text.lstrip()[:1] in ("{", "["):
            return False  # a pipe holding JSON
        if path.suffix.lower() in (".csv", ".tsv") and text and _looks_like_data(text.splitlines()[0]):
            return True  # claimed so that read says it has no header (unless another log is found)
        lines = text.splitlines()
        if len(lines) > 1 and not any(sep in lines[0] for sep in ",;\t") and any(sep in lines[1] for sep in ",;\t"):
            return False  # a one-column "header" above separated rows: printed text (a console log)
        return _looks_like_csv(text)

    def read(self, path) -> FileData:
        path = as_blob(path)
        text = _text(path)
        text, partial = complete_lines(text)
        warnings = [(f"{path}: last line has no line end (file still being written?); skipped: "
                     f"{partial[:40]!r}")] if partial.strip() else []
        data = self.parse(text, path)
        data.warnings[:0] = warnings
        return data

    def parse(self, text: str, path, first_row: int = 0) -> FileData:
        """Points of CSV ``text`` (header first); ``first_row`` numbers its data rows when they
        continue a file read earlier (`lossctl watch` parses only appended lines)."""
        first = _first_line(text)
        if not first.strip():
            raise InputError(path, "empty CSV file")
        if not _looks_like_header(first):
            raise NotALog(path, "no header row (the first line holds no column names)")
        sep = _separator(first)
        names, cells, n, long_rows, data = _read_table(text, sep, path)
        if n == 0 or not names:
            raise InputError(path, "CSV has a header but no data rows")
        fmt = _layout(names)
        step_col = pick(names, STEP_COLUMNS)
        wall_col = pick(names, WALL_COLUMNS)
        warnings = [(f"{path}: rows with more fields than the header (columns "
                     f"{', '.join(map(repr, names[:4]))}...); extra fields ignored")] if long_rows else []
        name_col, value_col = pick(names, LONG_NAME), pick(names, LONG_VALUE)
        long = bool(name_col and value_col and step_col)
        cells = _text_where_needed(data, sep, cells, n, {names.index(name_col)} if long else set())
        del data
        columns = list(zip(names, cells))
        if long:
            arrays = _long(dict(columns), step_col, wall_col, name_col, value_col, str(path), warnings)
        else:
            if value_col == "Value" and step_col == "Step" and len(names) <= 3:
                # TensorBoard's "download CSV": run-<run>-tag-<tag>.csv holds one tag
                tag = _exported_tag(path.stem)
                columns = [(tag if c == "Value" else c, v) for c, v in columns]
            if step_col is None:
                warnings.append(f"{path}: no step column ({', '.join(STEP_COLUMNS[:4])}...); "
                                "using the row number as step")
            arrays, more = wide_to_long(columns, n, step_col, wall_col, str(path), first_row)
            warnings += more
        if arrays is None:
            raise InputError(path, "no numeric metric values in any column")
        metric, step, wall, value = arrays
        return FileData(make_frame(metric, step, wall, value), fmt, warnings)


def _text(path) -> str:
    """``path.text()``: the file decoded (UTF-8, a BOM dropped, bad bytes replaced) with universal
    newlines. A file written by Python's csv module ends every line with CRLF, where dropping
    each CR byte (half the time of ``str.replace``, which is slow with a match per line) gives
    the same text: a CR or LF byte is never part of a multi-byte character."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise cannot_read(path, exc) from None
    if b"\r" in data:
        octets = np.frombuffer(data, dtype=np.uint8)
        cr = np.flatnonzero(octets == 13)
        if cr[-1] + 1 < len(octets) and np.all(octets[cr + 1] == 10):  # every CR starts a CRLF
            data = data.translate(None, b"\r")
    text = data.decode("utf-8-sig", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _first_line(text: str) -> str:
    """``text.splitlines()[0]`` (or ``""``) without splitting the whole file into lines."""
    size = 4096
    while True:
        lines = text[:size].splitlines()
        if not lines:
            return ""
        if len(lines) > 1 or size >= len(text):
            return lines[0]
        size *= 8


def _read_csv(data: bytes, sep: str, **kwargs) -> tuple[pd.DataFrame, int]:
    """pandas' C parser on the UTF-8 ``data``; also return how many rows had more fields than
    the header."""
    skip = _skip_spaces(data)
    with pywarnings.catch_warnings(record=True) as caught:  # rows longer than the header
        pywarnings.simplefilter("always", pd.errors.ParserWarning)
        # index_col=False: rows longer than the header must not turn column 1 into an index
        table = pd.read_csv(io.BytesIO(data), sep=sep, keep_default_na=False, skipinitialspace=skip,
                            index_col=False, encoding="utf-8", **kwargs)
    return table, sum(issubclass(w.category, pd.errors.ParserWarning) for w in caught)


def _skip_spaces(data: bytes) -> bool:
    """skipinitialspace costs the tokenizer about a third of its time; without a space or a tab
    in the file it changes nothing."""
    return b" " in data or b"\t" in data


def _read_table(text: str, sep: str, path):
    """``(names, cells, rows, long_rows)``: one entry of ``cells`` per column, in file order.

    Fast path: the C parser turns every column whose cells are all numbers or empty into
    float64 (:class:`Numbers`, no Python object per cell); a small file holding only such
    columns is read by the C parser without ``read_csv`` (:mod:`lossctl.readers.csv_small`).
    Columns it leaves as text (``NA``, ``nan``, words, ``True``) are ``None`` here and read
    again as text by :func:`_text_where_needed`. A file the C parser cannot split into rows (a header that grew
    mid-file, ragged rows) is read by the csv module as text, every column tolerant."""
    data = text.encode("utf-8", errors="replace")  # bytes: the C parser reads them without a copy per chunk
    small = numeric_table(data, sep, _skip_spaces(data))  # a small all-numeric file: without read_csv
    if small is not None:
        names, cells, n = small
        return unique_names([c.strip() for c in names]), cells, n, 0, data
    try:
        table, long_rows = _read_csv(data, sep, na_values=[""])
        cells: list = [_fast_numbers(table.iloc[:, i]) for i in range(table.shape[1])]
    except pd.errors.ParserError:
        try:
            table, long_rows = _tolerant_table(text, sep)
        except csv.Error as exc:
            raise InputError(path, f"malformed CSV: {exc}") from None
        cells = [table.iloc[:, i] for i in range(table.shape[1])]
    except (pd.errors.EmptyDataError, ValueError, csv.Error) as exc:
        raise InputError(path, f"malformed CSV: {exc}") from None
    names = unique_names([str(c).strip() for c in table.columns])
    return names, cells, len(table), long_rows, data


def _fast_numbers(column: pd.Series) -> Numbers | None:
    """The column as :class:`Numbers` when the C parser made it numeric (an empty cell is the
    only way to NaN there: ``nan`` stays text with these options), else None."""
    if column.dtype.kind in "iu":
        return Numbers(column.to_numpy(dtype=np.float64))
    if column.dtype == np.float64:
        values = column.to_numpy()
        missing = np.isnan(values)
        return Numbers(values, missing if missing.any() else None)
    return None  # text, bool or mixed: the tolerant path decides cell by cell


def _text_where_needed(data: bytes, sep: str, cells, n: int, also: set[int]) -> list:
    """``cells`` with each column that is None (or whose position is in ``also``) replaced by
    its cells as text, read again with the options the tolerant path expects."""
    need = sorted({i for i, c in enumerate(cells) if c is None} | also)
    need = [i for i in need if not isinstance(cells[i], pd.Series)]
    if not need:
        return cells
    try:
        table, _ = _read_csv(data, sep, usecols=need, dtype=str, na_filter=False)
        if len(table) != n or table.shape[1] != len(need):
            raise ValueError("rows or columns differ")
        got = [table.iloc[:, j] for j in range(len(need))]
    except (pd.errors.ParserError, ValueError):  # whatever the reason: read every column as text
        table, _ = _read_csv(data, sep, dtype=str, na_filter=False)
        got = [table.iloc[:, i] for i in need]
    out = list(cells)
    for i, col in zip(need, got):
        out[i] = col
    return out


def complete_lines(text: str) -> tuple[str, str]:
    """Split ``text`` into its complete lines and an unterminated last line (a row still being
    written: ``57,0.12`` of ``57,0.1234`` would be a wrong value); a lone header line stays."""
    if not text or text.endswith(("\n", "\r")):
        return text, ""
    cut = max(text.rfind("\n"), text.rfind("\r")) + 1
    return (text[:cut], text[cut:]) if cut else (text, "")


def _exported_tag(stem: str) -> str:
    return stem.split("-tag-", 1)[1] if "-tag-" in stem else stem


def _layout(columns) -> str:
    cols = set(columns)
    if {"epoch", "step"} <= cols:
        return "lightning_csv"
    if "epoch" in cols and pick(columns, STEP_COLUMNS) == "epoch":
        return "keras_csv"
    return "csv"


def _long(table, step_col, wall_col, name_col, value_col, where, warnings):
    steps, step_ok, step_problem = step_numbers(table[step_col], step_col)
    values, missing, bad = numbers_of(table[value_col])
    keep = step_ok & ~missing & ~bad
    if step_problem:
        warnings.append(f"{where}: {step_problem}")
    if bad.any():
        warnings.append(f"{where}: {int(bad.sum())} non-numeric values in {value_col!r}; skipped")
    if not keep.any():
        return None
    walls = numbers_of(table[wall_col])[0][keep] if wall_col else None
    return (pd.Categorical(table[name_col].astype(str).to_numpy()[keep]), steps[keep].astype(np.int64), walls,
            values[keep])


reader = CsvReader()
