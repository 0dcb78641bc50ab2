"""The detectors' fast statistics give numpy's and pandas' values bit for bit (findings must not
change by a digit when a detector moves from np.median to stats.median)."""

import numpy as np
import pandas as pd
import pytest

from lossctl.detectors.stats import (
    _group_medians,
    line_fit,
    median,
    median_rows,
    median_sorted,
    nanmedian_window,
    percentile,
    quantile,
    quantile_rows,
    quantile_sorted,
    rolling_median,
)


def arrays(count: int, seed: int = 0):
    """1-D arrays of every kind the detectors meet: noise, ties, ints, heavy tails, NaN, one point."""
    rng = np.random.default_rng(seed)
    for i in range(count):
        n = int(rng.integers(1, 300))
        x = [rng.standard_normal(n), rng.integers(-50, 50, n), np.round(rng.standard_normal(n), 1) * 1e3,
             np.exp(rng.standard_normal(n) * 5)][i % 4]
        if i % 37 == 0 and x.dtype.kind == "f":
            x[rng.integers(0, n)] = np.nan
        yield x


def same(a, b) -> bool:
    return np.array_equal(a, b, equal_nan=True) and np.shape(a) == np.shape(b) and type(a) is type(b)


def test_median_quantile_percentile_are_numpys():
    for x in arrays(3000):
        kept = x.copy()
        assert same(median(x), np.median(x))
        for q in (0.5, 0.9, 0.0, 1.0, [0.1, 0.9], [0.5, 0.9, 0.99], 1, [0, 1]):
            assert same(quantile(x, q), np.quantile(x, q)), q
        for p in (90, 5, [5, 95], [10, 90]):
            assert same(percentile(x, p), np.percentile(x, p)), p
        assert np.array_equal(x, kept, equal_nan=True)  # the input is left as it was


def test_other_inputs_go_to_numpy():
    assert median([3, 1, 2]) == np.median([3, 1, 2])
    assert same(quantile(np.arange(5, dtype=np.float32), 0.3), np.quantile(np.arange(5, dtype=np.float32), 0.3))
    with pytest.warns(RuntimeWarning):
        assert np.isnan(median(np.array([])))


def test_row_and_window_medians_are_numpys():
    for x in arrays(1500, seed=1):
        if x.dtype.kind != "f" or np.isnan(x).any():
            continue
        for w in (1, 2, 3, 4, 5, 21):
            if w <= len(x):
                rows = np.lib.stride_tricks.sliding_window_view(x, w)
                assert np.array_equal(median_rows(rows), np.median(rows, axis=1))
        for window in (3, 5, 21, 51):
            if len(x) >= 3:
                w = min(window, len(x)) | 1
                padded = np.pad(x, w // 2, constant_values=np.nan)
                expected = np.nanmedian(np.lib.stride_tricks.sliding_window_view(padded, w), axis=1)
                assert np.array_equal(nanmedian_window(x, w), expected)


def test_group_medians_are_pandas_groupby_medians():
    rng = np.random.default_rng(2)
    for x in arrays(1500, seed=2):
        x = x.astype(np.float64)
        idx = np.sort(rng.integers(0, max(1, len(x) // 3), len(x)))
        starts = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]])
        counts = np.diff(np.r_[starts, len(x)])
        expected = pd.Series(x).groupby(idx).median().to_numpy()
        assert np.array_equal(_group_medians(x, idx, starts, counts), expected, equal_nan=True)


def test_group_medians_of_a_few_sizes_are_pandas_groupby_medians():
    """Step-range bins of a regular log hold k or k + 1 points: the per-size partitions."""
    rng = np.random.default_rng(3)
    for x in arrays(1500, seed=3):
        x = x.astype(np.float64)
        if np.isnan(x).any():
            continue
        sizes = rng.integers(1, 8, int(rng.integers(1, 5)))  # one to four sizes
        counts = rng.choice(sizes, len(x))
        counts = counts[: np.searchsorted(np.cumsum(counts), len(x)) + 1]
        counts[-1] -= counts.sum() - len(x)  # the last group is cut to fit
        counts = counts[counts > 0]
        starts = np.r_[0, np.cumsum(counts)[:-1]]
        idx = np.repeat(np.arange(len(counts)), counts)
        expected = pd.Series(x).groupby(idx).median().to_numpy()
        assert np.array_equal(_group_medians(x, idx, starts, counts), expected)


def test_sorted_and_row_quantiles_are_numpys():
    for x in arrays(1500, seed=4):
        x = x.astype(np.float64)
        for q in (0.5, 0.99, 0.0, 1.0, [0.5, 0.9, 0.99], [0.1, 0.9]):
            assert same(quantile_sorted(np.sort(x), q), np.quantile(x, q)), q
        for width in (1, 2, 3, 7, 20):
            if len(x) >= width:
                rows = x[: len(x) // width * width].reshape(-1, width)
                for q in ([0.9], [0.1, 0.9], [0.0, 0.5, 1.0]):
                    assert same(quantile_rows(rows, q), np.quantile(rows, q, axis=1)), (width, q)


def test_rolling_median_is_numpys_over_edge_padded_windows():
    for x in arrays(1500, seed=5):
        x = x.astype(np.float64)
        for window in (2, 3, 5, 21):
            if len(x) >= 3:
                w = min(window, len(x)) | 1
                padded = np.pad(x, w // 2, mode="edge")
                expected = np.median(np.lib.stride_tricks.sliding_window_view(padded, w), axis=1)
                assert np.array_equal(rolling_median(x, window), expected, equal_nan=True)


@pytest.mark.filterwarnings("ignore")  # NaN, rank-deficient fits: numpy warns, and so does line_fit
def test_line_fit_is_numpys_polyfit():
    def outcome(fit, x, y):
        try:
            return fit(x, y)
        except np.linalg.LinAlgError as e:  # NaN, or one point at x = 0: numpy's SVD fails
            return type(e)

    rng = np.random.default_rng(6)
    for y in arrays(1500, seed=6):
        y = y.astype(np.float64)
        n = len(y)
        for x in (np.arange(n, dtype=np.float64), np.cumsum(rng.integers(1, 100, n)).astype(np.float64) * 10.0,
                  np.log(np.arange(1, n + 1, dtype=np.float64))):
            got, expected = outcome(line_fit, x, y), outcome(lambda a, b: np.polyfit(a, b, 1), x, y)
            assert got is expected if isinstance(expected, type) else same(got, expected)


def test_median_of_sorted_is_numpys():
    for x in arrays(3000, seed=7):
        x = np.sort(x)
        assert same(median_sorted(x), np.median(x))
        assert same(median_sorted(x[::3]), np.median(x[::3]))
