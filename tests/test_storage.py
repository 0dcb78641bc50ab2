"""Storage below the readers: standard input, and a store's files read through Blobs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lossctl.discovery import discover
from lossctl.errors import InputError
from lossctl.readers.csv_reader import reader as csv_reader
from lossctl.storage import LOCAL, Blob, locate

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_logs"
LOSSCTL = [sys.executable, "-m", "lossctl"]


def _analyze(args, stdin=None):
    return subprocess.run([*LOSSCTL, "analyze", *args, "-f", "json"], input=stdin, capture_output=True,
                          timeout=120, cwd=ROOT)


def _findings(doc):
    return [[(f["kind"], f["severity"], f["metric"], f["start_step"], f["end_step"], f["message"])
             for f in r["findings"]] for r in doc["runs"]]


@pytest.mark.parametrize("log", ["diverging_lightning/metrics.csv", "overfitting_keras_json/history.json",
                                 "healthy_tensorboard"])
def test_a_log_piped_to_standard_input_is_read_as_the_file_is(log):
    src = SAMPLES / log
    path = src if src.is_file() else next(src.glob("events.out.tfevents*"))
    piped = _analyze(["-"], stdin=path.read_bytes())
    direct = _analyze([str(path)])
    assert piped.returncode == direct.returncode and piped.returncode in (0, 1), piped.stderr
    got, want = json.loads(piped.stdout), json.loads(direct.stdout)
    assert got["runs"][0]["path"] == "<stdin>"
    assert got["runs"][0]["metrics"] == want["runs"][0]["metrics"]
    assert _findings(got) == _findings(want)


def test_standard_input_that_is_no_log_is_one_line_and_exit_2():
    res = _analyze(["-"], stdin=b"\x00\x01 not a log at all \xff" * 100)
    assert res.returncode == 2
    err = res.stderr.decode()
    assert err.startswith("lossctl: ") and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_urls_survive_the_command_line_unchanged():
    store, path = locate("memory://bucket/runs")  # fsspec's in-memory filesystem, no network
    assert store.display(path) == "memory://bucket/runs"
    assert locate("file:///tmp/x/") == (LOCAL, "/tmp/x")
    assert locate("./runs/") == (LOCAL, "runs")


def test_a_reader_reads_any_store_through_a_blob(tmp_path):
    """The same CSV from local disk and from fsspec's memory filesystem: identical frames."""
    fsspec = pytest.importorskip("fsspec")
    text = "step,loss\n0,2.0\n1,1.5\n2,nan\n"
    (tmp_path / "m.csv").write_text(text)
    fs = fsspec.filesystem("memory")
    fs.pipe("/lossctl-test/m.csv", text.encode())
    store, path = locate("memory://lossctl-test/m.csv")
    remote = csv_reader.read(Blob(store, path))
    local = csv_reader.read(Blob(LOCAL, str(tmp_path / "m.csv")))
    assert remote.frame.equals(local.frame)


def test_missing_target_names_it(tmp_path):
    with pytest.raises(InputError, match="no such file or directory"):
        discover(tmp_path / "absent")


def test_discovery_hands_each_directory_to_the_sources_once(tmp_path):
    os.symlink(SAMPLES, tmp_path / "a")
    os.symlink(SAMPLES, tmp_path / "b")  # the same tree twice: read once
    once = sorted(r.name for r in discover(SAMPLES).refs)
    twice = sorted(r.name.split("/", 1)[1] for r in discover(tmp_path).refs)
    assert twice == once and len(once) > 10
