"""TensorBoard event files written by TensorBoard's own writer (and tensorboardX/torch when present)."""

from __future__ import annotations

import math
import random
import struct

import numpy as np
import pytest
import writers as W
from tensorboard.summary.writer.record_writer import RecordWriter

from lossctl import load
from lossctl.errors import InputError
from lossctl.readers.tensorboard import reader
from lossctl.runs import load_runs


def expected_value(v: float, encoding: str) -> float:
    return W.f32(v) if encoding in W.FLOAT32_ENCODINGS else v


def check_dtypes(frame):
    assert list(frame.columns[:5]) == ["run", "metric", "step", "wall_time", "value"]
    assert frame["step"].dtype == np.int64
    assert frame["wall_time"].dtype == np.float64
    assert frame["value"].dtype == np.float64


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding", W.ENCODINGS)
def test_every_point_exact_for_each_encoding(tmp_path, encoding):
    rng = random.Random(encoding)
    loss = [("train/loss", 10 * i, rng.uniform(0, 5)) for i in range(300)]
    acc = [("val/acc", 10 * i + 3, rng.random()) for i in range(300)]
    interleaved = [p for pair in zip(loss, acc) for p in pair]
    path = W.write_scalars(tmp_path, interleaved, encoding, wall=lambda s: W.BASE_WALL + s * 0.123)

    data = reader.read(path)
    assert data.format == "tensorboard"
    assert data.warnings == []
    assert data.purges == []
    check_dtypes(data.frame)
    assert len(data.frame) == 600
    for tag, pts in (("train/loss", loss), ("val/acc", acc)):
        expected = [(s, W.BASE_WALL + s * 0.123, expected_value(v, encoding)) for _, s, v in pts]
        assert W.triples(data.frame, tag) == expected


@pytest.mark.parametrize("encoding", W.ENCODINGS)
def test_nan_and_inf_kept_for_each_encoding(tmp_path, encoding):
    vals = [1.0, math.nan, math.inf, -math.inf, 0.5]
    path = W.write_scalars(tmp_path, [("loss", i, v) for i, v in enumerate(vals)], encoding)
    got = W.points(reader.read(path).frame, "loss")
    assert W.same_points(got, list(enumerate(vals)))


def test_load_runs_on_event_dir(tmp_path):
    W.write_scalars(tmp_path, [("loss", s, 1.0 / (s + 1)) for s in range(100)])
    result = load_runs(tmp_path)
    assert result.errors == []
    (run,) = result.runs
    assert run.name == "."
    assert run.format == "tensorboard"
    assert run.replaced == 0 and run.warnings == []
    assert len(run.files) == 1
    check_dtypes(run.frame)
    assert set(run.frame["run"]) == {"."}
    assert W.points(run.frame, "loss") == [(s, W.f32(1.0 / (s + 1))) for s in range(100)]


def test_all_points_read_no_downsampling(tmp_path):
    n = 5000  # TensorBoard's own loader keeps a 1,000-point reservoir; lossctl must keep all
    W.write_scalars(tmp_path, [("loss", s, float(s)) for s in range(n)])
    frame = load(tmp_path)
    assert W.points(frame, "loss") == [(s, float(s)) for s in range(n)]


def test_several_values_in_one_event(tmp_path):
    events = [W.summary_event(s, W.BASE_WALL + s, [W.scalar_value("a", s * 1.0),
                                                   W.scalar_value("b", s * 2.0, "float_val"),
                                                   W.scalar_value("c", s * 3.0, "tensor_content_f64")])
              for s in range(20)]
    frame = reader.read(W.write_events(tmp_path, events)).frame
    for tag, k in (("a", 1), ("b", 2), ("c", 3)):
        assert W.triples(frame, tag) == [(s, W.BASE_WALL + s, s * float(k)) for s in range(20)]


def test_int64_steps_and_fractional_wall_times(tmp_path):
    steps = [0, 2**31, 2**40 + 1, 2**62 + 7]
    walls = {0: 1.5, 2**31: 1_700_000_000.123456, 2**40 + 1: 1_800_000_000.987654, 2**62 + 7: 1_900_000_000.5}
    path = W.write_scalars(tmp_path, [("loss", s, 1.0) for s in steps], wall=walls.__getitem__)
    assert W.triples(reader.read(path).frame, "loss") == [(s, walls[s], 1.0) for s in steps]


# --------------------------------------------------------------------------- what is not a scalar


def test_non_scalar_records_skipped(tmp_path):
    events = []
    for s in range(30):
        events.append(W.summary_event(s, W.BASE_WALL + s, [W.scalar_value("loss", s / 10)]))
        events.append(W.summary_event(s, W.BASE_WALL + s, [W.histogram_value("weights/hist")]))
        events.append(W.summary_event(s, W.BASE_WALL + s, [W.image_value("samples/img")]))
        events.append(W.summary_event(s, W.BASE_WALL + s, [W.tf2_histogram_value("w2/hist", first=s == 0)]))
        # an event holding an image AND a scalar: the scalar is kept
        events.append(W.summary_event(s, W.BASE_WALL + s, [W.image_value("mix/img"),
                                                           W.scalar_value("lr", 0.1, "tensor_content_f32")]))
    data = reader.read(W.write_events(tmp_path, events))
    assert data.warnings == []
    assert set(data.frame["metric"]) == {"loss", "lr"}
    assert W.points(data.frame, "loss") == [(s, W.f32(s / 10)) for s in range(30)]
    assert W.points(data.frame, "lr") == [(s, W.f32(0.1)) for s in range(30)]


def test_text_tensors_skipped(tmp_path):
    events = []
    for s in range(10):
        events.append(W.summary_event(s, W.BASE_WALL + s, [W.text_value("notes", f"step {s}", first=s == 0)]))
        events.append(W.summary_event(s, W.BASE_WALL + s, [W.scalar_value("loss", 1.0 + s, "tf2_metadata_first",
                                                                          first=s == 0)]))
    data = reader.read(W.write_events(tmp_path, events))
    assert set(data.frame["metric"]) == {"loss"}
    assert W.points(data.frame, "loss") == [(s, 1.0 + s) for s in range(10)]


def test_rank0_float_tensor_of_another_plugin_skipped(tmp_path):
    # metadata only on the first value, as TF2 writes it: later values must still be recognised
    events = [W.summary_event(s, W.BASE_WALL + s, [W.plugin_float_value("pr/thing", 0.5, "custom", first=s == 0),
                                                   W.scalar_value("loss", 2.0)]) for s in range(5)]
    data = reader.read(W.write_events(tmp_path, events))
    assert set(data.frame["metric"]) == {"loss"}


def test_file_with_no_scalars_gives_no_run(tmp_path):
    W.write_events(tmp_path, [W.summary_event(0, W.BASE_WALL, [W.histogram_value("h")])])
    result = load_runs(tmp_path)
    assert result.runs == []
    assert result.errors  # the user hears that nothing usable was found


# --------------------------------------------------------------------------- restarts


def test_several_event_files_in_one_dir_are_one_run(tmp_path):
    W.write_scalars(tmp_path, [("loss", s, 1.0) for s in range(50)], name=W.event_name(1))
    W.write_scalars(tmp_path, [("loss", s, 2.0) for s in range(50, 100)], name=W.event_name(2))
    W.write_scalars(tmp_path, [("acc", s, 0.5) for s in range(0, 100, 10)], name=W.event_name(3))
    (run,) = load_runs(tmp_path).runs
    assert len(run.files) == 3
    assert run.replaced == 0 and run.warnings == []
    assert W.points(run.frame, "loss") == [(s, 1.0 if s < 50 else 2.0) for s in range(100)]
    assert W.points(run.frame, "acc") == [(s, 0.5) for s in range(0, 100, 10)]


def test_restart_relogging_steps_later_values_win(tmp_path):
    W.write_scalars(tmp_path, [("loss", s, 1.0) for s in range(1000)]
                    + [("lr", s, 0.1) for s in range(0, 1000, 100)], name=W.event_name(1))
    W.write_scalars(tmp_path, [("loss", s, 2.0) for s in range(600, 1000)], name=W.event_name(2))
    (run,) = load_runs(tmp_path).runs
    loss = W.points(run.frame, "loss")
    assert [s for s, _ in loss] == list(range(1000))  # no duplicate steps
    assert loss == [(s, 1.0 if s < 600 else 2.0) for s in range(1000)]
    assert W.points(run.frame, "lr") == [(s, W.f32(0.1)) for s in range(0, 1000, 100)]  # not re-logged: kept
    assert run.replaced == 400
    assert any("400" in w and "replaced" in w for w in run.warnings), run.warnings


def test_session_log_start_purges_later_steps_of_every_tag(tmp_path):
    events = W.scalar_events([("loss", s, 1.0) for s in range(100)] + [("acc", s, 0.5) for s in range(100)])
    events.append(W.session_start(50, W.BASE_WALL + 1000))
    events += W.scalar_events([("loss", s, 2.0) for s in range(70, 100)])  # resumes with a gap
    path = W.write_events(tmp_path, events)
    data = reader.read(path)
    assert data.purges == [(200, 50)]
    (run,) = load_runs(tmp_path).runs
    # steps 50..69 of the first session are orphaned even though nothing re-logged them
    assert W.points(run.frame, "loss") == [(s, 1.0) for s in range(50)] + [(s, 2.0) for s in range(70, 100)]
    assert W.points(run.frame, "acc") == [(s, 0.5) for s in range(50)]
    assert run.replaced == 50 + 50


def test_session_log_start_at_beginning_purges_nothing(tmp_path):
    events = [W.session_start(0, W.BASE_WALL)] + W.scalar_events([("loss", s, 1.0) for s in range(10)])
    (run,) = load_runs(W.write_events(tmp_path, events).parent).runs
    assert run.replaced == 0
    assert W.points(run.frame, "loss") == [(s, 1.0) for s in range(10)]


def test_session_log_start_in_second_file_purges_first_file(tmp_path):
    W.write_scalars(tmp_path, [("loss", s, 1.0) for s in range(100)], name=W.event_name(1))
    events = [W.session_start(60, W.BASE_WALL + 500)] + W.scalar_events([("loss", s, 2.0) for s in range(80, 120)])
    W.write_events(tmp_path, events, name=W.event_name(2))
    (run,) = load_runs(tmp_path).runs
    assert W.points(run.frame, "loss") == [(s, 1.0) for s in range(60)] + [(s, 2.0) for s in range(80, 120)]
    assert run.replaced == 40


# --------------------------------------------------------------------------- other writers


def test_tensorboardx_writer(tmp_path):
    pytest.importorskip("tensorboardX")
    pts = [("Loss/train", s, 1.0 / (s + 1)) for s in range(200)] + [("Loss/val", s, 2.0) for s in range(0, 200, 50)]
    path = W.write_tensorboardx(tmp_path, pts)
    frame = reader.read(path).frame
    assert W.triples(frame, "Loss/train") == [(s, W.BASE_WALL + s, W.f32(1.0 / (s + 1))) for s in range(200)]
    assert W.points(frame, "Loss/val") == [(s, 2.0) for s in range(0, 200, 50)]


def test_tensorboardx_purge_step_restart(tmp_path):
    pytest.importorskip("tensorboardX")
    W.write_tensorboardx(tmp_path, [("loss", s, 1.0) for s in range(100)], name=W.event_name(1))
    W.write_tensorboardx(tmp_path, [("loss", s, 2.0) for s in range(80, 150)], purge_step=60,
                         name=W.event_name(2))
    (run,) = load_runs(tmp_path).runs
    assert W.points(run.frame, "loss") == [(s, 1.0) for s in range(60)] + [(s, 2.0) for s in range(80, 150)]
    assert run.replaced == 40


def test_torch_purge_step_restart(tmp_path):
    pytest.importorskip("torch")
    W.write_torch(tmp_path, [("loss", s, 1.0) for s in range(100)], name=W.event_name(1))
    W.write_torch(tmp_path, [("loss", s, 2.0) for s in range(80, 150)], purge_step=60, name=W.event_name(2))
    (run,) = load_runs(tmp_path).runs
    assert W.points(run.frame, "loss") == [(s, 1.0) for s in range(60)] + [(s, 2.0) for s in range(80, 150)]


def test_torch_summary_writer(tmp_path):
    pytest.importorskip("torch")
    pts = [("Loss/train", s, 1.0 / (s + 1)) for s in range(100)]
    path = W.write_torch(tmp_path, pts)
    assert W.triples(reader.read(path).frame, "Loss/train") == [
        (s, W.BASE_WALL + s, W.f32(1.0 / (s + 1))) for s in range(100)]


# --------------------------------------------------------------------------- damage


def _hundred(tmp_path, encoding="simple_value"):
    vals = [1.0 + s / 7 for s in range(100)]
    path = W.write_scalars(tmp_path, [("loss", s, v) for s, v in enumerate(vals)], encoding)
    return path, [(s, W.f32(v)) for s, v in enumerate(vals)]


def test_truncated_last_record_mid_payload(tmp_path):
    path, expected = _hundred(tmp_path)
    off, length = W.record_spans(path)[-1]
    W.truncate(path, off + 12 + length // 2)
    data = reader.read(path)
    assert W.points(data.frame, "loss") == expected[:-1]
    (warning,) = data.warnings
    assert "truncated" in warning and str(path) in warning
    (run,) = load_runs(tmp_path).runs
    assert any("truncated" in w for w in run.warnings)


@pytest.mark.parametrize("cut", [3, 12, -2], ids=["in-header", "after-header", "in-footer"])
def test_truncated_last_record_anywhere(tmp_path, cut):
    path, expected = _hundred(tmp_path)
    off, length = W.record_spans(path)[-1]
    W.truncate(path, off + cut if cut >= 0 else off + 12 + length + 4 + cut)
    data = reader.read(path)
    assert W.points(data.frame, "loss") == expected[:-1]
    assert any("truncated" in w for w in data.warnings)


def _value_offset(path, index: int, value: float) -> int:
    """File offset of the float32 value inside record ``index``."""
    off, _ = W.record_spans(path)[index]
    payload = W.record_payload(path, index)
    pos = payload.find(struct.pack("<f", value))
    assert pos >= 0
    return off + 12 + pos


def test_corrupted_payload_in_middle_loses_only_that_record(tmp_path):
    path, expected = _hundred(tmp_path)
    k = 41  # record 0 is the file_version event; record 41 holds step 40
    rec_off = W.record_spans(path)[k][0]
    W.flip_byte(path, _value_offset(path, k, expected[40][1]))
    data = reader.read(path)
    assert W.points(data.frame, "loss") == expected[:40] + expected[41:]
    (warning,) = data.warnings
    assert "CRC" in warning and str(path) in warning
    assert f"{rec_off:,}" in warning or str(rec_off) in warning
    assert "1 point lost" in warning


def test_corrupted_payload_reported_through_load_runs(tmp_path):
    path, expected = _hundred(tmp_path)
    W.flip_byte(path, _value_offset(path, 10, expected[9][1]))
    (run,) = load_runs(tmp_path).runs
    assert len(run.frame) == 99
    assert any("CRC" in w for w in run.warnings)


@pytest.mark.parametrize("byte", [0, 3, 8, 11], ids=["length-lsb", "length-msb-side", "crc-0", "crc-3"])
def test_damaged_length_field_resyncs(tmp_path, byte):
    path, expected = _hundred(tmp_path)
    k = 30
    rec_off = W.record_spans(path)[k][0]
    W.flip_byte(path, rec_off + byte, 0x40)
    data = reader.read(path)
    assert W.points(data.frame, "loss") == expected[:29] + expected[30:]
    (warning,) = data.warnings
    assert "length" in warning and "CRC" in warning
    assert f"{rec_off:,}" in warning or str(rec_off) in warning


def test_several_damages_in_one_file(tmp_path):
    path, expected = _hundred(tmp_path)
    spans = W.record_spans(path)
    W.flip_byte(path, _value_offset(path, 11, expected[10][1]))
    W.flip_byte(path, spans[51][0] + 1)
    W.truncate(path, spans[-1][0] + 20)
    data = reader.read(path)
    lost = {10, 50, 99}
    assert W.points(data.frame, "loss") == [p for i, p in enumerate(expected) if i not in lost]
    assert len(data.warnings) == 3


def test_valid_crc_but_not_an_event(tmp_path):
    path, expected = _hundred(tmp_path)
    with open(path, "ab") as f:
        RecordWriter(f).write(b"\xff\xff\xff this is no protobuf")
    data = reader.read(path)
    assert W.points(data.frame, "loss") == expected
    assert any("not valid events" in w for w in data.warnings)


def test_verify_false_reads_bit_flipped_file_without_complaint(tmp_path):
    path, expected = _hundred(tmp_path)
    W.flip_byte(path, _value_offset(path, 21, expected[20][1]), 0x01)
    data = reader.read(path, verify=False)
    assert data.warnings == []
    got = W.points(data.frame, "loss")
    assert len(got) == 100
    assert got[:20] == expected[:20] and got[21:] == expected[21:]
    assert got[20][0] == 20 and got[20][1] != expected[20][1]  # the flipped value, unchecked
    (run,) = load_runs(tmp_path, verify=False).runs
    assert run.warnings == [] and len(run.frame) == 100
    (run,) = load_runs(tmp_path, verify=True).runs
    assert len(run.frame) == 99 and any("CRC" in w for w in run.warnings)


def test_zero_byte_event_file(tmp_path):
    empty = tmp_path / "events.out.tfevents.1700000000.host.1.0"
    empty.write_bytes(b"")
    with pytest.raises(InputError) as exc:
        reader.read(empty)
    assert exc.value.path == str(empty) and exc.value.problem
    result = load_runs(tmp_path)
    assert result.runs == []
    assert any(str(empty) in e for e in result.errors), result.errors
    with pytest.raises(InputError):
        load(tmp_path)


def test_zero_byte_event_file_next_to_good_one(tmp_path):
    empty = tmp_path / W.event_name(2)
    empty.write_bytes(b"")
    W.write_scalars(tmp_path, [("loss", s, 1.0) for s in range(10)], name=W.event_name(1))
    (run,) = load_runs(tmp_path).runs
    assert len(run.frame) == 10
    assert any(str(empty) in w for w in run.warnings)


@pytest.mark.parametrize("verify", [True, False])
def test_random_bytes_named_like_event_file(tmp_path, verify):
    junk = tmp_path / "events.out.tfevents.x"
    junk.write_bytes(random.Random(7).randbytes(4096))
    with pytest.raises(InputError) as exc:
        reader.read(junk, verify)
    assert exc.value.path == str(junk)
    result = load_runs(tmp_path, verify=verify)
    assert result.runs == []
    assert any(str(junk) in e for e in result.errors), result.errors


def test_event_file_without_tfevents_name_found_by_content(tmp_path):
    path = W.write_scalars(tmp_path, [("loss", s, 1.0) for s in range(5)], name="renamed.bin")
    (run,) = load_runs(tmp_path).runs
    assert run.format == "tensorboard" and run.files == [str(path)]
