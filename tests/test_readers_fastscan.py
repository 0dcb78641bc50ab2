"""The C TensorBoard scanner (lossctl.readers._scan) against the pure-Python reader, the reference.

(a) Both paths give identical frames, warnings and purges on every kind of file the TensorBoard
    reader tests write, on hand-made protobuf edge cases and on the real logs under
    ../shared/real/tensorboard; (b) the benchmark generator's broken and restarted runs give the
    counts its manifest promises; (c) fuzzed bytes never crash the scanner, whatever the read
    buffer size, and both paths agree on them.
"""

from __future__ import annotations

import json
import math
import os
import random
import struct
import subprocess
import sys
import time
from pathlib import Path

import crc32c
import pandas as pd
import pytest
import writers as W
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2

from lossctl.errors import InputError
from lossctl.frame import concat
from lossctl.readers import fastscan, tfrecord
from lossctl.readers.tensorboard import reader
from lossctl.runs import load_runs

pytestmark = pytest.mark.skipif(not fastscan.available, reason="C extension lossctl.readers._scan not built")

REAL = Path(__file__).resolve().parents[2] / "shared" / "real" / "tensorboard"
GENERATOR = Path(__file__).resolve().parents[2] / "shared" / "bench" / "make_event_files.py"
FUZZ = settings(
    max_examples=settings.default.max_examples * 4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --------------------------------------------------------------------------- helpers


def masked_crc(data: bytes) -> int:
    c = crc32c.crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def record(payload: bytes) -> bytes:
    """One TFRecord with correct CRCs."""
    header = struct.pack("<Q", len(payload))
    return header + struct.pack("<I", masked_crc(header)) + payload + struct.pack("<I", masked_crc(payload))


def write_records(path: Path, payloads) -> Path:
    path.write_bytes(b"".join(record(p) for p in payloads))
    return path


def read_c(path, verify=True):
    try:
        return reader._read_c(Path(path), verify)
    except InputError as exc:
        return f"InputError: {exc}"


def read_py(path, verify=True):
    try:
        return reader._read_python(Path(path), verify)
    except InputError as exc:
        return f"InputError: {exc}"


def assert_same(path, verify=True):
    """Both readers give the same FileData (or the same InputError); return the C one."""
    c, py = read_c(path, verify), read_py(path, verify)
    if isinstance(c, str) or isinstance(py, str):
        assert c == py
        return c
    pd.testing.assert_frame_equal(c.frame, py.frame)  # dtypes, categories, NaN-aware values
    assert c.warnings == py.warnings
    assert c.purges == py.purges
    assert c.format == py.format
    return c


def python_records(path: Path, verify: bool) -> int:
    state = tfrecord.ScanState()
    with open(path, "rb") as f:
        for _ in tfrecord.iter_records(f, path.stat().st_size, state, verify):
            pass
    return state.records


def key(field: int, wire: int) -> bytes:
    return varint(field << 3 | wire)


def varint(v: int) -> bytes:
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        b, v = v & 0x7F, v >> 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def ld(field: int, body: bytes) -> bytes:
    """A length-delimited field."""
    return key(field, 2) + varint(len(body)) + body


def tensor(dtype: int, shape=(), **fields) -> tensor_pb2.TensorProto:
    t = tensor_pb2.TensorProto(dtype=dtype, **fields)
    t.tensor_shape.CopyFrom(
        tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=s) for s in shape])
    )
    return t


def tensor_event(step: int, tag: str, t, plugin: str | None = None) -> event_pb2.Event:
    v = summary_pb2.Summary.Value(tag=tag, tensor=t)
    if plugin is not None:
        v.metadata.plugin_data.plugin_name = plugin
    return event_pb2.Event(step=step, wall_time=W.BASE_WALL + step, summary=summary_pb2.Summary(value=[v]))


def test_environment_forces_the_python_reader(tmp_path, monkeypatch):
    path = W.write_scalars(tmp_path, [("loss", s, 1.0) for s in range(5)])
    calls = []
    real_scan = fastscan.scan
    monkeypatch.setattr(fastscan, "scan", lambda *a, **k: calls.append(a) or real_scan(*a, **k))
    reader.read(path)
    assert len(calls) == 1
    monkeypatch.setenv("LOSSCTL_PURE_PYTHON", "1")
    assert not fastscan.enabled()
    assert len(reader.read(path).frame) == 5
    assert len(calls) == 1


def test_crc32c_hardware_and_software_agree():
    rng = random.Random(3)
    for n in list(range(70)) + [1000, 4097]:
        data = rng.randbytes(n)
        for offset in range(3):  # unaligned starts
            chunk = data[offset:]
            assert fastscan._scan.crc32c(chunk) == crc32c.crc32c(chunk)
            assert fastscan._scan.crc32c(chunk, software=True) == crc32c.crc32c(chunk)


# --------------------------------------------------------------------------- (a) same results


@pytest.mark.parametrize("encoding", W.ENCODINGS)
def test_every_encoding(tmp_path, encoding):
    rng = random.Random(encoding)
    vals = [1.0, math.nan, math.inf, -math.inf, -0.0, 1e-45, 3.4e38] + [
        rng.uniform(-5, 5) for _ in range(200)
    ]
    pts = [(tag, i, v) for i, v in enumerate(vals) for tag in ("train/loss", "val/acc")]
    path = W.write_scalars(tmp_path, pts, encoding, wall=lambda s: W.BASE_WALL + s * 0.123)
    data = assert_same(path)
    assert len(data.frame) == len(pts) and data.warnings == []


def test_non_scalar_records_and_several_values_per_event(tmp_path):
    events = []
    for s in range(30):
        events.append(
            W.summary_event(
                s,
                W.BASE_WALL + s,
                [
                    W.scalar_value("loss", s / 10),
                    W.scalar_value("b", s * 2.0, "float_val"),
                    W.scalar_value("c", s * 3.0, "tensor_content_f64"),
                ],
            )
        )
        events.append(W.summary_event(s, W.BASE_WALL + s, [W.histogram_value("weights/hist")]))
        events.append(W.summary_event(s, W.BASE_WALL + s, [W.image_value("samples/img")]))
        events.append(W.summary_event(s, W.BASE_WALL + s, [W.tf2_histogram_value("w2/hist", first=s == 0)]))
        events.append(W.summary_event(s, W.BASE_WALL + s, [W.text_value("notes", f"step {s}", first=s == 0)]))
        events.append(
            W.summary_event(s, W.BASE_WALL + s, [W.plugin_float_value("pr/x", 0.5, "custom", s == 0)])
        )
        events.append(
            W.summary_event(
                s,
                W.BASE_WALL + s,
                [W.image_value("mix/img"), W.scalar_value("lr", 0.1, "tf2_metadata_first", first=s == 0)],
            )
        )
    data = assert_same(W.write_events(tmp_path, events))
    assert set(data.frame["metric"]) == {"loss", "b", "c", "lr"}


def test_int64_steps_and_wall_times(tmp_path):
    steps = [0, 2**31, 2**40 + 1, 2**62 + 7, 2**63 - 1, -5]
    path = W.write_scalars(tmp_path, [("loss", s, 1.0) for s in steps], wall=lambda s: 1.5 + abs(s) / 3)
    assert list(assert_same(path).frame["step"]) == steps


def test_odd_tags(tmp_path):
    tags = [
        "Training loss",
        "Test loss (avg on test)",
        "",
        "Z",
        "a",
        "é",
        "😀",
        "ü/√",
        "a\x00b",
        "x" * 10_000,
        "train/loss",
        "train/loss ",
    ]
    events = [
        W.summary_event(s, W.BASE_WALL + s, [W.scalar_value(t, s + i) for i, t in enumerate(tags)])
        for s in range(5)
    ]
    data = assert_same(W.write_events(tmp_path, events))
    assert sorted(set(data.frame["metric"])) == sorted(tags)


def test_session_log_purges(tmp_path):
    events = W.scalar_events([("loss", s, 1.0) for s in range(100)] + [("acc", s, 0.5) for s in range(100)])
    events.append(W.session_start(50, W.BASE_WALL + 1000))
    events += W.scalar_events([("loss", s, 2.0) for s in range(70, 100)])
    events.append(event_pb2.Event(step=3, session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.STOP)))
    events.append(W.session_start(90, W.BASE_WALL + 2000))
    data = assert_same(W.write_events(tmp_path, events))
    assert data.purges == [(200, 50), (230, 90)]


# (dtype, shape, fields): rank-0 numeric tensors of every dtype the Python reader accepts, and not
TENSORS = [
    (3, (), {"int_val": [-7]}),
    (9, (), {"int64_val": [2**53 + 1]}),
    (10, (), {"bool_val": [True]}),
    (1, (), {"double_val": [0.1]}),
    (2, (), {"float_val": [0.1]}),  # field not matching the dtype
    (19, (), {"half_val": [0x3C00]}),
    (19, (), {"half_val": [0x7E00]}),
    (19, (), {"half_val": [0x0001]}),
    (19, (), {"half_val": [-1]}),
    (19, (), {"half_val": [70000]}),  # out of uint16 range: low 16 bits
    (14, (), {"half_val": [0x3F80]}),
    (14, (), {"half_val": [-2]}),
    (19, (), {"tensor_content": struct.pack("<e", 2.5)}),
    (14, (), {"tensor_content": b"\x80\x3f"}),
    (14, (), {"tensor_content": b"\x80"}),
    (14, (), {"tensor_content": b"\x00\x00\x80\x3f"}),
    (3, (), {"tensor_content": struct.pack("<i", -3)}),
    (9, (), {"tensor_content": struct.pack("<q", -(2**62))}),
    (4, (), {"tensor_content": b"\xff"}),
    (6, (), {"tensor_content": b"\xff"}),
    (5, (), {"tensor_content": b"\x00\x80"}),
    (10, (), {"tensor_content": b"\x02"}),
    (1, (), {"tensor_content": b"\x00\x00\x80"}),
    (1, (1,), {"float_val": [2.0]}),
    (1, (1, 1), {"float_val": [3.0]}),
    (1, (2,), {"float_val": [1.0, 2.0]}),
    (1, (0,), {"float_val": []}),
    (1, (), {}),
    (7, (), {"string_val": [b"1.0"]}),
    (22, (), {"uint32_val": [5]}),
    (1, (), {"float_val": [1.0, 2.0]}),
    (2, (), {"double_val": [math.nan]}),
]


@pytest.mark.parametrize("dtype,shape,fields", TENSORS, ids=[f"{i}" for i in range(len(TENSORS))])
def test_tensor_dtypes_and_shapes(tmp_path, dtype, shape, fields):
    events = [
        tensor_event(s, "t", tensor(dtype, shape, **fields), "scalars" if s == 0 else None) for s in range(3)
    ]
    events.append(tensor_event(9, "u", tensor(dtype, shape, **fields)))  # no plugin ever seen
    assert_same(W.write_events(tmp_path, events))


def _value(tag: bytes = b"t", body: bytes = b"\x15\x00\x00\x80\x3f") -> bytes:
    return ld(1, ld(1, tag) + body)


def _nest_variant(pairs: int) -> bytes:
    """``pairs`` levels of variant_val -> VariantTensorDataProto.tensors -> TensorProto."""
    inner = b""
    for _ in range(pairs):
        inner = ld(15, ld(3, inner))
    return inner


_TENSOR_1 = ld(8, b"\x08\x01" + ld(4, struct.pack("<f", 1.0)))
_TENSOR_2 = ld(8, b"\x08\x01" + ld(4, struct.pack("<f", 2.0)))
_META = ld(9, ld(1, ld(1, b"scalars")))
_META_H = ld(9, ld(1, ld(1, b"histograms")))

# Hand-made Event payloads: protobuf semantics (oneof switches, merging, wrong wire types,
# unknown fields and groups, nesting limits, UTF-8) must be those of upb, which the Python
# reader uses; each case is one record after a good one.
PAYLOADS = {
    "summary twice merges": ld(5, _value(b"a")) + ld(5, _value(b"b")),
    "session_log between summaries clears": ld(5, _value(b"a")) + ld(7, b"\x08\x01") + ld(5, _value(b"b")),
    "file_version after summary clears": ld(5, _value(b"a")) + ld(3, b"brain.Event:2"),
    "session_log start then summary": ld(7, b"\x08\x01") + ld(5, _value()),
    "summary then session_log start": b"\x10\x07" + ld(5, _value()) + ld(7, b"\x08\x01"),
    "status merged last wins": ld(7, b"\x08\x01") + ld(7, b"\x08\x02"),
    "status 2**32+1 is 1": ld(7, b"\x08" + varint(2**32 + 1)),
    "step after summary": ld(5, _value()) + b"\x10\x2a" + b"\x09" + struct.pack("<d", 5.5),
    "step twice": b"\x10\x01\x10\x02" + ld(5, _value()),
    "negative step": b"\x10" + varint(-3) + ld(5, _value()),
    "tensor then simple": ld(5, ld(1, ld(1, b"t") + _TENSOR_1 + b"\x15\x00\x00\x00\x40")),
    "simple then tensor": ld(5, ld(1, ld(1, b"t") + b"\x15\x00\x00\x00\x40" + _TENSOR_1)),
    "tensors merge": ld(5, ld(1, ld(1, b"t") + _TENSOR_1 + _TENSOR_2)),
    "tensor image tensor": ld(5, ld(1, ld(1, b"t") + _TENSOR_1 + ld(4, b"") + ld(8, b"\x12\x00"))),
    "metadata after tensor": ld(5, ld(1, ld(1, b"h") + _TENSOR_1 + _META_H)),
    "metadata merged": ld(5, ld(1, ld(1, b"h") + _TENSOR_1 + _META_H + ld(9, ld(1, ld(2, b"x"))))),
    "plugin set then used in same event": ld(
        5, ld(1, ld(1, b"h") + _TENSOR_1 + _META_H) + ld(1, ld(1, b"h") + _TENSOR_2)
    ),
    "metadata on simple_value ignored": ld(
        5, ld(1, ld(1, b"s") + _META_H + b"\x15\x00\x00\x80\x3f") + ld(1, ld(1, b"s") + _TENSOR_2)
    ),
    "empty plugin name": ld(5, ld(1, ld(1, b"t") + _TENSOR_1 + ld(9, ld(1, ld(1, b""))))),
    "tag twice last wins": ld(5, ld(1, ld(1, b"a") + ld(1, b"b") + b"\x15\x00\x00\x80\x3f")),
    "no tag": ld(5, ld(1, b"\x15\x00\x00\x80\x3f")),
    "no value": ld(5, ld(1, ld(1, b"t"))),
    "step wrong wire type": ld(2, b"xy") + ld(5, _value()),
    "simple_value wrong wire type": ld(5, ld(1, ld(1, b"t") + b"\x10\x05")),
    "summary wrong wire type": b"\x28\x05" + ld(5, _value()),
    "unknown fields": b"\xf8\x01\x05"
    + ld(99, b"zz")
    + b"\x9d\x01abcd"
    + ld(5, _value(body=b"\xf9\x01" + bytes(8) + b"\x15\x00\x00\x80\x3f")),
    "unknown group": b"\xab\x01\x08\x01\x12\x01x\xac\x01" + ld(5, _value()),
    "field 0 inside a group": b"\x0b\x00\x3a\x0c" + ld(5, _value()),
    "groups 100 deep": b"\x0b" * 100 + b"\x0c" * 100 + ld(5, _value()),
    "groups 101 deep": b"\x0b" * 101 + b"\x0c" * 101 + ld(5, _value()),
    "groups in a dim 95 deep": ld(
        5,
        ld(
            1,
            ld(1, b"t")
            + ld(
                8,
                b"\x08\x01"
                + ld(2, ld(2, b"\x08\x01" + b"\x1b" * 95 + b"\x1c" * 95))
                + b"\x2d\x00\x00\x80\x3f",
            ),
        ),
    ),
    "groups in a dim 96 deep": ld(
        5,
        ld(
            1,
            ld(1, b"t")
            + ld(
                8,
                b"\x08\x01"
                + ld(2, ld(2, b"\x08\x01" + b"\x1b" * 96 + b"\x1c" * 96))
                + b"\x2d\x00\x00\x80\x3f",
            ),
        ),
    ),
    "mismatched end group": b"\x0b\x14" + ld(5, _value()),
    "end group at top": b"\x0c" + ld(5, _value()),
    "field 0": b"\x00\x01" + ld(5, _value()),
    "wire type 7": b"\x0f" + ld(5, _value()),
    "11-byte varint": b"\x10" + b"\xff" * 10 + b"\x01",
    "10-byte varint": b"\x10" + b"\xff" * 9 + b"\x7f" + ld(5, _value()),
    "6-byte key": b"\x90\x80\x80\x80\x80\x00\x05" + ld(5, _value()),
    "5-byte key": b"\x90\x80\x80\x80\x00\x05" + ld(5, _value()),
    "key over 32 bits": b"\xf8\xff\xff\xff\x1f\x00" + ld(5, _value()),
    "length past the end": ld(5, _value()) + b"\x2a\x05ab",
    "bad UTF-8 tag": ld(5, _value(b"\xff")),
    "surrogate tag": ld(5, _value(b"\xed\xa0\x80")),
    "overlong tag": ld(5, _value(b"\xc0\x80")),
    "bad UTF-8 plugin": ld(5, ld(1, ld(1, b"t") + _TENSOR_1 + ld(9, ld(1, ld(1, b"\xff"))))),
    "bad UTF-8 node_name": ld(5, ld(1, ld(1, b"t") + ld(7, b"\xff") + b"\x15\x00\x00\x80\x3f")),
    "bad UTF-8 file_version": ld(3, b"\xfe"),
    "bad UTF-8 log message": ld(6, ld(2, b"\xff")),
    "bad UTF-8 source writer": ld(10, ld(1, b"\xff")) + ld(5, _value()),
    "bad UTF-8 dim name": ld(
        5,
        ld(
            1,
            ld(1, b"t")
            + ld(8, b"\x08\x01" + ld(2, ld(2, b"\x08\x01" + ld(2, b"\xff"))) + b"\x2d\x00\x00\x80\x3f"),
        ),
    ),
    "broken image message": ld(5, ld(1, ld(1, b"i") + ld(4, b"\xf0")) + _value()),
    "broken histogram packing": ld(5, ld(1, ld(1, b"h") + ld(5, ld(6, bytes(7)))) + _value()),
    "broken audio content type": ld(5, ld(1, ld(1, b"a") + ld(6, ld(5, b"\xff"))) + _value()),
    "broken run metadata tag": ld(8, ld(1, b"\xff")),
    "graph_def is bytes": ld(4, b"\xff\xff") + b"\x10\x01",
    "packed float_val not multiple of 4": ld(5, ld(1, ld(1, b"t") + ld(8, b"\x08\x01" + ld(5, bytes(3))))),
    "packed int_val truncated varint": ld(5, ld(1, ld(1, b"t") + ld(8, b"\x08\x03" + ld(7, b"\x80")))),
    "unpacked float_val": ld(
        5, ld(1, ld(1, b"t") + ld(8, b"\x08\x01\x2d\x00\x00\x40\x40\x2d\x00\x00\x80\x3f"))
    ),
    "empty packed then value": ld(5, ld(1, ld(1, b"t") + ld(8, b"\x08\x03" + ld(7, b"") + b"\x38\x09"))),
    "variant nested 48 deep": ld(
        5, ld(1, ld(1, b"t") + ld(8, b"\x08\x01\x2d\x00\x00\x80\x3f" + _nest_variant(48)))
    ),
    "variant nested 49 deep": ld(
        5, ld(1, ld(1, b"t") + ld(8, b"\x08\x01\x2d\x00\x00\x80\x3f" + _nest_variant(49)))
    ),
    "resource handle bad string": ld(5, ld(1, ld(1, b"t") + ld(8, b"\x08\x01" + ld(14, ld(3, b"\xff"))))),
    "empty payload": b"",
    "garbage": b"\xff\xff\xff this is no protobuf",
}


GOOD = event_pb2.Event(
    step=0, wall_time=W.BASE_WALL, summary=summary_pb2.Summary(value=[W.scalar_value("first", 1.0)])
).SerializeToString()


@pytest.mark.parametrize("name", list(PAYLOADS))
def test_protobuf_edge_cases(tmp_path, name):
    path = write_records(tmp_path / "events.out.tfevents.x", [GOOD, PAYLOADS[name], GOOD])
    for verify in (True, False):
        assert_same(path, verify)


def test_protobuf_edge_cases_are_not_vacuous(tmp_path):
    def outcome(name):
        path = write_records(tmp_path / f"{len(name)}.tfevents", [PAYLOADS[name]])
        data = reader._scan_c(path, True)  # no whole-file verdict: a file without points is fine here
        undecodable = any("not valid events" in w for w in data.warnings(path))
        return undecodable, W.points(data.frame, "t") if not undecodable else None

    assert outcome("groups 100 deep") == (False, [(0, 1.0)])
    assert outcome("groups 101 deep")[0]
    assert outcome("groups in a dim 95 deep") == (False, [(0, 1.0)])
    assert outcome("groups in a dim 96 deep")[0]
    assert outcome("variant nested 48 deep") == (False, [(0, 1.0)])
    assert outcome("variant nested 49 deep")[0]
    assert outcome("tensors merge") == (False, [(0, 2.0)])
    assert outcome("tensor image tensor") == (False, [])  # the second tensor alone has no value
    assert outcome("bad UTF-8 tag")[0] and outcome("broken image message")[0]
    data = read_c(write_records(tmp_path / "m.tfevents", [PAYLOADS["metadata after tensor"], GOOD]))
    assert set(data.frame["metric"]) == {"first"}  # the histogram plugin applies to its own value


def test_plugin_state_carried_across_files(tmp_path):
    first = write_records(
        tmp_path / "1.tfevents",
        [tensor_event(0, "h", tensor(1, float_val=[1.0]), "custom").SerializeToString()],
    )
    second = write_records(
        tmp_path / "2.tfevents", [tensor_event(1, "h", tensor(1, float_val=[2.0])).SerializeToString()]
    )
    plugins: dict[str, str] = {}
    assert len(fastscan.scan(first, True, plugins).values) == 0
    assert plugins == {"h": "custom"}
    assert len(fastscan.scan(second, True, plugins).values) == 0  # still the custom plugin's tag
    assert list(fastscan.scan(second, True, {}).values) == [2.0]  # a fresh run: counted as scalar
    with pytest.raises(TypeError):
        fastscan.scan(second, True, {"h": 1})


def test_unreadable_paths(tmp_path):
    for path, exc_type in ((tmp_path / "missing.tfevents", FileNotFoundError), (tmp_path, IsADirectoryError)):
        with pytest.raises(exc_type) as exc:
            fastscan.scan(path)
        assert exc.value.errno and exc.value.filename == str(path)
        assert read_c(path) == read_py(path)
        assert read_c(path).startswith("InputError")


# --------------------------------------------------------------------------- damage, both paths


def _hundred(tmp_path, encoding="simple_value"):
    return W.write_scalars(tmp_path, [("loss", s, 1.0 + s / 7) for s in range(100)], encoding)


def _damage_cases():
    def cut(at):
        return lambda p, spans: W.truncate(p, at(spans))

    def flip(at, mask=0x01):
        return lambda p, spans: W.flip_byte(p, at(spans), mask)

    def several(p, spans):
        W.flip_byte(p, spans[11][0] + 20)
        W.flip_byte(p, spans[51][0] + 1)
        W.truncate(p, spans[-1][0] + 20)

    def append_non_event(p, spans):
        with open(p, "ab") as f:
            f.write(record(b"\xff\xff\xff this is no protobuf"))

    def huge_length(n, fix_crc):
        def do(p, spans):
            h = struct.pack("<Q", n)
            W.patch_bytes(p, spans[40][0], h + (struct.pack("<I", masked_crc(h)) if fix_crc else b""))

        return do

    cases = {
        f"cut-{k}": cut(f)
        for k, f in {
            "in-header": lambda s: s[-1][0] + 3,
            "after-header": lambda s: s[-1][0] + 12,
            "mid-payload": lambda s: s[-1][0] + 12 + s[-1][1] // 2,
            "in-footer": lambda s: s[-1][0] + s[-1][1] + 14,
            "first-record": lambda s: 5,
        }.items()
    }
    cases.update({f"flip-length-{b}": flip(lambda s, b=b: s[30][0] + b, 0x40) for b in (0, 3, 7, 8, 11)})
    cases.update(
        {
            "flip-payload": flip(lambda s: s[41][0] + 20),
            "flip-payload-crc": flip(lambda s: s[41][0] + 12 + s[41][1]),
            "flip-first-header": flip(lambda s: 0, 0x10),
            "flip-last-header": flip(lambda s: s[-1][0] + 2),
            "several": several,
            "non-event": append_non_event,
            "length-2**64-1": huge_length(2**64 - 1, False),
            "length-2**64-1-valid-crc": huge_length(2**64 - 1, True),
            "length-2**60-valid-crc": huge_length(2**60, True),
            "length-small-valid-crc": huge_length(3, True),
        }
    )
    return cases


DAMAGE = _damage_cases()


@pytest.mark.parametrize("case", list(DAMAGE))
@pytest.mark.parametrize("encoding", ["simple_value", "tf2_metadata_first"])
def test_damaged_files(tmp_path, case, encoding):
    path = _hundred(tmp_path, encoding)
    DAMAGE[case](path, W.record_spans(path))
    for verify in (True, False):
        assert_same(path, verify)
        for size in (1, 50, 4096):
            r = fastscan.scan(path, verify, {}, size)
            assert r.records == python_records(path, verify)


def test_empty_and_random_files(tmp_path):
    empty = tmp_path / "events.out.tfevents.empty"
    empty.write_bytes(b"")
    junk = tmp_path / "events.out.tfevents.junk"
    junk.write_bytes(random.Random(7).randbytes(4096))
    for path in (empty, junk):
        for verify in (True, False):
            assert isinstance(assert_same(path, verify), str)


def test_huge_record_beyond_the_buffer(tmp_path):
    big = summary_pb2.Summary.Value(
        tag="img",
        image=summary_pb2.Summary.Image(
            height=1, width=1, encoded_image_string=random.Random(1).randbytes(300_000)
        ),
    )
    events = [
        W.summary_event(0, W.BASE_WALL, [W.scalar_value("loss", 1.0)]),
        W.summary_event(1, W.BASE_WALL, [big, W.scalar_value("loss", 2.0)]),
        W.summary_event(2, W.BASE_WALL, [W.scalar_value("loss", 3.0)]),
    ]
    path = W.write_events(tmp_path, events)
    for size in (0, 4096):
        assert list(fastscan.scan(path, True, {}, size).values) == [1.0, 2.0, 3.0]
    off, length = W.record_spans(path)[2]
    W.flip_byte(path, off + 12 + length // 2)  # inside the image bytes: the CRC catches it
    data = assert_same(path)
    assert W.points(data.frame, "loss") == [(0, 1.0), (2, 3.0)]
    (warning,) = data.warnings
    assert f"byte {off:,}: payload CRC mismatch (1 point lost)" in warning
    r = fastscan.scan(path, True, {}, 4096)
    assert r.damaged == [(off, "payload CRC mismatch", 1)]


def test_resync_through_megabytes_of_garbage_is_fast(tmp_path):
    good = W.write_scalars(tmp_path, [("loss", s, 1.0) for s in range(3)], name="good")
    first = 16 + W.record_spans(good)[0][1]
    data = good.read_bytes()
    path = tmp_path / "events.out.tfevents.garbage"
    path.write_bytes(data[:first] + random.Random(2).randbytes(3_000_000) + data)
    t = time.perf_counter()
    r = fastscan.scan(path, True, {}, 1 << 16)
    assert time.perf_counter() - t < 2.0
    assert list(r.values) == [1.0, 1.0, 1.0]
    assert r.damaged == [
        (first, "length CRC mismatch; skipped 3,000,000 bytes to the next record".replace(",", ""), None)
    ]


def test_tensorboardx_writer_with_purge_step(tmp_path):
    pytest.importorskip("tensorboardX")
    W.write_tensorboardx(tmp_path, [("loss", s, 1.0) for s in range(100)], name=W.event_name(1))
    W.write_tensorboardx(
        tmp_path, [("loss", s, 2.0) for s in range(80, 150)], purge_step=60, name=W.event_name(2)
    )
    for p in sorted(tmp_path.glob("events*")):
        assert_same(p)
    _same_runs(tmp_path)


def _same_runs(root, verify=True, monkeypatch=None):
    """load_runs gives the same runs with the C scanner and with LOSSCTL_PURE_PYTHON=1."""
    fast = load_runs(root, verify=verify, jobs=1)
    os.environ["LOSSCTL_PURE_PYTHON"] = "1"
    try:
        slow = load_runs(root, verify=verify, jobs=1)
    finally:
        del os.environ["LOSSCTL_PURE_PYTHON"]
    assert fast.errors == slow.errors
    assert [r.name for r in fast.runs] == [r.name for r in slow.runs]
    for a, b in zip(fast.runs, slow.runs):
        pd.testing.assert_frame_equal(a.frame, b.frame)
        assert (a.warnings, a.replaced, a.files, a.format) == (b.warnings, b.replaced, b.files, b.format)
    return fast


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/real/tensorboard not present")
def test_real_tensorboard_logs():
    files = sorted(p for p in REAL.rglob("*") if p.is_file() and "tfevents" in p.name)
    assert files
    for p in files:
        for verify in (True, False):
            assert_same(p, verify)
    result = _same_runs(REAL)
    assert result.runs


# --------------------------------------------------------------------------- (b) generator sets


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    if not GENERATOR.is_file():
        pytest.skip("../shared/bench/make_event_files.py not present")
    try:
        import tensorboardX  # noqa: F401

        writer = "tbx"
    except ImportError:
        pytest.importorskip("torch")
        writer = "torch"
    out = tmp_path_factory.mktemp("generated")
    subprocess.run(
        [
            sys.executable,
            str(GENERATOR),
            "--what",
            "small,broken,restart",
            "--out",
            str(out),
            "--writer",
            writer,
            "--small-events",
            "400",
            "--restart",
            "200,120,150",
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return json.loads((out / "manifest.json").read_text())


def _scalars_in(payload: bytes) -> int:
    ev = event_pb2.Event.FromString(payload)
    return sum(v.WhichOneof("value") == "simple_value" for v in ev.summary.value)


def test_generated_clean_files(generated):
    for key in ("small/scalars", "small/tf2", "small/mixed"):
        info = generated[key]
        data = assert_same(info["path"])
        assert data.warnings == [] and len(data.frame) == info["scalar_events"]
        assert fastscan.scan(info["path"]).records == info["records"]


def test_generated_truncated(generated):
    info = generated["broken/truncated"]
    data = assert_same(info["path"])
    assert len(data.frame) == info["scalar_events"]  # one point fewer than the clean file
    assert len(data.frame) == generated["small/scalars"]["scalar_events"] - 1
    (warning,) = data.warnings
    assert "truncated" in warning and f"read {info['complete_records']:,} complete records" in warning
    assert fastscan.scan(info["path"]).records == info["complete_records"]


@pytest.mark.parametrize("kind", ["badcrc", "bitflip"])
def test_generated_crc_damage(generated, kind):
    info, clean = generated[f"broken/{kind}"], generated["small/scalars"]
    spans = W.record_spans(clean["path"])
    offset = spans[info["bad_record"]][0]
    lost = _scalars_in(W.record_payload(clean["path"], info["bad_record"]))
    assert lost == 1
    data = assert_same(info["path"])
    r = fastscan.scan(info["path"])
    assert r.damaged == [(offset, "payload CRC mismatch", lost)]
    assert r.records == info["records"] - 1
    (warning,) = data.warnings
    assert f"damaged record at byte {offset:,}: payload CRC mismatch (1 point lost)" in warning
    # every other point is there, unchanged
    full = reader.read(Path(clean["path"])).frame
    index = info["bad_record"] - 1  # record 0 is the file_version event
    expected = full.drop(index=index).reset_index(drop=True)
    pd.testing.assert_frame_equal(data.frame, expected)
    unchecked = assert_same(info["path"], verify=False)
    assert unchecked.warnings == [] and len(unchecked.frame) == info["scalar_events"]


@pytest.mark.parametrize("variant", ["plain", "sessionlog", "nofv"])
def test_generated_restarts(generated, variant):
    info = generated[f"restart/{variant}"]
    (run,) = _same_runs(info["path"]).runs
    tags = generated["small/scalars"]["tags"]
    assert run.replaced == info["overlap_steps"] * len(tags)
    assert not run.frame.duplicated(["metric", "step"]).any()
    assert len(run.frame) == info["unique_steps_x_tags"]
    resume = info["second_file_steps"][0]
    second = reader.read(Path(info["files"][1])).frame
    for tag in tags:
        later = [p for p in W.points(run.frame, tag) if p[0] >= resume]
        assert later == W.points(second, tag)  # the resumed run's values win


# --------------------------------------------------------------------------- (c) fuzzing


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz")
    events = []
    for s in range(12):
        events.append(W.summary_event(s, W.BASE_WALL + s, [W.scalar_value("loss", s / 10)]))
        if s % 4 == 0:
            events.append(
                W.summary_event(
                    s,
                    W.BASE_WALL + s,
                    [
                        W.image_value("img"),
                        W.histogram_value("h"),
                        W.scalar_value("lr", 0.1, "tf2_metadata_first", first=s == 0),
                    ],
                )
            )
        if s == 6:
            events.append(W.session_start(4, W.BASE_WALL + s))
    base = W.write_events(d, events, name="base")
    return d, base.read_bytes(), W.record_spans(base)


def check_fuzzed(path: Path, data: bytes) -> None:
    """The C scanner returns (never crashes), quickly, whatever the buffer size; it agrees with
    the Python framing on the good records and with the Python reader on everything."""
    path.write_bytes(data)
    for verify in (True, False):
        results = []
        for size in (0, 1, 24, 1000):
            t = time.perf_counter()
            results.append(fastscan.scan(path, verify, {}, size))
            assert time.perf_counter() - t < 1.0
        first = results[0]
        for r in results[1:]:
            assert (r.tags, r.purges, r.damaged, r.truncated_at, r.records, r.undecodable) == (
                first.tags,
                first.purges,
                first.damaged,
                first.truncated_at,
                first.records,
                first.undecodable,
            )
            assert r.values.tobytes() == first.values.tobytes() and r.steps.tobytes() == first.steps.tobytes()
        assert first.records == python_records(path, verify)
        assert_same(path, verify)


@FUZZ
@given(data=st.binary(max_size=2000))
def test_fuzz_arbitrary_bytes(fuzz_dir, data):
    check_fuzzed(fuzz_dir[0] / "events.out.tfevents.bytes", data)


HUGE = [2**64 - 1, 2**63, 2**60, 2**32, 2**31 - 1, 0]
MUTATION = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 1 << 20), st.integers(0, 7)),
    st.tuples(st.just("cut"), st.integers(0, 1 << 20)),
    st.tuples(st.just("insert"), st.integers(0, 1 << 20), st.binary(min_size=1, max_size=24)),
    st.tuples(st.just("delete"), st.integers(0, 1 << 20), st.integers(1, 24)),
    st.tuples(
        st.just("length"),
        st.integers(0, 1 << 10),
        st.sampled_from(HUGE) | st.integers(0, 2**64 - 1),
        st.booleans(),
    ),
)


def mutate(data: bytes, spans, ops) -> bytes:
    b = bytearray(data)
    for op in ops:
        if op[0] == "flip" and b:
            b[op[1] % len(b)] ^= 1 << op[2]
        elif op[0] == "cut":
            del b[op[1] % (len(b) + 1) :]
        elif op[0] == "insert":
            i = op[1] % (len(b) + 1)
            b[i:i] = op[2]
        elif op[0] == "delete" and b:
            i = op[1] % len(b)
            del b[i : i + op[2]]
        elif op[0] == "length":  # overwrite a record's length field, with or without a valid CRC
            off = spans[op[1] % len(spans)][0]
            header = struct.pack("<Q", op[2])
            if off + 12 <= len(b):
                b[off : off + 12] = header + (
                    struct.pack("<I", masked_crc(header)) if op[3] else bytes(b[off + 8 : off + 12])
                )
    return bytes(b)


@FUZZ
@given(ops=st.lists(MUTATION, min_size=1, max_size=4))
def test_fuzz_mutated_event_file(fuzz_dir, ops):
    d, data, spans = fuzz_dir
    check_fuzzed(d / "events.out.tfevents.mutated", mutate(data, spans, ops))


def random_event(rng: random.Random) -> bytes:
    """A random, mostly well-formed Event payload exercising the fields scalars depend on."""

    def s():
        return rng.choice(
            [b"", b"loss", b"scalars", b"histograms", b"custom", "é".encode(), b"\xff", b"\xed\xa0\x80"]
        )

    def num():
        return varint(rng.choice([0, 1, 2, 3, 9, 10, 14, 19, 7, 2**32 + 1, -1, 2**63, rng.getrandbits(64)]))

    def wt(good):
        return good if rng.random() < 0.93 else rng.randrange(8)

    def fld(f, w, body):
        if w == 0:
            return key(f, 0) + num()
        if w == 1:
            return key(f, 1) + struct.pack("<d", rng.choice([0.5, math.nan]))
        if w == 5:
            return key(f, 5) + struct.pack("<f", rng.choice([1.5, -2.0, math.inf]))
        if w == 2:
            return ld(f, body())
        if w == 3:
            return key(f, 3) + fld(rng.randint(0, 9), rng.choice([0, 2, 5]), s) + key(f, 4)
        return key(f, w)

    def packed(width):
        n = rng.randint(0, 3)
        body = b"".join(struct.pack("<d" if width == 8 else "<f", 1.25) if width else num() for _ in range(n))
        return body + (bytes(rng.randint(1, 3)) if rng.random() < 0.05 else b"")

    def shape():
        dims = b"".join(
            ld(2, key(1, wt(0)) + varint(rng.choice([1, 1, 1, 2, 0])) if rng.random() < 0.9 else fld(2, 2, s))
            for _ in range(rng.choice([0, 0, 1, 2]))
        )
        return dims + (fld(3, 0, s) if rng.random() < 0.1 else b"")

    def tensor_body():
        out = b""
        for _ in range(rng.randint(0, 5)):
            c = rng.randrange(9)
            if c == 0:
                out += key(1, wt(0)) + varint(rng.choice([1, 2, 3, 4, 5, 6, 9, 10, 14, 19, 7, 22]))
            elif c == 1:
                out += fld(2, wt(2), shape)
            elif c == 2:
                out += fld(
                    4, wt(2), lambda: bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 1, 2, 4, 8])))
                )
            elif c in (3, 4):
                f, width = (5, 4) if c == 3 else (6, 8)
                out += (
                    fld(f, 2, lambda w=width: packed(w))
                    if rng.random() < 0.5
                    else fld(f, 5 if width == 4 else 1, s)
                )
            elif c in (5, 6, 7):
                f = rng.choice([7, 10, 11, 13, 16])
                out += fld(f, 2, lambda: packed(0)) if rng.random() < 0.5 else fld(f, 0, s)
            else:
                out += fld(rng.choice([8, 14, 15, 18, 30]), rng.choice([0, 2, 5]), s)
        return out

    def value():
        out = b""
        for _ in range(rng.randint(0, 5)):
            c = rng.randrange(8)
            if c <= 1:
                out += fld(1, wt(2), s)
            elif c == 2:
                out += fld(2, wt(5), s)
            elif c <= 4:
                out += fld(8, wt(2), tensor_body)
            elif c == 5:
                out += fld(9, wt(2), lambda: fld(1, wt(2), lambda: fld(1, wt(2), s)))
            elif c == 6:
                out += fld(rng.choice([3, 4, 5, 6, 7]), wt(2), lambda: b"")
            else:
                out += fld(rng.randint(10, 20), rng.choice([0, 2, 3]), s)
        return out

    out = b""
    for _ in range(rng.randint(0, 6)):
        c = rng.randrange(9)
        if c == 0:
            out += fld(1, wt(1), s)
        elif c == 1:
            out += fld(2, wt(0), s)
        elif c <= 4:
            out += fld(5, wt(2), lambda: b"".join(fld(1, wt(2), value) for _ in range(rng.randint(0, 3))))
        elif c == 5:
            out += fld(7, wt(2), lambda: fld(1, wt(0), s) if rng.random() < 0.7 else fld(2, 2, s))
        elif c == 6:
            out += fld(rng.choice([3, 4, 6, 8, 9, 10]), wt(2), s)
        elif c == 7:
            out += fld(rng.randint(11, 40), rng.choice([0, 1, 2, 3, 5]), s)
        elif rng.random() < 0.2:
            out += bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 3)))
    return out


@FUZZ
@given(rng=st.randoms(use_true_random=False), damaged=st.lists(st.booleans(), min_size=1, max_size=5))
def test_fuzz_protobuf_semantics(fuzz_dir, rng, damaged):
    """Random Event payloads in good records (and in records with a broken CRC, whose points are
    counted as lost): the C decoder and TensorBoard's protobuf classes agree on every one."""
    blob = b""
    for bad in damaged:
        r = bytearray(record(random_event(rng)))
        if bad:
            r[-1] ^= 0xFF
        blob += bytes(r)
    path = fuzz_dir[0] / "events.out.tfevents.proto"
    path.write_bytes(blob)
    for verify in (True, False):
        assert_same(path, verify)


@pytest.mark.parametrize("case", list(DAMAGE))
def test_damaged_files_read_in_pieces(tmp_path, case):
    """Scanning from each previous ``end`` as the file grows (lossctl watch) finds the same points
    and damage as one scan, in both paths; a resumed scan may meet a tail's damage again."""
    path = _hundred(tmp_path, "tf2_metadata_first")
    spans = W.record_spans(path)
    DAMAGE[case](path, spans)
    src = path.read_bytes()
    grow = tmp_path / "events.out.tfevents.grow"
    for impl in (reader._scan_c, reader._scan_python):
        whole = impl(path, True)
        frames, damaged, end, plugins = [], set(), 0, {}
        for cut in [spans[10][0], spans[33][0] + 7, spans[45][0] + 13, spans[70][0], len(src)]:
            grow.write_bytes(src[: min(cut, len(src))])
            res = impl(grow, True, end, plugins)
            frames.append(res.frame)
            damaged |= set(res.damaged)
            end = res.end
        assert end == whole.end
        pd.testing.assert_frame_equal(concat(frames), whole.frame)
        assert damaged == set(whole.damaged)
