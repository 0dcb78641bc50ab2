"""A run being appended to while lossctl reads it: a writer thread (tensorboardX's SummaryWriter,
or a Keras-style CSV writer) keeps logging and flushing while the CLI reads the run again and
again. Every read must succeed with a contiguous prefix of what was written (steps 0..n-1, the
right last value), at least what was flushed before it started; the only acceptable warning is
an incomplete last record/line."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest
from impls import impl_params

from .cases import healthy
from .run import invoke

TOTAL = 200_000
VALUES = healthy(TOTAL)


class Writer(threading.Thread):
    def __init__(self, kind, d):
        super().__init__(daemon=True)
        self.kind, self.d = kind, d
        self.flushed = 0  # points flushed to the file so far
        self.stop = threading.Event()
        self.started_writing = threading.Event()

    def run(self):
        if self.kind == "tensorboardx":
            from tensorboardX import SummaryWriter

            w = SummaryWriter(logdir=str(self.d), flush_secs=3600)
            add, flush, close = (lambda s: w.add_scalar("loss", float(VALUES[s]), s)), w.flush, w.close
        else:
            f = open(self.d / "training.log", "w", buffering=1 << 12)  # noqa: SIM115 - closed below
            f.write("epoch,loss\n")
            add, flush, close = (lambda s: f.write(f"{s},{float(VALUES[s])!r}\n")), f.flush, f.close
        s = 0
        while not self.stop.is_set() and s < TOTAL:
            for _ in range(50):  # a buffer of 4 KiB fills mid-line / mid-record now and then
                add(s)
                s += 1
            flush()
            self.flushed = s
            self.started_writing.set()
            time.sleep(0.001)
        close()


def read_run(tmp_path, impl, kind):
    code, out, err, writes = invoke(tmp_path, impl, tmp_path)
    assert code == 0, (out, err)
    assert writes == []
    (run,) = json.loads(out)["runs"]
    m = run["metrics"]["loss"]
    n = m["points"]
    assert (m["first_step"], m["last_step"]) == (0, n - 1)  # n points, unique steps: all of 0..n-1
    expected = float(np.float32(VALUES[n - 1])) if kind == "tensorboardx" else float(VALUES[n - 1])
    assert m["last"] == expected
    return n, run["warnings"]


@pytest.mark.parametrize("kind,impl", impl_params(("tensorboardx",)) + [("csv", "python")])
def test_reading_a_run_while_it_is_written(tmp_path, kind, impl):
    if kind == "tensorboardx":
        pytest.importorskip("tensorboardX")
    w = Writer(kind, tmp_path)
    w.start()
    assert w.started_writing.wait(10)
    try:
        seen = 0
        for _ in range(6):
            # tensorboardX's flush() does not wait for its queue: only the CSV count is a floor
            floor = w.flushed if kind == "csv" else seen
            n, warnings = read_run(tmp_path, impl, kind)
            assert n >= floor
            seen = n
            for warning in warnings:
                assert "last record truncated" in warning or "last line has no line end" in warning, warning
    finally:
        w.stop.set()
        w.join()
    n, warnings = read_run(tmp_path, impl, kind)  # closed: everything written is read
    assert n == w.flushed and warnings == []
