"""Scale-free statistics on plain numpy arrays, shared by the detectors (all O(n))."""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_BINS = 200


def binned(steps: np.ndarray, values: np.ndarray, max_bins: int = MAX_BINS):
    """Median of ``values`` in equal step-range bins: ``(bin_first_step, bin_last_step, medians)``.

    Binning by step range (not by point count) makes a curve logged every step and the same
    curve logged every 10 steps look alike; the median keeps single spikes out of the trend.
    Series shorter than ``max_bins`` are returned point by point. Steps must be increasing.
    """
    n = len(values)
    if n <= max_bins:
        return steps, steps, values
    idx = bin_index(steps, max_bins)
    starts = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]])  # bins are contiguous runs
    ends = np.r_[starts[1:], n]
    counts = ends - starts
    if np.all(counts == counts[0]):  # regular logging: one vectorised median over a 2-D view
        medians = np.median(values.reshape(len(starts), counts[0]), axis=1)
    else:
        medians = pd.Series(values).groupby(idx).median().to_numpy()
    return steps[starts], steps[ends - 1], medians


def robust_sigma(x: np.ndarray) -> float:
    """Standard deviation estimated from the median absolute deviation (spike-proof)."""
    if len(x) == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(x - np.median(x))))


def diff_noise(x: np.ndarray) -> float:
    """Point-to-point noise: robust spread of first differences / sqrt(2) (trend cancels out)."""
    if len(x) < 3:
        return 0.0
    return robust_sigma(np.diff(x)) / np.sqrt(2)


def tail_slice(n: int, fraction: float, minimum: int = 3) -> slice:
    k = min(n, max(minimum, int(round(n * fraction))))
    return slice(n - k, n)


def fmt(x: float) -> str:
    """A number as people read it in a message: 3 significant digits, no exponent for 1e-3..1e6."""
    if x is None or not np.isfinite(x):
        return str(x)
    ax = abs(x)
    if ax != 0 and (ax < 1e-3 or ax >= 1e6):
        return f"{x:.2e}"
    return f"{x:.3g}" if ax < 1000 else f"{x:,.0f}"


def bin_index(steps: np.ndarray, max_bins: int = MAX_BINS) -> np.ndarray:
    """The bin of each point, as :func:`binned` assigns them (identity for short series)."""
    if len(steps) <= max_bins:
        return np.arange(len(steps))
    span = int(steps[-1] - steps[0]) + 1
    return ((steps - steps[0]) * max_bins // span).astype(np.int64)


def rolling_median(x: np.ndarray, window: int) -> np.ndarray:
    """Centred rolling median, edges padded with the edge value (for short, binned series)."""
    if len(x) < 3 or window < 2:
        return x
    w = min(window, len(x)) | 1
    padded = np.pad(x, w // 2, mode="edge")
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, w), axis=1)
