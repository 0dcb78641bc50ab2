"""loss_imbalance: a total loss that is the (weighted) sum of logged terms, one of which holds it
up while the others fall. Real Lightning PINN logs (shared/real/lightning/pendulum-pinn) for a
positive and a negative case, Keras multi-output histories written as Keras writes them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from synth import decay, findings

from lossctl.analysis import analyze_run, view_of
from lossctl.config import Config
from lossctl.detectors.base import Series
from lossctl.detectors.loss_imbalance import LossImbalance, composite
from lossctl.runs import load_runs

PINN = Path("/work/shared/real/lightning/pendulum-pinn/lightning_logs")
needs_pinn = pytest.mark.skipif(not PINN.is_dir(), reason="shared real logs not mounted")


def analysed(path: Path):
    (run,) = load_runs(str(path)).runs
    return analyze_run(run, Config()).findings


def imbalance(fs):
    return [f for f in fs if f.kind == "loss_imbalance"]



def test_explain_fills_every_threshold():
    text = LossImbalance.explain()
    assert "{" not in text and "What to do" in text and "GradNorm" in text


@needs_pinn
def test_pinn_initial_condition_term_rises_while_the_others_fall():
    """version_0: initial_omega_loss rises ~2x while dynamics_loss falls ~7x and
    initial_theta_loss ~2x; train_loss = the plain sum of the three (weights 1)."""
    (f,) = imbalance(analysed(PINN / "version_0"))
    ev = f.evidence
    assert ev["component"].startswith("initial_omega_loss")
    assert ev["own_change"] > 1.5 and ev["others_change"] < 0.6
    assert ev["share_start"] < 0.25 and ev["share_end"] > 0.4
    assert ev["fit_residual"] < 1e-6
    assert all(abs(t["weight"] - 1.0) < 1e-4 for t in ev["terms"])
    assert abs(sum(t["share_end"] for t in ev["terms"]) - 1.0) < 1e-3
    # the sentence states the evidence's numbers
    assert f"rises {ev['own_change']:.3g}x" in f.message
    assert f"from {ev['share_start']:.0%} to {ev['share_end']:.0%}" in f.message
    assert f"{ev['held_up']:.3g}x lower" in f.message
    assert any("Re-weight" in s for s in f.suggestions) and any("GradNorm" in s for s in f.suggestions)


@needs_pinn
def test_pinn_dynamics_term_stalls_while_the_initial_conditions_are_learned():
    """version_19: the initial-condition terms fall ~20x, the ODE residual does not: from 13% to
    ~80% of the total."""
    (f,) = imbalance(analysed(PINN / "version_19"))
    assert f.evidence["component"].startswith("dynamics_loss")
    assert f.evidence["share_end"] > 0.7 and f.evidence["held_up"] > 3


@needs_pinn
@pytest.mark.parametrize("version", ["version_28", "version_5", "version_9"])
def test_pinn_terms_that_fall_or_stall_together_are_not_flagged(version):
    """28: every term falls 1000x (the ODE residual ends as ~all of the total, but it fell too);
    5: all fall; 9: the two initial-condition terms both stall, nothing falls to hold up."""
    assert imbalance(analysed(PINN / version)) == []


@needs_pinn
def test_pinn_sum_is_found_with_unit_weights():
    (run,) = load_runs(str(PINN / "version_28")).runs
    v = view_of(run)
    parts = [v.series[m] for m in v.series if m.endswith("_step") and m != "train_loss_step"]
    fit = composite(v.series["train_loss_step"], parts, LossImbalance.thresholds)
    assert sorted(fit["names"]) == ["dynamics_loss_step", "initial_omega_loss_step", "initial_theta_loss_step"]
    assert np.allclose(fit["weights"], 1.0, atol=1e-5) and fit["residual"] < 1e-6


def keras_history(path: Path, heads: dict[str, np.ndarray], weights: dict[str, float], val=None) -> Path:
    """history.json as ``json.dump(model.fit(...).history)`` writes it for a two-output model:
    ``loss`` (the weighted sum), ``<output>_loss`` per head, and the ``val_`` copies."""
    path.mkdir(parents=True, exist_ok=True)
    hist = {"loss": [float(sum(weights[k] * heads[k][i] for k in heads)) for i in range(len(next(iter(heads.values()))))]}
    hist.update({f"{k}_loss": [float(x) for x in v] for k, v in heads.items()})
    if val is not None:
        hist["val_loss"] = [float(sum(weights[k] * val[k][i] for k in val)) for i in range(len(next(iter(val.values()))))]
        hist.update({f"val_{k}_loss": [float(x) for x in v] for k, v in val.items()})
    (path / "history.json").write_text(json.dumps(hist))
    return path


def test_keras_two_heads_one_stalled_is_flagged_with_its_weight(tmp_path):
    n = 60
    heads = {"box_output": decay(n, start=4.0, floor=0.05, noise=0.02, seed=1),
             "cls_output": decay(n, start=1.0, floor=0.9, noise=0.02, seed=2)}
    (f,) = imbalance(analysed(keras_history(tmp_path / "run", heads, {"box_output": 1.0, "cls_output": 0.5})))
    assert f.metric == "loss" and f.evidence["component"] == "cls_output_loss"
    w = {t["metric"]: t["weight"] for t in f.evidence["terms"]}
    assert abs(w["box_output_loss"] - 1.0) < 1e-6 and abs(w["cls_output_loss"] - 0.5) < 1e-6


def test_keras_two_heads_falling_together_are_not_flagged(tmp_path):
    n = 60
    heads = {"box_output": decay(n, start=4.0, floor=0.05, noise=0.02, seed=1),
             "cls_output": decay(n, start=1.0, floor=0.02, noise=0.02, seed=2)}
    val = {k: v * 1.1 for k, v in heads.items()}
    assert imbalance(analysed(keras_history(tmp_path / "run", heads, {"box_output": 1.0, "cls_output": 1.0}, val))) == []


def test_validation_terms_are_judged_on_their_own(tmp_path):
    n = 60
    fall = {"box_output": decay(n, start=4.0, floor=0.05, noise=0.02, seed=1),
            "cls_output": decay(n, start=1.0, floor=0.02, noise=0.02, seed=2)}
    val = {"box_output": fall["box_output"] * 1.1, "cls_output": decay(n, start=1.0, floor=1.2, rate=1.0, seed=3)}
    (f,) = imbalance(analysed(keras_history(tmp_path / "run", fall, {"box_output": 1.0, "cls_output": 1.0}, val)))
    assert f.metric == "val_loss" and f.evidence["component"] == "val_cls_output_loss"


def test_no_components_no_finding():
    assert imbalance(findings({"train/loss": decay(500), "val/loss": decay(500, seed=3)})) == []


def test_a_loss_logged_twice_is_not_a_sum():
    """``loss`` and ``train/loss`` the same series, beside one unrelated loss: no composite."""
    y = decay(300)
    other = decay(300, start=1.0, floor=0.9, seed=5)
    assert composite(Series("loss", np.arange(300), y),
                     [Series("train/loss", np.arange(300), y.copy()), Series("aux_loss", np.arange(300), other)],
                     LossImbalance.thresholds) is None


def test_unrelated_loss_series_are_not_taken_for_a_sum():
    rng = np.random.default_rng(0)
    st = np.arange(400)
    parts = [Series(f"l{i}_loss", st, decay(400, seed=i) * np.exp(rng.normal(0, 0.1, 400))) for i in range(3)]
    assert composite(Series("loss", st, decay(400, seed=9)), parts, LossImbalance.thresholds) is None


def test_sample_run():
    """sample_logs/loss_imbalance_lightning: a real two-head regression whose price term,
    weighted 10x, takes the shared trunk; the demand term stalls at ~90% of the total."""
    root = Path(__file__).resolve().parents[1] / "sample_logs" / "loss_imbalance_lightning"
    (f,) = imbalance(analysed(root))
    assert f.evidence["component"] == "demand_loss" and f.evidence["share_end"] > 0.8
    w = {t["metric"]: t["weight"] for t in f.evidence["terms"]}
    assert abs(w["price_loss"] - 10.0) < 1e-6 and abs(w["demand_loss"] - 1.0) < 1e-6
