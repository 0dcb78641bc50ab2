"""The frame built through pandas' private fast paths (``DataFrame._from_arrays``,
``CategoricalDtype._from_fastpath``, ``from_codes(validate=False)``, lossctl/frame.py) equals
the one the public constructors build: values, dtypes, categories, index and block layout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lossctl import frame as F


def public_frame(metric, step, wall, value, run=".") -> pd.DataFrame:
    """make_frame as it was: the public constructors only."""
    step = np.asarray(step, dtype=np.int64)
    n = len(step)
    wall = np.full(n, np.nan) if wall is None else np.asarray(wall, dtype=np.float64)
    metric = pd.Categorical(metric) if not isinstance(metric, pd.Categorical) else metric
    return pd.DataFrame({
        "run": pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), dtype=pd.CategoricalDtype([run])),
        "metric": metric, "step": step, "wall_time": wall, "value": np.asarray(value, dtype=np.float64),
    })


def layout(frame: pd.DataFrame):
    return [(b.mgr_locs.as_array.tolist(), str(b.dtype)) for b in frame._mgr.blocks]


def assert_same(got: pd.DataFrame, want: pd.DataFrame):
    pd.testing.assert_frame_equal(got, want, check_exact=True, check_categorical=True)
    assert got.index.equals(want.index) and type(got.index) is type(want.index)
    assert got.columns.dtype == want.columns.dtype
    for col in ("run", "metric"):
        g, w = got[col].array, want[col].array
        assert g.dtype == w.dtype and g.dtype.ordered is w.dtype.ordered
        assert g.codes.dtype == w.codes.dtype and np.array_equal(g.codes, w.codes)
        assert g.categories.dtype == w.categories.dtype and list(g.categories) == list(w.categories)
    assert layout(got) == layout(want)


CASES = {
    "one metric": (["loss"] * 5, range(5), None, np.linspace(1, 0, 5)),
    "several": (pd.Categorical.from_codes([0, 0, 1, 1, 2], categories=["a", "b", "val_loss"]),
                [0, 1, 0, 1, 0], [1.5, 2.5, 3.5, 4.5, 5.5], [0.1, -0.0, np.nan, np.inf, 1e-300]),
    "empty": ([], [], [], []),
    "many categories": ([f"m{i % 300}" for i in range(900)], range(900), None, np.arange(900.0)),
    "unicode": (["pérte", "损失"], [0, 1], None, [1.0, 2.0]),
}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("run", [".", "exp/run-1", "ünï"])
def test_make_frame_equals_the_public_constructor(name, run):
    metric, step, wall, value = CASES[name]
    assert_same(F.make_frame(metric, step, wall, value, run), public_frame(metric, step, wall, value, run))


def test_make_frame_copies_what_it_is_given():
    metric = pd.Categorical(["a", "b"])
    step, value = np.array([1, 2]), np.array([0.5, 0.25])
    frame = F.make_frame(metric, step, None, value)
    step[0], value[0] = 9, 9.0
    metric[0] = "b"
    assert frame["step"].tolist() == [1, 2] and frame["value"].tolist() == [0.5, 0.25]
    assert frame["metric"].tolist() == ["a", "b"]
    frame.loc[0, "value"] = 1.0  # its own, writable memory (a read-only scan buffer is copied)


def test_make_frame_refuses_unequal_lengths_as_pandas_does():
    with pytest.raises(ValueError):
        F.make_frame(["a", "b"], [0, 1], None, [1.0])


def test_category_dtype_equals_the_public_one():
    for cats in (["."], ["a", "b", "val_loss"], [f"m{i}" for i in range(200)]):
        got, want = F.category_dtype(cats), pd.CategoricalDtype(cats)
        assert got == want and hash(got) == hash(want)
        assert got.ordered is want.ordered and got.categories.equals(want.categories)
        assert got.categories.dtype == want.categories.dtype


def test_constant_category_equals_the_public_one():
    for n in (0, 1, 1000):
        got = F.constant_category("r", n)
        want = pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), dtype=pd.CategoricalDtype(["r"]))
        pd.testing.assert_extension_array_equal(got, want)


def test_public_path_when_the_private_one_is_gone(monkeypatch):
    monkeypatch.setattr(F, "_from_arrays", None)
    monkeypatch.setattr(pd.CategoricalDtype, "_from_fastpath", None, raising=False)
    metric, step, wall, value = CASES["several"]
    assert_same(F.make_frame(metric, step, wall, value, "x"), public_frame(metric, step, wall, value, "x"))


@pytest.mark.parametrize("steps,codes", [
    ([0, 1, 2, 0, 1, 2], [0, 0, 0, 1, 1, 1]),  # contiguous, increasing
    ([0, 1, 1, 0, 1, 2], [0, 0, 0, 1, 1, 1]),  # a repeated step
    ([0, 0, 1, 1, 2, 2], [0, 1, 0, 1, 0, 1]),  # interleaved, increasing
    ([0, 0, 1, 1, 0, 2], [0, 1, 0, 1, 0, 1]),  # interleaved, a restart
    ([0, 1, 0, 1], [0, 0, 1, 0]),  # a metric in two stretches, increasing
    ([0, 1, 0, 0], [0, 0, 1, 0]),  # a metric in two stretches, a restart
    ([5], [0]),
])
def test_drop_superseded_check_agrees_with_the_general_rule(steps, codes):
    frame = F.make_frame(pd.Categorical.from_codes(codes, categories=["a", "b"]), steps, None,
                         np.arange(len(steps), dtype=float))
    got, dropped = F.drop_superseded(frame)
    # the general rule, per metric: a point is superseded by a later one at or below its step
    keep = [not any(codes[j] == codes[i] and steps[j] <= steps[i] for j in range(i + 1, len(steps)))
            for i in range(len(steps))]
    assert dropped == len(steps) - sum(keep)
    assert got["value"].tolist() == [float(i) for i in range(len(steps)) if keep[i]]


def test_column_is_the_series_array():
    frame = F.make_frame(["a", "b", "a"], [0, 0, 1], [1.0, 2.0, 3.0], [0.5, 0.25, 0.125], "r")
    for name in F.COLUMNS:
        got, series = F.column(frame, name), frame[name]
        if isinstance(series.dtype, pd.CategoricalDtype):
            pd.testing.assert_extension_array_equal(got, series.array)
        else:
            assert got.dtype == series.dtype and np.array_equal(got, series.to_numpy())
