"""The W&B transaction log (``run-<id>.wandb``), decoded without the ``wandb`` package.

The file is a LevelDB-style log: a 7-byte header (``:W&B``, magic ``0xBEE1`` little-endian,
version 0), then 32 KiB blocks of chunks. A chunk is ``crc32 (4 bytes LE), length (2 LE),
type (1)`` then ``length`` bytes; the CRC is plain CRC-32 (zlib's) of the type byte and the data,
unmasked. Types FULL (1), FIRST (2), MIDDLE (3), LAST (4) put a record together; a block whose
tail cannot hold a chunk header is zero-padded. Each record is a protobuf ``Record`` of
``wandb/proto/wandb_internal.proto``; the few fields read here, by number:

- ``Record``: ``history = 2`` (HistoryRecord), ``config = 5`` (ConfigRecord), ``run = 17`` (RunRecord)
- ``HistoryRecord``: ``item = 1`` (repeated HistoryItem), ``step = 2`` (HistoryStep: ``num = 1``)
- ``HistoryItem`` / ``ConfigItem``: ``key = 1``, ``nested_key = 2`` (repeated), ``value_json = 16``
- ``ConfigRecord``: ``update = 1``, ``remove = 2`` (repeated ConfigItem)
- ``RunRecord``: ``run_id = 1``, ``config = 4`` (ConfigRecord), ``display_name = 8``

Everything else (summaries, system stats, console output, files, telemetry) is skipped unread.
A minimal protobuf wire-format walker does the decoding (varints and length-delimited fields;
other wire types are skipped by their size), so reading needs no protobuf classes and works from
any :class:`lossctl.storage.Blob`.
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from dataclasses import dataclass, field

BLOCK = 32768
CHUNK_HEADER = 7
FILE_HEADER = b":W&B\xe1\xbe"  # ident and magic; a version byte follows
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4
READ_SIZE = 128 * BLOCK  # 4 MiB at a time: whole blocks, so a chunk never straddles a read
_CHUNK = struct.Struct("<IHB")
_NUMERIC_START = frozenset(b"-0123456789NI")  # JSON numbers, and NaN/Infinity as W&B writes them
# Record fields 3-16 except 5 (summary, output, files, stats, artifact, telemetry, metric, ...):
# the record's one record_type is of no use here. As tags: (number << 3) | 2.
_SKIPPED_TAGS = frozenset((n << 3) | 2 for n in range(3, 16) if n != 5)


class WandbLogError(Exception):
    """Not a W&B transaction log at all (wrong header): the caller names the file."""


@dataclass
class History:
    """The points of one ``.wandb`` file and what went wrong reading it."""

    metric: list[str] = field(default_factory=list)
    step: list[int] = field(default_factory=list)
    wall_time: list[float] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    run_id: str = ""
    display_name: str = ""
    config: dict = field(default_factory=dict)  # key -> decoded JSON value (nested keys joined with ".")
    records: int = 0  # complete records read
    history_records: int = 0
    damaged: list[tuple[int, str]] = field(default_factory=list)  # (byte offset, problem)
    truncated_at: int | None = None  # offset of an incomplete last record
    zero_tail: int | None = None  # the file ends in zeros from this offset (preallocated, padded)
    skipped_values: int = 0  # history values that are not numbers (media, tables, strings)


def read_log(f, verify: bool = True) -> History:
    """Decode an open binary file holding a ``.wandb`` transaction log: every complete record,
    damage skipped (and noted with its byte offset), an incomplete last record noted."""
    out = History()
    head = _read_full(f, CHUNK_HEADER)
    if head[:6] != FILE_HEADER[:len(head[:6])] or not head:
        raise WandbLogError("not a W&B transaction log (no ':W&B' header)")
    if len(head) < CHUNK_HEADER:
        out.truncated_at = 0
        return out
    if head[6] != 0:
        raise WandbLogError(f"W&B transaction log version {head[6]} (lossctl reads version 0)")
    decoder = _Decoder(out)
    parts: list[bytes] = []  # the chunks of a record being put together
    part_start = 0  # file offset of its FIRST chunk
    zero_from = None  # file offset of a zeroed tail (a preallocated or padded file)
    base = 0  # file offset of buf[0]; always a multiple of BLOCK
    buf = head + _read_full(f, READ_SIZE - CHUNK_HEADER)
    pos = CHUNK_HEADER
    unpack = _CHUNK.unpack_from
    crc32 = zlib.crc32
    while True:
        size = len(buf)
        if pos >= size:
            if size < READ_SIZE:
                break
            buf = _read_full(f, READ_SIZE)
            if not buf:
                break
            base += size
            pos = 0
            continue
        block_end = min(size, (pos // BLOCK + 1) * BLOCK)
        final = block_end % BLOCK != 0  # only the last block of the file is short
        while pos + CHUNK_HEADER <= block_end:
            crc, n, kind = unpack(buf, pos)
            end = pos + CHUNK_HEADER + n
            if crc == 0 and n == 0 and kind == 0:  # zeroed from here to the end of the block
                if any(buf[pos:block_end]):
                    out.damaged.append((base + pos, "zero chunk header followed by data"))
                    parts = []
                elif zero_from is None:
                    zero_from = base + pos
                break
            if end > block_end:
                if final:  # the file ends inside this chunk
                    out.truncated_at = part_start if parts else base + pos
                    parts = []
                else:
                    out.damaged.append((base + pos, f"chunk length {n:,} runs past its 32 KiB block"))
                    parts = []
                break
            if verify and crc32(buf[pos + 6:end]) != crc:
                out.damaged.append((base + pos, "CRC mismatch"))
                parts = []
                break  # its length may be wrong too: go on at the next block, as LevelDB does
            zero_from = None
            if kind == FULL:
                if parts:
                    out.damaged.append((part_start, "record never completed (no LAST chunk; dropped)"))
                    parts = []
                decoder.record(buf[pos + CHUNK_HEADER:end])
            elif kind == FIRST:
                if parts:
                    out.damaged.append((part_start, "record never completed (no LAST chunk; dropped)"))
                parts = [buf[pos + CHUNK_HEADER:end]]
                part_start = base + pos
            elif kind == MIDDLE or kind == LAST:
                if not parts:
                    out.damaged.append((base + pos, "chunk continuing a record whose start is lost (dropped)"))
                else:
                    parts.append(buf[pos + CHUNK_HEADER:end])
                    if kind == LAST:
                        decoder.record(b"".join(parts))
                        parts = []
            else:
                out.damaged.append((base + pos, f"unknown chunk type {kind}"))
                parts = []
                break
            pos = end
        else:
            if pos < block_end and any(buf[pos:block_end]):  # a block's tail is zero padding
                if final:  # a chunk header cut at the end of the file
                    out.truncated_at = part_start if parts else base + pos
                    parts = []
                else:
                    out.damaged.append((base + pos, "block padding is not zero"))
        pos = block_end
    if parts:
        out.truncated_at = part_start
    if zero_from is not None and out.truncated_at is None:
        out.zero_tail = zero_from
    return out


def _read_full(f, n: int) -> bytes:
    """``n`` bytes, or fewer only at the end of the file (a remote file may return less)."""
    data = f.read(n)
    if len(data) in (0, n):
        return data
    chunks = [data]
    got = len(data)
    while got < n:
        more = f.read(n - got)
        if not more:
            break
        chunks.append(more)
        got += len(more)
    return b"".join(chunks)


class _Decoder:
    def __init__(self, out: History):
        self.out = out
        self.keys: dict[bytes, str] = {}  # an item's encoded key fields -> the metric name

    def record(self, data: bytes) -> None:
        out = self.out
        out.records += 1
        # Fast path: ``num`` (field 1, a varint) comes first, then the one record_type field
        # (fields are written in number order); a summary, stats or output record is skipped
        # at its tag. Anything else takes the general walk.
        i = 0
        if len(data) > 2 and data[0] == 0x08:
            i = 1
            while i < len(data) and data[i] >= 0x80:
                i += 1
            i += 1
        tag = data[i] if i < len(data) else 0
        if tag == 0x12:
            length, j = _length(data, i + 1)
            if j + length <= len(data):
                out.history_records += 1
                self.history(data, j, j + length)
                return
        elif tag in _SKIPPED_TAGS:
            return
        for num, wire, value in _fields(data):
            if wire != 2:
                continue
            if num == 2:
                out.history_records += 1
                self.history(value, 0, len(value))
            elif num == 5:
                self.config(value)
            elif num == 17:
                self.run(value)

    def history(self, data: bytes, i: int, end: int) -> None:
        out = self.out
        keys = self.keys
        step = None
        wall = math.nan
        hist_step = 0
        names: list[str] = []
        raws: list[bytes] = []
        while i < end:
            tag = data[i]
            length = data[i + 1] if i + 1 < end else 0
            if length < 0x80:
                i += 2
            else:
                length, i = _varint(data, i + 1)
            stop = i + length
            if stop > end:
                break
            if tag == 0x0A:  # an item: key fields (1, 2), then value_json (16: tag bytes 82 01)
                # Fast path for the usual shape (one-byte lengths); anything else: _item.
                j = i
                while j < stop:
                    t = data[j]
                    if t == 0x82 or (t != 0x0A and t != 0x12) or j + 1 >= stop or data[j + 1] >= 0x80:
                        break
                    j += 2 + data[j + 1]
                if j + 3 <= stop and data[j] == 0x82 and data[j + 1] == 0x01 and data[j + 2] < 0x80 \
                        and j + 3 + data[j + 2] == stop:
                    prefix = data[i:j]
                    key = keys.get(prefix)
                    if key is None:
                        key = keys[prefix] = _item(prefix)[0]
                    raw = data[j + 3:stop]
                else:
                    key, raw = _item(data[i:stop])
                if key == "_step":
                    step = _number(raw)
                elif key == "_timestamp":
                    wall = _number(raw)
                elif key != "_runtime":
                    names.append(key)
                    raws.append(raw)
            elif tag == 0x12:  # HistoryStep
                for n2, w2, v2 in _fields(data[i:stop]):
                    if n2 == 1 and w2 == 0:
                        hist_step = _signed(v2)
            i = stop
        if step is None or not math.isfinite(step) or abs(step) > 2**62:
            step = hist_step
        step = int(step)
        if wall is None:
            wall = math.nan
        for key, raw in zip(names, raws):
            if raw and raw[0] in _NUMERIC_START:
                try:
                    v = float(raw)
                except ValueError:
                    out.skipped_values += 1
                    continue
                out.metric.append(key)
                out.value.append(v)
                out.step.append(step)
                out.wall_time.append(wall)
                continue
            flat = _flatten_json(key, raw)
            if flat is None:
                out.skipped_values += 1
                continue
            for k, v in flat:
                out.metric.append(k)
                out.value.append(v)
                out.step.append(step)
                out.wall_time.append(wall)

    def config(self, data: bytes) -> None:
        cfg = self.out.config
        for num, wire, value in _fields(data):
            if wire != 2 or num not in (1, 2):
                continue
            key, raw = _item(value)
            if num == 2:
                cfg.pop(key, None)
                continue
            try:
                cfg[key] = json.loads(raw)
            except (ValueError, RecursionError):
                cfg[key] = raw.decode("utf-8", "replace")

    def run(self, data: bytes) -> None:
        out = self.out
        for num, wire, value in _fields(data):
            if wire != 2:
                continue
            if num == 1:
                out.run_id = value.decode("utf-8", "replace")
            elif num == 8:
                out.display_name = value.decode("utf-8", "replace")
            elif num == 4:
                self.config(value)


def _item(data: bytes) -> tuple[str, bytes]:
    """``(key, value_json)`` of a HistoryItem or ConfigItem; nested keys joined with ``.``
    (``{"val": {"loss": x}}`` is the metric ``val.loss``, as W&B names it)."""
    key = ""
    nested = []
    raw = b""
    for num, wire, value in _fields(data):
        if wire != 2:
            continue
        if num == 16:
            raw = bytes(value)
        elif num == 2:
            nested.append(value.decode("utf-8", "replace"))
        elif num == 1:
            key = value.decode("utf-8", "replace")
    if nested:
        key = ".".join(nested) if not key else ".".join([key, *nested])
    return key, raw


def _fields(data):
    """``(field number, wire type, value)`` of each field of a protobuf message: an int for
    varints, bytes for length-delimited fields; fixed-width fields as their raw bytes. Stops at
    the first malformed field (the record's CRC was good, so that is a format we do not know)."""
    i = 0
    n = len(data)
    while i < n:
        b = data[i]
        i += 1
        if b < 0x80:
            tag = b
        else:
            tag, i = _varint(data, i - 1)
        num, wire = tag >> 3, tag & 7
        if wire == 2:
            b = data[i] if i < n else 0
            if b < 0x80:
                length = b
                i += 1
            else:
                length, i = _varint(data, i)
            end = i + length
            if end > n:
                return
            yield num, 2, data[i:end]
            i = end
        elif wire == 0:
            v, i = _varint(data, i)
            if i > n:
                return
            yield num, 0, v
        elif wire == 1:
            yield num, 1, data[i:i + 8]
            i += 8
        elif wire == 5:
            yield num, 5, data[i:i + 4]
            i += 4
        else:
            return


def _varint(data, i: int) -> tuple[int, int]:
    result = 0
    shift = 0
    n = len(data)
    while i < n:
        b = data[i]
        i += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, i
        shift += 7
        if shift > 63:
            break
    return result, n + 1  # malformed: past the end, so callers stop


def _length(data, i: int) -> tuple[int, int]:
    """A length prefix at ``i``: ``(length, offset after it)``; one byte in the common case."""
    b = data[i] if i < len(data) else 0
    if b < 0x80:
        return b, i + 1
    return _varint(data, i)


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _number(raw: bytes):
    try:
        return float(raw) if raw and raw[0] in _NUMERIC_START else None
    except ValueError:
        return None


def _flatten_json(key: str, raw: bytes) -> list[tuple[str, float]] | None:
    """A value that is not a plain number: a dict of numbers (older clients logged nested dicts
    as one item) gives one metric per leaf; media, tables, strings and bools give None."""
    if not raw or raw[:1] != b"{":
        return None
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    out: list[tuple[str, float]] = []

    def walk(prefix: str, d: dict) -> None:
        if "_type" in d:  # an image, table, histogram...
            return
        for k, v in d.items():
            name = f"{prefix}.{k}"
            if isinstance(v, dict):
                walk(name, v)
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                out.append((name, float(v)))

    if isinstance(doc, dict):
        walk(key, doc)
    return out or None
