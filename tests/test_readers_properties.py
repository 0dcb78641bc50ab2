"""Property tests: write -> read returns exactly the logged points; the restart rule is exact."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import writers as W
from hypothesis import given
from hypothesis import strategies as st

from lossctl.frame import drop_superseded, make_frame
from lossctl.readers.csv_reader import reader as csv_reader
from lossctl.readers.json_reader import reader as json_reader
from lossctl.readers.tensorboard import reader as tb_reader

# steps read from text go through float64: keep them where float64 is exact (2**53)
TEXT_STEP = st.integers(min_value=-(2**53), max_value=2**53)
INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
ANY_FLOAT = st.floats()  # finite, NaN, +/-inf, -0.0, subnormals


@st.composite
def series(draw, values=ANY_FLOAT, steps=TEXT_STEP, max_size=40):
    """Strictly increasing steps with a value (finite, NaN or +/-inf) for each."""
    xs = draw(st.lists(steps, min_size=1, max_size=max_size, unique=True))
    xs.sort()
    vs = draw(st.lists(values, min_size=len(xs), max_size=len(xs)))
    return list(zip(xs, vs))


@given(series())
def test_csv_round_trip(pts):
    with tempfile.TemporaryDirectory() as d:
        path = W.write_csv(Path(d) / "log.csv", ["step", "loss"], [[s, v] for s, v in pts])
        data = csv_reader.read(path)
    assert W.same_points(W.points(data.frame, "loss"), pts)
    assert data.warnings == []


@given(series(), series())
def test_csv_long_layout_round_trip(a, b):
    rows = [[s, "train/loss", v] for s, v in a] + [[s, "val/loss", v] for s, v in b]
    with tempfile.TemporaryDirectory() as d:
        data = csv_reader.read(W.write_csv(Path(d) / "scalars.csv", ["step", "metric", "value"], rows))
    assert W.same_points(W.points(data.frame, "train/loss"), a)
    assert W.same_points(W.points(data.frame, "val/loss"), b)


@given(series())
def test_json_round_trip(pts):
    doc = {"step": [s for s, _ in pts], "loss": [v for _, v in pts]}
    with tempfile.TemporaryDirectory() as d:
        data = json_reader.read(W.write_json(Path(d) / "history.json", doc))
    assert W.same_points(W.points(data.frame, "loss"), pts)


@given(series(values=st.floats(width=32), steps=INT64))
def test_event_file_simple_value_round_trip(pts):
    with tempfile.TemporaryDirectory() as d:
        path = W.write_scalars(d, [("loss", s, v) for s, v in pts], "simple_value")
        data = tb_reader.read(path)
    assert W.same_points(W.points(data.frame, "loss"), pts)
    assert data.warnings == []


@given(series(steps=INT64))
def test_event_file_double_tensor_round_trip(pts):
    with tempfile.TemporaryDirectory() as d:
        path = W.write_scalars(d, [("loss", s, v) for s, v in pts], "tensor_content_f64")
        data = tb_reader.read(path)
    assert W.same_points(W.points(data.frame, "loss"), pts)


# --------------------------------------------------------------------------- restart rule


def _frame(rows):
    metric = pd.Categorical([m for m, _ in rows])
    return make_frame(metric, [s for _, s in rows], None, list(range(len(rows))))


def _oracle(rows, purges=()):
    """Positions kept: no later point of the same metric at an equal-or-lower step, and no later
    SessionLog.START at a step <= its own."""
    keep = []
    for i, (m, s) in enumerate(rows):
        relogged = any(m2 == m and s2 <= s for m2, s2 in rows[i + 1:])
        purged = any(pos > i and s >= start for pos, start in purges)
        if not relogged and not purged:
            keep.append(i)
    return keep


ROWS = st.lists(st.tuples(st.sampled_from(["loss", "val_loss", "lr"]), st.integers(0, 15)), max_size=60)


@given(ROWS)
def test_drop_superseded_matches_definition(rows):
    frame, dropped = drop_superseded(_frame(rows))
    kept = _oracle(rows)
    assert frame["value"].astype(int).tolist() == kept  # value holds the original position
    assert dropped == len(rows) - len(kept)
    for m in set(frame["metric"]):  # what is left is strictly increasing per metric
        steps = frame.loc[frame["metric"] == m, "step"].tolist()
        assert steps == sorted(set(steps))


@given(ROWS, st.data())
def test_drop_superseded_with_session_starts(rows, data):
    purges = data.draw(st.lists(st.tuples(st.integers(0, len(rows)), st.integers(0, 15)), max_size=3))
    frame, dropped = drop_superseded(_frame(rows), purges)
    kept = _oracle(rows, purges)
    assert frame["value"].astype(int).tolist() == kept
    assert dropped == len(rows) - len(kept)


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=50, unique=True))
def test_drop_superseded_keeps_increasing_series_untouched(steps):
    steps.sort()
    frame = _frame([("loss", s) for s in steps])
    out, dropped = drop_superseded(frame)
    assert dropped == 0 and out["step"].tolist() == steps
