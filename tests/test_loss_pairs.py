"""Every loss pair a run logs is judged: how pairs are formed from the names (roles.loss_pairs),
that each is judged with its findings naming the pair, and that parts of an overall loss add
no false findings. Logs are written in the layouts the tools write (Keras history.json and
CSVLogger, Lightning metrics.csv)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from runlogs import curve
from synth import decay, run_of

from lossctl.analysis import analyze_run, view_of
from lossctl.config import Config
from lossctl.renderers import RENDERERS
from lossctl.roles import LossPair, assign_roles, loss_pairs
from lossctl.runs import load_runs


def pairs_of(*names: str, points: int = 50) -> list[LossPair]:
    counts = dict.fromkeys(names, points)
    return loss_pairs(counts, assign_roles(counts))[0]


# --- forming pairs from names ------------------------------------------------------------------


def test_keras_two_outputs_pair_each_head_with_its_val_twin():
    # Keras names a multi-output model's losses <output>_loss and val_<output>_loss beside the total
    assert pairs_of("loss", "reg_loss", "cls_loss", "val_loss", "val_reg_loss", "val_cls_loss") == [
        LossPair("loss", "val_loss"), LossPair("reg_loss", "val_reg_loss", "loss"),
        LossPair("cls_loss", "val_cls_loss", "loss")]


def test_two_models_under_prefixes_pair_by_name():
    # no total: the primary is today's choice (by name), the other model's pair is judged on its own
    assert pairs_of("reg_loss", "reg_val_loss", "cls_loss", "cls_val_loss") == [
        LossPair("cls_loss", "cls_val_loss"), LossPair("reg_loss", "reg_val_loss")]


def test_gan_losses_are_each_judged_alone():
    for d, g in (("loss_D", "loss_G"), ("d_loss", "g_loss"), ("discriminator_loss", "generator_loss")):
        assert pairs_of(d, g) == [LossPair(d, None), LossPair(g, None)]


def test_the_time_a_loss_takes_is_no_loss():
    # a VisualDL log of a Paddle GAN port times its steps beside its losses ("train/cal loss time")
    assert pairs_of("train/loss", "test/loss", "train/cal loss time", "train/loss_time_ms") == [
        LossPair("train/loss", "test/loss")]


def test_camel_case_names_pair_like_spaced_ones():
    # a custom CSV history of a cross-validation fold: TrainLoss, ValLoss, LR, ValSpearman
    counts = dict.fromkeys(("TrainLoss", "ValLoss", "LR", "ValSpearman"), 11)
    roles = assign_roles(counts)
    assert roles["loss"] == "TrainLoss" and roles["val_loss"] == "ValLoss" and roles["lr"] == "LR"
    assert assign_roles(dict.fromkeys(("trainLoss", "valLoss", "learningRate"), 11))["lr"] == "learningRate"
    assert pairs_of("TrainLoss", "ValLoss") == [LossPair("TrainLoss", "ValLoss")]


def test_multi_task_heads():
    assert pairs_of("loss_task1", "val_loss_task1", "loss_task2", "val_loss_task2") == [
        LossPair("loss_task1", "val_loss_task1"), LossPair("loss_task2", "val_loss_task2")]


def test_primary_pair_is_todays_roles():
    names = ("train/loss", "val/loss", "train/aux_loss", "lr")
    counts = dict.fromkeys(names, 10)
    roles = assign_roles(counts)
    pairs, _ = loss_pairs(counts, roles)
    assert pairs[0] == LossPair(roles["loss"], roles["val_loss"]) == LossPair("train/loss", "val/loss")


def test_other_aggregations_of_a_loss_are_not_judged_again():
    # Lightning logs every loss per step and per epoch: one loss, judged once, both belong to its pair
    counts = {"train_loss_step": 500, "train_loss_epoch": 50, "dynamics_loss_step": 500,
              "dynamics_loss_epoch": 50, "loss_ema": 500}
    pairs, member = loss_pairs(counts, assign_roles(counts))
    assert pairs == [LossPair("train_loss_step", None), LossPair("dynamics_loss_step", None, "train_loss_step")]
    assert member == {"train_loss_step": 0, "train_loss_epoch": 0, "loss_ema": 0,
                      "dynamics_loss_step": 1, "dynamics_loss_epoch": 1}


def test_cross_entropy_by_any_spelling_is_a_loss():
    # Lightning Flash logs train_cross_entropy_step/_epoch and val_cross_entropy, no "loss"
    counts = {"train_cross_entropy_step": 400, "train_cross_entropy_epoch": 20, "val_cross_entropy": 20,
              "val_multiclassjaccardindex": 20}
    roles = assign_roles(counts)
    assert roles["loss"].startswith("train_cross_entropy_") and roles["val_loss"] == "val_cross_entropy"
    assert pairs_of("CrossEntropy/train", "CrossEntropy/val", "cross-entropy")[0] == LossPair(
        "CrossEntropy/train", "CrossEntropy/val")
    # Keras logs a cross-entropy metric beside the loss: the loss stays the training loss
    assert assign_roles(dict.fromkeys(["loss", "categorical_crossentropy", "val_loss"], 30))["loss"] == "loss"


def test_yolov10_terms_are_losses():
    # Ultralytics' YOLOv10 results.csv names its terms per head, without "loss": box_om, cls_oo
    names = ("epoch", "train/box_om", "train/cls_om", "train/box_oo", "metrics/mAP50(B)", "val/box_om",
             "val/cls_om", "val/box_oo", "lr/pg0")
    pairs = pairs_of(*names)
    assert pairs[0] == LossPair("train/box_om", "val/box_om")
    assert {p.loss for p in pairs} == {"train/box_om", "train/cls_om", "train/box_oo"}
    assert pairs_of("boxes", "cls_token", "room") == [LossPair(None, None)]  # the words alone are not losses


def test_settings_named_after_the_loss_are_not_losses():
    assert pairs_of("loss", "val_loss", "loss_scale", "loss_weight_aux") == [LossPair("loss", "val_loss")]


def test_a_second_evaluation_set_is_paired_with_the_training_loss():
    # Hugging Face's Trainer names each eval dataset's loss eval_<name>_loss
    assert pairs_of("loss", "eval_loss", "eval_squad_loss") == [
        LossPair("loss", "eval_loss"), LossPair("loss", "eval_squad_loss")]


def test_detection_losses_are_parts_of_the_total():
    """detectron2's ``total_loss`` beside its parts: the total is the run's loss (it was
    ``loss_cls``, first by name), each part judged as a part of it."""
    pairs = pairs_of("total_loss", "loss_cls", "loss_box_reg", "loss_rpn_cls")
    assert pairs[0] == LossPair("total_loss", None)
    assert LossPair("loss_cls", None, "total_loss") in pairs
    assert LossPair("loss_box_reg", None, "total_loss") in pairs
    assert assign_roles(dict.fromkeys(["LOSS/Total Generator", "LOSS/ST Generator", "LOSS/Total Discriminator"], 9))[
        "loss"] == "LOSS/Total Discriminator"


# --- judging every pair ------------------------------------------------------------------------


def keras_two_outputs(run_dir, reg, val_reg, cls, val_cls, weights=(0.1, 1.0)):
    """``history.json`` of a two-output Keras model (outputs ``reg`` and ``cls``): the weighted
    total ``loss`` first, each output's unweighted loss, then the same on validation data."""
    run_dir.mkdir(parents=True)
    w_reg, w_cls = weights
    history = {"loss": w_reg * reg + w_cls * cls, "reg_loss": reg, "cls_loss": cls,
               "val_loss": w_reg * val_reg + w_cls * val_cls, "val_reg_loss": val_reg, "val_cls_loss": val_cls}
    (run_dir / "history.json").write_text(json.dumps({k: [float(x) for x in v] for k, v in history.items()}))
    return run_dir


def u_shape(n, best_at, rise, floor, seed):
    """A validation loss falling to ``floor`` at ``best_at`` (fraction of the run), then rising by
    ``rise`` (1.0 = doubles) by the end, with 1 % noise."""
    t = np.linspace(0, 1, n)
    fall = floor * (1 + 4 * np.exp(-t / best_at * 3))
    up = np.where(t > best_at, rise * (t - best_at) / (1 - best_at), 0.0)
    return fall * (1 + up) * np.exp(np.random.default_rng(seed).normal(0, 0.01, n))


def analyze(path):
    result = load_runs(path)
    assert len(result.runs) == 1, result.errors
    return analyze_run(result.runs[0], Config())


def test_secondary_head_that_overfits_is_found_and_named(tmp_path):
    n = 60
    run = keras_two_outputs(tmp_path / "run", reg=curve(n, floor=0.05, start=1.0, seed=1),
                            val_reg=u_shape(n, 0.2, 1.5, 0.3, seed=2),
                            cls=curve(n, floor=0.05, start=0.7, seed=3), val_cls=curve(n, floor=0.2, start=0.7, seed=4))
    report = analyze(run)
    assert [(f.kind, f.metric) for f in report.findings] == [("overfitting", "val_reg_loss")]
    f = report.findings[0]
    assert f.evidence["train_metric"] == "reg_loss"
    assert f.evidence["pair"] == {"loss": "reg_loss", "val_loss": "val_reg_loss"}
    assert report.view.roles["val_loss"] == "val_loss"  # the primary stays the total, and is fine
    terminal = RENDERERS["terminal"]([report], [], color=False, width=100)
    assert "val_reg_loss  steps" in terminal and "(pair reg_loss / val_reg_loss)" in terminal
    assert "other loss pairs judged: reg_loss / val_reg_loss, cls_loss / val_cls_loss" in terminal
    assert "`val_reg_loss` (pair reg_loss / val_reg_loss)" in RENDERERS["markdown"]([report], [])
    assert "(pair reg_loss / val_reg_loss)" in RENDERERS["html"]([report], [])
    doc = json.loads(RENDERERS["json"]([report], []))
    assert doc["runs"][0]["findings"][0]["evidence"]["pair"] == {"loss": "reg_loss", "val_loss": "val_reg_loss"}


def test_keras_csv_logger_two_outputs(tmp_path):
    # CSVLogger writes epoch and the keys sorted; the same verdicts as from history.json
    n = 60
    cols = {"reg_loss": curve(n, floor=0.05, start=1.0, seed=1), "val_reg_loss": u_shape(n, 0.2, 1.5, 0.3, seed=2),
            "cls_loss": curve(n, floor=0.05, start=0.7, seed=3), "val_cls_loss": curve(n, floor=0.2, start=0.7, seed=4)}
    cols["loss"] = 0.1 * cols["reg_loss"] + cols["cls_loss"]
    cols["val_loss"] = 0.1 * cols["val_reg_loss"] + cols["val_cls_loss"]
    keys = sorted(cols)
    d = tmp_path / "run"
    d.mkdir()
    (d / "training.log").write_text("\n".join([",".join(["epoch", *keys])] + [
        ",".join([str(i), *(repr(float(cols[k][i])) for k in keys)]) for i in range(n)]) + "\n")
    report = analyze(d)
    assert [(f.kind, f.metric, f.evidence["pair"]["loss"]) for f in report.findings] == [
        ("overfitting", "val_reg_loss", "reg_loss")]


def test_healthy_two_output_run_raises_nothing(tmp_path):
    n = 60
    run = keras_two_outputs(tmp_path / "run", reg=curve(n, floor=0.05, start=1.0, seed=1),
                            val_reg=curve(n, floor=0.1, start=1.0, seed=2),
                            cls=curve(n, floor=0.05, start=0.7, seed=3), val_cls=curve(n, floor=0.2, start=0.7, seed=4))
    assert analyze(run).findings == []


def lightning_gan(run_dir, loss_d, loss_g):
    """Lightning's CSVLogger metrics.csv of a GAN logging ``loss_D`` and ``loss_G`` every step
    (``self.log_dict``): columns are the keys sorted, ``epoch`` and ``step`` among them."""
    run_dir.mkdir(parents=True)
    rows = [f"{i // 100},{float(d)!r},{float(g)!r},{i}" for i, (d, g) in enumerate(zip(loss_d, loss_g))]
    (run_dir / "metrics.csv").write_text("\n".join(["epoch,loss_D,loss_G,step", *rows]) + "\n")
    return run_dir


def test_gan_whose_discriminator_wins(tmp_path):
    # loss_D goes to ~0 while loss_G climbs and never comes back: the generator's loss diverges
    n = 2000
    rng = np.random.default_rng(5)
    t = np.linspace(0, 1, n)
    loss_d = decay(n, start=1.4, floor=0.01, rate=6.0, noise=0.1, seed=6)
    loss_g = np.where(t < 0.2, 2.0 - 2.5 * t, 1.5 * np.exp(3.0 * (t - 0.2))) * np.exp(rng.normal(0, 0.05, n))
    report = analyze(lightning_gan(tmp_path / "gan", loss_d, loss_g))
    assert report.view.pairs == [LossPair("loss_D", None), LossPair("loss_G", None)]
    found = {(f.kind, f.metric) for f in report.findings}
    assert ("divergence", "loss_G") in found
    f = next(f for f in report.findings if f.metric == "loss_G")
    assert f.evidence["pair"] == {"loss": "loss_G"}
    assert "(pair loss_G (training only))" in RENDERERS["terminal"]([report], [], color=False, width=100)


# --- parts of an overall loss ------------------------------------------------------------------


def test_a_part_traded_off_against_the_others_is_not_a_divergence():
    # a PINN-like total of two terms: one term rises while the other falls faster; the total falls
    n = 1000
    t = np.linspace(0, 1, n)
    rng = np.random.default_rng(7)
    rising = 0.03 + 0.1 * (1 - np.exp(-5 * t))
    falling = 0.5 * np.exp(-4 * t) + 0.01
    noise = np.exp(rng.normal(0, 0.02, (2, n)))
    series = {"train_loss": rising * noise[0] + falling * noise[1], "ic_loss": rising * noise[0],
              "pde_loss": falling * noise[1]}
    report = analyze_run(run_of(series), Config())
    assert report.view.pairs[1:] == [LossPair("ic_loss", None, "train_loss"), LossPair("pde_loss", None, "train_loss")]
    alone = analyze_run(run_of({"loss": series["ic_loss"]}), Config())
    assert "divergence" in {f.kind for f in alone.findings}  # judged on its own, it does rise
    assert not any(f.metric == "ic_loss" for f in report.findings)


def test_a_spike_the_total_shows_is_reported_on_the_part_that_carries_it():
    n = 1000
    a = decay(n, start=1.0, floor=0.1, noise=0.03, seed=9)
    b = decay(n, start=0.5, floor=0.05, noise=0.03, seed=10)
    b[600] *= 60.0  # one bad batch in term b
    report = analyze_run(run_of({"loss": a + b, "a_loss": a, "b_loss": b}), Config())
    spikes = {f.metric: f for f in report.findings if f.kind == "spike"}
    assert set(spikes) == {"loss", "b_loss"}
    assert spikes["b_loss"].evidence["pair"] == {"loss": "b_loss"}


def test_nan_in_a_secondary_loss_is_reported_once():
    n = 300
    aux = decay(n, seed=11)
    aux[200:] = np.nan
    report = analyze_run(run_of({"loss": decay(n, seed=12), "val_loss": decay(n, floor=0.2, seed=13),
                                 "aux_loss": aux}), Config())
    assert [(f.kind, f.metric) for f in report.findings if f.kind == "nonfinite"] == [("nonfinite", "aux_loss")]


def test_single_pair_runs_are_unchanged():
    # no pair key in the evidence, one view judged
    report = analyze_run(run_of({"loss": decay(300, seed=1), "val_loss": u_shape(300, 0.2, 1.0, 0.3, seed=3)}),
                         Config())
    assert report.findings and all("pair" not in f.evidence for f in report.findings)
    assert len(report.view.pair_views()) == 1


def test_view_lists_pairs_for_the_sample():
    sample = Path(__file__).resolve().parents[1] / "sample_logs" / "two_heads_keras"
    view = view_of(load_runs(sample).runs[0])
    assert view.pairs == [LossPair("loss", "val_loss"), LossPair("price_loss", "val_price_loss", "loss"),
                          LossPair("segment_loss", "val_segment_loss", "loss")]


def test_quality_metric_directions_from_their_names():
    from lossctl.roles import direction

    higher = ["val_accuracy", "metrics/mAP50(B)", "metrics/mAP50-95(B)", "bbox/AP50", "segm/AP", "mAP@0.5",
              "eval_f1", "test/iou", "rouge1", "bleu"]
    lower = ["eval_wer", "val_perplexity", "train_loss", "val/dfl_loss"]
    assert [direction(n) for n in higher] == ["higher"] * len(higher)
    assert [direction(n) for n in lower] == ["lower"] * len(lower)
    assert [direction(n) for n in ("lr", "learning_rate", "epoch", "step_avg", "grad_norm")] == [None] * 5


def _terms_with_a_jump(jumping: tuple[str, ...]):
    """total_loss = the sum of four terms (logged every step); a bad batch at step 300 makes the
    named terms jump 8x for that one step."""
    terms = {f"loss_{k}": decay(600, start=2.0, floor=0.2, noise=0.03, seed=i) for i, k in enumerate("abcd")}
    for name in jumping:
        terms[name][300] *= 8
    return {"total_loss": sum(terms.values()), **terms}


def test_a_jump_in_most_terms_is_one_finding_on_the_total_that_counts_them():
    """One bad batch jumps in most terms of a Mask2Former-style sum (31 terms, 24 jumping, in a
    public log): one spike on the total, which says how many parts show it, not one per term."""
    report = analyze_run(run_of(_terms_with_a_jump(("loss_a", "loss_b", "loss_c"))), Config())
    (f,) = [f for f in report.findings if f.kind == "spike"]
    assert f.metric == "total_loss" and f.evidence["parts_showing"] == "3 of 4 (loss_a, loss_b, loss_c)"


def test_a_jump_in_one_term_is_named_beside_the_total():
    report = analyze_run(run_of(_terms_with_a_jump(("loss_b",))), Config())
    spikes = {f.metric: f for f in report.findings if f.kind == "spike"}
    assert set(spikes) == {"total_loss", "loss_b"} and "parts_showing" not in spikes["total_loss"].evidence
