"""TensorBoard event files: ``simple_value`` scalars and TF2 tensor scalars, every point.

Framing and CRCs are checked by :mod:`lossctl.readers.tfrecord`; each good record is decoded
with TensorBoard's own protobuf classes. Images, histograms, audio and graphs are skipped.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pandas as pd
from google.protobuf.message import DecodeError
from tensorboard.compat.proto import event_pb2

from lossctl.errors import InputError
from lossctl.frame import make_frame
from lossctl.readers import tfrecord
from lossctl.readers.base import FileData

# TensorProto dtypes a scalar may have: enum value -> struct format of tensor_content
_DTYPES = {1: "<f", 2: "<d", 3: "<i", 9: "<q", 19: "<e", 4: "<B", 5: "<h", 6: "<b", 10: "<?"}
_START = event_pb2.SessionLog.START


def _tensor_scalar(t) -> float | None:
    """The value of a rank-0 numeric TensorProto, or None when it is not one."""
    if any(d.size != 1 for d in t.tensor_shape.dim):
        return None
    fmt = _DTYPES.get(t.dtype)
    if fmt is None and t.dtype != 14:  # 14 = bfloat16
        return None
    if t.tensor_content:
        if t.dtype == 14:
            return struct.unpack("<f", b"\x00\x00" + t.tensor_content[:2])[0]
        if len(t.tensor_content) != struct.calcsize(fmt):
            return None
        return float(struct.unpack(fmt, t.tensor_content)[0])
    for field in ("float_val", "double_val", "int_val", "int64_val", "bool_val"):
        vals = getattr(t, field)
        if len(vals):
            return float(vals[0])
    if len(t.half_val):
        bits = t.half_val[0]
        if t.dtype == 14:
            return struct.unpack("<f", struct.pack("<I", bits << 16))[0]
        return float(np.array([bits], dtype=np.uint16).view(np.float16)[0])
    return None


class _Decoder:
    """Turns event payloads into parallel point lists; remembers per-tag plugins (TF2 writes
    a tag's metadata only with its first value)."""

    def __init__(self):
        self.tags: list[str] = []
        self.steps: list[int] = []
        self.walls: list[float] = []
        self.values: list[float] = []
        self.purges: list[tuple[int, int]] = []
        self.plugin: dict[str, str] = {}
        self.undecodable = 0

    def points_in(self, payload: bytes) -> int:
        """How many scalar points a (damaged) record held, without keeping them."""
        before, purges = len(self.values), len(self.purges)
        try:
            self.add(payload)
        except Exception:  # noqa: BLE001 - damaged bytes may fail in any way
            return 0
        n = len(self.values) - before
        for lst in (self.tags, self.steps, self.walls, self.values):
            del lst[before:]
        del self.purges[purges:]
        return n

    def add(self, payload: bytes) -> None:
        ev = event_pb2.Event.FromString(payload)
        what = ev.WhichOneof("what")
        if what == "session_log":
            if ev.session_log.status == _START:
                self.purges.append((len(self.values), ev.step))
            return
        if what != "summary":
            return
        for v in ev.summary.value:
            kind = v.WhichOneof("value")
            if kind == "simple_value":
                value = v.simple_value
            elif kind == "tensor":
                if v.HasField("metadata") and v.metadata.plugin_data.plugin_name:
                    self.plugin[v.tag] = v.metadata.plugin_data.plugin_name
                if self.plugin.get(v.tag, "scalars") != "scalars":
                    continue
                value = _tensor_scalar(v.tensor)
                if value is None:
                    continue
            else:
                continue
            self.tags.append(v.tag)
            self.steps.append(ev.step)
            self.walls.append(ev.wall_time)
            self.values.append(value)


class TensorBoardReader:
    format = "tensorboard"

    def sniff(self, path: Path, head: bytes) -> bool:
        if "tfevents" in path.name:
            return True
        return len(head) >= tfrecord.HEADER and tfrecord.header_ok(head[: tfrecord.HEADER])

    def read(self, path: Path, verify: bool = True) -> FileData:
        dec = _Decoder()
        state = tfrecord.ScanState()
        try:
            size = path.stat().st_size
            with open(path, "rb") as f:
                for payload in tfrecord.iter_records(f, size, state, verify):
                    try:
                        dec.add(payload)
                    except DecodeError:
                        dec.undecodable += 1
        except OSError as exc:
            raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
        if size == 0:
            raise InputError(path, "empty file (0 bytes)")
        if state.records == 0 and (state.damaged or state.truncated_at is not None):
            raise InputError(path, "not a TensorBoard event file (no valid TFRecord found)")
        warnings = _describe(path, state, dec)
        frame = make_frame(pd.Categorical(dec.tags), dec.steps, dec.walls, dec.values)
        return FileData(frame, self.format, warnings, dec.purges)


def _describe(path: Path, state: tfrecord.ScanState, dec: _Decoder) -> list[str]:
    out = []
    for d in state.damaged:
        lost = dec.points_in(d.payload) if d.payload is not None else None
        what = f"{lost} point{'s' if lost != 1 else ''} lost" if lost is not None else "points unknown"
        out.append(f"{path}: damaged record at byte {d.offset:,}: {d.problem} ({what})")
    if state.truncated_at is not None:
        out.append(f"{path}: last record truncated at byte {state.truncated_at:,} "
                   f"(file still being written?); read {state.records:,} complete records")
    if dec.undecodable:
        out.append(f"{path}: {dec.undecodable} records passed the CRC but are not valid events; skipped")
    return out


reader = TensorBoardReader()
