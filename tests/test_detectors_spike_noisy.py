"""The spike and noisy detectors on synthetic curves of known shape: bad batches, bursts early in
training, per-epoch spikes, small-batch noise; heavy-tailed noise that is neither; invariances."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hyp import scaled
from hypothesis import given
from hypothesis import strategies as st
from synth import decay, findings, kinds

from lossctl.detectors.noisy import Noisy
from lossctl.detectors.spike import Spike


def bad_batch(n=2000, at=1200, mult=30.0, noise=0.05, seed=0):
    """A healthy per-step loss with one corrupted batch (inputs x100, junk, mislabeled rows)."""
    y = decay(n, noise=noise, seed=seed)
    y[at] *= mult
    return y


def small_batch(n=3000, batch=2, seed=0, start=1.0, floor=0.6):
    """Mean squared error of ``batch`` examples with Gaussian errors around a slowly falling
    level: chi-square noise with ``batch`` degrees of freedom (batch 2: exponential scatter)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, n)
    level = floor + (start - floor) * np.exp(-3 * t)
    return level * rng.chisquare(batch, n) / batch


def hard_examples(n=2000, batch=16, seed=0, hard=0.05, floor=0.02):
    """Cross-entropy of a classifier near convergence: per-example losses are exponential around
    the level, and a minority of hard (or mislabeled) examples lose 20x more. Small batches give
    heavy-tailed per-step noise whose ordinary batches reach many times the level."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, n)
    level = floor + 2.3 * np.exp(-6 * t)
    ex = rng.exponential(1.0, (n, batch)) * level[:, None]
    ex = np.where(rng.random((n, batch)) < hard, 20 * ex, ex)
    return ex.mean(axis=1)


def per_epoch(epochs=40, seed=0):
    return decay(epochs, start=1.2, floor=0.2, noise=0.01, seed=seed)


def only(fs, kind):
    (f,) = [f for f in fs if f.kind == kind]
    return f


# --- spike: found, with the evidence behind it ----------------------------------------------

def test_one_bad_batch_is_a_spike_with_evidence_and_data_first():
    f = only(findings({"train/loss": bad_batch()}), "spike")
    assert f.severity == "warning"
    assert f.evidence["spikes"] == 1 and f.evidence["peak_step"] == 1200
    assert f.start_step <= 1200 < f.end_step <= 1210
    assert 20 < f.evidence["peak_ratio"] < 45
    assert f.evidence["recovery_steps"] <= 3
    assert "step 1,200" in f.message and "x its local level" in f.message
    assert f.suggestions[0].startswith("Inspect the batches at steps 1,200")
    json.dumps(f.evidence)  # plain values only


def test_two_junk_shards_with_a_gradient_burst_put_clipping_first():
    n = 2000
    y = decay(n, start=5.0, floor=1.4, rate=4.0, noise=0.03, seed=3)
    g = np.abs(np.random.default_rng(4).normal(0.8, 0.05, n))
    for at in (700, 1400):
        y[at:at + 3] *= np.array([4.5, 4.0, 1.6])
        g[at:at + 3] *= np.array([6.0, 4.0, 2.0])
    f = only(findings({"train/loss": y, "grad_norm": g}), "spike")
    assert f.evidence["spikes"] == 2 and f.evidence["steps"] == "700, 1,400"
    assert f.evidence["grad_norm_spiked"] is True
    assert f.suggestions[0].startswith("Clip gradients") and "gradient norm jumps" in f.suggestions[0]


def test_burst_early_in_training_points_at_warmup():
    y = decay(1600, start=4.8, floor=1.2, rate=4.0, noise=0.04, seed=5)
    y[4:18] *= 6.0  # SGD at a far too high rate without warm-up: 14 steps at 6x, then it settles
    f = only(findings({"train/loss": y}), "spike")
    assert f.evidence["early"] is True and f.evidence["points_elevated"] >= 10
    assert f.start_step <= 5 and f.evidence["peak_ratio"] > 2.5  # the level it is judged against errs high
    assert "warm-up" in f.suggestions[0]


def test_spike_after_the_logged_lr_grew_points_at_the_schedule():
    n = 1000
    lr = 1e-3 * 1.003 ** np.arange(n)  # a scheduler that keeps growing (x20 by the spike)
    f = only(findings({"train/loss": bad_batch(n, at=900, mult=8.0, noise=0.03), "lr": lr}), "spike")
    assert f.evidence["lr_rising"] is True and f.evidence["lr_growth"] > 10
    assert f.suggestions[0].startswith("The logged learning rate grew")


def test_per_epoch_log_one_epoch_far_above_its_neighbours():
    y = per_epoch()
    assert kinds({"loss": y, "val_loss": y * 1.1}) == set()
    y[22] *= 2.0
    f = only(findings({"loss": y}), "spike")
    assert f.evidence["peak_step"] == 22 and f.evidence["recovery_steps"] == 1


def test_a_disturbed_model_recovering_over_several_steps_is_one_spike():
    y = decay(450, noise=0.3, seed=7)  # heavy per-step noise; one bad update, slow recovery
    y[150:166] *= np.r_[15.0, np.linspace(6.0, 1.5, 15)]
    f = only(findings({"train_loss": y}), "spike")
    assert f.evidence["spikes"] == 1 and f.evidence["peak_step"] == 150
    assert f.evidence["points_elevated"] >= 5 and f.evidence["recovery_steps"] >= 8


# --- spike: what it must not flag -----------------------------------------------------------

@pytest.mark.parametrize("seed", range(4))
def test_x30_batch_no_higher_than_ordinary_small_batch_noise_is_not_a_spike(seed):
    y = hard_examples(batch=16, seed=seed)  # ordinary batches already reach ~10x the level
    y[1200] *= 30
    assert "spike" not in kinds({"train/loss": y})


@pytest.mark.parametrize("batch", [1, 2, 4, 16])
def test_heavy_tailed_noise_with_many_outliers_is_not_a_spike(batch):
    for seed in range(3):
        assert "spike" not in kinds({"train/loss": hard_examples(batch=batch, seed=seed)})


def test_a_rise_that_stays_up_is_not_a_spike():
    y = decay(2000, noise=0.05, seed=2)
    y[1200:] *= 3.0
    assert "spike" not in kinds({"train/loss": y})


def test_divergence_through_spikes_is_reported_as_divergence_only():
    n = 1000
    y = decay(n, noise=0.05, seed=4)
    y[500:] = y[500] * np.exp(np.linspace(0, 4, n - 500))
    y[[520, 560, 610]] *= 5.0
    found = kinds({"train/loss": y})
    assert "divergence" in found and "spike" not in found


def test_warm_restarts_with_a_logged_lr_jump_are_not_spikes():
    cycle = 400
    t = np.arange(cycle)
    lr = np.tile(0.05 * (0.5 + 0.5 * np.cos(np.pi * t / cycle)), 4)
    rng = np.random.default_rng(1)
    base = decay(4 * cycle, noise=0.0, floor=0.2)
    bump = np.tile(1.0 + 2.0 * np.exp(-t / 6.0), 4)  # the loss jumps at each restart, recovers fast
    bump[:cycle] = 1.0
    y = base * bump * np.exp(rng.normal(0, 0.03, 4 * cycle))
    assert "spike" not in kinds({"train/loss": y, "lr": lr})


def small_last_batch(seed, epochs=20, per_epoch=22, batch=64, last=3):
    """Per-step loss of a loader that keeps the remainder: 21 batches of 64 examples, then one of 3
    (1,347 examples), validation at each epoch's end. Per-example losses are gamma (shape 0.5,
    the scatter of cross-entropy near convergence), so the 3-example batch scatters ~5x more."""
    rng = np.random.default_rng(seed)
    n = epochs * per_epoch
    level = 0.15 + 2.2 * np.exp(-8 * np.linspace(0, 1, n))
    sizes = np.where(np.arange(n) % per_epoch == per_epoch - 1, last, batch)
    y = np.array([rng.gamma(0.5, level[i] / 0.5, sizes[i]).mean() for i in range(n)])
    ends = np.arange(per_epoch - 1, n, per_epoch)
    return {"train_loss": y, "val_loss": level[ends] * 1.05}, {"val_loss": ends}


@pytest.mark.parametrize("seed", range(12))
def test_a_small_last_batch_is_judged_against_its_own_scatter(seed):
    series, steps = small_last_batch(seed)  # without the rule, seeds 1, 2, 10, 11 report a spike
    assert kinds(series, steps) == set()
    # a bad full batch mid-epoch is a spike; so is a last batch far beyond its own scatter (which
    # spans two orders of magnitude: a few examples make its loss)
    for at, times in ((250, 10), (307, 1000)):
        y = series["train_loss"].copy()
        y[at] *= times
        assert only(findings({**series, "train_loss": y}, steps), "spike").evidence["peak_step"] == at


@pytest.mark.parametrize("seed", range(12))
def test_a_last_batch_jump_that_disturbs_the_next_batches_is_a_spike(seed):
    series, steps = small_last_batch(seed)
    y = series["train_loss"].copy()
    y[307] *= 5  # within the small batch's own scatter, but the update it gave hurt the model:
    y[308:312] *= [4, 3, 2.5, 2]  # the full batches after it are raised and recover
    f = only(findings({**series, "train_loss": y}, steps), "spike")
    assert f.evidence["peak_step"] in (307, 308) and f.evidence["points_elevated"] >= 4


def test_tiny_jump_near_zero_loss_invisible_on_the_curve_is_not_a_spike():
    y = decay(2000, start=0.7, floor=0.001, rate=12.0, noise=0.05, seed=3)
    y[1700] *= 8  # 0.001 -> 0.008 on a curve that starts at 0.7
    assert "spike" not in kinds({"train/loss": y})


# --- noisy -----------------------------------------------------------------------------------

def test_batch_of_two_is_noisy_with_smoothing_advice():
    f = only(findings({"train_loss": small_batch(batch=2)}), "noisy")
    assert f.severity == "info" and (f.start_step, f.end_step) == (0, 2999)
    assert f.evidence["noise_to_level"] > 0.8 and f.evidence["noise_to_decrease"] > 0.6
    assert f.suggestions[0].startswith("Use a larger batch")
    assert any("moving average over" in s for s in f.suggestions)
    assert "noisy: its batch-to-batch scatter" in f.message
    json.dumps(f.evidence)


def test_noisy_run_is_not_spiky():
    for seed in range(3):
        found = kinds({"train_loss": small_batch(batch=2, seed=seed)})
        assert "noisy" in found and "spike" not in found


def test_label_noise_with_tiny_batches_is_noisy_and_constant_lr_is_named():
    # 20% mislabeled, batch 2: the clean examples' loss does not reach zero (the model is
    # pulled towards the wrong labels too)
    y = hard_examples(n=2200, batch=2, hard=0.2, seed=3, floor=0.6)
    n = len(y)
    f = only(findings({"train/loss": y, "lr": np.full(n, 1e-3)}), "noisy")
    assert f.evidence["lr_constant"] is True
    assert any("logged learning rate is constant" in s for s in f.suggestions)


def confident_classifier(n=2500, batch=1, wrong=0.15, wrong_loss=2.0, start=0.7, seed=0):
    """Cross-entropy of a classifier that fits most examples (losses around 0.02, log-normal)
    but keeps getting a share of them wrong (loss ~``wrong_loss``): with one example per step
    most steps cost almost nothing and the loss is carried by the rare steps holding a wrong one."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, n)
    fit = 0.02 + start * np.exp(-8 * t)
    ex = fit[:, None] * np.exp(rng.normal(0, 1, (n, batch)))
    ex = np.where(rng.random((n, batch)) < wrong, rng.lognormal(np.log(wrong_loss), 0.5, (n, batch)), ex)
    return ex.mean(axis=1)


def test_loss_carried_by_rare_batches_is_noisy():
    f = only(findings({"train_loss": confident_classifier()}), "noisy")
    assert f.evidence["tail_ratio"] >= 10
    assert f.suggestions[0].startswith("Use a larger batch")
    # a loss that fell far: the late scatter is small next to the whole decrease, and only the
    # rare costly steps tell
    f = only(findings({"train_loss": confident_classifier(wrong_loss=0.5, start=2.3)}), "noisy")
    assert "carried by rare batches" in f.message and f.evidence["tail_ratio"] >= 10
    assert f.evidence["noise_to_decrease"] < 0.3


def test_the_same_classifier_with_batches_of_32_is_not_noisy():
    for seed in range(3):
        assert kinds({"train_loss": confident_classifier(batch=32, seed=seed)}) == set()


@pytest.mark.parametrize("batch", [16, 64])
def test_ordinary_minibatch_noise_is_not_noisy(batch):
    for seed in range(3):
        assert kinds({"train_loss": small_batch(batch=batch, seed=seed)}) == set()
        assert "noisy" not in kinds({"train/loss": hard_examples(batch=batch, seed=seed)})


def test_plateau_and_per_epoch_curves_are_not_noisy():
    flat = 1.09 * np.exp(np.random.default_rng(0).normal(0, 0.02, 1500))  # barely moving, smooth
    assert "noisy" not in kinds({"train/loss": flat})
    assert "noisy" not in kinds({"loss": per_epoch(300)})


def test_healthy_language_model_noise_is_not_noisy():
    assert kinds({"train/loss": decay(3000, start=5.0, floor=1.2, rate=4.0, noise=0.05)}) == set()


# --- scheduled events and healthy curves: nothing from either detector -----------------------

@pytest.mark.parametrize("shape", ["step_decay", "warm_restart", "warmup", "per_step", "per_epoch"])
def test_healthy_and_scheduled_curves_raise_neither(shape):
    n = 3000
    t = np.arange(n)
    if shape == "step_decay":
        y = decay(n, floor=0.6, noise=0.1) * np.where(t < 1000, 1.0, np.where(t < 2000, 0.6, 0.45))
    elif shape == "warm_restart":
        y = np.concatenate([decay(1000, start=2.3 - 0.5 * i, floor=0.3, noise=0.1, seed=i) for i in range(3)])
    elif shape == "warmup":
        y = decay(n, noise=0.1)
        y[:150] = (2.3 + 0.8 * np.sin(np.linspace(0, np.pi, 150))) * np.exp(
            np.random.default_rng(1).normal(0, 0.1, 150))
    elif shape == "per_step":
        y = decay(n, noise=0.3, seed=9)
    else:
        y = per_epoch(60)
    assert not {"spike", "noisy"} & kinds({"train/loss": y})


# --- invariances (hypothesis) ---------------------------------------------------------------

def _curve(kind, seed):
    if kind == "healthy":
        return decay(1500, noise=0.1, seed=seed)
    if kind == "bad_batch":
        return bad_batch(1500, at=900, mult=20.0, noise=0.05, seed=seed)
    if kind == "small_batch":
        return small_batch(1500, batch=2, seed=seed)
    y = per_epoch(seed=seed)
    y[20] *= 2.0
    return y


@scaled(16)
@given(st.sampled_from(["healthy", "bad_batch", "small_batch", "epoch_spike"]), st.integers(0, 1000),
       st.sampled_from([1e-4, 0.3, 9.0, 5000.0]))
def test_scale_invariance(kind, seed, scale):
    y = _curve(kind, seed)
    expected = {"healthy": set(), "bad_batch": {"spike"}, "small_batch": {"noisy"}, "epoch_spike": {"spike"}}[kind]
    assert kinds({"loss": y}) == kinds({"loss": y * scale}) == expected


@scaled(12)
@given(st.sampled_from(["healthy", "bad_batch", "small_batch"]), st.integers(0, 1000), st.sampled_from([2, 5, 10]))
def test_resampling_invariance(kind, seed, every):
    n = 3000
    if kind == "healthy":
        y = decay(n, noise=0.1, seed=seed)
    elif kind == "bad_batch":
        y = bad_batch(n, at=1800, mult=20.0, noise=0.05, seed=seed)  # a step every 2/5/10 logs
    else:
        y = small_batch(n, batch=2, seed=seed)
    steps = np.arange(n)
    expected = {"healthy": set(), "bad_batch": {"spike"}, "small_batch": {"noisy"}}[kind]
    if kind == "small_batch" and every == 10:  # 300 points: a known limit, see the test below
        assert kinds({"loss": y}) == expected and kinds({"loss": y[::every]}, {"loss": steps[::every]}) <= {
            "noisy", "oscillation"}
        return
    assert kinds({"loss": y}) == kinds({"loss": y[::every]}, {"loss": steps[::every]}) == expected


def test_small_batch_noise_thinned_to_300_points_is_sometimes_called_oscillation():
    """Known limit (found by the random-draw run): batch-2 MSE noise (exponential scatter) over
    3,000 steps is `noisy`; logged every 10th step (300 points) it is called `oscillation`
    instead for 26 of seeds 0-1000 (2.6%; e.g. 27, 53, 295), never both. Pinned here so a fix
    to the oscillation/noisy split shows (raise the bar) and a worse split fails."""
    n, every = 3000, 10
    got = [kinds({"loss": small_batch(n, batch=2, seed=seed)[::every]}, {"loss": np.arange(n)[::every]})
           for seed in range(0, 1000, 10)]
    assert all(k in ({"noisy"}, {"oscillation"}) for k in got), got
    assert sum(k == {"noisy"} for k in got) >= 95, got


def test_explain_fills_every_threshold():
    for det in (Spike, Noisy):
        text = det.explain()
        assert "{" not in text and "What to do" in text


def test_grow_is_the_first_quiet_run_rule():
    """spike._grow (a loop) against the rule written with numpy: the event ends at the last point
    above the band before the first run of more than ``gap`` points within it."""
    from lossctl.detectors.spike import _grow

    def reference(above, gap):
        quiet = np.convolve(~above, np.ones(gap + 1, dtype=int), "valid") == gap + 1
        stop = int(np.argmax(quiet)) if len(above) > gap and quiet.any() else len(above)
        hits = np.flatnonzero(above[:stop])
        return int(hits[-1]) + 1 if len(hits) else 0

    rng = np.random.default_rng(0)
    for _ in range(3000):
        above = rng.random(int(rng.integers(1, 400))) < rng.uniform(0, 1)
        for gap in (1, 2, 3):
            assert _grow(above, gap) == reference(above, gap)
