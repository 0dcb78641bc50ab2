"""Small numeric CSV files read by the C parser directly (lossctl/readers/csv_small.py) give
exactly what ``read_csv`` gives: the same names, rows, float64 bits and missing cells, and the
same frames and warnings out of the CSV reader, on every CSV at hand and on edge cases."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_readers_fastpath import SETTINGS, wide_csv

from lossctl.readers import csv_reader as C
from lossctl.readers import csv_small
from lossctl.readers.columns import numbers_of

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def corpus_csvs() -> list[Path]:
    dirs = [ROOT / "sample_logs", ROOT / "bench" / "corpus" / "out", SHARED / "corpus" / "dev"]
    return sorted(p for d in dirs if d.is_dir() for p in d.rglob("*") if p.suffix in (".csv", ".tsv"))


def same_numbers(got, want) -> bool:
    """Two ``(values, missing, bad)`` triples equal, the values bit for bit (NaN payloads, -0.0)."""
    (va, ma, ba), (vb, mb, bb) = got, want
    return (va.dtype == vb.dtype == np.float64 and np.array_equal(va.view(np.int64), vb.view(np.int64))
            and np.array_equal(ma, mb) and np.array_equal(ba, bb))


def via_read_csv(data: bytes, sep: str):
    """What the reader's read_csv path makes of the same bytes: names, each column's
    ``(values, missing, bad)`` (text columns through the tolerant path), rows, long rows."""
    table, long_rows = C._read_csv(data, sep, na_values=[""])
    n = len(table)
    cells = [C._fast_numbers(table.iloc[:, i]) for i in range(table.shape[1])]
    cells = C._text_where_needed(data, sep, cells, n, set())
    return list(table.columns), [numbers_of(c) for c in cells], n, long_rows


def check_table(text: str) -> bool:
    """The fast path agrees with read_csv wherever it answers; return whether it did."""
    sep = C._separator(C._first_line(text))
    data = text.encode("utf-8", errors="replace")
    fast = csv_small.numeric_table(data, sep, C._skip_spaces(data))
    if fast is None:
        return False
    names, cells, n = fast
    want_names, want_cells, want_n, long_rows = via_read_csv(data, sep)
    assert (names, n, long_rows) == (want_names, want_n, 0)
    assert all(same_numbers(numbers_of(c), w) for c, w in zip(cells, want_cells, strict=True))
    return True


def read_both(path, monkeypatch):
    """The CSV reader's FileData (or error) with the fast path and without it."""
    out = []
    for fast in (True, False):
        with monkeypatch.context() as m:
            if not fast:
                m.setattr(C, "numeric_table", lambda *a: None)
            try:
                out.append(C.reader.read(path))
            except Exception as exc:  # noqa: BLE001 - the same error both ways
                out.append(f"{type(exc).__name__}: {exc}")
    return out


def assert_same_read(path, monkeypatch):
    got, want = read_both(path, monkeypatch)
    if isinstance(want, str):
        assert got == want
        return
    pd.testing.assert_frame_equal(got.frame, want.frame, check_exact=True)
    assert (got.format, got.warnings) == (want.format, want.warnings)
    for col in ("step", "wall_time", "value"):  # -0.0 and NaN bits too
        assert np.array_equal(got.frame[col].to_numpy().view(np.int64), want.frame[col].to_numpy().view(np.int64))


@pytest.mark.skipif(not corpus_csvs(), reason="no CSV corpus here")
def test_every_corpus_csv_reads_the_same(monkeypatch):
    taken = 0
    for path in corpus_csvs():
        text = C.complete_lines(path.read_text(encoding="utf-8-sig", errors="replace"))[0]
        if text.strip():
            taken += check_table(text)
        assert_same_read(path, monkeypatch)
    assert taken >= len(corpus_csvs()) // 2  # the plain files do take the fast path


EDGE = {
    "plain": ("step,loss\n0,0.5\n1,0.25\n", True),
    "empty cells": ("epoch,step,train_loss,val_loss\n0,0,0.7,\n0,1,,0.5\n,2,0.6,\n", True),
    "an empty column": ("step,loss,acc\n0,0.5,\n1,0.4,\n", True),
    "blank lines": ("step,loss\n\n0,0.5\n\n\n1,0.25\n\n", True),
    "exponents": ("step,lr,loss\n0,1e-05,1.5E+3\n1,2.5e-7,-3e308\n2,1e-320,4.9e-324\n", True),
    "many digits": (("step,loss\n0,0.30583542585372925\n1,1.0973732471466064\n2,0.123456789012345678901234\n"
                    "3,12345678901234567.5\n4,0.000000000000000000012345678901234567\n"), True),
    "17-digit mantissas": ("step,a\n" + "".join(f"{i},{9.007199254740993 + i * 1e-15!r}1\n" for i in range(50)), True),
    "signs and forms": ("step,a,b\n0,-0,+5\n1,.5,5.\n2,-0.0,007\n", True),
    "ints beyond int64": ("step,a\n0,18446744073709551615\n1,1\n", True),
    "ints beyond uint64": ("step,a\n0,123456789012345678901234567890\n1,1\n", None),
    "spaces": ("step, loss\n0, 0.5\n1,\t0.25\n", None),
    "semicolons": ("step;loss\n0;0.5\n1;0.25\n", True),
    "tabs": ("step\tloss\n0\t0.5\n1\t0.25\n", None),
    "NA cells": ("step,loss\n0,NA\n1,0.5\n", False),
    "nan and inf": ("step,loss,b\n0,nan,inf\n1,0.5,-inf\n", True),
    "nan spellings": ("step,loss,b,c\n0,nan,NaN,\n1,0.5,,nan\n2,,1e-3,3\n3,NAN,nan,nan\n", True),
    "only nan": ("step,loss\n0,nan\n1,nan\n", True),
    "signed nan": ("step,loss\n0,-nan\n1,0.5\n", False),
    "nan and NA": ("step,loss\n0,nan\n1,NA\n", False),
    "nan and text": ("step,loss,b\n0,nan,x\n1,0.5,y\n", False),
    "nan as a step": ("step,loss\nnan,0.5\n1,0.25\n", True),
    "inf only": ("step,loss\n0,inf\n1,-Infinity\n", None),
    "text": ("step,loss\n0,abc\n1,0.5\n", False),
    "booleans": ("step,flag\n0,True\n1,False\n", False),
    "quoted": ('step,"loss"\n0,"0.5"\n1,0.25\n', None),
    "quoted separator": ('step,loss\n0,"1,5"\n1,0.25\n', False),
    "a long row": ("step,loss\n0,0.5,9\n1,0.25\n", False),
    "a short row": ("step,loss,acc\n0,0.5\n1,0.25,0.9\n", None),
    "duplicate names": ("step,loss,loss\n0,0.5,0.6\n1,0.25,0.3\n", None),
    "an empty name": ("step,,loss\n0,1,0.5\n1,2,0.25\n", False),
    "a trailing separator": ("step,loss,\n0,0.5,\n1,0.25,\n", False),
    "header only": ("step,loss\n", False),
    "a header rewritten": ("step,loss\n0,0.5\nstep,loss,acc\n1,0.25,0.9\n", False),
    "unicode names": ("step,pérte\n0,0.5\n1,0.25\n", True),
    "no step column": ("loss,acc\n0.5,0.1\n0.4,0.2\n", True),
    "tensorboard export": ("Wall time,Step,Value\n1.5e9,0,0.5\n1.5e9,1,0.4\n", True),
}


@pytest.mark.parametrize("name", EDGE)
def test_edge_cases(name, tmp_path, monkeypatch):
    text, fast = EDGE[name]
    took = check_table(text)
    if fast is not None:
        assert took == fast, "the fast path took it" if took else "the fast path left it"
    path = tmp_path / "metrics.csv"
    path.write_text(text)
    assert_same_read(path, monkeypatch)


@SETTINGS
@given(wide_csv())
def test_generated_csv_reads_the_same(text):
    check_table(text)


@SETTINGS
@given(st.lists(st.floats(allow_nan=False, width=64), min_size=1, max_size=40),
       st.sampled_from(["{!r}", "{:.17g}", "{:.20f}", "{:.25e}", "{:.3e}", "{:.0f}"]),
       st.lists(st.sampled_from(["", "nan", "NaN"]), max_size=3))
def test_float_spellings_parse_as_read_csv(values, spelling, odd):
    # pandas' parser keeps 17 digits and scales by a power of ten: not always Python's float();
    # with a nan cell the column is read again, and the reader's path takes it cell by cell
    cells = [spelling.format(v) for v in values] + odd
    text = "step,x\n" + "".join(f"{i},{c}\n" for i, c in enumerate(cells))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_table(text)


def test_the_fast_path_is_used_here():
    # this pandas still offers the C reader as csv_small calls it (else every file is read by
    # read_csv: correct, only slower; the test says so)
    assert csv_small.numeric_table(b"step,loss\n0,0.5\n", ",", False) is not None


@pytest.mark.parametrize("data", [
    b"", b"\r", b"\n", b"a,b\r\n1,2\r\n", b"a,b\r\n1,2", b"a,b\r\n1,2\r", b"a\r\rb\r\n", b"a\r\n\r\nb\n",
    b"\xef\xbb\xbfa,b\r\n1,2\r\n", b"a\xe2\x82\r\n\xac,b\r\n", b"\xe2\r\n\x82\xac\r\n", b"a\rb\nc\r\n",
    b"\r\n\r\n", b"x\xff\r\n\xfe\r\n",
])
def test_text_as_blob_text_gives_it(data, tmp_path):
    # the CSV reader's own decoding (CR bytes dropped when each starts a CRLF) equals Blob.text()
    from lossctl.storage import as_blob

    path = tmp_path / "metrics.csv"
    path.write_bytes(data)
    assert C._text(as_blob(path)) == as_blob(path).text()


def test_text_of_an_unreadable_file(tmp_path):
    from lossctl.storage import as_blob

    with pytest.raises(Exception) as got:
        C._text(as_blob(tmp_path))  # a directory
    with pytest.raises(Exception) as want:
        as_blob(tmp_path).text()
    assert (type(got.value), str(got.value)) == (type(want.value), str(want.value))


@pytest.mark.parametrize("text", ["step,x\n0,-0\n1,nan\n", "step,x\n0,18446744073709551616\n1,\n2,nan\n",
                                  "step,m0\nTrue,nan\n"])
def test_a_column_with_nan_cells_reads_as_float_does(text):
    # read again with its nan cells as NA, a column is parsed as float() parses each cell (the
    # sign of -0, 20 digits rounded as Python rounds them) and its empty cells stay missing; a
    # column of other text is left to read_csv
    check_table(text)
