"""Real log files for compare and CI tests: Keras CSVLogger and Lightning metrics.csv layouts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from synth import decay


def keras_csv(run_dir: Path, loss, val_loss=None) -> Path:
    """``training.log`` as Keras' CSVLogger writes it: one row per epoch."""
    run_dir.mkdir(parents=True, exist_ok=True)
    head = "epoch,loss" + (",val_loss" if val_loss is not None else "")
    rows = [f"{i},{v!r}" + (f",{float(val_loss[i])!r}" if val_loss is not None else "")
            for i, v in enumerate(map(float, loss))]
    path = run_dir / "training.log"
    path.write_text("\n".join([head, *rows]) + "\n")
    return path


def lightning_csv(run_dir: Path, train_loss, steps_per_epoch: int, val_loss=None, every: int = 1) -> Path:
    """``metrics.csv`` as Lightning's CSVLogger writes it: a training row every ``every`` steps,
    a validation row at the last step of each epoch (train cells empty)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    lines = ["epoch,step,train_loss,val_loss"]
    for step, v in enumerate(map(float, train_loss)):
        epoch = step // steps_per_epoch
        if step % every == 0:
            lines.append(f"{epoch},{step},{v!r},")
        if val_loss is not None and (step + 1) % steps_per_epoch == 0:
            lines.append(f"{epoch},{step},,{float(val_loss[epoch])!r}")
    path = run_dir / "metrics.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def curve(n: int, floor=0.1, start=2.3, rate=5.0, noise=0.03, seed=0) -> np.ndarray:
    """:func:`synth.decay` with the floor first and milder noise (3 %, an eval-set loss)."""
    return decay(n, start=start, floor=floor, rate=rate, noise=noise, seed=seed)
