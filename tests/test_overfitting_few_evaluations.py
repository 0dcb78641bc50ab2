"""Overfitting seen through a handful of evaluations (a Hugging Face Trainer that evaluates 5
times over a long run): the direction of every evaluation is the evidence."""

from __future__ import annotations

import numpy as np
import writers as W

from lossctl.analysis import analyze_run
from lossctl.config import Config
from lossctl.runs import load_runs


def trainer_state(path, eval_losses, steps=5000, every=10):
    """trainer_state.json as transformers' Trainer writes it: training rows every ``every``
    steps (the loss falls 1000x), an evaluation row at each of len(eval_losses) even stops."""
    rows = []
    n = len(eval_losses)
    evals = {every * round(steps * (i + 1) / n / every): v for i, v in enumerate(eval_losses)}
    for step in range(every, steps + 1, every):
        rows.append({"epoch": round(step / 1000, 2), "grad_norm": 1.0, "learning_rate": 5e-05 * (1 - step / steps),
                     "loss": round(2.3 * 1e-3 ** (step / steps), 6), "step": step})
        if step in evals:
            rows.append({"epoch": round(step / 1000, 2), "eval_loss": evals[step], "eval_runtime": 3.2,
                         "eval_samples_per_second": 312.5, "eval_steps_per_second": 39.1, "step": step})
    doc = {"best_metric": None, "best_model_checkpoint": None, "epoch": steps / 1000, "eval_steps": steps // 5,
           "global_step": steps, "is_hyper_param_search": False, "is_local_process_zero": True,
           "is_world_process_zero": True, "log_history": rows, "logging_steps": every, "max_steps": steps,
           "num_train_epochs": 5, "save_steps": 500, "total_flos": 0.0, "train_batch_size": 8,
           "trial_name": None, "trial_params": None}
    return W.write_json(path / "trainer_state.json", doc)


def found(tmp_path, eval_losses):
    trainer_state(tmp_path, eval_losses)
    (run,) = load_runs(str(tmp_path)).runs
    return [f for f in analyze_run(run, Config()).findings if f.metric == "eval_loss"]


def test_rising_at_every_evaluation_is_overfitting(tmp_path):
    (f,) = found(tmp_path, [0.9, 1.0, 1.15, 1.3, 1.5])
    assert f.kind == "overfitting" and f.severity == "warning"
    ev = f.evidence
    assert (ev["best_step"], ev["val_best"], ev["val_last"]) == (1000, 0.9, 1.5)
    assert ev["evaluations_after_best"] == ev["evaluations_rising"] == 4
    assert ev["train_change"] < 0.01  # the training loss fell >100x between the two evaluations
    assert "rises at every one of its 4 evaluations after its best 0.9 at step 1,000" in f.message
    assert f"+{round(100 * (1.5 / 0.9 - 1))}%" in f.message
    assert f"({ev['train_at_best']:.3g} to {ev['train_last']:.3g}, {ev['train_at_best'] / ev['train_last']:.3g}x lower)" \
        in f.message


def test_one_dip_among_rises_is_still_overfitting(tmp_path):
    (f,) = found(tmp_path, [0.9, 1.0, 0.98, 1.2, 1.3, 1.45])
    assert f.kind == "overfitting" and f.evidence["evaluations_rising"] == 4
    assert "rises at 4 of its 5 evaluations" in f.message


def test_falling_or_wobbling_evaluations_are_not(tmp_path):
    assert found(tmp_path / "a", [1.5, 1.3, 1.15, 1.0, 0.9]) == []
    assert found(tmp_path / "b", [0.9, 1.0, 0.92, 1.01, 0.93]) == []  # up, down, up, down
    assert found(tmp_path / "c", [0.9, 0.93, 0.95, 0.96, 0.97]) == []  # +8%: within 10%


def test_validation_rising_while_training_rises_too_is_not(tmp_path):
    """The training loss must fall meanwhile: a rise in both is not overfitting."""
    trainer_state(tmp_path, [0.9, 1.0, 1.15, 1.3, 1.5])
    (run,) = load_runs(str(tmp_path)).runs
    loss = run.frame["metric"] == "loss"
    run.frame.loc[loss, "value"] = np.linspace(0.5, 2.0, int(loss.sum()))
    assert [f for f in analyze_run(run, Config()).findings if f.kind == "overfitting"] == []
