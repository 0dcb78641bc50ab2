"""lossctl's TensorBoard reader against tbparse, the reader people use today: on clean files
both must return the same points (tag, step, wall time, value), point for point, for every
scalar encoding and with heavy records interleaved; both lossctl implementations (C scanner
and pure Python) are checked."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import writers as W
from impls import IMPLS

from lossctl.runs import load_runs

tbparse = pytest.importorskip("tbparse")

IMPLEMENTATIONS = IMPLS


def _points(n: int, seed: int = 0):
    """Three tags with awkward values: tiny, huge, negative, NaN and Inf among ordinary losses."""
    rng = np.random.default_rng(seed)
    out = []
    for step in range(n):
        out.append(("train/loss", step, float(2.3 * np.exp(-step / 50) * np.exp(rng.normal(0, 0.1)))))
        if step % 5 == 0:
            out.append(("val/loss", step, float(rng.choice([1e-30, 3e30, -0.5, 0.7]))))
        if step % 7 == 0:
            out.append(("weird tag/ü (x)", step, [math.nan, math.inf, -math.inf, 1.0][step % 4]))
    return out


def _tbparse_frame(logdir) -> pd.DataFrame:
    """tbparse's points as (metric, step, wall_time, value): simple_value scalars come under
    ``scalars``, TF2 tensor scalars under ``tensors``."""
    reader = tbparse.SummaryReader(str(logdir), extra_columns={"wall_time"})
    parts = []
    for df in (reader.scalars, reader.tensors):
        if len(df):
            parts.append(pd.DataFrame({"metric": df["tag"].astype(str), "step": df["step"].astype(np.int64),
                                       "wall_time": df["wall_time"].astype(np.float64),
                                       "value": df["value"].map(lambda v: float(np.asarray(v))).astype(np.float64)}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["metric", "step", "wall_time", "value"])


def _lossctl_frame(logdir, monkeypatch, impl: str) -> pd.DataFrame:
    monkeypatch.setenv("LOSSCTL_PURE_PYTHON", "1" if impl == "python" else "0")
    (run,) = load_runs(logdir).runs
    assert run.warnings == []
    f = run.frame
    return pd.DataFrame({"metric": f["metric"].astype(str), "step": f["step"], "wall_time": f["wall_time"],
                         "value": f["value"]})


def _canonical(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["metric", "step"], kind="stable").reset_index(drop=True)


def assert_same_points(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    a, b = _canonical(ours), _canonical(theirs)
    assert len(a) == len(b)
    assert list(a["metric"]) == list(b["metric"])
    np.testing.assert_array_equal(a["step"].to_numpy(), b["step"].to_numpy())
    np.testing.assert_array_equal(a["wall_time"].to_numpy(), b["wall_time"].to_numpy())
    # bit for bit, NaN where NaN
    np.testing.assert_array_equal(a["value"].to_numpy(), b["value"].to_numpy())


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("encoding", W.ENCODINGS)
def test_same_points_as_tbparse_for_every_encoding(tmp_path, monkeypatch, impl, encoding):
    pts = _points(300)
    W.write_scalars(tmp_path, pts, encoding, wall=lambda s: W.BASE_WALL + s * 0.37)
    ours = _lossctl_frame(tmp_path, monkeypatch, impl)
    assert len(ours) == len(pts)
    assert_same_points(ours, _tbparse_frame(tmp_path))


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_same_points_as_tbparse_with_heavy_records_between(tmp_path, monkeypatch, impl):
    pts = _points(200, seed=1)
    events = W.scalar_events(pts)
    for i in range(0, len(events), 10):  # images and histograms interleaved, as real runs log them
        events.insert(i, W.summary_event(i, W.BASE_WALL + i, [W.image_value(f"img/{i % 3}"),
                                                              W.histogram_value("weights")]))
    W.write_events(tmp_path, events)
    ours = _lossctl_frame(tmp_path, monkeypatch, impl)
    assert len(ours) == len(pts)
    assert_same_points(ours, _tbparse_frame(tmp_path))


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_same_points_as_tbparse_on_a_tensorboardx_file(tmp_path, monkeypatch, impl):
    pytest.importorskip("tensorboardX")
    pts = [(tag, step, float(v)) for tag, step, v in _points(250, seed=2) if math.isfinite(v)]
    W.write_tensorboardx(tmp_path, pts)
    ours = _lossctl_frame(tmp_path, monkeypatch, impl)
    assert len(ours) == len(pts)
    assert_same_points(ours, _tbparse_frame(tmp_path))
