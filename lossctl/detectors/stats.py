"""Scale-free statistics on plain numpy arrays, shared by the detectors (all O(n)).

:func:`median` and :func:`quantile` give exactly what ``np.median`` and ``np.quantile`` (the
default, linear method) give, with a fraction of their per-call overhead: a detector takes
dozens of them on short arrays per run, and in a sweep of thousands of runs that overhead was
a tenth of the analysis.
"""

from __future__ import annotations

import math

import numpy as np

MAX_BINS = 200
_NUMBERS = "dlqihbLQIHB"  # dtype chars of float64 and the integers: what median/quantile take


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
    starts = np.flatnonzero(np.concatenate(([True], idx[1:] != idx[:-1])))  # bins are contiguous runs
    ends = np.concatenate((starts[1:], [n]))
    counts = ends - starts
    if np.all(counts == counts[0]):  # regular logging: one vectorised median over a 2-D view
        medians = median_rows(values.reshape(len(starts), counts[0]))
    else:
        medians = _group_medians(values, idx, starts, counts)
    return steps[starts], steps[ends - 1], medians


def _group_medians(values: np.ndarray, idx: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The median of each contiguous group, as pandas' groupby median gives it (the mean of the
    two middle values for an even count): by partitions of the groups of each size, or from one
    sort of the values within groups when sizes vary much."""
    if np.isnan(values).any():  # pandas leaves NaN out; not met on the finite series detectors judge
        import pandas as pd

        return pd.Series(values).groupby(idx).median().to_numpy()
    sizes = np.unique(counts)
    if len(sizes) <= 4:  # bins of a few sizes (k and k + 1 points): a 2-D partition per size
        out = np.empty(len(starts))
        for c in sizes:
            g = np.flatnonzero(counts == c)
            out[g] = median_rows(values[starts[g][:, None] + np.arange(c)])
        return out
    v = values[np.lexsort((values, idx))]
    lo, hi = starts + (counts - 1) // 2, starts + counts // 2
    return np.where(lo == hi, v[lo], (v[lo] + v[hi]) / 2)


def robust_sigma(x: np.ndarray) -> float:
    """Standard deviation estimated from the median absolute deviation (spike-proof)."""
    if len(x) == 0:
        return 0.0
    return float(1.4826 * median(np.abs(x - median(x))))


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
    h = w // 2
    return median_rows(_windows(np.concatenate((np.full(h, x[0]), x, np.full(h, x[-1]))), w))


def _windows(x: np.ndarray, w: int) -> np.ndarray:
    """Every window of ``w`` consecutive values, one a row (a copy: cheaper than numpy's
    sliding_window_view on the short series it is used on, which the partition copies anyway)."""
    return x[np.arange(len(x) - w + 1)[:, None] + np.arange(w)]


def median(x: np.ndarray):
    """``np.median(x)`` of a 1-D array, bit for bit (NaN when it holds one), at a fifth of its cost."""
    if type(x) is not np.ndarray or x.ndim != 1:
        return np.median(x)
    n = x.shape[0]
    c = x.dtype.char
    if n == 0 or c not in _NUMBERS:
        return np.median(x)
    k = n // 2
    part = x.copy()
    if c == "d":
        part.partition((k - 1, k, -1) if n % 2 == 0 else (k, -1))
        if math.isnan(part[-1]):
            return np.float64(np.nan)
    else:
        part.partition((k - 1, k) if n % 2 == 0 else k)
        part = part.astype(np.float64)
    return part[k] if n % 2 else (part[k - 1] + part[k]) / 2


def quantile(x: np.ndarray, q):
    """``np.quantile(x, q)`` (linear interpolation) of a 1-D float or int array, bit for bit: the
    same index and interpolation arithmetic, without the generic machinery around it. ``q`` a
    float gives a number, a list of floats an array."""
    if type(x) is not np.ndarray or x.ndim != 1 or x.dtype.char not in _NUMBERS or x.shape[0] == 0:
        return np.quantile(x, q)
    n = x.shape[0]
    scalar = isinstance(q, float)  # np.float64 too; an integer q is numpy's exact path
    if not scalar and not (isinstance(q, (list, tuple, np.ndarray)) and all(isinstance(p, float) for p in q)):
        return np.quantile(x, q)
    where, kth = _quantile_points(n, (q,) if scalar else q)
    arr = x.copy()
    arr.partition(sorted(kth))
    return _interpolated(arr, where, scalar, x.dtype.char == "d")


def _quantile_points(n: int, qs) -> tuple[list[tuple[int, int, float]], set[int]]:
    """numpy's linear-method ``(lo, hi, gamma)`` for each quantile of ``n`` values, and the
    sorted positions they read (the same index arithmetic, -1 for the last value included)."""
    where, kth = [], {0, n - 1}
    for p in qs:
        virtual = (n - 1) * float(p)  # numpy's virtual index for the linear method
        lo = -1 if virtual >= n - 1 else 0 if virtual < 0 else math.floor(virtual)
        hi = -1 if lo == -1 else lo + 1
        kth.add(lo % n)
        kth.add(hi % n)
        where.append((lo, hi, virtual - lo))
    return where, kth


def _interpolated(arr, where, scalar: bool, floats: bool):
    """The quantiles ``where`` of ``arr``, sorted at least at the positions they read (along the
    last axis); NaN where the values hold one (sorted last), as numpy gives."""
    rows = arr.ndim == 2
    if not rows and floats and math.isnan(arr[-1]):
        return np.float64(np.nan) if scalar else np.full(len(where), np.nan)
    out = []
    for lo, hi, gamma in where:
        a, b = (arr[:, lo], arr[:, hi]) if rows else (arr[lo], arr[hi])
        diff = b - a
        out.append(b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma)
    if rows:
        out = np.array(out, dtype=np.float64)
        out[:, np.isnan(arr[:, -1])] = np.nan
        return out
    return np.float64(out[0]) if scalar else np.array(out, dtype=np.float64)


def quantile_sorted(x: np.ndarray, q):
    """:func:`quantile` of an already sorted 1-D float array (NaN last, as ``np.sort`` puts
    them), bit for bit: a caller that needs the sorted values anyway saves the partition."""
    scalar = isinstance(q, float)
    where, _ = _quantile_points(x.shape[0], (q,) if scalar else q)
    return _interpolated(x, where, scalar, True)


def quantile_rows(a: np.ndarray, q: list[float]) -> np.ndarray:
    """``np.quantile(a, q, axis=1)`` of a 2-D float array with at least one column, bit for bit:
    one sort of the rows, then the same interpolation as :func:`quantile`; one row per quantile."""
    where, _ = _quantile_points(a.shape[1], q)
    return _interpolated(np.sort(a, axis=1), where, False, True)


def percentile(x: np.ndarray, p):
    """``np.percentile(x, p)``, bit for bit (see :func:`quantile`)."""
    return quantile(x, np.true_divide(p, 100))


def line_fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``np.polyfit(x, y, 1)`` of 1-D float arrays, bit for bit: the same scaled two-column
    system solved by the same LAPACK least squares, without polyfit's generic preparation
    (most of its cost on the short series it fits). Other inputs, and a rank-deficient fit
    (numpy warns about it), go to numpy."""
    if not (type(x) is np.ndarray and type(y) is np.ndarray and x.dtype == np.float64 == y.dtype
            and x.ndim == 1 == y.ndim and 0 < len(x) == len(y)):
        return np.polyfit(x, y, 1)
    lhs = np.empty((len(x), 2))  # np.vander(x, 2)
    lhs[:, 0] = x
    lhs[:, 1] = 1.0
    scale = np.sqrt((lhs * lhs).sum(axis=0))
    lhs /= scale
    c, _, rank, _ = np.linalg.lstsq(lhs, y, len(x) * np.finfo(np.float64).eps)
    if rank != 2:
        return np.polyfit(x, y, 1)
    return c / scale


def median_sorted(x: np.ndarray):
    """``np.median(x)`` of a non-empty 1-D float or int array already in order (a slice of
    sorted steps), bit for bit: its middle value, or the mean of the two as numpy takes it."""
    n = x.shape[0]
    k = n // 2
    if x.dtype.char == "d" and math.isnan(x[-1]):  # np.sort puts NaN last
        return np.float64(np.nan)
    if n % 2:
        return np.float64(x[k])
    return (np.float64(x[k - 1]) + np.float64(x[k])) / 2


def median_rows(a: np.ndarray) -> np.ndarray:
    """``np.median(a, axis=1)`` of a 2-D float array, bit for bit, from one partition."""
    n = a.shape[1]
    if n == 0 or a.dtype != np.float64 or np.isnan(a).any():
        return np.median(a, axis=1)
    k = n // 2
    if n % 2:
        return np.partition(a, k, axis=1)[:, k]
    part = np.partition(a, (k - 1, k), axis=1)
    return (part[:, k - 1] + part[:, k]) / 2


def nanmedian_window(z: np.ndarray, w: int) -> np.ndarray:
    """``np.nanmedian`` over a centred window of odd width ``w`` that shrinks at the ends (the
    series padded with NaN), for a series without NaN: the inner windows in one partition, the
    ``w // 2`` shrunk ones at each end one by one."""
    h = w // 2
    n = len(z)
    if np.isnan(z).any() or n < w:
        padded = np.pad(z, h, constant_values=np.nan)
        return np.nanmedian(np.lib.stride_tricks.sliding_window_view(padded, w), axis=1)
    out = np.empty(n)
    out[h:n - h] = median_rows(_windows(z, w))
    for i in (*range(h), *range(n - h, n)):
        v = np.sort(z[max(0, i - h):i + h + 1])
        c = len(v)
        out[i] = (v[(c - 1) // 2] + v[c // 2]) / 2
    return out
