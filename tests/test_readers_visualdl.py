"""VisualDL record files, written by VisualDL's own LogWriter: scalars, add_scalars groups, the
defaults proto3 leaves out (step 0, a sub-tag's 0.0), NaN, records that are not curves, a file
cut short, and a file that only has the name."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
from extras import need

import lossctl
from lossctl.runs import load_runs


def write_run(logdir, n=300, diverge_at=None):
    """A run as a Paddle training script logs it: train loss every step, test loss every 25,
    the learning rate as an add_scalars group, an image and a histogram now and then."""
    LogWriter = need("visualdl", "dev").LogWriter
    written = {"train/loss": {}, "test/loss": {}, "lr/base": {}, "lr/head": {}}
    with LogWriter(logdir=str(logdir)) as w:
        for s in range(n):
            v = 2.0 * math.exp(-s / 60) + 0.1
            if diverge_at is not None and s >= diverge_at:
                v *= math.exp((s - diverge_at) / 20)
            w.add_scalar(tag="train/loss", step=s, value=v)
            written["train/loss"][s] = v
            if s % 25 == 0:
                t = math.nan if s == 100 else v * 1.1
                w.add_scalar(tag="test/loss", step=s, value=t)
                written["test/loss"][s] = t
                lrs = {"base": 1e-3 * (1 - s / n), "head": 0.0 if s == 0 else 1e-2}
                w.add_scalars(main_tag="lr", tag_scalar_dict=lrs, step=s)
                written["lr/base"][s], written["lr/head"][s] = lrs["base"], lrs["head"]
            if s % 100 == 0:
                w.add_image(tag="samples", img=np.zeros((4, 4, 3), dtype=np.uint8), step=s)
                w.add_histogram(tag="weights", values=np.arange(10.0), step=s)
    return written


def _series(frame, metric):
    s = frame[frame["metric"] == metric].sort_values("step")
    return dict(zip(s["step"].tolist(), s["value"].tolist()))


def test_log_writer_scalars_read_exactly(tmp_path):
    written = write_run(tmp_path / "run")
    (run,) = load_runs(tmp_path / "run").runs
    assert run.format == "visualdl" and run.warnings == []
    assert set(run.frame["metric"].astype(str)) == set(written)  # no image, histogram or meta tag
    for metric, points in written.items():
        got = _series(run.frame, metric)
        assert list(got) == list(points), metric
        np.testing.assert_array_equal(list(got.values()), np.float32(list(points.values())), err_msg=metric)
    assert math.isnan(_series(run.frame, "test/loss")[100])
    assert _series(run.frame, "lr/head")[0] == 0.0  # a sub-tag's 0.0 is absent from the bytes
    walls = run.frame["wall_time"].to_numpy()
    assert np.all(np.abs(walls - walls[0]) < 3600)  # milliseconds read as seconds


def test_diverging_run_is_found_and_cli_reads_the_folder(tmp_path):
    write_run(tmp_path / "vdl_log", diverge_at=200)
    out = subprocess.run([sys.executable, "-m", "lossctl", "analyze", str(tmp_path / "vdl_log"), "--format", "json"],
                         capture_output=True, text=True)
    assert out.returncode == 1, out.stderr
    assert '"kind": "divergence"' in out.stdout and '"format": "visualdl"' in out.stdout


def test_a_file_cut_short_keeps_the_records_before_it(tmp_path):
    write_run(tmp_path / "run")
    (log,) = (tmp_path / "run").glob("vdlrecords.*.log")
    data = log.read_bytes()
    log.write_bytes(data[:-7])
    (run,) = load_runs(tmp_path / "run").runs
    assert any("last record incomplete" in w and log.name in w for w in run.warnings)
    assert list(_series(run.frame, "train/loss")) == list(range(299))  # the cut record: step 299


def test_not_a_record_file_is_one_clear_line_and_exit_2(tmp_path):
    d = tmp_path / "run"
    d.mkdir()
    (d / "vdlrecords.1629623399.log").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00\n\x0e" + b"\xff" * 40)
    out = subprocess.run([sys.executable, "-m", "lossctl", "analyze", str(d)], capture_output=True, text=True)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and "vdlrecords.1629623399.log" in out.stderr


def test_load_names_the_run_after_its_folder(tmp_path):
    write_run(tmp_path / "exp" / "seed1", n=60)
    write_run(tmp_path / "exp" / "seed2", n=60)
    frame = lossctl.load(tmp_path / "exp")
    assert set(frame["run"].astype(str)) == {"seed1", "seed2"}
