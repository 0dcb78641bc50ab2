"""Reading an event file in pieces from a start offset (what `lossctl watch` does) gives exactly
the frame, purges and damage of reading it whole, in the C scanner and the pure-Python reader,
and both agree with each other; TF2 plugin metadata (on a tag's first event only) carries over.
"""

from __future__ import annotations

import random

import pandas as pd
import pytest
import writers as W
from hypothesis import given
from hypothesis import strategies as st
from impls import BUILT, IMPLS, needs_c

from lossctl.frame import concat
from lossctl.readers.tensorboard import reader


def scan(impl, path, start=0, plugins=None):
    fn = reader._scan_c if impl == "c" else reader._scan_python
    return fn(path, True, start, plugins)


def read_in_pieces(impl, src: bytes, path, cuts):
    """Grow ``path`` to each cut of ``src`` in turn, scanning what was appended after each."""
    frames, purges, damaged, rows = [], [], [], 0
    plugins: dict[str, str] = {}
    end = 0
    for cut in sorted(set(cuts)) + [len(src)]:
        path.write_bytes(src[:cut])
        res = scan(impl, path, end, plugins)
        assert res.end >= end and res.end <= cut
        frames.append(res.frame)
        purges += [(rows + pos, step) for pos, step in res.purges]
        damaged += res.damaged
        rows += len(res.frame)
        end = res.end
    assert end == len(src)
    return concat(frames), purges, damaged


def mixed_events():
    """Scalars in several encodings, TF2 metadata on the first event only, a histogram tag, a
    TF2 tensor under another plugin and a SessionLog.START."""
    events = []
    for s in range(40):
        events.append(W.summary_event(s, W.BASE_WALL + s, [
            W.scalar_value("tf2/loss", 1.0 / (s + 1), "tf2_metadata_first", first=s == 0),
            W.scalar_value("lr", 0.1, "simple_value"),
            W.plugin_float_value("pr", 0.5, "pr_curves", first=s == 0),
            W.histogram_value("w"),
        ]))
        if s == 25:
            events.append(W.session_start(20, W.BASE_WALL + s))
    return events


@pytest.mark.parametrize("impl", IMPLS)
def test_pieces_equal_whole_at_every_record_boundary_and_mid_record(tmp_path, impl):
    whole = W.write_events(tmp_path, mixed_events(), name="src.tfevents")
    src = whole.read_bytes()
    expect = scan(impl, whole)
    spans = W.record_spans(whole)
    cuts = [off for off, _ in spans[::3]] + [off + 5 for off, _ in spans[1::4]] + [off + 14 for off, _ in spans[2::5]]
    frame, purges, damaged = read_in_pieces(impl, src, tmp_path / "events.out.tfevents.grow", cuts)
    pd.testing.assert_frame_equal(frame, expect.frame)
    assert purges == expect.purges and damaged == expect.damaged == []
    assert set(frame["metric"]) == {"tf2/loss", "lr"}  # the pr_curves tag stays out after poll 1


@given(cuts=st.lists(st.integers(0, 10_000), max_size=12), seed=st.integers(0, 2**16))
def test_pieces_equal_whole_property(tmp_path_factory, cuts, seed):
    d = tmp_path_factory.mktemp("inc")
    rng = random.Random(seed)
    events = mixed_events()
    rng.shuffle(events)
    whole = W.write_events(d, events, name="src.tfevents")
    src = whole.read_bytes()
    cuts = [c % (len(src) + 1) for c in cuts]
    results = {}
    for impl in BUILT:
        expect = scan(impl, whole)
        frame, purges, _ = read_in_pieces(impl, src, d / f"events.out.tfevents.{impl}", cuts)
        pd.testing.assert_frame_equal(frame, expect.frame)
        assert purges == expect.purges
        results[impl] = frame
    if len(results) == 2:
        pd.testing.assert_frame_equal(results["c"], results["python"])


@pytest.mark.parametrize("impl", IMPLS)
def test_damage_in_an_appended_piece_is_reported_once_with_its_file_offset(tmp_path, impl):
    whole = W.write_scalars(tmp_path, [("loss", s, 1.0 + s) for s in range(30)], name="src.tfevents")
    spans = W.record_spans(whole)
    W.flip_byte(whole, spans[20][0] + 14)  # inside record 20's payload
    src = whole.read_bytes()
    frame, _, damaged = read_in_pieces(impl, src, tmp_path / "events.out.tfevents.g", [spans[10][0], spans[25][0]])
    assert damaged == [(spans[20][0], "payload CRC mismatch", 1)]
    assert len(frame) == 29


@pytest.mark.parametrize("impl", IMPLS)
def test_start_at_or_beyond_the_end_reads_nothing(tmp_path, impl):
    path = W.write_scalars(tmp_path, [("loss", s, 1.0) for s in range(5)])
    size = path.stat().st_size
    for start in (size, size + 100):
        res = scan(impl, path, start)
        assert len(res.frame) == 0 and res.end == start and res.truncated_at is None


@needs_c
@given(start=st.integers(0, 4000), flip=st.integers(0, 4000))
def test_any_start_offset_both_readers_agree(tmp_path_factory, start, flip):
    """A start that is not a record boundary (a caller's mistake, or a file replaced under a
    follower) is damage to resynchronise from, identically in both readers."""
    d = tmp_path_factory.mktemp("start")
    path = W.write_events(d, mixed_events()[:12], name="events.out.tfevents.s")
    W.flip_byte(path, flip % path.stat().st_size)
    c, py = scan("c", path, start), scan("python", path, start)
    pd.testing.assert_frame_equal(c.frame, py.frame)
    assert (c.damaged, c.truncated_at, c.records, c.end, c.purges) == (
        py.damaged, py.truncated_at, py.records, py.end, py.purges)
