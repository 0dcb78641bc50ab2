"""TensorBoard event files: ``simple_value`` scalars and TF2 tensor scalars, every point.

Two implementations with the same results: the C scanner (:mod:`lossctl.readers.fastscan`, built
from ``_scan.c`` when a compiler was available at install time) and the pure-Python reader below,
the reference and the fallback (forced with ``LOSSCTL_PURE_PYTHON=1``). In the Python reader,
framing and CRCs are checked by :mod:`lossctl.readers.tfrecord` and each good record is decoded
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
from lossctl.readers import fastscan, tfrecord
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
            if len(t.tensor_content) != 2:
                return None
            return struct.unpack("<f", b"\x00\x00" + t.tensor_content)[0]
        if len(t.tensor_content) != struct.calcsize(fmt):
            return None
        return float(struct.unpack(fmt, t.tensor_content)[0])
    for field in ("float_val", "double_val", "int_val", "int64_val", "bool_val"):
        vals = getattr(t, field)
        if len(vals):
            return float(vals[0])
    if len(t.half_val):
        bits = t.half_val[0] & 0xFFFF  # uint16 bits in an int32 field
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
        """How many scalar points a (damaged) record held, without keeping them (nor the
        plugin metadata it carries: damaged bytes do not decide what later values are)."""
        before, purges, plugin = len(self.values), len(self.purges), dict(self.plugin)
        try:
            self.add(payload)
        except Exception:  # noqa: BLE001 - damaged bytes may fail in any way
            return 0
        finally:
            self.plugin = plugin
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
        if fastscan.enabled():
            return self._read_c(Path(path), verify)
        return self._read_python(Path(path), verify)

    def _read_c(self, path: Path, verify: bool) -> FileData:
        try:
            res = fastscan.scan(path, verify)
        except OSError as exc:
            raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
        _check(path, res.size, res.records, res.damaged, res.truncated_at)
        warnings = _describe(path, res.damaged, res.truncated_at, res.records, res.undecodable)
        return FileData(_frame(res), self.format, warnings, res.purges)

    def _read_python(self, path: Path, verify: bool) -> FileData:
        dec = _Decoder()
        state = tfrecord.ScanState()
        damaged: list[tuple[int, str, int | None]] = []

        def note_damage():  # in file order, with the plugin state of that point in the file
            for d in state.damaged[len(damaged):]:
                lost = dec.points_in(d.payload) if d.payload is not None else None
                d.payload = None  # counted: do not hold damaged payloads until the end
                damaged.append((d.offset, d.problem, lost))

        try:
            size = path.stat().st_size
            with open(path, "rb") as f:
                for payload in tfrecord.iter_records(f, size, state, verify):
                    note_damage()
                    try:
                        dec.add(payload)
                    except DecodeError:
                        dec.undecodable += 1
                note_damage()
        except OSError as exc:
            raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
        _check(path, size, state.records, damaged, state.truncated_at)
        warnings = _describe(path, damaged, state.truncated_at, state.records, dec.undecodable)
        frame = make_frame(pd.Categorical(dec.tags), dec.steps, dec.walls, dec.values)
        return FileData(frame, self.format, warnings, dec.purges)


def _frame(res: fastscan.ScanResult) -> pd.DataFrame:
    metric = pd.Categorical.from_codes(res.codes, categories=res.tags)
    return make_frame(metric, res.steps, res.wall_times, res.values)


def _check(path: Path, size: int, records: int, damaged: list, truncated_at: int | None) -> None:
    if size == 0:
        raise InputError(path, "empty file (0 bytes)")
    if records == 0 and (damaged or truncated_at is not None):
        raise InputError(path, "not a TensorBoard event file (no valid TFRecord found)")


def _describe(path: Path, damaged: list[tuple[int, str, int | None]], truncated_at: int | None,
              records: int, undecodable: int) -> list[str]:
    """The warnings of one file; ``damaged`` holds ``(offset, problem, points lost or None)``."""
    out = []
    for offset, problem, lost in damaged:
        what = f"{lost} point{'s' if lost != 1 else ''} lost" if lost is not None else "points unknown"
        out.append(f"{path}: damaged record at byte {offset:,}: {problem} ({what})")
    if truncated_at is not None:
        out.append(f"{path}: last record truncated at byte {truncated_at:,} "
                   f"(file still being written?); read {records:,} complete records")
    if undecodable:
        out.append(f"{path}: {undecodable} records passed the CRC but are not valid events; skipped")
    return out


reader = TensorBoardReader()
