"""W&B runs written by the real client (offline), read back point for point: nested keys, dicts,
NaN and infinities, custom steps, a resumed run, config as typed hparams, names; the folder end
to end through the CLI; and the chart-panel CSV export."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner
from wandb_runs import history_points, need_wandb, write_run

import lossctl
from lossctl.cli import app
from lossctl.runs import load_runs
from lossctl.sources import wandb as wandb_source
from lossctl.sources.base import RunRef

N = 120


def weird(s):  # NaN, +inf and -inf among ordinary values
    return {10: math.nan, 20: math.inf, 30: -math.inf}.get(s, s / 7)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    need_wandb()
    root = tmp_path_factory.mktemp("wb")
    t0 = time.time()
    runs = {}
    runs["healthy"] = write_run(
        root, range(N), name="healthy", run_id="hlth0001",
        config={"lr": 1e-3, "batch_size": 32, "optimizer": {"name": "adam", "eps": 1e-8},
                "layers": [64, 64], "use_amp": True, "tag": "baseline"},
        **{"train/loss": lambda s: 2.0 * math.exp(-s / 30) + 0.1,
           "val": lambda s: {"loss": 2.1 * math.exp(-s / 30) + 0.15, "acc": s / N} if s % 10 == 0 else None,
           "weird": weird})
    runs["diverging"] = write_run(
        root, range(0, 2 * N, 2), name="diverging", run_id="dvrg0001", config={"lr": 3.0},
        **{"train/loss": lambda s: 2.0 * math.exp(-s / 20) + 0.1 if s < 80 else 0.2 * math.exp((s - 80) / 25)})
    runs["resumed_1"] = write_run(root, range(60), name="resumed", run_id="rsmd0001", config={"lr": 0.1},
                                  loss=lambda s: 1.0 / (s + 1))
    time.sleep(1.1)  # a run folder is named to the second: the resumed session must get its own
    runs["resumed_2"] = write_run(root, range(40, 100), run_id="rsmd0001", resume="allow",
                                  loss=lambda s: 0.5 / (s + 1))
    assert runs["resumed_1"] != runs["resumed_2"]
    runs["twin_a"] = write_run(root, range(5), name="twin", run_id="twin000a", loss=lambda s: 1.0)
    runs["twin_b"] = write_run(root, range(5), name="twin", run_id="twin000b", loss=lambda s: 2.0)
    return root, runs, (t0, time.time())


def _series(frame, run, metric):
    sub = frame[(frame["run"] == run) & (frame["metric"] == metric)]
    return sub["step"].tolist(), sub["value"].to_numpy()


def test_every_logged_value_point_for_point(folder):
    root, _, (t0, t1) = folder
    frame = lossctl.load(root / "wandb")
    runs = set(frame["run"].astype(str))
    assert runs == {"healthy", "diverging", "resumed", "twin000a", "twin000b"}
    steps, values = _series(frame, "healthy", "train/loss")
    assert steps == list(range(N))
    np.testing.assert_array_equal(values, [2.0 * math.exp(-s / 30) + 0.1 for s in range(N)])
    steps, values = _series(frame, "healthy", "weird")
    assert steps == list(range(N))
    np.testing.assert_array_equal(values, [weird(s) for s in range(N)])  # NaN == NaN here
    assert math.isnan(values[10]) and values[20] == math.inf and values[30] == -math.inf
    for key, f in (("val.loss", lambda s: 2.1 * math.exp(-s / 30) + 0.15), ("val.acc", lambda s: s / N)):
        steps, values = _series(frame, "healthy", key)  # a logged dict: W&B names its leaves a.b
        assert steps == list(range(0, N, 10))
        np.testing.assert_array_equal(values, [f(s) for s in steps])
    steps, _ = _series(frame, "diverging", "train/loss")
    assert steps == list(range(0, 2 * N, 2))  # custom steps
    wall = frame.loc[frame["run"] == "healthy", "wall_time"]
    assert wall.between(t0 - 1, t1 + 1).all()
    assert not (set(frame["metric"].astype(str)) & {"_step", "_runtime", "_timestamp"})


def test_agrees_with_wandbs_own_protobuf_decoding(folder):
    """Every history item, as wandb's own Record class decodes the file, is in the frame."""
    root, runs, _ = folder
    frame = lossctl.load(root / "wandb")
    mine = frame[frame["run"] == "healthy"]
    got = {(m, s): v for m, s, v in zip(mine["metric"].astype(str), mine["step"], mine["value"])}
    log = next(runs["healthy"].glob("run-*.wandb"))
    expected = history_points(log.read_bytes())
    assert len(expected) == len(got)
    for metric, step, value_json in expected:
        want = json.loads(value_json)
        assert got[(metric, step)] == want or (math.isnan(want) and math.isnan(got[(metric, step)]))


def test_resumed_run_is_one_run_with_the_later_values(folder):
    root, _, _ = folder
    frame = lossctl.load(root / "wandb")
    steps, values = _series(frame, "resumed", "loss")
    assert steps == list(range(100))
    np.testing.assert_array_equal(values, [1.0 / (s + 1) if s < 40 else 0.5 / (s + 1) for s in range(100)])


def test_config_becomes_typed_hparams(folder):
    root, _, _ = folder
    _, hp = lossctl.load(root / "wandb", hparams=True)
    got = {n: v for r, n, v in zip(hp["run"], hp["name"], hp["value"]) if r == "healthy"}
    assert got == {"lr": 1e-3, "batch_size": 32, "optimizer.name": "adam", "optimizer.eps": 1e-8,
                   "layers": "[64, 64]", "use_amp": True, "tag": "baseline"}
    assert type(got["batch_size"]) is int and type(got["use_amp"]) is bool
    resumed = {n: v for r, n, v in zip(hp["run"], hp["name"], hp["value"]) if r == "resumed"}
    assert resumed == {"lr": 0.1}


def test_config_yaml_of_an_online_run_wins(folder, tmp_path):
    """Online runs write files/config.yaml, values wrapped as {value: X, desc: ...}."""
    import shutil

    _, runs, _ = folder
    d = tmp_path / "wandb" / runs["diverging"].name
    shutil.copytree(runs["diverging"], d)
    (d / "files" / "config.yaml").write_text(
        "wandb_version: 1\n_wandb:\n  desc: null\n  value:\n    cli_version: 0.31.0\n"
        "lr:\n  desc: null\n  value: 1e-4\nepochs:\n  desc: null\n  value: 10\nmodel:\n  desc: null\n"
        "  value:\n    depth: 12\n    act: gelu\n")
    (d / "files" / "output.log").write_text("step,loss\n0,1.0\n1,0.5\n")  # console output: never a run
    (d / "logs").mkdir(exist_ok=True)
    (d / "logs" / "debug.log").write_text("2024-01-01 12:00:00,123 INFO loss,1.0\n")
    frame, hp = lossctl.load(tmp_path, hparams=True)
    assert set(frame["run"].astype(str)) == {"wandb/diverging"}
    assert dict(zip(hp["name"], hp["value"])) == {"lr": 1e-4, "epochs": 10, "model.depth": 12, "model.act": "gelu"}


def test_analyze_lists_every_run_and_finds_the_divergence(folder):
    root, _, _ = folder
    r = CliRunner().invoke(app, ["analyze", str(root / "wandb"), "--format", "json"])
    assert r.exit_code == 1, r.output
    doc = json.loads(r.stdout)
    by = {x["run"]: x for x in doc["runs"]}
    assert set(by) == {"healthy", "diverging", "resumed", "twin000a", "twin000b"}
    assert all(x["format"] == "wandb" for x in by.values())
    assert "divergence" in {f["kind"] for f in by["diverging"]["findings"]}
    assert by["diverging"]["path"].endswith(runs_dir_name(root, "dvrg0001"))
    assert by["healthy"]["hparams"]["lr"] == 1e-3
    assert not any(f["kind"] == "divergence" for f in by["healthy"]["findings"])
    assert by["resumed"]["warnings"] and "replaced" in by["resumed"]["warnings"][0]


def runs_dir_name(root: Path, run_id: str) -> str:
    return next(p.name for p in (root / "wandb").iterdir() if p.name.endswith(run_id) and not p.is_symlink())


def test_the_folder_above_and_one_run_directory(folder):
    root, runs, _ = folder
    frame = lossctl.load(root)  # the project directory holding wandb/
    assert "wandb/healthy" in set(frame["run"].astype(str))
    one = lossctl.load(runs["healthy"])
    assert set(one["run"].astype(str)) == {"healthy"}
    log = next(runs["healthy"].glob("run-*.wandb"))
    assert len(lossctl.load(log)) == len(one)


def test_signature_changes_with_the_log(folder, tmp_path):
    import shutil

    _, runs, _ = folder
    d = tmp_path / "wandb" / runs["twin_a"].name
    shutil.copytree(runs["twin_a"], d)
    from lossctl.discovery import discover

    ref: RunRef = discover(tmp_path / "wandb").refs[0]
    before = wandb_source.source.signature(ref)
    with open(next(d.glob("run-*.wandb")), "ab") as f:
        f.write(b"\0" * 10)
    assert wandb_source.source.signature(ref) != before


def test_lossctl_does_not_import_wandb(folder):
    root, _, _ = folder
    code = ("import sys; from typer.testing import CliRunner; from lossctl.cli import app; "
            f"r = CliRunner().invoke(app, ['analyze', {str(root / 'wandb')!r}]); "
            "CliRunner().invoke(app, ['--help']); "
            "assert 'wandb' not in sys.modules, 'wandb imported'; print(r.exit_code)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"


def test_legacy_history_jsonl(tmp_path):
    """Clients older than the transaction log: files/wandb-history.jsonl, one object per step."""
    d = tmp_path / "wandb" / "run-20200101_120000-old00001" / "files"
    d.mkdir(parents=True)
    rows = [{"_step": s, "_runtime": s, "_timestamp": 1.6e9 + s, "loss": 1.0 / (s + 1),
             "val": {"loss": 2.0}, "img": {"_type": "image-file", "path": "x.png"}} for s in range(20)]
    rows[5]["loss"] = math.nan
    (d / "wandb-history.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    frame = lossctl.load(tmp_path / "wandb")
    assert set(frame["run"].astype(str)) == {"old00001"}
    steps, values = _series(frame, "old00001", "loss")
    assert steps == list(range(20)) and math.isnan(values[5]) and values[4] == 0.2
    assert set(frame["metric"].astype(str)) == {"loss", "val.loss"}


def _client_08_run(d, rows: list[dict]):
    """A run directory as wandb 0.8 wrote it (``wandb_run.py``/``history.py`` at v0.8.36): no
    ``files/``; ``wandb-history.jsonl`` rows with ``_runtime``, ``_timestamp`` and ``_step``
    appended, media as ``{"_type": "video-file", ...}``; ``config.yaml`` with ``wandb_version: 1``
    and ``{desc, value}`` entries; summary, metadata, system events and the console beside them."""
    d.mkdir(parents=True)
    t0 = 1582070913.25
    (d / "wandb-history.jsonl").write_text("".join(
        json.dumps({**row, "_runtime": 5.0 + step, "_timestamp": t0 + 5.0 + step, "_step": step}) + "\n"
        for step, row in enumerate(rows)))
    (d / "config.yaml").write_text("wandb_version: 1\n\n_wandb:\n  desc: null\n  value:\n    cli_version: 0.8.27\n"
                                   "    python_version: 3.6.9\nbatch_size:\n  desc: null\n  value: 32\n"
                                   "learning_rate:\n  desc: null\n  value: 0.003\n")
    (d / "wandb-summary.json").write_text(json.dumps({**rows[-1], "_step": len(rows) - 1, "_runtime": 504.1}))
    (d / "wandb-metadata.json").write_text(json.dumps({"root": "/content", "program": "train.py", "state": "finished"}))
    (d / "wandb-events.jsonl").write_text(json.dumps({"system.cpu": 41.2, "_wandb": True, "_timestamp": t0, "_runtime": 30}) + "\n")
    (d / "output.log").write_text("Episode 1 reward 180.0\n")


def test_client_08_run_folders(tmp_path):
    """wandb before 0.9 wrote each run's files into ``wandb/dryrun-<time>-<id>/`` (``run-`` when
    synced) with no ``files/`` folder; a repository often commits such a folder alone."""
    rows = [{"loss": 1.0 / (s + 1)} if s % 2 == 0 else {"val_loss": 2.0 / (s + 1)} for s in range(40)]
    rows[7] = {"gameplays": {"_type": "video-file", "path": "media/videos/x.mp4", "size": 192147}}
    _client_08_run(tmp_path / "wandb" / "dryrun-20200219_001234-3kq9xw2z", rows)
    frame, hp = lossctl.load(tmp_path / "wandb", hparams=True)
    assert set(frame["run"].astype(str)) == {"3kq9xw2z"}
    assert set(frame["metric"].astype(str)) == {"loss", "val_loss"}
    steps, values = _series(frame, "3kq9xw2z", "loss")
    assert steps == list(range(0, 40, 2)) and values[1] == 1.0 / 3
    assert dict(zip(hp["name"], hp["value"])) == {"batch_size": 32, "learning_rate": 0.003}

    alone = tmp_path / "repo" / "wandb"  # the run folder committed on its own, under another name
    _client_08_run(alone, rows)
    (run,) = load_runs(alone.parent).runs
    assert run.format == "wandb" and len(run.frame) == 39 and run.warnings == []


CAPTURED = """
import os, sys
sys.path.insert(0, {tests!r})
from pathlib import Path
from wandb_runs import offline
import wandb
root = Path({root!r})
with offline(root):
    os.environ["WANDB_CONSOLE"] = "wrap"
    run = wandb.init(mode="offline", dir=str(root), project="lossctl-tests", settings=wandb.Settings(
        console="wrap", disable_git=True, save_code=False, x_disable_stats=True))
    for i in range(0, 300, 10):  # nanoGPT's train.py prints; nothing goes to wandb.log
        print(f"iter {{i}}: loss {{3.0 / (1 + i / 50):.4f}}, time 12.34ms, mfu 30.12%", flush=True)
    run.finish()
"""


def test_a_run_without_history_is_read_from_the_console_wandb_captured(tmp_path):
    """The client's console capture (files/output.log) holds the training log a script printed
    when nothing went to wandb.log (or when the .wandb file was not kept)."""
    need_wandb()
    code = CAPTURED.format(tests=str(Path(__file__).parent), root=str(tmp_path))
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=120)
    (out,) = tmp_path.glob("wandb/offline-run-*/files/output.log")
    (run,) = load_runs(tmp_path / "wandb").runs
    loss = run.frame[run.frame["metric"] == "loss"]
    assert loss["step"].tolist() == list(range(0, 300, 10)) and loss["value"].iloc[1] == 2.5
    assert any("no W&B history; read the console output W&B captured" in w and str(out) in w for w in run.warnings)


EXPORT = ('"Step","run-a - train/loss","run-a - train/loss__MIN","run-a - train/loss__MAX",'
          '"run b - train/loss","run b - train/loss__MIN","run b - train/loss__MAX"\n'
          "0,2.0,1.9,2.1,2.5,2.5,2.5\n1,1.5,1.5,1.5,,,\n2,1.2,1.1,1.3,3.0,3.0,3.0\n3,NaN,NaN,NaN,5,5,5\n")


def test_chart_export_csv(tmp_path):
    (tmp_path / "wandb_export_2024.csv").write_text(EXPORT)
    frame = lossctl.load(tmp_path)
    assert set(frame["run"].astype(str)) == {"run-a", "run b"}
    assert set(frame["metric"].astype(str)) == {"train/loss"}  # __MIN/__MAX are not metrics
    steps, values = _series(frame, "run-a", "train/loss")
    assert steps == [0, 1, 2, 3] and values[:3].tolist() == [2.0, 1.5, 1.2] and math.isnan(values[3])
    steps, values = _series(frame, "run b", "train/loss")
    assert steps == [0, 2, 3] and values.tolist() == [2.5, 3.0, 5.0]
    r = CliRunner().invoke(app, ["analyze", str(tmp_path), "--format", "json"])
    doc = json.loads(r.stdout)
    assert {x["run"] for x in doc["runs"]} == {"run-a", "run b"}
    assert {x["format"] for x in doc["runs"]} == {"wandb_export"}


def test_a_plain_csv_with_dashes_is_not_an_export(tmp_path):
    (tmp_path / "metrics.csv").write_text("step,a - b,c - d\n0,1.0,2.0\n1,0.5,1.0\n")
    frame = lossctl.load(tmp_path)
    assert set(frame["metric"].astype(str)) == {"a - b", "c - d"}


def test_watch_reads_a_wandb_run_again_when_its_log_changes(folder, tmp_path):
    import shutil

    from lossctl.config import Config
    from lossctl.watch.session import Session

    _, runs, _ = folder
    d = tmp_path / "wandb" / runs["diverging"].name
    shutil.copytree(runs["diverging"], d)
    log = next(d.glob("run-*.wandb"))
    full = log.read_bytes()
    log.write_bytes(full[:len(full) // 3])  # the run so far
    s = Session(tmp_path / "wandb", Config())
    first = s.poll()
    assert first.files == [str(d)] and first.points > 0
    assert not any(f.kind == "divergence" for f in first.findings)
    assert s.poll().points == 0  # unchanged: not read again
    log.write_bytes(full)  # training went on, and diverged
    later = s.poll()
    assert later.points == N - first.points
    assert "divergence" in {f.kind for f in later.findings}
