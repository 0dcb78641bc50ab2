"""Mutations of valid files: bit flips, truncations, insertions, deletions, duplicated spans,
interesting tokens (text) and record lengths with or without a valid CRC (TFRecord)."""

from __future__ import annotations

import struct

import crc32c
from hypothesis import strategies as st

TOKENS = [b",", b";", b"\t", b"\n", b"\r", b"\r\n", b'"', b"nan", b"NaN", b"inf", b"-Infinity", b"NA", b"",
          b"1e999", b"-1e400", b"9" * 30, b"\xef\xbb\xbf", b"\x00", b"\xff\xfe", b"[", b"]", b"{", b"}",
          b"null", b"true", b'"loss"', b"step", b"epoch", b"\xc3\xa9", b"\xed\xa0\x80", b"0x1p3", b"1_000"]
HUGE = [2**64 - 1, 2**63, 2**60, 2**32, 2**31 - 1, 0, 1, 11]
POS = st.integers(0, 1 << 20)

OPS = st.one_of(
    st.tuples(st.just("flip"), POS, st.integers(0, 7)),
    st.tuples(st.just("cut"), POS),
    st.tuples(st.just("insert"), POS, st.binary(min_size=1, max_size=32)),
    st.tuples(st.just("delete"), POS, st.integers(1, 64)),
    st.tuples(st.just("duplicate"), POS, st.integers(1, 200), POS),
    st.tuples(st.just("token"), POS, st.sampled_from(TOKENS), st.integers(0, 3)),
    st.tuples(st.just("length"), POS, st.sampled_from(HUGE) | st.integers(0, 2**64 - 1), st.booleans()),
)


def masked_crc(data: bytes) -> int:
    c = crc32c.crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def record_offsets(data: bytes) -> list[int]:
    """Offsets of the records of an intact TFRecord stream (empty for anything else)."""
    offs, off = [], 0
    while off + 12 <= len(data):
        (length,) = struct.unpack_from("<Q", data, off)
        offs.append(off)
        off += 16 + length
    return offs if off == len(data) else []


def mutate(data: bytes, ops) -> bytes:
    b = bytearray(data)
    records = record_offsets(data)
    for op in ops:
        kind, pos = op[0], op[1]
        if kind == "flip" and b:
            b[pos % len(b)] ^= 1 << op[2]
        elif kind == "cut":
            del b[pos % (len(b) + 1):]
        elif kind == "insert":
            i = pos % (len(b) + 1)
            b[i:i] = op[2]
        elif kind == "delete" and b:
            i = pos % len(b)
            del b[i:i + op[2]]
        elif kind == "duplicate" and b:
            i = pos % len(b)
            span = b[i:i + op[2]]
            j = op[3] % (len(b) + 1)
            b[j:j] = span
        elif kind == "token":
            i = pos % (len(b) + 1)
            b[i:i + op[3]] = op[2]  # replace 0-3 bytes with the token
        elif kind == "length" and records:
            off = records[pos % len(records)]
            header = struct.pack("<Q", op[2])
            if off + 12 <= len(b):
                b[off:off + 12] = header + (struct.pack("<I", masked_crc(header)) if op[3] else bytes(b[off + 8:off + 12]))
    return bytes(b)
