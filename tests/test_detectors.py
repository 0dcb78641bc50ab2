"""Detectors on synthetic curves of known shape: verdicts, invariances, scheduled events."""

from __future__ import annotations

import numpy as np
import pytest
from hyp import scaled
from hypothesis import given
from hypothesis import strategies as st
from synth import decay, findings, kinds


def diverging(n=400, at=0.5, seed=1):
    y = decay(n, seed=seed)
    k = int(n * at)
    y[k:] = y[k] * np.exp(np.linspace(0, 4, n - k)) * np.exp(np.random.default_rng(seed).normal(0, 0.05, n - k))
    return y


def oscillating(n=60, seed=2):
    rng = np.random.default_rng(seed)
    base = decay(n, start=1.2, floor=0.4, noise=0.0)
    return base * (1 + 0.45 * np.sign(np.sin(np.arange(n) * 1.7)) * rng.uniform(0.5, 1, n))


def test_healthy_per_step_and_per_epoch_have_no_findings():
    assert kinds({"train/loss": decay(5000), "val/loss": decay(50, noise=0.01)},
                 {"val/loss": np.arange(50) * 100 + 99}) == set()
    assert kinds({"loss": decay(20, noise=0.01), "val_loss": decay(20, start=2.0, floor=0.15, noise=0.01)}) == set()


def test_divergence_found_with_onset_and_evidence():
    fs = findings({"train/loss": diverging()})
    (f,) = [f for f in fs if f.kind == "divergence"]
    assert f.severity == "error"
    assert 180 <= f.start_step <= 215
    assert f.evidence["ratio"] > 10
    assert "diverges from step" in f.message
    assert any("learning rate" in s for s in f.suggestions)


def test_divergence_ending_in_nan_reports_both():
    y = diverging()
    y[-30:] = np.nan
    assert {"divergence", "nonfinite"} <= kinds({"train/loss": y})


def test_blow_up_in_one_step_before_nan_is_divergence():
    # SGD with momentum and no clipping: 27 ordinary epochs, then 1e14, then NaN to the end
    y = np.r_[decay(28, start=1.0, floor=0.3, noise=0.02), np.full(12, np.nan)]
    y[27] = 1.25e14
    (f,) = [f for f in findings({"loss": y}) if f.kind == "divergence"]
    assert f.start_step == 27 and f.evidence["ends_nonfinite"] is True and f.evidence["ratio"] > 1e13
    assert "then non-finite" in f.message
    assert "nonfinite" in kinds({"loss": y})


@pytest.mark.parametrize("last", [None, 0.9, 20.0])
def test_nan_without_a_blow_up_is_not_divergence(last):
    # a float16 overflow or a NaN input makes the loss NaN from an ordinary level (or from a
    # rise too small to call divergence): nonfinite alone
    y = np.r_[decay(28, start=1.0, floor=0.3, noise=0.02), np.full(12, np.nan)]
    if last is not None:
        y[27] = last
    assert kinds({"loss": y}) == {"nonfinite"}


def test_spike_that_recovers_is_not_divergence():
    y = decay(1000)
    y[600:615] *= 30
    assert "divergence" not in kinds({"train/loss": y})


@pytest.mark.parametrize("shape", ["step_decay", "warm_restart", "warmup"])
def test_scheduled_events_raise_nothing(shape):
    n = 3000
    t = np.arange(n)
    rng = np.random.default_rng(3)
    if shape == "step_decay":  # the loss drops at each lr decay
        y = decay(n, floor=0.6) * np.where(t < 1000, 1.0, np.where(t < 2000, 0.6, 0.45))
    elif shape == "warm_restart":  # SGDR: a jump at each restart, then a fresh decay
        y = np.concatenate([decay(1000, start=2.3 - 0.5 * i, floor=0.3, seed=i) for i in range(3)])
    else:  # warm-up: a bump in the first 5% of the run, then a normal decay
        y = decay(n)
        y[:150] = 2.3 + 0.8 * np.sin(np.linspace(0, np.pi, 150))
    y = y * np.exp(rng.normal(0, 0.02, n))
    assert kinds({"train/loss": y}) == set()


def test_oscillation_on_per_epoch_log():
    fs = findings({"loss": oscillating()})
    assert [f.kind for f in fs] == ["oscillation"]
    assert fs[0].severity == "warning"


def test_a_jump_far_beyond_the_swings_is_a_spike_beside_the_oscillation():
    """Swings by a factor F explain jumps up to F^3; one batch 10,000x the level does not."""
    y = oscillating()
    y[45] *= 1e4
    fs = {f.kind: f for f in findings({"loss": y})}
    assert set(fs) == {"oscillation", "spike"}
    assert fs["spike"].evidence["peak_step"] == 45
    assert fs["spike"].evidence["peak_ratio"] > fs["oscillation"].evidence["swing_factor"] ** 3
    y = oscillating()
    y[45] *= 2.0  # within the swings: part of the oscillation
    assert kinds({"loss": y}) == {"oscillation"}


def test_per_step_swings_that_repeat_are_oscillation():
    """A per-step loss whose trend swings 2.5x up and down every 400 steps, under batch noise."""
    n = 6000
    y = decay(n, floor=0.3, noise=0.15, seed=4) * np.exp(0.45 * np.sin(np.arange(n) * 2 * np.pi / 400))
    (f,) = [f for f in findings({"train/loss": y}) if f.kind == "oscillation"]
    assert f.evidence["swings"] >= 5


@pytest.mark.parametrize("seed", range(4))
def test_one_knock_and_a_slow_recovery_is_a_spike_not_oscillation(seed):
    """A batch 10,000x the level knocks a per-step loss up 6x and it takes ~150 steps to come
    back down, under 30% batch noise: one rise above the noise is an event, not swings (the
    averaged second half moves up and down 3x its net change, and its band is that one rise)."""
    n, at = 540, 400
    y = decay(n, start=2.0, floor=0.03, rate=4, noise=0.3, seed=seed)
    y[at] *= 1e4
    y[at + 1:] *= 1 + 5 * np.exp(-np.arange(n - at - 1) / 60)
    fs = {f.kind: f for f in findings({"train/loss": y})}
    assert "oscillation" not in fs
    assert fs["spike"].evidence["peak_step"] == at


def test_few_batch_averages_beside_a_calm_validation_loss_are_not_oscillation():
    """A Trainer logging the mean loss of every 25 steps (60 points, too few to measure their
    noise: each is a bin of its own; 2.0x swings of batch noise around the trend) while its 20
    evaluations fall smoothly: the model does not swing. The same training loss beside a
    validation loss that swings with it is an oscillation."""
    n, steps = 60, np.arange(25, 1501, 25)
    train = decay(n, start=0.6, floor=0.25, rate=3, noise=0.0) * np.exp(np.random.default_rng(6).normal(0, 0.25, n))
    evals = np.arange(75, 1501, 75)
    calm = decay(20, start=0.57, floor=0.34, rate=3, noise=0.005, seed=7)
    at = {"loss": steps, "eval_loss": evals}
    assert "oscillation" in kinds({"loss": train}, {"loss": steps})  # without a validation loss
    assert "oscillation" not in kinds({"loss": train, "eval_loss": calm}, at)
    swinging = calm * np.exp(0.3 * np.sign(np.sin(np.arange(20) * 1.7)))
    (f,) = [f for f in findings({"loss": train, "eval_loss": swinging}, at) if f.kind == "oscillation"]
    assert f.evidence["val_points_checked"] == 10 and f.evidence["val_swing_factor"] > 1.3


def test_a_validation_loss_swinging_beside_a_stalled_epoch_mean_is_oscillation():
    """A per-epoch history: the training loss, a mean over each epoch, levels off smoothly while
    the validation loss, measured where each epoch's last update left the weights, swings 1.6x
    to the end. Beside a training loss that keeps falling, the same swings are evaluation noise
    around a model still learning; beside a per-step training loss, the training loss speaks."""
    n = 40
    stalled = decay(n, start=1.5, floor=0.1, rate=12, noise=0.02, seed=3)
    swinging = 0.12 * np.exp(0.25 * np.sign(np.sin(np.arange(n) * 2.1)) * np.random.default_rng(4).uniform(0.6, 1, n))
    (f,) = findings({"loss": stalled, "val_loss": swinging})
    assert (f.kind, f.metric) == ("oscillation", "val_loss")
    assert f.start_step == n // 2 and abs(f.evidence["train_trend_change"]) < 0.1
    assert "loss, averaged between evaluations, has stalled meanwhile" in f.message
    learning = decay(n, start=1.5, floor=0.01, rate=3, noise=0.02, seed=3)  # 0.115 -> 0.035 over the half
    assert "oscillation" not in kinds({"loss": learning, "val_loss": swinging})
    steps = np.arange(n * 20)  # the training loss every step, the validation loss every 20th
    per_step = decay(n * 20, start=1.5, floor=0.1, rate=12, noise=0.02, seed=3)
    assert "oscillation" not in kinds({"loss": per_step, "val_loss": swinging}, {"loss": steps, "val_loss": steps[19::20]})


@pytest.mark.parametrize("points", [66, 120, 190])
def test_single_batches_logged_every_50_steps_are_not_oscillation(points):
    """Lightning's log_every_n_steps=50: each point is one batch's loss, heavy-tailed on a log
    scale, so a 60-bin curve holds one to three points a bin: their noise must be measured,
    not read off residuals around a median of one. Slow swings under the same noise are."""
    rng = np.random.default_rng(points)
    noise = np.exp(rng.standard_t(3, points) * 0.6)
    base = decay(points, start=1.0, floor=0.05, rate=4, noise=0.0)
    steps = np.arange(points) * 50 + 49
    assert "oscillation" not in kinds({"train_loss_step": base * noise}, {"train_loss_step": steps})
    swings = np.exp(1.2 * np.sin(np.arange(points) * 2 * np.pi / 24))
    assert "oscillation" in kinds({"train_loss_step": base * swings * noise ** 0.3}, {"train_loss_step": steps})


def test_mini_batch_noise_is_not_oscillation():
    y = decay(20000, noise=0.4, seed=5)
    assert "oscillation" not in kinds({"train/loss": y})


def test_nonfinite_single_nan_flagged_with_story():
    y = decay(500)
    y[250] = np.nan
    (f,) = findings({"train/loss": y})
    assert f.kind == "nonfinite" and f.start_step == 250 and f.evidence["recovered"] is True
    assert f.evidence["count"] == 1


def test_nonfinite_in_grad_norm_alone_is_not_a_finding():
    g = np.ones(500)
    g[100] = np.inf  # an AMP step skipped by the loss scaler
    assert kinds({"train/loss": decay(500), "grad_norm": g}) == set()


def test_divergence_fix_points_at_growing_lr_schedule():
    n = 400
    lr = 1e-3 * 1.02 ** np.arange(n)
    (f,) = [f for f in findings({"train/loss": diverging(n), "lr": lr}) if f.kind == "divergence"]
    assert f.suggestions[0].startswith("The logged learning rate keeps growing")


def test_divergence_fix_points_at_warmup_peak():
    n = 400
    lr = np.minimum(np.arange(n) / 150, 1.0) * 0.5
    (f,) = [f for f in findings({"train/loss": diverging(n, at=0.5), "lr": lr}) if f.kind == "divergence"]
    assert "warm-up ends at step" in f.suggestions[0]


# --- invariances (hypothesis) -------------------------------------------------------------

curves = st.sampled_from(["healthy", "diverging", "oscillating", "nan"])


def _curve(kind, seed):
    if kind == "healthy":
        return decay(300, seed=seed)
    if kind == "diverging":
        return diverging(300, seed=seed)
    if kind == "oscillating":
        return oscillating(60, seed=seed)
    y = decay(300, seed=seed)
    y[seed % 300] = np.nan
    return y


@scaled(40)
@given(curves, st.integers(0, 1000), st.sampled_from([1e-3, 0.5, 7.0, 1000.0]))
def test_scale_invariance(kind, seed, scale):
    y = _curve(kind, seed)
    expected = {"healthy": set(), "diverging": {"divergence"}, "oscillating": {"oscillation"},
                "nan": {"nonfinite"}}[kind]
    assert kinds({"loss": y}) == kinds({"loss": y * scale}) == expected


@scaled(30)
@given(st.sampled_from(["healthy", "diverging"]), st.integers(0, 1000), st.sampled_from([2, 5, 10]))
def test_resampling_invariance(kind, seed, every):
    n = 3000
    y = decay(n, seed=seed) if kind == "healthy" else diverging(n, seed=seed)
    steps = np.arange(n)
    expected = {"healthy": set(), "diverging": {"divergence"}}[kind]
    assert kinds({"loss": y}) == kinds({"loss": y[::every]}, {"loss": steps[::every]}) == expected


@scaled(40)
@given(st.integers(20, 5000), st.floats(0.0, 0.3), st.integers(0, 10_000),
       st.floats(1e-4, 1e4))
def test_monotone_decreasing_with_noise_never_flagged(n, noise, seed, scale):
    assert kinds({"loss": scale * decay(n, noise=noise, seed=seed)}) == set()


@scaled(40)
@given(st.integers(3, 3000), st.data())
def test_nan_anywhere_is_flagged(n, data):
    y = decay(n)
    i = data.draw(st.integers(0, n - 1))
    y[i] = data.draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    assert "nonfinite" in kinds({"train_loss": y})
