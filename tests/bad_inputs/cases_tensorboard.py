"""Damaged event files, written with TensorBoard's own writer and then broken precisely."""

from __future__ import annotations

import random
import struct

import crc32c
import writers as W

from .cases import Expect, case, healthy

N = 100  # points in the base file: record 0 is the writer's file_version event, record k step k-1


def masked_crc(data: bytes) -> int:
    c = crc32c.crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def base(d, name=None):
    path = W.write_scalars(d, [("loss", s, v) for s, v in enumerate(healthy(N).tolist())], name=name)
    return path, W.record_spans(path)


def good_beside(d):
    """A good file named to sort first (files of a run are read in name order)."""
    return base(d, name=W.event_name(0))[0]


@case(tensorboard=True)
def zero_byte_event_file(d):
    p = d / "events.out.tfevents.1700000000.host.1.0"
    p.write_bytes(b"")
    return Expect(d, 2, [(p.name, "empty file (0 bytes)")])


@case(tensorboard=True)
def zero_byte_event_file_beside_a_good_one(d):
    good_beside(d)
    p = d / W.event_name(1)
    p.write_bytes(b"")
    return Expect(d, 0, [(p.name, "empty file (0 bytes)")], {".": {"loss": N}})


@case(tensorboard=True)
def random_bytes_named_like_an_event_file(d):
    p = d / "events.out.tfevents.1700000000.host.1.0"
    p.write_bytes(random.Random(1).randbytes(64 << 10))
    return Expect(d, 2, [(p.name, "not a TensorBoard event file")])


@case(tensorboard=True)
def random_bytes_beside_a_good_event_file(d):
    good_beside(d)
    p = d / W.event_name(1)
    p.write_bytes(random.Random(2).randbytes(4096))
    return Expect(d, 0, [(p.name, "not a TensorBoard event file")], {".": {"loss": N}})


@case(tensorboard=True)
def only_a_truncated_header(d):
    p, _ = base(d)
    W.truncate(p, 5)
    return Expect(d, 2, [(p.name, "truncated: only 5 bytes")])


@case(tensorboard=True)
def truncated_header(d):
    p, spans = base(d)
    off = spans[-1][0]
    W.truncate(p, off + 5)
    return Expect(d, 0, [(p.name, f"last record truncated at byte {off:,}")], {".": {"loss": N - 1}})


@case(tensorboard=True)
def truncated_payload(d):
    p, spans = base(d)
    off, length = spans[-1]
    W.truncate(p, off + 12 + length // 2)
    return Expect(d, 0, [(p.name, f"last record truncated at byte {off:,}")], {".": {"loss": N - 1}})


@case(tensorboard=True)
def bad_length_crc(d):
    p, spans = base(d)
    off = spans[30][0]
    W.flip_byte(p, off + 9)  # a bit of the stored length CRC
    return Expect(d, 0, [(p.name, f"damaged record at byte {off:,}: length CRC mismatch; skipped")],
                  {".": {"loss": N - 1}})


@case(tensorboard=True)
def bad_payload_crc(d):
    p, spans = base(d)
    off, length = spans[41]
    W.flip_byte(p, off + 12 + length)  # a bit of the stored payload CRC
    return Expect(d, 0, [(p.name, f"damaged record at byte {off:,}: payload CRC mismatch (1 point lost)")],
                  {".": {"loss": N - 1}})


@case(tensorboard=True)
def bit_flip_in_a_float(d):
    p, spans = base(d)
    off = spans[51][0]
    payload = W.record_payload(p, 51)
    at = payload.rfind(struct.pack("<f", healthy(N)[50]))
    assert at >= 0
    W.flip_byte(p, off + 12 + at + 2, 0x10)  # an exponent/mantissa bit of step 50's value
    return Expect(d, 0, [(p.name, f"damaged record at byte {off:,}: payload CRC mismatch (1 point lost)")],
                  {".": {"loss": N - 1}})


@case(tensorboard=True)
def length_of_2_to_the_60_with_a_valid_crc(d):
    p, spans = base(d)
    off = spans[40][0]
    header = struct.pack("<Q", 2**60)
    W.patch_bytes(p, off, header + struct.pack("<I", masked_crc(header)))
    return Expect(d, 0, [(p.name, f"byte {off:,}: length 1152921504606846976 runs past the end of the file")],
                  {".": {"loss": N - 1}})


@case(tensorboard=True)
def length_of_2_to_the_60_with_a_bad_crc(d):
    p, spans = base(d)
    off = spans[40][0]
    W.patch_bytes(p, off, struct.pack("<Q", 2**60))
    return Expect(d, 0, [(p.name, f"byte {off:,}: length CRC mismatch; skipped")], {".": {"loss": N - 1}})


@case(tensorboard=True)
def only_non_scalar_records(d):
    p = W.write_events(d, [W.summary_event(s, W.BASE_WALL, [W.histogram_value("w"), W.image_value("img"),
                                                            W.text_value("note", "hi", first=s == 0)])
                           for s in range(5)])
    return Expect(d, 2, [(p.name, "no scalar values in 6 records")])


@case(tensorboard=True)
def every_scalar_record_damaged(d):
    p, spans = base(d)
    for off, length in spans[1:]:
        W.flip_byte(p, off + 12 + length)
    return Expect(d, 2, [(p.name, "no scalar values left: damaged record at byte")])


@case(tensorboard=True)
def restarted_run_written_by_tensorboardx(d):
    """Not damage but a trap: a resumed run re-logs steps; the later points win, and it is said."""
    W.write_tensorboardx(d, [("loss", s, float(v)) for s, v in enumerate(healthy(N).tolist())],
                         name=W.event_name(1))
    W.write_tensorboardx(d, [("loss", s, float(v)) for s, v in enumerate(healthy(N).tolist()) if s >= 60],
                         purge_step=60, name=W.event_name(2))
    return Expect(d, 0, [(W.event_name(1), "40 points replaced by data logged again at the same or an earlier step")],
                  {".": {"loss": N}})


@case(tensorboard=True)
def unreadable_event_file_beside_a_readable_one(d):
    """Unreadable by permission: the test makes it so (chmod 000, under setpriv when root)."""
    good_beside(d)
    bad = base(d, name=W.event_name(1))[0]
    return Expect(d, 0, [(bad.name, "cannot read: Permission denied")], {".": {"loss": N}})


@case(tensorboard=True)
def unreadable_event_file_alone(d):
    p = base(d)[0]
    return Expect(d, 2, [(p.name, "cannot read: Permission denied")])
