"""`lossctl watch --experiment/--run-name` follows only the runs analyze would choose, on an MLflow
SQLite store written by MLflow's own client (and on run directories, where the experiment is the
first segment of the run name)."""

from __future__ import annotations

import json
import shutil

import pytest

pytest.importorskip("mlflow", reason="mlflow is a dev extra: pip install -e '.[dev]'")

import mlflow_writers as M
from bad_inputs.guard import guarded
from typer.testing import CliRunner

from lossctl.cli import app
from lossctl.config import Config
from lossctl.discovery import RunFilter
from lossctl.watch.loop import status_line
from lossctl.watch.session import Session

runner = CliRunner()


@pytest.fixture
def store(tmp_path):
    db, _ = M.sqlite_store()
    shutil.copy(db, tmp_path / "mlflow.db")
    return tmp_path


def watch(d, *args):
    with guarded(d) as writes:
        r = runner.invoke(app, ["watch", str(d), "--interval", "0.05", *map(str, args)])
    assert writes == []
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exc_info
    assert "Traceback" not in r.output
    return r


def run_id(name: str) -> str:
    return next(rid for rid, (_, n, _) in M.sqlite_store()[1].items() if n == name)


def test_run_name_follows_only_the_chosen_run(store):
    r = watch(store, "--run-name", "diverging", "--timeout", 30)
    assert r.exit_code == 1, r.output
    assert "runs matching --run-name 'diverging'" in r.output
    assert f"ERROR divergence {store / 'mlflow.db'}#{run_id('diverging')}" in r.output
    assert r.output.count("following") == 1
    assert run_id("healthy") not in r.output and run_id("with-nan") not in r.output


def test_experiment_leaves_the_other_experiment_out(store):
    r = watch(store, "--experiment", "exp-b", "--exit-on", "never", "--timeout", 1)
    assert r.exit_code == 0, r.output
    assert r.output.count("following") == 3  # twin, twin, with-nan
    assert run_id("diverging") not in r.output and "divergence" not in r.output
    r = watch(store, "--experiment", "exp-a", "--exit-on", "error", "--timeout", 30)
    assert r.exit_code == 1 and f"ERROR divergence {store / 'mlflow.db'}#{run_id('diverging')}" in r.output
    assert r.output.count("following") == 2  # healthy, diverging (gone is deleted)


def test_nothing_matching_waits_and_says_what_was_left_out(store):
    r = watch(store, "--run-name", "no-such-*", "--timeout", 0.5)
    assert r.exit_code == 0 and "following" not in r.output, r.output
    session = Session(store, Config(), chosen=RunFilter(run_name="no-such-*"))
    session.poll()
    line = status_line(session, 1, 0.0)
    assert "waiting for a run matching --run-name 'no-such-*' (left out: exp-a/diverging" in line


def test_run_directories_are_chosen_by_name_too(tmp_path):
    for name, rises in (("exp/lr_0.1", False), ("exp/lr_1.0", True), ("other/lr_1.0", True)):
        d = tmp_path / name
        d.mkdir(parents=True)
        losses = [2.0 / (1 + s / 20) if not rises or s < 100 else 0.1 * 1.08 ** (s - 100) for s in range(160)]
        (d / "metrics.csv").write_text("step,loss\n" + "".join(f"{s},{v!r}\n" for s, v in enumerate(losses)))
    r = watch(tmp_path, "--experiment", "exp", "--run-name", "lr_1*", "--timeout", 30)
    assert r.exit_code == 1, r.output
    assert "exp/lr_1.0" in r.output and "other/" not in r.output and "lr_0.1" not in r.output
    r = runner.invoke(app, ["analyze", "--format", "json", str(tmp_path), "--experiment", "exp", "--run-name", "lr_1*"])
    assert [x["run"] for x in json.loads(r.stdout)["runs"]] == ["exp/lr_1.0"]  # as analyze chooses


def test_standard_input_cannot_be_chosen_from():
    r = runner.invoke(app, ["watch", "-", "--run-name", "x"], input="")
    assert r.exit_code == 2 and "standard input is one stream" in r.output
