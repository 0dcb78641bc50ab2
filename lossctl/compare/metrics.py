"""Statistics of one curve on a common step range, vectorised (O(n log n) in the points).

Every statistic is taken by step range, never by point index, so a curve logged every step and
the same curve logged every 10th step give the same numbers; and each scales with the values,
so multiplying a loss by 1000 changes no comparison.
"""

from __future__ import annotations

import numpy as np

from lossctl.compare.align import common_range, interp_at
from lossctl.compare.model import CurveStats, MetricComparison
from lossctl.detectors.base import Series
from lossctl.detectors.stats import median, robust_sigma

FINAL_FRACTION = 0.05  # the final value averages the last 5 % of the common range...
MIN_POINTS = 3  # ...and at least this many points, so one noisy point never decides
NOISE_FRACTION = 0.25  # noise is measured on the last quarter of the common range...
NOISE_MIN_POINTS = 8  # ...or at least this many points


def trailing_mean(x: np.ndarray, y: np.ndarray, width: float, upto: int | None = None) -> np.ndarray:
    """Mean of the finite values in ``[x_i - width, x_i]`` (at least ``MIN_POINTS`` points),
    for every ``i``, or for ``i = upto`` only (the same bits: the sums are prefix sums either way).

    Cumulative sums make it O(n log n); values are clipped far above the curve's typical level
    first, so a blow-up to 1e30 cannot swamp the float sums of the points after it.
    """
    n = len(y)
    ok = np.isfinite(y)
    if not ok.any():
        return np.full(n if upto is None else 1, np.nan)
    level = float(median(np.abs(y[ok]))) or float(np.max(np.abs(y[ok]))) or 1.0
    stop = n if upto is None else upto + 1
    yc = np.where(ok[:stop], np.clip(y[:stop], -1e9 * level, 1e9 * level), 0.0)
    cs = np.concatenate(([0.0], np.cumsum(yc)))
    cn = np.concatenate(([0], np.cumsum(ok[:stop])))
    hi = np.arange(1, n + 1) if upto is None else np.array([stop])
    x = x[:stop]
    lo = np.minimum(np.searchsorted(x, x[hi - 1] - width, side="left"), hi - MIN_POINTS).clip(0)
    count = cn[hi] - cn[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, (cs[hi] - cs[lo]) / np.maximum(count, 1), np.nan)


def area(s: Series, lo: int, hi: int) -> float:
    """Area under the curve's linear interpolant between steps ``lo`` and ``hi`` (finite points)."""
    ok = np.isfinite(s.values)
    x, y = s.steps[ok], s.values[ok]
    if len(x) == 0:
        return float("nan")
    if hi == lo:
        return 0.0
    inside = (x > lo) & (x < hi)
    xs = np.concatenate(([lo], x[inside], [hi])).astype(np.float64)
    ys = np.concatenate(([interp_at(s, lo)], y[inside], [interp_at(s, hi)]))
    return float(np.sum((xs[1:] - xs[:-1]) * (ys[1:] + ys[:-1]) / 2))


def end_noise(s: Series, lo: int, hi: int) -> float:
    """Robust spread of the residuals around a straight-line trend of the final stretch of
    ``[lo, hi]``: how far one point of this curve strays from its level near the end."""
    end = int(np.searchsorted(s.steps, hi, side="right"))
    start = min(int(np.searchsorted(s.steps, hi - NOISE_FRACTION * (hi - lo), side="left")),
                max(0, end - NOISE_MIN_POINTS))
    x, y = s.steps[start:end].astype(np.float64), s.values[start:end]
    ok = np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(y) < 4:
        return 0.0
    xc = x - x.mean()
    denom = float(np.dot(xc, xc))
    slope = float(np.dot(xc, y - y.mean()) / denom) if denom > 0 else 0.0
    return robust_sigma(y - y.mean() - slope * xc)


def curve_stats(s: Series, run: str, lo: int, hi: int, sign: float, target: float | None,
                brief: bool = False) -> CurveStats:
    """Statistics of ``s`` for a metric whose better direction is ``-sign`` (sign=1: lower).
    ``brief``: only what a verdict reads (final, noise; the rest NaN or None), for a sweep
    judging each of its runs against the best one."""
    x, y = s.steps, s.values * sign
    width = FINAL_FRACTION * (hi - lo)
    end = int(np.searchsorted(x, hi, side="right")) - 1
    if brief:
        final = float(trailing_mean(x, y, width, upto=end)[0]) * sign
        return CurveStats(run=run, metric=s.metric, points=len(s), first_step=int(x[0]), last_step=int(x[-1]),
                          final=final, final_at_end=float("nan"), best=float("nan"), best_step=None,
                          reached_at=None, auc=float("nan"), noise=end_noise(s, lo, hi))
    smooth = trailing_mean(x, y, width)
    final = float(smooth[end]) * sign
    final_at_end = final_value(s, sign)
    finite = np.isfinite(smooth)
    if finite.any():
        i = int(np.nanargmin(smooth))
        best, best_step = float(smooth[i]) * sign, int(x[i])
    else:
        best, best_step = float("nan"), None
    goal = final if target is None else target
    hit = np.flatnonzero(finite & (smooth <= goal * sign)) if np.isfinite(goal) else []
    return CurveStats(run=run, metric=s.metric, points=len(s), first_step=int(x[0]), last_step=int(x[-1]),
                      final=final, final_at_end=final_at_end, best=best, best_step=best_step,
                      reached_at=int(x[hit[0]]) if len(hit) else None, auc=area(s, lo, hi),
                      noise=end_noise(s, lo, hi))


def final_value(s: Series, sign: float = 1.0) -> float:
    """The curve's final value at its own last step: the mean of its last 5 % of steps (at least
    ``MIN_POINTS`` points), finite points only; NaN when none is finite. ``final_at_end`` of
    :func:`curve_stats`, and the value ``lossctl`` ranks a sweep by."""
    x, y = s.steps, s.values * sign
    if not len(x):
        return float("nan")
    width = FINAL_FRACTION * (int(x[-1]) - int(x[0]))
    k = _tail(x, width)
    return float(trailing_mean(x[-k:], y[-k:], width)[-1]) * sign


def _tail(x: np.ndarray, width: float) -> int:
    """How many trailing points the final window at the last step needs."""
    start = int(np.searchsorted(x, x[-1] - width, side="left"))
    return max(len(x) - start, min(len(x), MIN_POINTS))


def compare_metric(key: str, label: str, direction: str, axis: str, curves: list[Series | None],
                   runs: list[str], target: float | None = None,
                   memo: dict | None = None, brief: bool = False) -> MetricComparison | None:
    """The metric across runs (baseline first); None when the curves share no step range.

    The target for "steps to reach" is the baseline's final value unless given. ``memo`` keeps
    the baseline's statistics per step range across calls (a sweep judges every run against
    one best run: its statistics are computed once per range, not once per run); ``brief``:
    the other runs' statistics hold only what a verdict reads (see :func:`curve_stats`).
    """
    present = [c for c in curves if c is not None and len(c)]
    if curves[0] is None or not len(curves[0]) or len(present) < 2:
        return None
    rng = common_range(present)
    if rng is None:
        return None
    lo, hi = rng
    sign = 1.0 if direction == "lower" else -1.0
    held = memo.get((id(curves[0]), lo, hi, sign, target)) if memo is not None else None
    base = held[1] if held is not None else curve_stats(curves[0], runs[0], lo, hi, sign, target)
    if memo is not None and held is None:  # the series is kept too, so its id is never reused
        memo[(id(curves[0]), lo, hi, sign, target)] = (curves[0], base)
    goal = base.final if target is None else target
    stats = [base] + [curve_stats(c, r, lo, hi, sign, goal, brief) if c is not None and len(c) else None
                      for c, r in zip(curves[1:], runs[1:])]
    return MetricComparison(key, label, direction, axis, (lo, hi), goal, stats, list(curves))
