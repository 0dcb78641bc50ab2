"""TensorBoard event files: ``simple_value`` scalars and TF2 tensor scalars, every point.

Two implementations with the same results: the C scanner (:mod:`lossctl.readers.fastscan`, built
from ``_scan.c`` when a compiler was available at install time) and the pure-Python reader below,
the reference and the fallback (forced with ``LOSSCTL_PURE_PYTHON=1``). In the Python reader,
framing and CRCs are checked by :mod:`lossctl.readers.tfrecord` and each good record is decoded
with TensorBoard's own protobuf classes. Images, histograms, audio and graphs are skipped.
The hparams plugin's summaries (``add_hparams``) are handed over raw for
:mod:`lossctl.readers.tb_hparams`: the C scanner only says which records hold them.
"""

from __future__ import annotations

import dataclasses
import struct
from dataclasses import dataclass

import numpy as np
import pandas as pd
from google.protobuf.message import DecodeError
from tensorboard.compat.proto import event_pb2

from lossctl.errors import InputError, NotALog
from lossctl.frame import category_dtype, make_frame
from lossctl.readers import fastscan, tb_hparams, tfrecord
from lossctl.readers.base import FileData
from lossctl.storage import Blob, as_blob, cannot_read

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

    def __init__(self, plugins: dict[str, str] | None = None):
        self.tags: list[str] = []
        self.steps: list[int] = []
        self.walls: list[float] = []
        self.values: list[float] = []
        self.purges: list[tuple[int, int]] = []
        self.plugin: dict[str, str] = {} if plugins is None else plugins  # updated in place
        self.hparams: list[tuple[str, bytes]] = []  # (tag, plugin content) of hparams plugin summaries
        self.undecodable = 0

    def points_in(self, payload: bytes) -> int:
        """How many scalar points a (damaged) record held, without keeping them (nor the
        plugin metadata it carries: damaged bytes do not decide what later values are)."""
        before, purges, plugin, hp = len(self.values), len(self.purges), dict(self.plugin), len(self.hparams)
        try:
            self.add(payload)
        except Exception:  # noqa: BLE001 - damaged bytes may fail in any way
            return 0
        finally:
            self.plugin.clear()
            self.plugin.update(plugin)
        n = len(self.values) - before
        for lst in (self.tags, self.steps, self.walls, self.values):
            del lst[before:]
        del self.purges[purges:]
        del self.hparams[hp:]
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
            if v.HasField("metadata") and v.metadata.plugin_data.plugin_name == tb_hparams.PLUGIN:
                self.hparams.append((v.tag, v.metadata.plugin_data.content))
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


@dataclass
class Scan:
    """The points of an event file between two byte offsets and what went wrong in between."""

    frame: pd.DataFrame
    purges: list[tuple[int, int]]  # (row in ``frame``, step) of each SessionLog.START
    damaged: list[tuple[int, str, int | None]]  # (byte offset, problem, points lost or None)
    truncated_at: int | None  # offset of an incomplete last record
    records: int  # good records
    undecodable: int  # good records that are not valid events
    size: int  # bytes in the file when it was opened
    end: int  # after the last complete record: where the next incremental scan starts
    hparams: list[tuple[str, bytes]] = dataclasses.field(default_factory=list)  # hparams plugin (tag, content)

    def warnings(self, path, tail: bool = True) -> list[str]:
        """The input problems as warning lines (``tail=False``: not the incomplete last record,
        which a file still being written is expected to have)."""
        return _describe(path, self.damaged, self.truncated_at if tail else None, self.records,
                         self.undecodable)


class TensorBoardReader:
    format = "tensorboard"

    def sniff(self, path, head: bytes) -> bool:
        if "tfevents" in path.name:
            return True
        return len(head) >= tfrecord.HEADER and tfrecord.header_ok(head[: tfrecord.HEADER])

    def read(self, path, verify: bool = True) -> FileData:
        path = as_blob(path)
        res = self.scan(path, verify)
        _check(path, res)
        return _data(path, res)

    def scan(self, path, verify: bool = True, start: int = 0,
             plugins: dict[str, str] | None = None) -> Scan:
        """Scan from byte ``start`` (a previous scan's ``end``) without judging the whole file;
        ``plugins`` (tag -> plugin name, updated in place) carries TF2 metadata across calls.
        The C scanner reads local files; anything else streams through the Python reader."""
        path = as_blob(path)
        if fastscan.enabled() and path.local_path is not None:
            return self._scan_c(path, verify, start, plugins)
        return self._scan_python(path, verify, start, plugins)

    def _read_c(self, path, verify: bool) -> FileData:  # tests: the C path explicitly
        path = as_blob(path)
        res = self._scan_c(path, verify)
        _check(path, res)
        return _data(path, res)

    def _read_python(self, path, verify: bool) -> FileData:  # tests: the Python path
        path = as_blob(path)
        res = self._scan_python(path, verify)
        _check(path, res)
        return _data(path, res)

    def _scan_c(self, path: Blob, verify: bool, start: int = 0, plugins=None) -> Scan:
        path = as_blob(path)
        try:
            res = fastscan.scan(path.local_path, verify, plugins, start=start)
            hparams = _hparams_at(path.local_path, res.hparams_at)
        except OSError as exc:
            raise cannot_read(path, exc) from None
        return Scan(_frame(res), res.purges, res.damaged, res.truncated_at, res.records,
                    res.undecodable, res.size, res.end, hparams)

    def _scan_python(self, path: Blob, verify: bool, start: int = 0, plugins=None) -> Scan:
        path = as_blob(path)
        dec = _Decoder(plugins)
        state = tfrecord.ScanState()
        damaged: list[tuple[int, str, int | None]] = []

        def note_damage():  # in file order, with the plugin state of that point in the file
            for d in state.damaged[len(damaged):]:
                lost = dec.points_in(d.payload) if d.payload is not None else None
                d.payload = None  # counted: do not hold damaged payloads until the end
                damaged.append((d.offset, d.problem, lost))

        try:
            size = path.size()
            with path.open() as f:
                for payload in tfrecord.iter_records(f, size, state, verify, start):
                    note_damage()
                    try:
                        dec.add(payload)
                    except DecodeError:
                        dec.undecodable += 1
                note_damage()
        except OSError as exc:
            raise cannot_read(path, exc) from None
        frame = make_frame(pd.Categorical(dec.tags), dec.steps, dec.walls, dec.values)
        return Scan(frame, dec.purges, damaged, state.truncated_at, state.records, dec.undecodable,
                    size, state.end, dec.hparams)


def _data(path, res: Scan) -> FileData:
    plugin = tb_hparams.decode(res.hparams, str(path)) if res.hparams else None
    if plugin is None:
        return FileData(res.frame, reader.format, res.warnings(path), res.purges)
    return FileData(res.frame, reader.format, res.warnings(path) + plugin.warnings, res.purges, plugin.hparams)


def _hparams_at(path: str, offsets: list[int]) -> list[tuple[str, bytes]]:
    """The hparams plugin summaries of the few records the C scanner found them in."""
    if not offsets:
        return []
    dec = _Decoder()
    with open(path, "rb") as f:
        for offset in offsets:
            try:
                dec.add(tfrecord.read_at(f, offset))
            except (DecodeError, struct.error):  # the file changed since the scan: left out
                continue
    return dec.hparams


def _frame(res: fastscan.ScanResult) -> pd.DataFrame:
    tags = res.tags  # distinct, as the scanner keeps them; if ever not, pandas' own error as before
    dtype = category_dtype(tags) if len(set(tags)) == len(tags) else pd.CategoricalDtype(tags)
    metric = pd.Categorical.from_codes(res.codes, dtype=dtype)
    return make_frame(metric, res.steps, res.wall_times, res.values)


def _check(path, res: Scan) -> None:
    """Judge a whole-file scan: raise when it gave no points, saying why."""
    if res.size == 0:
        raise InputError(path, "empty file (0 bytes)")
    if res.records == 0 and res.truncated_at == 0 and not res.damaged:
        raise InputError(path, f"truncated: only {res.size:,} bytes, not one complete record "
                         "(file still being written?)")
    if res.records == 0 and (res.damaged or res.truncated_at is not None):
        raise InputError(path, "not a TensorBoard event file (no valid TFRecord found)")
    if len(res.frame) == 0 and (res.damaged or res.truncated_at is not None or res.undecodable):
        problems = [w.split(": ", 1)[1] for w in res.warnings(path)]
        raise InputError(path, "no scalar values left: " + "; ".join(problems))
    if len(res.frame) == 0:
        raise NotALog(path, f"no scalar values in {res.records:,} records (images, histograms, "
                      "graphs and text are not read)")


def _describe(path, damaged: list[tuple[int, str, int | None]], truncated_at: int | None,
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
