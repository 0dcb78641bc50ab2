"""The public API (`lossctl.load`), parallel reading of many runs, and `lossctl export`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import lossctl
from lossctl import runs as runs_mod
from lossctl.cli import app
from lossctl.errors import InputError

SAMPLES = Path(__file__).resolve().parents[1] / "sample_logs"


def make_tree(root: Path, n: int) -> None:
    for i in range(n):
        d = root / f"sweep/lr_{i}"
        d.mkdir(parents=True)
        y = np.exp(-np.arange(50) / (10 + i))
        (d / "metrics.csv").write_text("step,train_loss\n" + "".join(f"{s},{v!r}\n" for s, v in enumerate(y)))


def test_load_returns_the_common_frame():
    df = lossctl.load(SAMPLES)
    assert list(df.columns[:5]) == ["run", "metric", "step", "wall_time", "value"]
    assert df["step"].dtype == np.int64 and df["value"].dtype == np.float64
    assert set(df["run"]) == {"healthy_tensorboard", "diverging_lightning", "oscillating_keras",
                              "overfitting_keras_json", "nonfinite_tensorboard", "spike_lightning",
                              "plateau_keras", "train_val_mismatch_keras_json", "noisy_lightning",
                              "epoch_periodic_tensorboard", "nonfinite_console", "loss_imbalance_lightning",
                              "long_spikes_lightning", "two_heads_keras", "overfitting_hf_trainer/checkpoint-600",
                              "val_labels_permuted_keras", "val_oscillating_keras_json",
                              "rl_collapse_tensorboard/PPO_1"} | {
        f"lr_sweep/lr={lr},seed={seed}" for lr in ("1e-3", "3e-3", "1e-2", "3e-2", "1e-1", "3e-1") for seed in (1, 2)}
    assert df["value"].isna().any()  # the NaN of nonfinite_tensorboard are kept


def test_load_raises_input_error_when_nothing_readable(tmp_path):
    with pytest.raises(InputError, match="no training logs found"):
        lossctl.load(tmp_path)


def test_parallel_reading_equals_sequential(tmp_path, monkeypatch):
    make_tree(tmp_path, 12)
    seq = runs_mod.load_runs(tmp_path, jobs=1)
    monkeypatch.setattr(runs_mod, "PARALLEL_MIN_BYTES", 0)
    calls = []
    par = runs_mod.load_runs(tmp_path, jobs=2, progress=lambda d, t: calls.append((d, t)))
    assert [r.name for r in par.runs] == [r.name for r in seq.runs]
    for a, b in zip(seq.runs, par.runs):
        pd.testing.assert_frame_equal(a.frame, b.frame)
    assert calls[-1] == (12, 12)


COLUMNS = ["run", "metric", "step", "wall_time", "value"]


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """The common frame's columns with categories as strings, sorted the same way."""
    f = frame[COLUMNS].astype({"run": str, "metric": str})
    return f.sort_values(["run", "metric", "step"], kind="stable").reset_index(drop=True)


def assert_same_points(back: pd.DataFrame, want: pd.DataFrame) -> None:
    """Every row equal: run, metric, step exactly; wall_time and value bit for bit (NaN where NaN,
    the same infinities, the sign of zero)."""
    back, want = plain(back), plain(want)
    assert back["step"].dtype == np.int64
    pd.testing.assert_frame_equal(back[["run", "metric", "step"]], want[["run", "metric", "step"]])
    for col in ("wall_time", "value"):
        a, b = back[col].to_numpy(np.float64), want[col].to_numpy(np.float64)
        nan = np.isnan(b)
        assert np.array_equal(np.isnan(a), nan), col
        assert np.array_equal(a[~nan].view(np.int64), b[~nan].view(np.int64)), col


def test_export_csv_round_trips(tmp_path):
    out = tmp_path / "all.csv"
    r = CliRunner().invoke(app, ["export", str(SAMPLES), str(out)])
    assert r.exit_code == 0, r.output
    want = lossctl.load(SAMPLES)
    back = pd.read_csv(out, keep_default_na=False, na_values=[""])  # a metric named "nan" stays text
    assert list(back.columns[:5]) == COLUMNS
    assert want["value"].isna().any()  # nonfinite_tensorboard's NaN rows
    assert want["wall_time"].isna().any() and want["wall_time"].notna().any()  # CSV runs and TensorBoard runs
    assert_same_points(back, want)
    assert f"wrote {len(want):,} points of {want['run'].nunique()} runs" in r.output


def test_export_parquet_round_trips(tmp_path):
    pytest.importorskip("pyarrow")  # a dev extra: installed by `make test`
    out = tmp_path / "all.parquet"
    r = CliRunner().invoke(app, ["export", str(SAMPLES), str(out), "--to", "parquet"])
    assert r.exit_code == 0, r.output
    back = pd.read_parquet(out)
    assert list(back.columns[:5]) == COLUMNS
    assert back["wall_time"].dtype == np.float64 and back["value"].dtype == np.float64
    assert_same_points(back, lossctl.load(SAMPLES))


def test_export_bad_format_and_empty_input(tmp_path):
    assert CliRunner().invoke(app, ["export", str(SAMPLES), str(tmp_path / "x"), "--to", "xls"]).exit_code == 2
    assert CliRunner().invoke(app, ["export", str(tmp_path), str(tmp_path / "x.csv")]).exit_code == 2
