"""Where a logged training point sits within its epoch, read from the validation clock."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lossctl.detectors.base import RunView
from lossctl.detectors.stats import median, robust_sigma


def val_period(run: RunView, steps: np.ndarray, dt: float):
    """The epoch length in steps from the validation spacing, when it looks once-per-epoch:
    ``(period, "validation spacing")``, ``(None, "per-epoch")`` when validation is logged at every
    training point, else ``(None, None)``."""
    v = run.role("val_loss")
    if v is None:
        return None, None
    vs = v.steps[np.isfinite(v.values)].astype(np.float64)
    vs = vs[(vs >= steps[0]) & (vs <= steps[-1] + dt)]
    if len(vs) < 3:
        return None, None
    gaps = np.diff(vs)
    p = float(median(gaps))
    if p <= 0 or np.mean(np.abs(gaps - p) <= 0.1 * p + dt) < 0.8:  # irregular: not an epoch clock
        return None, None
    if p < 1.5 * dt:
        return None, "per-epoch"  # validation at every logged training point
    return p, "validation spacing"


@dataclass(frozen=True)
class LastBatch:
    """The logged batch at the end of every epoch, whose loss scatters ``ratio`` times more than
    the other batches' (``sigma``: its robust spread in log units around the local level)."""

    origin: float  # a step that holds such a batch
    period: float  # steps per epoch
    dt: float  # the logging interval
    sigma: float
    ratio: float

    def holds(self, steps: np.ndarray) -> np.ndarray:
        """Which of ``steps`` are such a batch."""
        k = (steps - self.origin) / self.period
        return np.abs(k - np.round(k)) * self.period < 0.5 * self.dt


def small_last_batch(run: RunView, steps: np.ndarray, values: np.ndarray, min_ratio: float,
                     min_epochs: int) -> LastBatch | None:
    """The epoch's last batch when its loss scatters at least ``min_ratio`` times more than the
    other batches' (a partial last batch: the data set is not a whole number of batches and the
    loader keeps the remainder, so a few examples make one batch's loss).

    The epoch is read from the validation clock; the last batch is the one logged at a
    validation step, or the one just before or after it (loggers differ by one), whichever
    scatters most, against the pooled spread of all the others (robust sigmas of the residuals
    from a rolling median one epoch wide, over ``min_epochs`` or more epochs).
    """
    if len(steps) < 20 or not np.all(values > 0):
        return None
    dt = float(median(np.diff(steps)))
    if dt <= 0:
        return None
    period, _ = val_period(run, steps, dt)
    if period is None:
        return None
    n = round(period / dt)
    if n < 4 or len(steps) < min_epochs * n:
        return None
    z = pd.Series(np.log(values))
    r = (z - z.rolling(n | 1, center=True, min_periods=1).median()).to_numpy()  # O(N log n)
    v = run.role("val_loss")
    origin = float(v.steps[np.isfinite(v.values)][0])
    pos = np.round((steps - origin) / dt).astype(np.int64) % n
    best = None
    for k in (n - 1, 0, 1):  # the batch at the validation step, or its neighbour
        at = pos == k
        if np.count_nonzero(at) < min_epochs:
            continue
        sigma = float(robust_sigma(r[at]))
        ratio = sigma / max(float(robust_sigma(r[~at])), 1e-12)
        if ratio >= min_ratio and (best is None or ratio > best.ratio):
            best = LastBatch(origin + (k if k <= 1 else k - n) * dt, period, dt, sigma, ratio)
    return best
