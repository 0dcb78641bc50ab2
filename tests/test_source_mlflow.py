"""MLflow stores written by MLflow's own client, read by lossctl: every point equal to what
``MlflowClient.get_metric_history`` returns (NaN and +/-Inf included), params as typed hparams,
deleted runs skipped and said so, run names ``experiment/run name``."""

from __future__ import annotations

import math
import shutil
import sqlite3

import pytest

pytest.importorskip("mlflow", reason="mlflow is a dev extra: pip install -e '.[dev]'")

import mlflow_writers as M

from lossctl.discovery import discover
from lossctl.runs import load_runs
from lossctl.sources import BY_NAME

BIG = 1.7976931348623157e308  # how MLflow stores +/-Inf


def as_logged(v: float) -> float:
    return math.copysign(math.inf, v) if abs(v) == BIG else v


def same(a, b) -> bool:
    return [(s, t, repr(v)) for s, t, v in a] == [(s, t, repr(v)) for s, t, v in b]


def ours(run, key):
    f = run.frame[run.frame["metric"] == key]
    return [(int(s), round(w * 1000), float(v)) for s, w, v in zip(f["step"], f["wall_time"], f["value"])]


def expected_names(ids):
    return {f"{exp}/{name if name != 'twin' else rid}" for rid, (exp, name, deleted) in ids.items() if not deleted}


def check_store(result, uri, ids, prefix=""):
    by_name = {r.name: r for r in result.runs}
    assert set(by_name) == {prefix + n for n in expected_names(ids)}
    assert any(f"1 deleted MLflow run(s) skipped ({prefix}exp-a/gone)" in n for n in result.notes), result.notes
    for rid, (exp, name, deleted) in ids.items():
        if deleted:
            continue
        run = by_name[prefix + f"{exp}/{name if name != 'twin' else rid}"]
        assert rid in run.path or rid in str(run.files)
        keys = {k for k in run.frame["metric"].cat.categories if (run.frame["metric"] == k).any()}
        assert keys == ({"train/loss", "val/loss"} if name == "healthy" else {"loss"})
        for key in keys:
            expected = [(s, t, as_logged(v)) for s, t, v in M.history(uri, rid, key)]
            assert same(ours(run, key), expected), (run.name, key)
        assert run.warnings == []
    healthy = by_name[prefix + "exp-a/healthy"]
    assert healthy.hparams == {"lr": 0.001, "batch_size": 32, "use_amp": True, "optimizer": "adam", "dropout": 0.1}
    assert type(healthy.hparams["batch_size"]) is int and type(healthy.hparams["use_amp"]) is bool
    nan = by_name[prefix + "exp-b/with-nan"]
    vals = nan.frame["value"].tolist()
    assert vals[0] == 0.5 and math.isnan(vals[1]) and vals[2:] == [math.inf, -math.inf, 0.25]


# --- SQLite store -------------------------------------------------------------------------------

def test_sqlite_store_points_equal_the_client(tmp_path):
    db, ids = M.sqlite_store()
    result = load_runs(db.parent)
    assert result.errors == []
    check_store(result, f"sqlite:///{db}", ids)
    assert {r.format for r in result.runs} == {"mlflow_sqlite"}
    assert all(r.path.startswith(str(db) + "#") for r in result.runs)


def test_sqlite_store_named_directly_and_below_a_folder(tmp_path):
    db, ids = M.sqlite_store()
    shutil.copy(db, tmp_path / "mlflow.db")
    direct = load_runs(tmp_path / "mlflow.db")
    assert {r.name for r in direct.runs} == expected_names(ids)
    (tmp_path / "team").mkdir()
    shutil.move(tmp_path / "mlflow.db", tmp_path / "team" / "mlflow.db")
    below = load_runs(tmp_path)
    assert {r.name for r in below.runs} == {f"team/{n}" for n in expected_names(ids)}
    shutil.copy(db, tmp_path / "team" / "old.db")  # two databases in one folder: each file's name kept
    both = load_runs(tmp_path)
    assert {r.name for r in both.runs} == {f"team/{f}/{n}" for n in expected_names(ids) for f in ("mlflow.db", "old.db")}


def live_copy(tmp_path):
    db, ids = M.sqlite_store()
    path = tmp_path / "mlflow.db"
    shutil.copy(db, path)
    rid = next(r for r, (_, name, _) in ids.items() if name == "healthy")
    return path, rid


def test_sqlite_store_being_written_in_wal_mode_still_reads(tmp_path):
    path, rid = live_copy(tmp_path)
    writer = sqlite3.connect(path, isolation_level=None)
    assert writer.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    writer.execute("BEGIN IMMEDIATE")  # a live run in the middle of a write: holds the write lock
    writer.execute("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
                   "VALUES ('train/loss', 0.05, ?, ?, 200, 0)", (M.T0 + 5000, rid))
    try:
        src = BY_NAME["mlflow_sqlite"]
        ref = next(r for r in discover(path).refs if r.locator[1] == rid)
        before = src.signature(ref)
        run, = src.read(ref, True).runs
        assert (run.frame["metric"] == "train/loss").sum() == 200  # the committed snapshot
        writer.execute("COMMIT")
        assert src.signature(ref) != before
        run, = src.read(ref, True).runs
        assert (run.frame["metric"] == "train/loss").sum() == 201
    finally:
        writer.close()


def test_signature_changes_when_a_metric_is_logged(tmp_path):
    from mlflow.tracking import MlflowClient

    path, rid = live_copy(tmp_path)
    ref = next(r for r in discover(path).refs if r.locator[1] == rid)
    src = BY_NAME["mlflow_sqlite"]
    before = src.signature(ref)
    assert src.signature(ref) == before
    MlflowClient(tracking_uri=f"sqlite:///{path}").log_metric(rid, "train/loss", 0.01, step=500)
    M._dispose_engines()
    assert src.signature(ref) != before


# --- file store ---------------------------------------------------------------------------------

def test_file_store_points_equal_the_client():
    root, ids = M.file_store()
    result = load_runs(root.parent)
    assert result.errors == []
    check_store(result, root.as_uri(), ids, prefix="mlruns/")
    assert {r.format for r in result.runs} == {"mlflow_files"}
    assert not any("metrics" in f for r in result.runs for f in r.files)  # metric files not runs of their own


def test_file_store_named_at_each_level(tmp_path):
    root, ids = M.file_store()
    store = M.copy_tree(root, tmp_path / "mlruns")
    assert {r.name for r in load_runs(store).runs} == expected_names(ids)
    rid = next(r for r, (_, name, _) in ids.items() if name == "healthy")
    exp_dir = next(p.parent for p in store.glob(f"*/{rid}"))
    assert {r.name for r in load_runs(exp_dir).runs} == {n for n in expected_names(ids) if n.startswith("exp-a/")}
    one = load_runs(exp_dir / rid)
    assert [r.name for r in one.runs] == ["exp-a/healthy"]
    assert one.runs[0].hparams["lr"] == 0.001


def test_file_store_legacy_lines_nested_keys_and_trash(tmp_path):
    root, ids = M.file_store()
    store = M.copy_tree(root, tmp_path / "mlruns")
    rid = next(r for r, (_, name, _) in ids.items() if name == "healthy")
    run_dir = next(store.glob(f"*/{rid}"))
    (run_dir / "metrics" / "old").write_text("1700000000000 0.5\n")  # MLflow < 1.0: no step
    (store / ".trash" / "x" / "metrics").mkdir(parents=True)
    (store / ".trash" / "x" / "meta.yaml").write_text("run_id: x\n")
    (store / ".trash" / "x" / "metrics" / "loss").write_text("1 1.0 0\n")
    run = next(r for r in load_runs(store).runs if r.name == "exp-a/healthy")
    assert ours(run, "old") == [(0, 1700000000000, 0.5)]
    assert {"train/loss", "val/loss", "old"} <= set(run.frame["metric"])
    assert not any(".trash" in r.path for r in load_runs(store).runs)


def test_file_store_signature_changes_when_a_metric_is_logged(tmp_path):
    from mlflow.tracking import MlflowClient

    root, ids = M.file_store()
    store = M.copy_tree(root, tmp_path / "mlruns")
    rid = next(r for r, (_, name, _) in ids.items() if name == "healthy")
    ref = next(r for r in discover(store).refs if r.path.endswith(rid))
    src = BY_NAME["mlflow_files"]
    before = src.signature(ref)
    assert src.signature(ref) == before
    MlflowClient(tracking_uri=store.as_uri()).log_metric(rid, "train/loss", 0.01, step=500)
    assert src.signature(ref) != before
    run, = src.read(ref, True).runs
    assert ours(run, "train/loss")[-1][::2] == (500, 0.01)


# --- tracking server ----------------------------------------------------------------------------

@pytest.fixture(scope="module", autouse=True)
def server_process(tmp_path_factory):
    """A real ``mlflow server`` on a free port, started with this module's first test so that it
    boots while the store tests run; stopped (with its workers) after the last."""
    proc, url = M.start_server(tmp_path_factory.mktemp("mlflow-server"))
    yield proc, url
    M.stop_server(proc)


@pytest.fixture(scope="module")
def server(server_process):
    """The server's URL and ``{run_id: ...}`` of the store logged through it by the client."""
    proc, url = server_process
    M.wait_server(proc, url)
    return url, M.log_store(url)


def test_server_points_equal_the_client(server):
    url, ids = server
    result = load_runs(f"mlflow+{url}")
    assert result.errors == []
    check_store(result, url, ids)
    assert {r.format for r in result.runs} == {"mlflow_server"}
    assert all(r.path.startswith(f"{url}/#/experiments/") for r in result.runs)


def test_server_pages_are_followed(server, monkeypatch):
    from lossctl.sources.mlflow import server as S

    url, ids = server
    monkeypatch.setattr(S, "PAGE", 2)
    monkeypatch.setattr(S, "HISTORY_PAGE", 60)
    result = load_runs(f"mlflow+{url}")
    check_store(result, url, ids)


def test_server_signature_changes_when_a_metric_is_logged(server):
    from mlflow.tracking import MlflowClient

    url, ids = server
    rid = next(r for r, (_, name, _) in ids.items() if name == "with-nan")
    ref = next(r for r in discover(f"mlflow+{url}").refs if r.locator[1] == rid)
    src = BY_NAME["mlflow_server"]
    before = src.signature(ref)
    assert before is not None and src.signature(ref) == before
    MlflowClient(tracking_uri=url).log_metric(rid, "extra", 1.0, step=3)
    assert src.signature(ref) != before


@pytest.mark.parametrize("target,problem", [
    ("mlflow+http://127.0.0.1:{closed}", "cannot reach the MLflow server"),
    ("mlflow+{url}/nothing-here", "HTTP 404"),
    ("mlflow+{url}/static-files", "HTTP"),
])
def test_server_errors_are_one_line_naming_the_url(server, target, problem):
    from typer.testing import CliRunner

    from lossctl.cli import app

    url, _ = server
    target = target.format(url=url, closed=M.free_port())
    r = CliRunner().invoke(app, ["analyze", target])
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and problem in lines[0] and target[len("mlflow+"):] in lines[0], lines
    assert "Traceback" not in r.output


# --- the CLI on a folder of stores, choosing runs, tracking URIs --------------------------------

def both_stores(tmp_path):
    db, ids_db = M.sqlite_store()
    root, ids_files = M.file_store()
    shutil.copy(db, tmp_path / "mlflow.db")
    M.copy_tree(root, tmp_path / "mlruns")
    return ids_db, ids_files


def analyze(*args, env=None):
    import json

    from typer.testing import CliRunner

    from lossctl.cli import app

    r = CliRunner().invoke(app, ["analyze", *args, "--format", "json"], env=env)
    assert "Traceback" not in r.output, r.output
    return r.exit_code, (json.loads(r.stdout) if r.stdout.strip() else None), r.stderr


def test_cli_lists_every_run_of_both_stores_with_findings(tmp_path):
    ids_db, ids_files = both_stores(tmp_path)
    code, doc, err = analyze(str(tmp_path))
    assert code == 1
    names = {r["run"]: r for r in doc["runs"]}
    assert set(names) == expected_names(ids_db) | {f"mlruns/{n}" for n in expected_names(ids_files)}
    for prefix, fmt in (("", "mlflow_sqlite"), ("mlruns/", "mlflow_files")):
        div = names[f"{prefix}exp-a/diverging"]
        assert div["format"] == fmt and "divergence" in {f["kind"] for f in div["findings"]}
        assert "nonfinite" in {f["kind"] for f in names[f"{prefix}exp-b/with-nan"]["findings"]}
        assert names[f"{prefix}exp-a/healthy"]["hparams"]["batch_size"] == 32
        assert names[f"{prefix}exp-a/healthy"]["status"] == "ok"
    assert "deleted MLflow run(s) skipped (exp-a/gone)" in err
    assert "deleted MLflow run(s) skipped (mlruns/exp-a/gone)" in err


def test_cli_chooses_runs_by_experiment_and_name(tmp_path):
    both_stores(tmp_path)
    code, doc, _ = analyze(str(tmp_path), "--experiment", "exp-a")
    assert {r["run"] for r in doc["runs"]} == {"exp-a/healthy", "exp-a/diverging",
                                               "mlruns/exp-a/healthy", "mlruns/exp-a/diverging"}
    code, doc, _ = analyze(str(tmp_path), "--run-name", "heal*")
    assert {r["run"] for r in doc["runs"]} == {"exp-a/healthy", "mlruns/exp-a/healthy"}
    assert code == 0
    code, doc, _ = analyze(str(tmp_path / "mlflow.db"), "--experiment", "exp-b", "--run-name", "*nan")
    assert [r["run"] for r in doc["runs"]] == ["exp-b/with-nan"]
    code, doc, err = analyze(str(tmp_path), "--experiment", "nope")
    assert code == 2 and doc is None and "no run matches --experiment 'nope'" in err


def test_cli_tracking_uri_and_environment(tmp_path, server):
    url, _ = server
    both_stores(tmp_path)
    code, doc, _ = analyze("--run-name", "exp-a/healthy", env={"MLFLOW_TRACKING_URI": url})
    assert [(r["run"], r["format"]) for r in doc["runs"]] == [("exp-a/healthy", "mlflow_server")]
    code, doc, _ = analyze("--tracking-uri", f"sqlite:///{tmp_path / 'mlflow.db'}", "--run-name", "*healthy",
                           env={"MLFLOW_TRACKING_URI": url})
    assert [(r["run"], r["format"]) for r in doc["runs"]] == [("exp-a/healthy", "mlflow_sqlite")]
    code, doc, _ = analyze(str(tmp_path / "mlruns"), "--run-name", "*healthy", env={"MLFLOW_TRACKING_URI": url})
    assert [(r["run"], r["format"]) for r in doc["runs"]] == [("exp-a/healthy", "mlflow_files")]  # a path wins
    code, doc, err = analyze("--tracking-uri", "postgresql://db/mlflow")
    assert code == 2 and "point it at the server" in err


def test_importing_lossctl_imports_neither_mlflow_nor_sqlite():
    import subprocess
    import sys

    code = ("import sys, lossctl, lossctl.cli, lossctl.sources, lossctl.runs; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mlflow', 'sqlite3', 'yaml') "
            "or m == 'urllib.request'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_params_are_typed_as_they_read():
    from lossctl.sources.mlflow.common import parse_param as p

    assert [p(x) for x in ["32", "-4", "1e-3", "0.1", ".5", "True", "false", "adam", "nan", "inf", "1e400", "1.0.0"]] \
        == [32, -4, 0.001, 0.1, 0.5, True, False, "adam", "nan", "inf", "1e400", "1.0.0"]
