"""pytorch-CycleGAN-and-pix2pix's ``loss_log.txt``, written as ``Visualizer`` writes it: a
``Training Loss`` header at each start, then ``print_current_losses``' message per
``print_freq`` images (``iters`` counts the images of the epoch and restarts with each)."""

from __future__ import annotations

import time

import numpy as np
from writers import points

from lossctl.analysis import analyze_run
from lossctl.config import Config
from lossctl.runs import load_runs


def header() -> str:  # Visualizer.__init__, as opened for appending
    now = time.strftime("%c", time.localtime(1_700_000_000))
    return "================ Training Loss (%s) ================\n" % now  # noqa: UP031 - the source's format


def message(epoch: int, iters: int, losses: dict) -> str:  # Visualizer.print_current_losses
    msg = "(epoch: %d, iters: %d, time: %.3f, data: %.3f) " % (epoch, iters, 0.125, 0.002)  # noqa: UP031
    for k, v in losses.items():
        msg += "%s: %.3f " % (k, v)  # noqa: UP031
    return msg + "\n"


def pix2pix_log(epochs: int, images: int = 1000, print_freq: int = 100, seed: int = 0, d_wins: bool = False) -> str:
    rng = np.random.default_rng(seed)
    out = [header()]
    n = epochs * images // print_freq
    for k in range(n):
        epoch, iters = k * print_freq // images + 1, k * print_freq % images + print_freq
        t = k / n
        g_gan = (1.0 * np.exp(2.5 * t) if d_wins else 1.0) * np.exp(rng.normal(0, 0.1))
        d = (0.5 * np.exp(-4 * t) if d_wins else 0.5) * np.exp(rng.normal(0, 0.1))
        out.append(message(epoch, iters, {"G_GAN": g_gan, "G_L1": 30 * np.exp(-2 * t) + rng.normal(0, 0.5),
                                          "D_real": d, "D_fake": d * 1.1}))
    return "".join(out)


def test_steps_run_through_the_epochs_and_losses_are_named_as_the_model_holds_them(tmp_path):
    p = tmp_path / "checkpoints" / "facades_pix2pix" / "loss_log.txt"
    p.parent.mkdir(parents=True)
    p.write_text(pix2pix_log(epochs=3))
    (run,) = load_runs(tmp_path).runs
    assert set(run.frame["metric"].unique()) == {"loss_G_GAN", "loss_G_L1", "loss_D_real", "loss_D_fake"}
    assert [s for s, _ in points(run.frame, "loss_G_L1")] == list(range(100, 3001, 100))
    assert not run.warnings


def test_appended_trainings_are_runs_and_a_winning_discriminator_is_found(tmp_path):
    p = tmp_path / "loss_log.txt"
    p.write_text(pix2pix_log(epochs=2, seed=1) + pix2pix_log(epochs=20, seed=2, d_wins=True))
    res = load_runs(p)
    assert [r.name for r in res.runs] == ["loss_log.txt:run1", "loss_log.txt:run2"]
    found = {(f.kind, f.metric) for f in analyze_run(res.runs[1], Config()).findings}
    assert ("divergence", "loss_G_GAN") in found
