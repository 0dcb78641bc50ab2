"""A run's verdict does not depend on the format it was logged in.

Every fifth run of both labelled corpora and the first of each kind (a spread of every kind
and of healthy runs), its training loss, validation loss and learning rate rewritten as other
tools write them: tensorboardX's SummaryWriter, MLflow's client (SQLite store), W&B's client
(offline), the lines nanoGPT's ``train.py`` prints, and Hugging Face's ``trainer_state.json``. lossctl must find the
same kinds in each as in the original log. The two text formats carry 4 decimals (nanoGPT's
``{loss:.4f}``, the Trainer's ``round(loss, 4)``): a run with a loss below 0.005 cannot be told
apart there and is compared only in the binary formats.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
from writers import write_tensorboardx

from lossctl.analysis import analyze_run, view_of
from lossctl.config import Config
from lossctl.runs import load_runs

ROOT = Path(__file__).resolve().parents[1]
SPLITS = {"dev": ROOT.parent / "shared" / "corpus" / "dev", "bench": ROOT / "bench" / "corpus" / "out"}
EVERY = 5
TEXT_PRECISION = 0.005  # 4 decimals


def _runs():
    """Every fifth run of each corpus, and the first run labelled with each kind (so that every
    kind is among them)."""
    out = []
    for split, root in SPLITS.items():
        labels = json.loads((root / "labels.json").read_text())
        names = sorted(labels)
        first = {k: n for n in reversed(names) for k in labels[n]["labels"]}
        out += [(split, n) for n in sorted(set(names[::EVERY]) | set(first.values()))]
    return out


def kinds(target) -> set[str]:
    return {f.kind for r in load_runs(target).runs for f in analyze_run(r, Config()).findings}


def _series(split: str, name: str):
    (run,) = load_runs(SPLITS[split] / name).runs
    view = view_of(run)
    got = {key: view.role(role) for key, role in (("train_loss", "loss"), ("val_loss", "val_loss"), ("lr", "lr"))}
    return {k: (s.steps.astype(int).tolist(), s.values.tolist()) for k, s in got.items() if s is not None}


def _tensorboardx(d: Path, series) -> None:
    tags = {"train_loss": "train/loss", "val_loss": "val/loss", "lr": "lr"}
    points = sorted(((tags[k], st, v) for k, (steps, vals) in series.items() for st, v in zip(steps, vals)),
                    key=lambda p: (p[1], p[0] != "train/loss"))
    write_tensorboardx(d, points)


def _nanogpt(d: Path, series) -> None:
    """nanoGPT's train.py: ``iter {iter_num}: loss {lossf:.4f}, time {dt*1000:.2f}ms, mfu
    {running_mfu*100:.2f}%`` each step, ``step {iter_num}: train loss {losses['train']:.4f}, val loss
    {losses['val']:.4f}`` at each evaluation (before that step's update)."""
    train = dict(zip(*series["train_loss"]))
    val = dict(zip(*series["val_loss"])) if "val_loss" in series else {}
    lines, last = [], next(iter(train.values()))
    for st in sorted(set(train) | set(val)):
        last = train.get(st, last)
        if st in val:
            lines.append(f"step {st}: train loss {last:.4f}, val loss {val[st]:.4f}")
        if st in train:
            lines.append(f"iter {st}: loss {train[st]:.4f}, time 50.00ms, mfu 30.00%")
    (d / "train.log").write_text("\n".join(lines) + "\n")


def _hf_trainer(d: Path, series) -> None:
    """``trainer_state.json`` with ``logging_steps=1``: the Trainer rounds the logged loss to 4
    decimals and counts steps from 1; an evaluation row follows the training row of its step."""
    lr = dict(zip(*series["lr"])) if "lr" in series else {}
    rows = []
    for st, v in zip(*series["train_loss"]):
        row = {"epoch": 0.0, "grad_norm": 1.0, "loss": round(v, 4) if math.isfinite(v) else v, "step": st + 1}
        if st in lr:
            row["learning_rate"] = lr[st]
        rows.append((st, 0, row))
    for st, v in zip(*series.get("val_loss", ([], []))):
        rows.append((st, 1, {"epoch": 0.0, "eval_loss": v, "eval_runtime": 0.5, "step": st + 1}))
    history = [r for _, _, r in sorted(rows, key=lambda r: r[:2])]
    state = {"best_metric": None, "epoch": 1.0, "global_step": history[-1]["step"], "log_history": history,
             "logging_steps": 1, "max_steps": history[-1]["step"], "trial_name": None}
    (d / "trainer_state.json").write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")


def _mlflow(db: Path, all_series) -> None:
    pytest.importorskip("mlflow", reason="mlflow is not installed (pip install -e '.[dev]')")
    os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    exp = client.create_experiment("corpus")
    for key, series in all_series.items():
        run = client.create_run(exp, run_name=key)
        points = [Metric(m, v, 1_700_000_000_000 + 10 * st, st) for m, (steps, vals) in series.items()
                  for st, v in zip(steps, vals)]
        for i in range(0, len(points), 1000):
            client.log_batch(run.info.run_id, metrics=points[i:i + 1000])
        client.set_terminated(run.info.run_id)


def _wandb(d: Path, series) -> None:
    from wandb_runs import write_run

    by_step = {k: dict(zip(steps, vals)) for k, (steps, vals) in series.items()}
    steps = sorted(set().union(*by_step.values()))
    write_run(d, steps, name=d.name, **{k: (lambda s, m=m: m.get(s)) for k, m in by_step.items()})


def _below(series, precision: float) -> bool:
    """Whether a loss of the run has a finite value whose size is under ``precision``."""
    values = np.concatenate([np.asarray(series[k][1], dtype=float) for k in ("train_loss", "val_loss") if k in series])
    return bool(np.any(np.abs(values[np.isfinite(values)]) < precision))


@pytest.fixture(scope="module")
def rewritten(tmp_path_factory):
    """``{(split, name): (original kinds, {format: target})}``."""
    root = tmp_path_factory.mktemp("formats")
    out, every = {}, {}
    for split, name in _runs():
        series = _series(split, name)
        if "train_loss" not in series:
            continue
        key = f"{split}__{name}"
        every[key] = series
        targets = {}
        for fmt, write in (("tensorboardx", _tensorboardx), ("nanogpt", _nanogpt), ("hf_trainer", _hf_trainer)):
            if fmt != "tensorboardx" and _below(series, TEXT_PRECISION):
                continue
            d = root / fmt / key
            d.mkdir(parents=True)
            write(d, series)
            targets[fmt] = d
        out[(split, name)] = (kinds(SPLITS[split] / name), targets)
    return root, out, every


def test_text_and_tensorboard_formats_give_the_same_verdicts(rewritten):
    _, runs, _ = rewritten
    compared = 0
    for (split, name), (want, targets) in runs.items():
        for fmt, target in targets.items():
            assert kinds(target) == want, f"{split}/{name} as {fmt}"
            compared += 1
    assert len(runs) >= 25 and compared >= len(runs) + 2 * 12  # a dozen runs carry in text too


def test_mlflow_store_gives_the_same_verdicts(rewritten):
    root, runs, every = rewritten
    db = root / "mlflow.db"
    _mlflow(db, every)
    result = load_runs(db)
    assert len(result.runs) == len(every) and not result.errors
    for run in result.runs:
        split, name = run.name.rsplit("/", 1)[-1].split("__")
        assert {f.kind for f in analyze_run(run, Config()).findings} == runs[(split, name)][0], run.name


def test_wandb_runs_give_the_same_verdicts(rewritten):
    pytest.importorskip("wandb", reason="wandb is not installed (pip install -e '.[dev]')")
    root, runs, every = rewritten
    for key, series in list(every.items())[::2]:  # the client takes ~0.2 s a run
        d = root / "wandb" / key
        d.mkdir(parents=True)
        _wandb(d, series)
        split, name = key.split("__")
        assert kinds(d) == runs[(split, name)][0], key
