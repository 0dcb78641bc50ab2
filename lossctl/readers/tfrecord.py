"""TFRecord framing: ``uint64 length, uint32 masked_crc32c(length), payload, uint32 masked_crc32c(payload)``.

Streams records from a file with bounded memory, verifies both CRCs, resynchronises after a
damaged length field (a bad CRC, or a length running past the end of the file while a valid
record follows) and reports every problem with its byte offset instead of stopping.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import crc32c as _crc32c
import numpy as np

HEADER = 12
FOOTER = 4
_MASK_DELTA = 0xA282EAD8
_LEN = struct.Struct("<QI")
_U32 = struct.Struct("<I")
_RESYNC_WINDOW = 1 << 20


def masked_crc(data: bytes) -> int:
    crc = _crc32c.crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def header_ok(header: bytes) -> bool:
    """True when 12 bytes look like a record header (the length's CRC checks)."""
    if len(header) < HEADER:
        return False
    (_length, crc) = _LEN.unpack_from(header)
    return masked_crc(header[:8]) == crc


@dataclass
class Damage:
    offset: int
    problem: str
    payload: bytes | None = None  # the record's bytes when they were read but failed the CRC


@dataclass
class ScanState:
    records: int = 0
    damaged: list[Damage] = field(default_factory=list)
    truncated_at: int | None = None  # offset of an incomplete last record (a run still being written)
    end: int = 0  # after the last complete record (or at the truncated tail): where to resume


def iter_records(f: BinaryIO, size: int, state: ScanState, verify: bool = True,
                 start: int = 0) -> Iterator[bytes]:
    """Yield each good record's payload from byte ``start`` (a record boundary; `lossctl watch`
    resumes at a previous ``state.end``); note damage and truncation in ``state``."""
    offset = state.end = start
    while offset < size:
        state.end = offset
        f.seek(offset)
        header = f.read(HEADER)
        if len(header) < HEADER:
            state.truncated_at = offset
            return
        length, len_crc = _LEN.unpack(header)
        if verify and masked_crc(header[:8]) != len_crc:
            nxt = _resync(f, offset + 1, size)
            state.damaged.append(Damage(offset, "length CRC mismatch; "
                                        + (f"skipped {nxt - offset} bytes to the next record"
                                           if nxt is not None else "no further record found")))
            if nxt is None:
                return
            offset = nxt
            continue
        end = offset + HEADER + length + FOOTER
        if end > size:  # a truncated tail, unless a record follows: then the length is wrong
            nxt = _resync(f, offset + 1, size)
            if nxt is None:
                state.truncated_at = offset
                return
            state.damaged.append(Damage(offset, f"length {length} runs past the end of the file; "
                                        f"skipped {nxt - offset} bytes to the next record"))
            offset = nxt
            continue
        payload, footer = f.read(length), f.read(FOOTER)
        if len(payload) < length or len(footer) < FOOTER:  # the file shrank while being read
            state.truncated_at = offset
            return
        (data_crc,) = _U32.unpack(footer)
        if verify and masked_crc(payload) != data_crc:
            state.damaged.append(Damage(offset, "payload CRC mismatch", payload))
        else:
            state.records += 1
            yield payload
        offset = state.end = end


def read_at(f: BinaryIO, offset: int) -> bytes:
    """The payload of the record at ``offset`` (one a scan already found good)."""
    f.seek(offset)
    (length, _crc) = _LEN.unpack(f.read(HEADER))
    return f.read(length)


def _resync(f: BinaryIO, start: int, size: int) -> int | None:
    """Offset of the next plausible header at or after ``start`` (its length CRC checks and its
    record fits in the file). Only offsets whose length's high bytes are zero, as those of any
    length that fits must be, are CRC-checked: numpy finds them, so megabytes take milliseconds."""
    zero_from = (size.bit_length() + 7) // 8  # bytes [zero_from, 8) of a fitting length are 0
    pos = start
    while pos + HEADER <= size:
        f.seek(pos)
        window = f.read(_RESYNC_WINDOW + HEADER)
        n = len(window) - HEADER + 1
        if n > 0:
            b = np.frombuffer(window, dtype=np.uint8)
            maybe = np.ones(n, dtype=bool)
            for j in range(zero_from, 8):
                maybe &= b[j:j + n] == 0
            for i in np.flatnonzero(maybe).tolist():
                hdr = window[i:i + HEADER]
                if header_ok(hdr):
                    (length,) = struct.unpack_from("<Q", hdr)
                    if pos + i + HEADER + length + FOOTER <= size:
                        return pos + i
        pos += _RESYNC_WINDOW
    return None
