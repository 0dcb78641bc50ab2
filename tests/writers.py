"""Helpers that write REAL log files for the reader tests.

Event files are written with TensorBoard's own ``EventFileWriter`` (the same TFRecord framing and
protobuf classes TensorBoard reads), plus optional writers (tensorboardX, torch) when installed.
The TFRecord helpers at the bottom locate records in a written file so tests can damage them
precisely (flip a payload byte, break a length field, cut the file mid-record).
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import os
import struct
from collections.abc import Iterable
from pathlib import Path

from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

# Every encoding a scalar point can arrive in (see write_scalars).
ENCODINGS = ["simple_value", "tensor_content_f32", "float_val", "tensor_content_f64", "double_val",
             "tf2_metadata_first"]
# Encodings whose value is stored as float32 (expected values must be rounded to float32).
FLOAT32_ENCODINGS = {"simple_value", "tensor_content_f32", "float_val", "tf2_metadata_first"}

BASE_WALL = 1_700_000_000.0


def f32(x: float) -> float:
    """``x`` rounded to float32, as a float32 field stores it."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


# --------------------------------------------------------------------------- summaries / events

def _scalar_metadata() -> summary_pb2.SummaryMetadata:
    return summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"))


def scalar_value(tag: str, value: float, encoding: str = "simple_value", first: bool = True) -> summary_pb2.Summary.Value:
    """A ``Summary.Value`` holding one scalar in the given encoding.

    ``first`` only matters for ``tf2_metadata_first``: TF2 attaches the plugin metadata to the
    first value of a tag written by a writer and omits it afterwards.
    """
    if encoding == "simple_value":
        return summary_pb2.Summary.Value(tag=tag, simple_value=value)
    shape = tensor_shape_pb2.TensorShapeProto()  # rank 0
    if encoding in ("tensor_content_f32", "tf2_metadata_first"):
        tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=shape,
                                        tensor_content=struct.pack("<f", value))
    elif encoding == "float_val":
        tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=shape, float_val=[value])
    elif encoding == "tensor_content_f64":
        tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_DOUBLE, tensor_shape=shape,
                                        tensor_content=struct.pack("<d", value))
    elif encoding == "double_val":
        tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_DOUBLE, tensor_shape=shape, double_val=[value])
    else:
        raise ValueError(encoding)
    v = summary_pb2.Summary.Value(tag=tag, tensor=tensor)
    if encoding != "tf2_metadata_first" or first:
        v.metadata.CopyFrom(_scalar_metadata())
    return v


def summary_event(step: int, wall_time: float, values: Iterable[summary_pb2.Summary.Value]) -> event_pb2.Event:
    return event_pb2.Event(step=step, wall_time=wall_time, summary=summary_pb2.Summary(value=list(values)))


def histogram_value(tag: str) -> summary_pb2.Summary.Value:
    """A TF1-style histogram (``histo`` field)."""
    histo = summary_pb2.HistogramProto(min=0.0, max=1.0, num=3, sum=1.5, sum_squares=1.25,
                                       bucket_limit=[0.5, 1.0], bucket=[1, 2])
    return summary_pb2.Summary.Value(tag=tag, histo=histo)


def tf2_histogram_value(tag: str, first: bool = True) -> summary_pb2.Summary.Value:
    """A TF2-style histogram: a [k, 3] double tensor under the ``histograms`` plugin."""
    shape = tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=1),
                                                   tensor_shape_pb2.TensorShapeProto.Dim(size=3)])
    tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_DOUBLE, tensor_shape=shape,
                                    tensor_content=struct.pack("<3d", 0.0, 1.0, 5.0))
    v = summary_pb2.Summary.Value(tag=tag, tensor=tensor)
    if first:
        v.metadata.plugin_data.plugin_name = "histograms"
    return v


def image_value(tag: str) -> summary_pb2.Summary.Value:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16  # content is never decoded
    return summary_pb2.Summary.Value(tag=tag, image=summary_pb2.Summary.Image(
        height=1, width=1, colorspace=3, encoded_image_string=png))


def text_value(tag: str, text: str, first: bool = True) -> summary_pb2.Summary.Value:
    """A text-plugin tensor (DT_STRING, rank 0); metadata only on the first like TF2."""
    tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, tensor_shape=tensor_shape_pb2.TensorShapeProto(),
                                    string_val=[text.encode()])
    v = summary_pb2.Summary.Value(tag=tag, tensor=tensor)
    if first:
        v.metadata.plugin_data.plugin_name = "text"
    return v


def plugin_float_value(tag: str, value: float, plugin: str, first: bool = True) -> summary_pb2.Summary.Value:
    """A rank-0 float tensor belonging to a plugin that is NOT ``scalars``."""
    tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=tensor_shape_pb2.TensorShapeProto(),
                                    float_val=[value])
    v = summary_pb2.Summary.Value(tag=tag, tensor=tensor)
    if first:
        v.metadata.plugin_data.plugin_name = plugin
    return v


def session_start(step: int, wall_time: float) -> event_pb2.Event:
    return event_pb2.Event(step=step, wall_time=wall_time,
                           session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START))


# --------------------------------------------------------------------------- event files

def write_events(logdir, events: Iterable[event_pb2.Event], name: str | None = None) -> Path:
    """Write ``events`` with TensorBoard's EventFileWriter; return the file.

    The writer names files ``events.out.tfevents.<seconds>.<host>.<pid>.<uid>``; files created in
    the same second would sort by a process-wide counter, so tests that depend on file order
    pass ``name`` (the file is renamed after closing).
    """
    logdir = Path(logdir)
    writer = EventFileWriter(str(logdir), max_queue_size=1_000_000, flush_secs=10_000)
    for ev in events:
        writer.add_event(ev)
    writer.close()
    path = Path(writer._file_name)
    if name is not None:
        target = logdir / name
        os.replace(path, target)
        path = target
    return path


def scalar_events(points, encoding: str = "simple_value", wall=None) -> list[event_pb2.Event]:
    """One event per ``(tag, step, value)``; ``wall(step)`` gives its wall time."""
    wall = wall or (lambda step: BASE_WALL + step * 0.5)
    seen: set[str] = set()
    out = []
    for tag, step, value in points:
        out.append(summary_event(step, wall(step), [scalar_value(tag, value, encoding, first=tag not in seen)]))
        seen.add(tag)
    return out


def write_scalars(logdir, points, encoding: str = "simple_value", name: str | None = None, wall=None) -> Path:
    """Write ``[(tag, step, value), ...]`` as scalar events in one file."""
    return write_events(logdir, scalar_events(points, encoding, wall), name)


def event_name(seq: int) -> str:
    """A deterministic event file name sorting in ``seq`` order."""
    return f"events.out.tfevents.{1_700_000_000 + seq:010d}.testhost.1.{seq}"


def _write_with_summary_writer(make_writer, logdir, points, purge_step, name) -> Path:
    """Write in a private scratch directory (these writers name files by the second, so two
    writers in one second would collide), then move the file into ``logdir``."""
    logdir = Path(logdir)
    scratch = logdir / f".scratch-{next(_scratch_ids)}"
    w = make_writer(str(scratch), purge_step)
    for tag, step, value in points:
        w.add_scalar(tag, value, global_step=step, walltime=BASE_WALL + step)
    w.close()
    (path,) = scratch.glob("events.out.tfevents.*")
    target = logdir / (name or path.name)
    os.replace(path, target)
    scratch.rmdir()
    return target


_scratch_ids = itertools.count()


def write_tensorboardx(logdir, points, purge_step: int | None = None, name: str | None = None) -> Path:
    """Write ``[(tag, step, value), ...]`` with tensorboardX's SummaryWriter (caller skips if absent)."""
    from tensorboardX import SummaryWriter

    return _write_with_summary_writer(lambda d, p: SummaryWriter(logdir=d, purge_step=p),
                                      logdir, points, purge_step, name)


def write_torch(logdir, points, purge_step: int | None = None, name: str | None = None) -> Path:
    """Write ``[(tag, step, value), ...]`` with torch's SummaryWriter (caller importorskips torch)."""
    from torch.utils.tensorboard import SummaryWriter

    return _write_with_summary_writer(lambda d, p: SummaryWriter(log_dir=d, purge_step=p),
                                      logdir, points, purge_step, name)


# --------------------------------------------------------------------------- TFRecord surgery

def record_spans(path) -> list[tuple[int, int]]:
    """``(offset, payload_length)`` of every record of an intact event file."""
    data = Path(path).read_bytes()
    spans, off = [], 0
    while off < len(data):
        (length,) = struct.unpack_from("<Q", data, off)
        spans.append((off, length))
        off += 12 + length + 4
    assert off == len(data), "not an intact TFRecord file"
    return spans


def record_payload(path, index: int) -> bytes:
    off, length = record_spans(path)[index]
    return Path(path).read_bytes()[off + 12: off + 12 + length]


def flip_byte(path, offset: int, mask: int = 0x01) -> None:
    data = bytearray(Path(path).read_bytes())
    data[offset] ^= mask
    Path(path).write_bytes(bytes(data))


def patch_bytes(path, offset: int, new: bytes) -> None:
    data = bytearray(Path(path).read_bytes())
    data[offset: offset + len(new)] = new
    Path(path).write_bytes(bytes(data))


def truncate(path, size: int) -> None:
    with open(path, "r+b") as f:
        f.truncate(size)


# --------------------------------------------------------------------------- CSV / JSON

def write_text(path, text: str, encoding: str = "utf-8") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding=encoding)
    return path


def write_csv(path, header: list[str], rows: list[list], sep: str = ",") -> Path:
    """Write rows with the csv module; floats are written with ``repr`` (``nan``, ``inf``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter=sep)
        w.writerow(header)
        for row in rows:
            w.writerow([repr(c) if isinstance(c, float) else c for c in row])
    return path


def write_json(path, doc) -> Path:
    """``json.dump`` with Python's defaults: NaN/Infinity written as bare tokens."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def same_float(a: float, b: float) -> bool:
    """Equality where NaN equals NaN."""
    return (math.isnan(a) and math.isnan(b)) or a == b


def points(frame, metric: str) -> list[tuple[int, float]]:
    """``(step, value)`` of one metric, in frame order, as plain Python numbers."""
    sub = frame[frame["metric"] == metric]
    return [(int(s), float(v)) for s, v in zip(sub["step"], sub["value"])]


def triples(frame, metric: str) -> list[tuple[int, float, float]]:
    """``(step, wall_time, value)`` of one metric, in frame order."""
    sub = frame[frame["metric"] == metric]
    return [(int(s), float(w), float(v)) for s, w, v in zip(sub["step"], sub["wall_time"], sub["value"])]


def same_points(got, expected) -> bool:
    """Compare lists of tuples, NaN equal to NaN."""
    return len(got) == len(expected) and all(
        all(same_float(float(a), float(b)) for a, b in zip(g, e)) for g, e in zip(got, expected))
