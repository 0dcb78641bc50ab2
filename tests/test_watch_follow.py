"""Incremental reading for `lossctl watch`: a file followed while it grows in arbitrary pieces
(cut mid-record, mid-line) ends with exactly the frame, purges and warnings of reading it whole;
a rewritten file is read again from the start; a whole session equals `load_runs`."""

from __future__ import annotations

import json
import math
import os
import random

import pandas as pd
import pytest
import writers as W
from hypothesis import given
from hypothesis import strategies as st
from impls import BUILT, IMPLS

from lossctl.config import Config
from lossctl.readers.csv_reader import reader as csv_reader
from lossctl.readers.tensorboard import reader as tb_reader
from lossctl.runs import load_runs
from lossctl.watch.follow import CsvFollower, EventFollower, JsonFollower
from lossctl.watch.session import Session


@pytest.fixture(params=IMPLS)
def impl(request, monkeypatch):
    monkeypatch.setenv("LOSSCTL_PURE_PYTHON", "1" if request.param == "python" else "0")
    return request.param


def grow(follower, path, src: bytes, cuts) -> None:
    """Write ``src`` to ``path`` in pieces (ending at each cut), polling after each."""
    with open(path, "wb") as f:
        done = 0
        for cut in sorted(set(cuts)) + [len(src)]:
            f.write(src[done:cut])
            f.flush()
            done = max(done, cut)
            os.utime(path, ns=(0, 10**9 * cut + 1))  # a new mtime per piece, as a writer gives
            follower.poll()


def tf2_events(n=60):
    events = []
    for s in range(n):
        events.append(W.summary_event(s, W.BASE_WALL + s, [
            W.scalar_value("loss", 2.0 / (s + 1), "tf2_metadata_first", first=s == 0),
            W.plugin_float_value("pr", 0.5, "pr_curves", first=s == 0)]))
        if s == 40:
            events.append(W.session_start(30, W.BASE_WALL + s))
    return events


@given(cuts=st.lists(st.integers(0, 6000), max_size=10))
def test_event_file_followed_in_pieces_equals_whole_read(tmp_path_factory, cuts):
    d = tmp_path_factory.mktemp("ev")
    src = W.write_events(d, tf2_events(), name="src").read_bytes()
    whole = tb_reader.read(d / "src")
    for impl in BUILT:
        os.environ["LOSSCTL_PURE_PYTHON"] = "1" if impl == "python" else "0"
        try:
            path = d / f"events.out.tfevents.{impl}"
            f = EventFollower(path)
            grow(f, path, src, [c % (len(src) + 1) for c in cuts])
            got = f.data()
        finally:
            del os.environ["LOSSCTL_PURE_PYTHON"]
        pd.testing.assert_frame_equal(got.frame, whole.frame)
        assert got.purges == whole.purges and got.warnings == whole.warnings == []
        assert set(got.frame["metric"]) == {"loss"}  # pr_curves' metadata came in the first piece only


def test_damage_in_a_followed_event_file_is_warned_once(tmp_path, impl):
    src_path = W.write_scalars(tmp_path, [("loss", s, 1.0) for s in range(30)], name="src")
    spans = W.record_spans(src_path)
    W.flip_byte(src_path, spans[12][0] + 14)
    src = src_path.read_bytes()
    path = tmp_path / "events.out.tfevents.x"
    f = EventFollower(path)
    grow(f, path, src, [spans[5][0], spans[12][0] + 3, spans[20][0]])
    assert f.rows == 29
    assert f.warnings == tb_reader.read(path).warnings


CSV_TEXT = "epoch,loss,val_loss\n" + "".join(
    f"{e},{2 / (e + 1)!r},{'NA' if e % 3 else repr(2.2 / (e + 1))}\n" for e in range(50))


@given(cuts=st.lists(st.integers(0, len(CSV_TEXT)), max_size=12))
def test_csv_followed_in_pieces_equals_whole_read(tmp_path_factory, cuts):
    d = tmp_path_factory.mktemp("csv")
    path = d / "training.log"
    f = CsvFollower(path)
    grow(f, path, CSV_TEXT.encode(), cuts)
    whole = csv_reader.read(path)
    got = f.data()
    pd.testing.assert_frame_equal(got.frame.sort_values(["metric", "step"], ignore_index=True),
                                  whole.frame.sort_values(["metric", "step"], ignore_index=True),
                                  check_categorical=False)


def test_csv_without_step_column_numbers_rows_across_polls(tmp_path):
    path = tmp_path / "log.csv"
    text = "loss\n" + "".join(f"{1 / (i + 1)!r}\n" for i in range(20))
    f = CsvFollower(path)
    grow(f, path, text.encode(), [30, 71])
    assert W.points(f.data().frame, "loss") == [(i, 1 / (i + 1)) for i in range(20)]


def test_csv_rewritten_with_a_new_header_is_read_again(tmp_path):
    """Lightning rewrites metrics.csv when a new metric appears."""
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,step,train_loss\n0,0,2.0\n0,1,1.5\n")
    f = CsvFollower(path)
    assert f.poll() and f.rows == 2
    path.write_text("epoch,step,train_loss,val_loss\n0,0,2.0,\n0,1,1.5,\n0,1,,1.7\n")
    assert f.poll()
    assert W.points(f.data().frame, "train_loss") == [(0, 2.0), (1, 1.5)]
    assert W.points(f.data().frame, "val_loss") == [(1, 1.7)]


def test_csv_partial_line_waits_for_its_end(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("step,loss\n0,1.0\n1,0.1")  # "1,0.1" of "1,0.125"
    f = CsvFollower(path)
    f.poll()
    assert W.points(f.data().frame, "loss") == [(0, 1.0)]
    with open(path, "a") as fh:
        fh.write("25\n")
    f.poll()
    assert W.points(f.data().frame, "loss") == [(0, 1.0), (1, 0.125)] and f.warnings == []


def test_json_history_reread_when_it_changes_and_mid_write_is_not_an_error(tmp_path):
    path = tmp_path / "history.json"
    path.write_text(json.dumps({"loss": [2.0, 1.5]}))
    f = JsonFollower(path)
    assert f.poll() and f.rows == 2
    path.write_text('{"loss": [2.0, 1.5, 1.2')  # caught while the callback rewrites it
    assert not f.poll() and f.warnings == [] and f.rows == 2
    assert not f.poll() and "malformed JSON" in f.warnings[0]  # still broken, unchanged: say so
    path.write_text(json.dumps({"loss": [2.0, 1.5, 1.2, math.nan]}))
    assert f.poll() and f.rows == 4 and f.warnings == []


def test_session_equals_load_runs_with_a_restart_appearing_later(tmp_path, impl):
    run = tmp_path / "run"
    run.mkdir()
    rng = random.Random(3)
    first = W.write_scalars(tmp_path, [("loss", s, 1.0 / (s + 1)) for s in range(80)], name="a")
    second = W.write_scalars(tmp_path, [("loss", s, 0.5 / (s + 1)) for s in range(60, 120)], name="b")
    session = Session(tmp_path / "run", Config())
    a, b = first.read_bytes(), second.read_bytes()
    with open(run / W.event_name(1), "wb") as f:
        for i in range(0, len(a), 97):
            f.write(a[i:i + 97])
            f.flush()
            if rng.random() < 0.3:
                session.poll()
    session.poll()
    (run / W.event_name(2)).write_bytes(b[:len(b) // 2])
    up = session.poll()
    assert up.files == [str(run / W.event_name(2))]
    (run / W.event_name(2)).write_bytes(b)
    session.poll()
    (expected,) = load_runs(run).runs
    (report,) = session.reports.values()
    pd.testing.assert_frame_equal(report.run.frame, expected.frame)
    assert report.run.replaced == expected.replaced == 20
