"""What the learning-rate and gradient-norm series say around a step range (for ranking fixes)."""

from __future__ import annotations

import numpy as np

from lossctl.detectors.base import RunView


def lr_context(run: RunView, start_step: int) -> dict:
    """Learning-rate facts around ``start_step``: growth since the start, and whether a warm-up
    had just ended (the lr stopped rising shortly before)."""
    lr = run.role("lr")
    if lr is None:
        return {}
    ok = np.isfinite(lr.values) & (lr.values > 0)
    steps, vals = lr.steps[ok], lr.values[ok]
    if len(vals) < 2:
        return {}
    before = vals[steps <= start_step]
    at = before[-1] if len(before) else vals[0]
    peak_i = int(np.argmax(vals))
    out = {"lr_at_onset": float(at), "lr_growth": float(at / vals[0]), "lr_max": float(vals[peak_i])}
    out["lr_final_growth"] = float(vals[-1] / vals[0])
    # warm-up: the lr rose, then its peak was reached before the onset and held or decayed after
    rose = vals[peak_i] > 2 * vals[0]
    if rose and steps[peak_i] <= start_step and vals[-1] <= vals[peak_i] * 1.0001:
        out["warmup_end_step"] = int(steps[peak_i])
    return out


def grad_growth(run: RunView, start_step: int, end_step: int) -> float | None:
    """Largest gradient norm in ``[start, end]`` relative to its median before ``start``."""
    g = run.role("grad_norm")
    if g is None:
        return None
    ok = np.isfinite(g.values)
    before = g.values[ok & (g.steps < start_step)]
    during = g.values[ok & (g.steps >= start_step) & (g.steps <= end_step)]
    if len(before) < 3 or len(during) == 0 or np.median(before) <= 0:
        return None
    return float(np.max(during) / np.median(before))
