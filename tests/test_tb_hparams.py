"""TensorBoard's hparams plugin, written by the real writers: tensorboardX's ``add_hparams`` (a
session sub-directory per call, ``<run>/<time.time()>/`` or ``<run>/<name>/``, the layout torch's
``SummaryWriter.add_hparams`` shares) and Keras' layout (the plugin's ``hparams_pb`` and
``hparams_config_pb`` in the run's own event file). The hyperparameters become the run's typed
``hparams``; a session folder is part of its run, not a run; both TensorBoard readers agree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from impls import IMPLS
from typer.testing import CliRunner

pytest.importorskip("tensorboardX")

from lossctl.cli import app
from lossctl.discovery import discover
from lossctl.readers import fastscan, tensorboard
from lossctl.runs import load_runs

runner = CliRunner()
HP = {"lr": 0.003, "batch_size": 32, "optimizer": "adam", "use_amp": True, "warmup": "1e-2"}
TYPED = {"lr": 0.003, "batch_size": 32, "optimizer": "adam", "use_amp": True, "warmup": 0.01}


@pytest.fixture(params=IMPLS)
def impl(request, monkeypatch):
    monkeypatch.setenv("LOSSCTL_PURE_PYTHON", "1" if request.param == "python" else "0")
    return request.param


def losses(n=120, diverge=False):
    return [2.0 / (1 + s / 10) + 0.05 if not diverge or s < n // 2 else 0.3 * 1.1 ** (s - n // 2) for s in range(n)]


def write_run(d, hparams, curve, name=None, metrics=None):
    """A training run as a script using tensorboardX writes it: scalars, then add_hparams."""
    from tensorboardX import SummaryWriter

    with SummaryWriter(logdir=str(d)) as w:
        for s, v in enumerate(curve):
            w.add_scalar("train/loss", v, s)
        w.add_hparams(hparams, {"hparam/loss": curve[-1], "hparam/accuracy": 0.9} if metrics is None else metrics,
                      name=name)
    return d


def logged(run, metric="train/loss"):
    f = run.frame[run.frame["metric"] == metric]
    return [float(v) for v in f["value"]]


def test_add_hparams_session_folder_belongs_to_its_run(tmp_path, impl):
    curve = losses()
    write_run(tmp_path / "run1", HP, curve)
    (session,) = [p for p in (tmp_path / "run1").iterdir() if p.is_dir()]
    float(session.name)  # tensorboardX names it time.time()
    (run,) = load_runs(tmp_path).runs
    assert run.name == "run1"
    assert run.hparams == TYPED
    assert type(run.hparams["batch_size"]) is int and type(run.hparams["use_amp"]) is bool
    assert set(run.frame["metric"].unique()) == {"train/loss"}  # the hparam/* copies are dropped
    assert logged(run) == pytest.approx(curve, rel=1e-6)
    assert not any(session.name in f for f in run.files)


def test_a_named_session_and_several_calls_merge_in_order(tmp_path, impl):
    from tensorboardX import SummaryWriter

    with SummaryWriter(logdir=str(tmp_path / "run")) as w:
        for s, v in enumerate(losses()):
            w.add_scalar("train/loss", v, s)
        w.add_hparams({"lr": 0.1, "seed": 1}, {"hparam/loss": 0.3}, name="first")
        w.add_hparams({"lr": 0.05}, {"hparam/loss": 0.2}, name="second")  # the later call's values win
    (run,) = load_runs(tmp_path).runs
    assert run.hparams == {"lr": 0.05, "seed": 1}


def test_a_session_folder_named_directly_is_read_as_a_run(tmp_path, impl):
    write_run(tmp_path / "run", HP, losses(), name="session")
    (run,) = load_runs(tmp_path / "run" / "session").runs
    assert run.hparams == TYPED
    assert set(run.frame["metric"].unique()) == {"hparam/loss", "hparam/accuracy"}


def test_a_sub_directory_with_other_scalars_stays_a_run(tmp_path, impl):
    from tensorboardX import SummaryWriter

    d = tmp_path / "run"
    write_run(d, HP, losses(), name="session")
    with SummaryWriter(logdir=str(d / "session"), filename_suffix=".more") as w:  # something else logged there
        w.add_scalar("val/loss", 1.0, 0)
    write_run(d / "eval", {"lr": 1}, losses(), metrics={})  # a run below a run, with its own session
    names = {r.name: r for r in load_runs(tmp_path).runs}
    assert set(names) == {"run", "run/session", "run/eval"}
    assert names["run"].hparams == {} and names["run/session"].hparams == TYPED
    assert names["run/eval"].hparams == {"lr": 1}


def test_keras_layout_hparams_in_the_runs_own_event_file(tmp_path, impl):
    from tensorboard.plugins.hparams import summary_v2 as hp  # what hparams.api exports (it needs tensorflow)
    from tensorboardX import summary as tbx_summary
    from tensorboardX.proto.summary_pb2 import Summary
    from tensorboardX.writer import FileWriter

    lr, opt, layers = hp.HParam("lr"), hp.HParam("optimizer", hp.Discrete(["adam", "sgd"])), hp.HParam("layers")
    d = tmp_path / "keras_run"
    w = FileWriter(str(d))
    as_tbx = lambda pb: Summary.FromString(pb.SerializeToString())  # the same proto, tensorboardX's class
    w.add_summary(as_tbx(hp.hparams_config_pb([lr, opt, layers], [hp.Metric("epoch_loss")])))
    w.add_summary(as_tbx(hp.hparams_pb({lr: 1e-3, opt: "sgd", layers: 4, "dropout": 0.5}, trial_id="t1")))
    curve = losses(50)
    for s, v in enumerate(curve):
        w.add_summary(tbx_summary.scalar("epoch_loss", v), s)
    w.close()
    (run,) = load_runs(tmp_path).runs
    assert run.name == "keras_run"
    assert run.hparams == {"lr": 0.001, "optimizer": "sgd", "layers": 4, "dropout": 0.5}
    assert logged(run, "epoch_loss") == pytest.approx(curve, rel=1e-6)


@pytest.mark.skipif(not fastscan.available, reason="C extension not built")
def test_the_c_scanner_locates_the_plugin_records(tmp_path):
    d = write_run(tmp_path / "run", HP, losses(10), name="s")
    (path,) = (d / "s").glob("events.out.tfevents.*")
    res = fastscan.scan(path)
    assert len(res.hparams_at) == 3  # experiment, session_start_info, session_end_info
    c = tensorboard.reader._scan_c(path, True)
    py = tensorboard.reader._scan_python(path, True)
    assert c.hparams == py.hparams and [t for t, _ in c.hparams] == [
        "_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info"]
    (main,) = d.glob("events.out.tfevents.*")
    assert fastscan.scan(main).hparams_at == []


def test_discovery_does_not_offer_the_session_folder(tmp_path):
    write_run(tmp_path / "run", HP, losses(), name="s")
    (ref,) = discover(tmp_path).refs
    assert ref.name == "run" and ref.locator[2] == TYPED


def sweep(tmp_path):
    for lr in (0.001, 0.01, 0.1, 1.0):
        write_run(tmp_path / f"lr_{lr}", {"lr": lr, "batch_size": 64, "optimizer": "adam"}, losses(diverge=lr == 1.0))
    return tmp_path


def test_sweep_of_add_hparams_runs_in_the_json_report(tmp_path, impl):
    r = runner.invoke(app, ["analyze", "--format", "json", str(sweep(tmp_path))])
    assert r.exit_code in (0, 1), r.output
    doc = json.loads(r.stdout)
    runs = {x["run"]: x for x in doc["runs"]}
    assert set(runs) == {"lr_0.001", "lr_0.01", "lr_0.1", "lr_1.0"}
    for name, x in runs.items():
        assert x["hparams"] == {"lr": float(name[3:]), "batch_size": 64, "optimizer": "adam"}
    assert doc["sweep"]["varying"] == ["lr"]
    assert doc["sweep"]["hparams_from"]["logged"] == 4
    assert {row["run"]: row["hparams"] for row in doc["sweep"]["table"]}["lr_1.0"] == {"lr": 1.0}


def test_sweep_table_shows_the_hparams(tmp_path):
    r = runner.invoke(app, ["analyze", str(sweep(tmp_path))], env={"COLUMNS": "160"})
    assert r.exit_code in (0, 1), r.output
    table = r.output[r.output.index("sweep"):]
    assert "lr" in table and "0.001" in table and "lr_1.0" in table


def test_watch_does_not_follow_the_session_folder(tmp_path):
    from lossctl.config import Config
    from lossctl.watch.session import Session

    write_run(tmp_path / "run", HP, losses(diverge=True))
    session = Session(tmp_path, Config())
    up = session.poll()
    assert set(session.followers) == {"run"} and len(up.files) == 1
    assert {f.kind for f in up.findings} >= {"divergence"}
    session.poll()  # judged once: the verdict is kept while the folder is unchanged
    assert set(session.followers) == {"run"} and len(session.sessions) == 1


LIGHTNING = Path(__file__).resolve().parents[2] / "shared" / "real" / "lightning" / "cv-image-classification" / \
    "lightning_logs" / "mnist_cnn"


@pytest.mark.skipif(not LIGHTNING.is_dir(), reason="../shared/real/lightning not present")
def test_real_lightning_event_files_carry_the_same_hparams_as_their_yaml(impl):
    """Lightning's TensorBoardLogger writes the plugin into the run's own event files beside hparams.yaml."""
    import yaml

    for version in sorted(LIGHTNING.glob("version_*")):
        files = sorted(version.glob("events.out.tfevents.*"))
        plugin = [tensorboard.reader.read(f).hparams for f in files]
        assert plugin and all(p == yaml.safe_load((version / "hparams.yaml").read_text()) for p in plugin)


def test_keras_callback_layout_train_and_validation_folders_are_one_run(tmp_path, impl):
    """Keras' TensorBoard callback writes logdir/train/ and logdir/validation/ with the same
    tags (epoch_loss), and hp.KerasCallback the hparams into logdir itself: one run, its tags
    prefixed by the split, so the validation loss is judged against the training loss."""
    from tensorboard.plugins.hparams import summary_v2 as hp
    from tensorboardX import SummaryWriter
    from tensorboardX.proto.summary_pb2 import Summary
    from tensorboardX.writer import FileWriter

    logdir = tmp_path / "logs" / "run-1"
    w = FileWriter(str(logdir))
    w.add_summary(Summary.FromString(hp.hparams_pb({"lr": 1e-2, "units": 64}, trial_id="t").SerializeToString()))
    w.close()
    train, val = losses(40), [v + 0.1 + (0.03 * (s - 15) if s > 15 else 0) for s, v in enumerate(losses(40))]
    for split, curve in (("train", train), ("validation", val)):
        with SummaryWriter(logdir=str(logdir / split)) as sw:
            for s, v in enumerate(curve):
                sw.add_scalar("epoch_loss", v, s)
    (run,) = load_runs(tmp_path / "logs").runs
    assert run.name == "run-1"
    assert run.hparams == {"lr": 0.01, "units": 64}
    assert logged(run, "train/epoch_loss") == pytest.approx(train, rel=1e-6)
    assert logged(run, "validation/epoch_loss") == pytest.approx(val, rel=1e-6)
    result = runner.invoke(app, ["analyze", str(tmp_path / "logs"), "--format", "json"])
    doc = json.loads(result.stdout)
    (r,) = doc["runs"]
    assert r["roles"] == {"loss": "train/epoch_loss", "val_loss": "validation/epoch_loss"}
    assert "overfitting" in {f["kind"] for f in r["findings"]}
    (only,) = load_runs(logdir / "train").runs  # a split folder named directly is a run of its own
    assert set(only.frame["metric"]) == {"epoch_loss"}


def test_a_keras_validation_folder_read_alone_holds_the_validation_loss(tmp_path):
    """A repository that kept only Keras' logdir/validation/ (a public histopathology CNN's): its
    epoch_loss is the validation loss, and evaluation_loss_vs_iterations, the same 15 values
    again at the optimizer's iteration count (5,501 ... 82,515 there), is that loss on another
    axis, not a second evaluation set judged again."""
    from tensorboardX import SummaryWriter

    val = [0.6 + 0.3 * (-1) ** s * (s > 6) + 0.9 / (1 + s) for s in range(15)]
    folder = tmp_path / "logs" / "validation"
    with SummaryWriter(logdir=str(folder)) as w:
        for s, v in enumerate(val):
            w.add_scalar("epoch_loss", v, s)
            w.add_scalar("epoch_accuracy", 0.7 + 0.01 * s, s)
            w.add_scalar("evaluation_loss_vs_iterations", v, 5501 * (s + 1))
    (run,) = load_runs(folder).runs
    assert set(run.frame["metric"]) == {"validation/epoch_loss", "validation/epoch_accuracy",
                                        "validation/evaluation_loss_vs_iterations"}
    doc = json.loads(runner.invoke(app, ["analyze", str(folder), "--format", "json"]).stdout)
    (r,) = doc["runs"]
    assert r["roles"] == {"val_loss": "validation/epoch_loss"}
    assert {f["metric"] for f in r["findings"]} == {"validation/epoch_loss"}  # judged once


@pytest.mark.parametrize(("tags", "expected"), [
    (("epoch_loss", "val/box_loss"), {"val/epoch_loss", "val/box_loss"}),  # already filed under val
    (("loss", "val/loss"), {"val/loss", "val/val/loss"}),  # leaving val/loss would make two tags one
])
def test_a_split_folder_prefixes_only_tags_not_filed_under_a_split(tmp_path, tags, expected):
    from tensorboardX import SummaryWriter

    with SummaryWriter(logdir=str(tmp_path / "val")) as w:
        for s in range(10):
            for t in tags:
                w.add_scalar(t, 1.0 / (s + 1), s)
    (run,) = load_runs(tmp_path / "val").runs
    assert set(run.frame["metric"]) == expected


@pytest.mark.parametrize("writer", ["tensorboardX", "torch"])
def test_add_scalars_folders_are_one_run_named_by_their_key(tmp_path, writer):
    """``writer.add_scalars("Loss/epoch", {"training": t, "validation": v}, step)`` writes each
    key through a writer of its own under the one tag ``Loss/epoch``: tensorboardX into
    ``<run>/Loss/epoch/training/``, torch (``torch/utils/tensorboard/writer.py``: ``fw_logdir +
    "/" + main_tag.replace("/", "_") + "_" + tag``, written here with tensorboardX's FileWriter)
    into ``<run>/Loss_epoch_training/``; a public PyTorch study kept the latter. One run whose
    training and validation losses are judged as a pair, not runs each with a "training" loss.
    Folders named like that with no run writer above them (a sweep) stay runs."""
    from tensorboardX import SummaryWriter
    from tensorboardX.summary import scalar
    from tensorboardX.writer import FileWriter

    train, val = losses(40), [v + 0.1 + (0.03 * (s - 15) if s > 15 else 0) for s, v in enumerate(losses(40))]
    run = tmp_path / "runs" / "simple_lr"
    with SummaryWriter(logdir=str(run)) as w:
        if writer == "tensorboardX":
            for s in range(40):
                w.add_scalars("Loss/epoch", {"training": train[s], "validation": val[s]}, s)
        else:
            w._get_file_writer()  # torch's add_scalars asks for the run's own writer first
            for key, curve in (("training", train), ("validation", val)):
                fw = FileWriter(str(run / ("Loss/epoch".replace("/", "_") + "_" + key)))
                for s, v in enumerate(curve):
                    fw.add_summary(scalar("Loss/epoch", v), s)
                fw.close()
    (r,) = load_runs(tmp_path / "runs").runs
    assert r.name == "simple_lr" and logged(r, "Loss/epoch/validation") == pytest.approx(val, rel=1e-6)
    doc = json.loads(runner.invoke(app, ["analyze", str(tmp_path / "runs"), "--format", "json"]).stdout)
    (rep,) = doc["runs"]
    assert rep["roles"] == {"loss": "Loss/epoch/training", "val_loss": "Loss/epoch/validation"}
    assert "overfitting" in {f["kind"] for f in rep["findings"]}
    sweep = tmp_path / "sweep"  # runs named like add_scalars folders, but no run writer above them
    for name in ("loss_a", "loss_b"):
        with SummaryWriter(logdir=str(sweep / name)) as w:
            for s in range(10):
                w.add_scalar("loss", 1.0 / (s + 1), s)
    assert sorted(r.name for r in load_runs(sweep).runs) == ["loss_a", "loss_b"]


def test_watch_follows_add_scalars_folders_as_one_run(tmp_path):
    """`lossctl watch` renames add_scalars' folders as analyze does, while they grow, and judges
    each folder once (its verdict is kept from one poll to the next)."""
    from tensorboardX import SummaryWriter

    from lossctl.config import Config
    from lossctl.watch.session import Session

    train, val = losses(40), [v + 0.1 + (0.03 * (s - 15) if s > 15 else 0) for s, v in enumerate(losses(40))]
    (tmp_path / "runs").mkdir()
    session = Session(tmp_path / "runs", Config())
    with SummaryWriter(logdir=str(tmp_path / "runs" / "simple_lr")) as w:
        for s in range(40):
            w.add_scalars("loss", {"training": train[s], "validation": val[s]}, s)
            w.flush()
            for fw in w.all_writers.values():
                fw.flush()
            if s in (10, 39):
                session.poll()
    session.poll()
    assert list(session.reports) == ["simple_lr"] and len(session.scalars) == 1
    report = session.reports["simple_lr"]
    assert (report.view.roles["loss"], report.view.roles["val_loss"]) == ("loss/training", "loss/validation")
    assert "overfitting" in {f.kind for f in report.findings}


def test_watch_follows_the_keras_layout_as_one_run(tmp_path):
    """`lossctl watch` reads logdir/train/ and logdir/validation/ as analyze does: one run whose
    validation loss is paired with its training loss (its overfitting is found while it grows)."""
    from tensorboardX import SummaryWriter

    from lossctl.config import Config
    from lossctl.watch.session import Session

    logdir = tmp_path / "logs" / "run-1"
    train, val = losses(40), [v + 0.1 + (0.03 * (s - 15) if s > 15 else 0) for s, v in enumerate(losses(40))]
    writers = {split: SummaryWriter(logdir=str(logdir / split)) for split in ("train", "validation")}
    session = Session(tmp_path / "logs", Config())
    for s in range(40):
        writers["train"].add_scalar("epoch_loss", train[s], s)
        writers["validation"].add_scalar("epoch_loss", val[s], s)
        for w in writers.values():
            w.flush()
        if s in (10, 39):
            session.poll()
    for w in writers.values():
        w.close()
    session.poll()
    assert list(session.reports) == ["run-1"]
    report = session.reports["run-1"]
    assert report.view.roles["loss"] == "train/epoch_loss" and report.view.roles["val_loss"] == "validation/epoch_loss"
    assert "overfitting" in {f.kind for f in report.findings}
