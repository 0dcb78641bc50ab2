"""The fast paths of the CSV and JSON readers give exactly what the tolerant path gives.

Numeric CSV columns go from pandas' C parser straight to float64, JSON columns of numbers from
the parsed lists; only the other columns take the tolerant path (text cells, one by one). These
properties read the same data both ways, every column forced through the tolerant path as
before, and require identical frames and warnings, so the fast path cannot silently diverge.
"""

from __future__ import annotations

import io
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lossctl.frame import make_frame
from lossctl.readers import csv_reader as C
from lossctl.readers import json_reader as J
from lossctl.readers.columns import (
    MISSING,
    NONFINITE,
    STEP_COLUMNS,
    WALL_COLUMNS,
    Numbers,
    pick,
    to_numbers,
    unique_names,
    wide_to_long,
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WHERE = Path("run/metrics.csv")


def legacy_to_numbers(cells: pd.Series):
    """to_numbers as it was before the fast path (every cell stripped, lowered, parsed)."""
    if cells.dtype.kind in "fiub":
        values = cells.to_numpy(dtype=np.float64)
        return values, np.zeros(len(values), dtype=bool), np.zeros(len(values), dtype=bool)
    if cells.dtype == object:
        cells = cells.map(lambda x: "" if x is None else x if isinstance(x, str) else repr(x))
    text = cells.astype(str).str.strip()
    lower = text.str.lower()
    missing = (lower.isin(MISSING) | cells.isna()).to_numpy()
    values = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(values) & ~missing & ~lower.isin(NONFINITE).to_numpy()
    return values, missing, bad


def same_floats(a, b) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or not np.array_equal(a, b, equal_nan=True):
        return False
    real = ~np.isnan(a)
    return bool(np.array_equal(np.signbit(a[real]), np.signbit(b[real])))  # 0.0 vs -0.0 too


def assert_same_frame(got: pd.DataFrame, want: pd.DataFrame):
    assert list(got.columns) == list(want.columns)
    assert got["metric"].astype(str).tolist() == want["metric"].astype(str).tolist()
    assert list(got["metric"].cat.categories) == list(want["metric"].cat.categories)
    assert got["step"].dtype == want["step"].dtype == np.int64
    assert np.array_equal(got["step"].to_numpy(), want["step"].to_numpy())
    assert same_floats(got["wall_time"], want["wall_time"])
    assert same_floats(got["value"], want["value"])


# --------------------------------------------------------------------------- CSV

CLEAN = st.one_of(
    st.integers(-(10**9), 10**9).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda x: f"{x:.6e}"),
    st.just(""),
)
ODD = st.sampled_from([
    "NA", "na", "N/A", "null", "None", "NaT", "<NA>", "nan", "NaN", "-nan", "+nan", "inf", "-inf",
    "+inf", "Infinity", "-Infinity", "INF", " 1.5", "2.5 ", " ", "abc", "True", "false", "0x10",
    "1e500", "-1e500", "1e-400", "12345678901234567890123", "-0", "-0.0", "1_000", "١٢", "\u00a07",
    "'3'", "1e", ".5", "5.", "+7", "--1",
])
DIRTY = st.one_of(CLEAN, ODD)
# the kinds of odd cells a column tends to hold all of (a dirty column draws from one family)
FAMILIES = [
    ["True", "False", "true", "false", "TRUE"],  # pandas' C parser makes booleans of these
    ["NA", "", "null", "N/A", " ", "None"],
    ["nan", "NaN", "inf", "-inf", "Infinity", "1e500", "-nan"],
    ["abc", "loss", "1,5", "0x10", "1e"],
]


@st.composite
def wide_csv(draw):
    n_metrics = draw(st.integers(1, 4))
    names = [f"m{i}" for i in range(n_metrics)]
    step = draw(st.sampled_from(["step", "epoch", "global_step", None]))
    wall = draw(st.sampled_from([None, "wall_time"]))
    header = ([step] if step else []) + ([wall] if wall else []) + names
    # a dirty column draws its cells from a few values, so that whole columns of one kind
    # (all True/False, all NA, numbers and one word) come up as often as mixed ones
    palette = {}
    for c in header:
        family = draw(st.sampled_from([None, DIRTY, *map(st.sampled_from, FAMILIES)]))
        palette[c] = None if family is None else st.sampled_from(draw(st.lists(family, min_size=1, max_size=3)))
    n_rows = draw(st.integers(1, 25))
    rows = []
    for r in range(n_rows):
        row = []
        for c in header:
            if palette[c] is None:
                row.append(str(r) if c == step else draw(CLEAN))
            else:
                row.append(draw(st.one_of(palette[c], CLEAN) if draw(st.booleans()) else palette[c]))
        rows.append(row)
    sep = draw(st.sampled_from([",", ";", "\t"]))
    return sep.join(header) + "\n" + "".join(sep.join(r) + "\n" for r in rows)


def tolerant_parse(text: str, first_row: int = 0):
    """The CSV reader with every column read as text and taken through to_numbers (the path
    all columns took before the fast path)."""
    sep = C._separator(C._first_line(text))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.ParserWarning)  # a long row
            table = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_filter=False,
                                skipinitialspace=True, index_col=False)
    except pd.errors.ParserError:  # ragged rows: the csv module, as the reader does
        table = C._tolerant_table(text, sep)[0]
    names = unique_names([str(c).strip() for c in table.columns])
    if "Value" in names and "Step" in names and len(names) <= 3:  # TensorBoard's CSV export
        names = [WHERE.stem if c == "Value" else c for c in names]
    columns = [(n, table.iloc[:, i]) for i, n in enumerate(names)]
    return wide_to_long(columns, len(table), pick(names, STEP_COLUMNS), pick(names, WALL_COLUMNS),
                        str(WHERE), first_row)


def check_csv(text: str, first_row: int = 0):
    arrays, want_warnings = tolerant_parse(text, first_row)
    try:
        data = C.reader.parse(text, WHERE, first_row=first_row)
    except Exception as exc:  # noqa: BLE001 (the reader refused: the tolerant path must find nothing either)
        assert arrays is None, f"fast path raised {exc!r} where the tolerant path read points"
        return
    assert arrays is not None
    assert_same_frame(data.frame, make_frame(*arrays))
    cell_warnings = [w for w in data.warnings if "non-numeric" in w or "usable" in w]
    assert cell_warnings == want_warnings


@SETTINGS
@given(wide_csv(), st.integers(0, 5))
def test_csv_fast_path_equals_tolerant_path(text, first_row):
    check_csv(text, first_row)


@pytest.mark.parametrize("text", [
    "step,flag\n0,True\n1,false\n",  # the C parser makes booleans of these: text here
    "step,loss\n0,NA\n1,NA\n",
    "step,loss\n0,\n1,\n",
    "step,loss\n0, \n1,1.5\n",
    "step,loss\n0,inf\n1,-Infinity\n2,1e500\n",
    "step,loss\n,1.0\nx,2.0\n1e30,3.0\ninf,4.0\n3,5.0\n",
    "step,loss,val\n0,1.0\n1,2.0,3.0\n",  # a short row
    "step,loss\n0,1.0,9\n1,2.0\n",  # a long row
    "loss,acc\n0.5,0.1\n0.4,0.2\n",  # no step column: row numbers
    "Wall time,Step,Value\n1.5e9,0,0.5\n1.5e9,1,0.4\n",
    "step,loss\n-0,-0.0\n1,0\n",
    "step,loss\n18446744073709551615,1\n2,2\n",
])
def test_csv_fast_path_equals_tolerant_path_examples(text):
    check_csv(text)


def test_csv_clean_columns_take_the_fast_path():
    text = "epoch,step,train_loss,val_loss\n0,1,0.5,\n0,2,0.25,NA\n0,2,,nan\n"
    names, cells, n, long_rows, _data = C._read_table(text, ",", WHERE)
    assert names == ["epoch", "step", "train_loss", "val_loss"] and n == 3 and not long_rows
    assert all(isinstance(c, Numbers) for c in cells[:3])  # no Python object per cell
    assert cells[3] is None  # NA and nan: the tolerant path decides
    assert cells[2].missing.tolist() == [False, False, True]
    check_csv(text)


@pytest.mark.parametrize("late", ["NA", "nan", "oops", "True", "1e500", ""])
def test_csv_text_after_the_first_parser_chunk(late):
    # pandas' C parser infers types per chunk of rows: a column numeric for 300,000 rows with one
    # odd cell at the end comes back mixed (floats and strings); it must take the tolerant path
    n = 300_000
    lines = [f"{i},{i % 7},{i * 0.5}" for i in range(n)]
    lines[-2] = f"{n - 2},{late},{(n - 2) * 0.5}"
    check_csv("step,loss,lr\n" + "\n".join(lines) + "\n")


def test_csv_ints_then_floats_across_chunks():
    n = 300_000
    lines = [f"{i},{i}" if i < n // 2 else f"{i},{i}.25" for i in range(n)]
    check_csv("step,loss\n" + "\n".join(lines) + "\n")


def test_csv_header_names_equal_once_stripped_are_kept_apart(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("step,a ,a\n1,2,3\n2,4,5\n")
    data = C.reader.read(path)
    assert sorted(set(data.frame["metric"])) == ["a", "a.1"]
    check_csv(path.read_text())


def test_csv_long_layout_with_numeric_metric_names():
    # a metric named "01" must stay "01", not become the number 1
    text = "step,metric,value\n0,01,0.5\n0,loss,1.5\n1,01,0.25\n"
    data = C.reader.parse(text, WHERE)
    assert sorted(set(data.frame["metric"])) == ["01", "loss"]


CELLS = st.lists(st.one_of(st.text(max_size=8), ODD, CLEAN, st.none()), max_size=30)
OBJECTS = st.lists(st.one_of(st.none(), st.floats(), st.integers(-(2**80), 2**80), st.booleans(),
                             st.text(max_size=6)), max_size=30)


@SETTINGS
@given(CELLS)
def test_to_numbers_text_cells_as_before(cells):
    for series in (pd.Series(cells, dtype=object), pd.Series(cells, dtype=str)):
        got, want = to_numbers(series), legacy_to_numbers(series)
        assert same_floats(got[0], want[0])
        assert np.array_equal(got[1], want[1]) and np.array_equal(got[2], want[2])


@SETTINGS
@given(OBJECTS)
def test_to_numbers_json_objects_as_before(values):
    series = pd.Series(values, dtype=object)
    got, want = to_numbers(series), legacy_to_numbers(series)
    assert same_floats(got[0], want[0])
    assert np.array_equal(got[1], want[1]) and np.array_equal(got[2], want[2])


# --------------------------------------------------------------------------- JSON

JSON_VALUES = st.one_of(
    st.none(), st.floats(), st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-(2**70), 2**70), st.integers(0, 10**6), st.booleans(), st.text(max_size=4),
    st.just(10**400), st.lists(st.integers(), max_size=2),
)
KEYS = st.sampled_from(["step", "epoch", "loss", "eval_loss", "learning_rate", "grad_norm", "timestamp"])


def json_tolerant(columns_of_cells: dict, n: int, where: str):
    """Every JSON column as an object Series through to_numbers (the path before)."""
    columns = [(k, pd.Series(v, dtype=object)) for k, v in columns_of_cells.items()]
    names = list(columns_of_cells)
    return wide_to_long(columns, n, pick(names, STEP_COLUMNS), pick(names, WALL_COLUMNS), where)


def json_fast(columns: dict, n: int, where: str):
    names = list(columns)
    return wide_to_long(list(columns.items()), n, pick(names, STEP_COLUMNS), pick(names, WALL_COLUMNS), where)


def assert_same_arrays(got, want):
    (a, aw), (b, bw) = got, want
    assert aw == bw
    assert (a is None) == (b is None)
    if a is not None:
        assert_same_frame(make_frame(*a), make_frame(*b))


@SETTINGS
@given(st.lists(st.dictionaries(KEYS, JSON_VALUES, max_size=6), min_size=1, max_size=25))
def test_json_rows_fast_equals_tolerant(rows):
    keys = list(dict.fromkeys(k for row in rows for k in row))
    want = json_tolerant({k: [row.get(k) for row in rows] for k in keys}, len(rows), "h.json")
    assert_same_arrays(json_fast(J._from_rows(rows), len(rows), "h.json"), want)


@SETTINGS
@given(st.dictionaries(KEYS, st.lists(JSON_VALUES, max_size=20), min_size=1, max_size=5))
def test_json_lists_fast_equals_tolerant(doc):
    warnings: list[str] = []
    lists, n = J._from_columns(doc, "h.json", warnings)
    padded = {k: list(v) + [None] * (n - len(v)) for k, v in doc.items()}
    want = json_tolerant(padded, n, "h.json")
    assert_same_arrays(json_fast({k: J._column(v) for k, v in lists.items()}, n, "h.json"), want)


def hf_state(rows):
    return {"global_step": 10, "log_history": rows, "best_metric": None}


@pytest.mark.skipif(J._decode is None, reason="msgspec (the optional fast JSON parser) is not installed")
@SETTINGS
@given(st.lists(st.dictionaries(KEYS, JSON_VALUES, max_size=6), min_size=1, max_size=25), st.booleans())
def test_json_parsers_give_the_same_frame(rows, wrapped):
    text = json.dumps(hf_state(rows) if wrapped else rows)  # NaN/Infinity tokens: msgspec refuses, json reads
    results = []
    for decode in (J._decode, None):
        saved, J._decode = J._decode, decode
        try:
            results.append(_read_text(text))
        finally:
            J._decode = saved
    (fa, fw), (ja, jw) = results
    assert fw == jw
    assert (fa is None) == (ja is None)
    if fa is not None:
        assert_same_frame(fa, ja)


def _read_text(text):
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "trainer_state.json"
        path.write_text(text)
        try:
            data = J.reader.read(path)
        except Exception as exc:  # noqa: BLE001 (both parsers must refuse alike)
            return None, [type(exc).__name__, str(exc).replace(d, "")]
        return data.frame, [w.replace(d, "") for w in data.warnings]


def test_json_missing_key_is_a_gap_and_nan_token_a_value(tmp_path):
    path = tmp_path / "trainer_state.json"
    path.write_text('{"log_history": [{"step": 1, "loss": NaN}, {"step": 2, "eval_loss": 0.5}, '
                    '{"step": 3, "loss": null, "eval_loss": 0.4}, {"step": 4, "loss": 0.3}]}')
    f = J.reader.read(path).frame
    loss = f[f["metric"] == "loss"]
    assert loss["step"].tolist() == [1, 4] and math.isnan(loss["value"].iloc[0])
    assert f[f["metric"] == "eval_loss"]["step"].tolist() == [2, 3]
