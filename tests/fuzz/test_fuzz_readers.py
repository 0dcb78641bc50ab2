"""Fuzzed readers: arbitrary bytes and mutations of valid files (bit flips, truncations,
insertions, deletions, duplicated spans, tokens, bogus record lengths) never make a reader raise
anything but lossctl's InputError, never make it hang, and what it returns keeps the frame
contract. The TensorBoard cases run with both readers, which must also agree. The whole pipeline
(discovery, reading, restart rule, every detector) gets the same inputs.

``make fuzz`` runs these with the ``fuzz`` hypothesis profile (many random examples);
``make test`` with the small derandomised default.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from impls import BUILT

from lossctl.analysis import analyze_run
from lossctl.config import Config
from lossctl.errors import InputError
from lossctl.frame import COLUMNS
from lossctl.readers.base import FileData
from lossctl.readers.console import reader as console_reader
from lossctl.readers.csv_reader import reader as csv_reader
from lossctl.readers.json_reader import reader as json_reader
from lossctl.readers.tensorboard import reader as tb_reader
from lossctl.readers.visualdl import reader as vdl_reader
from lossctl.renderers import RENDERERS
from lossctl.runs import load_runs
from lossctl.watch.follow import follower_for

from .guard import deadline
from .mutate import OPS, mutate
from .seeds import CONSOLE_SEEDS, CSV_SEEDS, JSON_SEEDS, event_seeds

SECONDS = 5.0  # per input; real inputs here are a few KiB and take milliseconds
TB_IMPLS = BUILT


@functools.cache
def tb_seeds() -> dict[str, bytes]:
    """Written once per session (not a fixture: hypothesis would print the bytes with every failure)."""
    with tempfile.TemporaryDirectory() as d:
        return event_seeds(Path(d))


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def check_frame(data) -> None:
    assert isinstance(data, FileData)
    f = data.frame
    assert list(f.columns[:5]) == COLUMNS
    assert f["step"].dtype == np.int64 and f["wall_time"].dtype == np.float64 and f["value"].dtype == np.float64
    assert isinstance(f["metric"].dtype, pd.CategoricalDtype) and not f["metric"].isna().any()
    assert all(isinstance(w, str) for w in data.warnings)
    assert all(0 <= pos <= len(f) for pos, _ in data.purges)


def read_or_input_error(read, path, name):
    with deadline(SECONDS, name):
        return _read(read, path)


def _read(read, path):
    try:
        data = read(path)
    except InputError as exc:
        assert exc.path == str(path) and exc.problem
        return str(exc)
    check_frame(data)
    return data


def read_tb(path, verify):
    """Both TensorBoard readers; they must agree exactly."""
    out = {}
    with deadline(SECONDS * len(TB_IMPLS), "tensorboard (C and Python)"):
        for impl in TB_IMPLS:
            fn = tb_reader._read_c if impl == "c" else tb_reader._read_python
            out[impl] = _read(lambda p, fn=fn: fn(p, verify), path)
    if len(out) == 2:
        c, py = out["c"], out["python"]
        if isinstance(c, str) or isinstance(py, str):
            assert c == py
        else:
            pd.testing.assert_frame_equal(c.frame, py.frame)
            assert (c.warnings, c.purges) == (py.warnings, py.purges)


@given(data=st.binary(max_size=4096), verify=st.booleans())
def test_tensorboard_arbitrary_bytes(work, data, verify):
    path = work / "events.out.tfevents.bytes"
    path.write_bytes(data)
    read_tb(path, verify)


@given(which=st.integers(0, 10), ops=st.lists(OPS, min_size=1, max_size=6), verify=st.booleans())
def test_tensorboard_mutated(work, which, ops, verify):
    seeds = list(tb_seeds().values())
    src = seeds[which % len(seeds)]
    path = work / "events.out.tfevents.mutated"
    path.write_bytes(mutate(src, ops))
    read_tb(path, verify)


@given(data=st.binary(max_size=4096), name=st.sampled_from(sorted(CSV_SEEDS)))
def test_csv_arbitrary_bytes(work, data, name):
    path = work / name
    path.write_bytes(data)
    read_or_input_error(csv_reader.read, path, "csv")


@given(name=st.sampled_from(sorted(CSV_SEEDS)), ops=st.lists(OPS, min_size=1, max_size=6))
def test_csv_mutated(work, name, ops):
    path = work / name
    path.write_bytes(mutate(CSV_SEEDS[name].encode(), ops))
    read_or_input_error(csv_reader.read, path, "csv")


@given(data=st.binary(max_size=4096) | st.text(max_size=500).map(str.encode))
def test_json_arbitrary_bytes(work, data):
    path = work / "history.json"
    path.write_bytes(data)
    read_or_input_error(json_reader.read, path, "json")


@given(name=st.sampled_from(sorted(JSON_SEEDS)), ops=st.lists(OPS, min_size=1, max_size=6))
def test_json_mutated(work, name, ops):
    path = work / name
    path.write_bytes(mutate(JSON_SEEDS[name].encode(), ops))
    read_or_input_error(json_reader.read, path, "json")


@given(data=st.binary(max_size=4096), name=st.sampled_from(sorted(CONSOLE_SEEDS)))
def test_console_arbitrary_bytes(work, data, name):
    path = work / name
    path.write_bytes(data)
    read_or_input_error(console_reader.read, path, "console")


@given(name=st.sampled_from(sorted(CONSOLE_SEEDS)), ops=st.lists(OPS, min_size=1, max_size=6))
def test_console_mutated(work, name, ops):
    path = work / name
    path.write_bytes(mutate(CONSOLE_SEEDS[name].encode(), ops))
    read_or_input_error(console_reader.read, path, "console")


@functools.cache
def vdl_seed() -> bytes:
    """A record file VisualDL's LogWriter wrote: scalars, an add_scalars group, an image."""
    LogWriter = pytest.importorskip("visualdl", reason="visualdl is a dev extra").LogWriter
    with tempfile.TemporaryDirectory() as d:
        with LogWriter(logdir=d) as w:
            for s in range(12):
                w.add_scalar(tag="train/loss", step=s, value=1.0 / (s + 1))
                w.add_scalars(main_tag="lr", tag_scalar_dict={"a": 0.1, "b": 0.0}, step=s)
            w.add_image(tag="img", img=np.zeros((2, 2, 3), dtype=np.uint8), step=0)
        (path,) = Path(d).glob("vdlrecords.*")
        return path.read_bytes()


@given(data=st.binary(max_size=4096))
def test_visualdl_arbitrary_bytes(work, data):
    path = work / "vdlrecords.1.log"
    path.write_bytes(data)
    read_or_input_error(vdl_reader.read, path, "visualdl")


@given(ops=st.lists(OPS, min_size=1, max_size=6))
def test_visualdl_mutated(work, ops):
    path = work / "vdlrecords.2.log"
    path.write_bytes(mutate(vdl_seed(), ops))
    read_or_input_error(vdl_reader.read, path, "visualdl")


PIECES = [*"0123456789.e-+:=|, {}'\"[]/\r\x08", "nan", "inf", "loss", "step", "iter ", "Epoch ", " - ",
          "val_loss", "s:", " trl:", "iteration ", "lm loss", "\x1b[1m", "/"]


@given(lines=st.lists(st.lists(st.sampled_from(PIECES), max_size=40).map("".join), max_size=30))
def test_console_line_soup(work, lines):
    """Lines assembled from the shapes' own pieces: near-misses of every shape."""
    path = work / "soup.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    read_or_input_error(console_reader.read, path, "console")


@given(pick=st.integers(0, 100), ops=st.lists(OPS, min_size=1, max_size=4), pure=st.booleans())
def test_whole_pipeline_on_mutated_logs(work, pick, ops, pure):
    """Discovery, reading, the restart rule, every detector and both renderers: only InputError
    may escape (the CLI turns it into a message and exit 2)."""
    seeds = tb_seeds()
    files = {"events.out.tfevents.1.x": seeds["tf2_mixed"], "events.out.tfevents.2.x": seeds["simple_value"],
             **{n: s.encode() for n, s in {**CSV_SEEDS, **JSON_SEEDS, **CONSOLE_SEEDS}.items()}}
    names = sorted(files)
    name = names[pick % len(names)]
    d = work / "run"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
    (d / name).write_bytes(mutate(files[name], ops))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LOSSCTL_PURE_PYTHON", "1" if pure else "0")
        with deadline(SECONDS * 2, "pipeline"):
            try:
                result = load_runs(d, jobs=1)
            except InputError:
                return
            reports = [analyze_run(run, Config()) for run in result.runs]
            for render in RENDERERS.values():
                assert isinstance(render(reports, result.errors, color=False, width=100), str)


@given(pick=st.integers(0, 100), ops=st.lists(OPS, max_size=4), cuts=st.lists(st.integers(0, 1 << 16), max_size=6),
       pure=st.booleans())
def test_watch_followers_on_mutated_growing_files(work, pick, ops, cuts, pure):
    """`lossctl watch` reads files in pieces as they grow: whatever the bytes, a poll returns."""
    seeds = tb_seeds()
    files = {"events.out.tfevents.1.x": seeds["tf2_mixed"],
             **{n: s.encode() for n, s in {**CSV_SEEDS, **JSON_SEEDS}.items()},
             **{f"console-{n}": s.encode() for n, s in CONSOLE_SEEDS.items()}}
    name = sorted(files)[pick % len(files)]
    data = mutate(files[name], ops) if ops else files[name]
    fmt = ("tensorboard" if "tfevents" in name else "console" if name.startswith("console-")
           else "keras_json" if name.endswith(".json") else "csv")
    path = work / f"grow-{name}"
    path.write_bytes(b"")
    follower = follower_for(path, fmt)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LOSSCTL_PURE_PYTHON", "1" if pure else "0")
        with deadline(SECONDS * 2, "watch followers"):
            done = 0
            for i, cut in enumerate(sorted({c % (len(data) + 1) for c in cuts}) + [len(data)]):
                with open(path, "ab") as f:
                    f.write(data[done:max(done, cut)])
                done = max(done, cut)
                os.utime(path, ns=(0, i + 1))
                follower.poll()
            check_frame(follower.data())
