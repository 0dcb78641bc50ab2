"""The console scanner's per-byte primitives: the C ones (``_lines.c``) and the numpy/pandas
fallback give the same lines, skeleton groups and numbers, on the lines tools print and on
arbitrary bytes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lossctl.readers.console import fastpath
from lossctl.readers.console.scanner import TABLES

needs_c = pytest.mark.skipif(fastpath._lines is None, reason="C extension lossctl.readers.console._lines not built")
SAMPLE = (b"iter 100: loss 2.3456, time 12.34ms, mfu 30.12%\n"
          b"step 500: train loss 2.1000, val loss 2.2000\n"
          b"iter 110: loss 9.9999, time 12.00ms, mfu 30.12%\n"
          b"iter 120: loss 2.3012, time 13.00ms, mfu 30.12%\n"
          b"\n"
          b"iter 7: loss ., time 1.ms, mfu 3.%")


def both(fn, *args):
    return fn(*args, use_c=True), fn(*args, use_c=False)


def same_index(data: bytes):
    (lc, cc), (lp, cp) = both(fastpath.index, data)
    assert lc.starts.tolist() == lp.starts.tolist()
    assert cc.tolist() == cp.tolist()
    assert [lc[i] for i in range(len(lc))] == [lp[i] for i in range(len(lp))]
    pieces = data.split(b"\n")
    if pieces and not pieces[-1]:
        pieces.pop()
    assert [lc[i] for i in range(len(lc))] == pieces
    return lc, cc


@needs_c
def test_index_and_numbers_agree_on_printed_lines():
    lines, codes = same_index(SAMPLE)
    assert codes.tolist() == [0, 1, 0, 0, 2, 0]  # skeletons: the digits deleted
    rows = np.flatnonzero(codes == 0)
    table = TABLES[(False, False)]
    (vc, okc), (_vp, okp) = both(fastpath.numbers, lines, rows, table, 4, [0, 1, 3])
    assert okc.tolist() == [True, True, True, False]  # "." is not a number
    assert not okp.any()  # the fallback gives the whole group to the per-line reader
    _, okp = fastpath.numbers(lines, rows[:3], table, 4, [0, 1, 3], use_c=False)
    assert okp.all()
    assert vc[0].tolist() == [100, 2.3456, 30.12] and vc[2][1] == 2.3012
    assert fastpath.longest(SAMPLE, use_c=True) == fastpath.longest(SAMPLE, use_c=False) == 47


@needs_c
@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([b"1", b"0.5", b"-2e-3", b"nan", b"x", b" ", b"\n", b":", b".", b"\t", b"inf"]),
                max_size=60))
def test_c_and_fallback_agree_on_any_bytes(parts):
    data = b"".join(parts)
    lines, codes = same_index(data)
    assert fastpath.longest(data, use_c=True) == fastpath.longest(data, use_c=False)
    if not len(codes):
        return
    rows = np.flatnonzero(codes == codes[0])
    table = TABLES[(True, True)]
    ntok = len(lines[int(rows[0])].translate(table).split())
    if not ntok:
        return
    (vc, okc), (vp, okp) = both(fastpath.numbers, lines, rows, table, ntok, [ntok - 1])
    assert okp.sum() <= okc.sum() and (okc | ~okp).all()  # the fallback may give up on a whole group
    np.testing.assert_array_equal(vc[okp], vp[okp])


def c_numbers(tokens: list[bytes]) -> tuple[list[float], bool]:
    lines, _ = fastpath.index(b" ".join(tokens) + b"\n")
    v, ok = fastpath.numbers(lines, np.array([0]), TABLES[(True, True)], len(tokens), list(range(len(tokens))))
    return v[0].tolist(), bool(ok[0])


def same_bits(a: float, b: float) -> bool:
    return np.float64(a).tobytes() == np.float64(b).tobytes() or (np.isnan(a) and np.isnan(b))


decimal = st.builds(
    lambda sign, whole, frac, exp: (sign + whole + frac + exp).encode(),
    st.sampled_from(["", "-", "+"]),
    st.text("0123456789", max_size=21),
    st.one_of(st.just(""), st.text("0123456789", max_size=21).map(lambda d: "." + d)),
    st.one_of(st.just(""), st.builds(lambda e, s, d: e + s + d, st.sampled_from("eE"),
                                     st.sampled_from(["", "+", "-"]), st.text("0123456789", min_size=1, max_size=5))))
printed = st.builds(lambda x, fmt: (fmt % x).encode(), st.floats(allow_nan=False, allow_infinity=False),
                    st.sampled_from(["%r", "%.4f", "%.6f", "%.2e", "%.6E", "%g", "%.17g", "%.3f"]))


@needs_c
@settings(max_examples=3000, deadline=None)
@given(st.one_of(decimal, printed))
def test_c_decimals_are_pythons_floats(token):
    """The C parser's own decimal reader gives float()'s bits, and rejects what float() rejects
    (up to the 64-byte token limit)."""
    try:
        want = float(token)
    except ValueError:
        want = None
    (got,), ok = c_numbers([token])
    if len(token) > 64:
        assert not ok
    elif want is None:
        assert not ok, token
    else:
        assert ok and same_bits(got, want), (token, got, want)


@needs_c
def test_c_decimals_on_the_edges():
    tokens = [b"2.345678", b"-1e-4", b"3.000000E-04", b"0.1", b"123456", b"-0", b"-0.0", b"1.", b".5", b"+.5",
              b"9007199254740993", b"9007199254740992", b"1e22", b"1e23", b"1e-22", b"1e-23", b"4.9e-324",
              b"1.7976931348623157e308", b"0.000000000000000000000000001", b"123456789012345678901234567890",
              b"nan", b"-inf", b"Infinity"]
    got, ok = c_numbers(tokens)
    assert ok
    assert all(same_bits(g, float(t)) for g, t in zip(got, tokens))
    for bad in (b".", b"1e", b"e5", b"-", b"1.2.3", b"1e+", b"--1"):
        assert not c_numbers([bad])[1], bad


def _nanogpt(i: int) -> bytes:  # nanoGPT train.py's two prints
    if i % 50 == 0:
        return f"step {i}: train loss {2.3 / (1 + i / 100):.4f}, val loss {2.4 / (1 + i / 100):.4f}\n".encode()
    return f"iter {i}: loss {2.3 / (1 + i / 100):.4f}, time {12.34 + i % 7:.2f}ms, mfu {30.12:.2f}%\n".encode()


NOISE = [b"Traceback (most recent call last):\n", b"  File \"train.py\", line 12, in <module>\n",
         b"iter 7: loss ., time 1.ms, mfu 3.%\n", b"\n", b"WARNING: something 3 happened\n"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 400).map(_nanogpt), st.sampled_from(NOISE)), min_size=1, max_size=300),
       st.lists(st.integers(0, 300), max_size=6))
def test_blocks_read_as_the_whole(lines, cuts):
    """The scanner fed the log in blocks of whole lines (as the reader streams a file) finds the
    points, warnings and runs it finds in the whole log."""
    from lossctl.readers.console.scanner import Scanner, scan

    whole = scan(b"".join(lines))
    scanner = Scanner()
    bounds = sorted({0, len(lines), *(c for c in cuts if c < len(lines))})
    for a, b in itertools.pairwise(bounds):
        scanner.feed(b"".join(lines[a:b]))
    parts = scanner.finish()
    assert list(parts.metric) == list(whole.metric)
    assert parts.step.tolist() == whole.step.tolist()
    np.testing.assert_array_equal(parts.value, whole.value)
    assert (parts.runs, parts.failed, parts.failed_example, parts.bad_steps, parts.rank_duplicates) == \
           (whole.runs, whole.failed, whole.failed_example, whole.bad_steps, whole.rank_duplicates)


def test_reader_streams_small_blocks_as_one(tmp_path, monkeypatch):
    """Blocks far smaller than the file (and than a 100 KiB line among the others) give the
    frame and warnings of one block."""
    from lossctl.readers.console import lines as L
    from lossctl.readers.console import reader

    log = tmp_path / "train.log"
    body = [_nanogpt(i) for i in range(3000)]
    body[1200:1200] = [b"x" * (100 << 10) + b"\n", "iter 5: loss 2.0, time 1.00ms, mfu 3.00% caf\xc3\n".encode("latin-1")]
    log.write_bytes(b"".join(body) + b"iter 3001: loss 2.0")
    one = reader.read(log)
    monkeypatch.setattr(L, "CHUNK", 4096)
    many = reader.read(log)
    assert one.warnings == many.warnings and len(one.warnings) == 4  # long line, no line end, UTF-8, a failed line
    assert one.frame.equals(many.frame)
