"""CSV logs: Keras CSVLogger, Lightning metrics.csv, plain/long CSV, TensorBoard's CSV export."""

from __future__ import annotations

import math

import numpy as np
import pytest
import writers as W

from lossctl.errors import InputError
from lossctl.readers.csv_reader import reader
from lossctl.runs import load_runs

NAN = math.nan


def read(path):
    data = reader.read(path)
    assert data.frame["step"].dtype == np.int64
    assert data.frame["wall_time"].dtype == np.float64
    assert data.frame["value"].dtype == np.float64
    return data


# --------------------------------------------------------------------------- Keras


KERAS = """epoch,accuracy,loss,val_accuracy,val_loss
0,0.5,1.2,NA,0.9
1,0.6,nan,0.55,0.8
2,0.7,0.8,0.6,0.7
"""


def test_keras_csvlogger_na_missing_nan_kept(tmp_path):
    path = W.write_text(tmp_path / "training.csv", KERAS)
    data = read(path)
    assert data.format == "keras_csv"
    assert data.warnings == []
    f = data.frame
    assert set(f["metric"]) == {"accuracy", "loss", "val_accuracy", "val_loss"}  # epoch is the step
    assert W.points(f, "accuracy") == [(0, 0.5), (1, 0.6), (2, 0.7)]
    assert W.same_points(W.points(f, "loss"), [(0, 1.2), (1, NAN), (2, 0.8)])
    assert W.points(f, "val_accuracy") == [(1, 0.55), (2, 0.6)]  # NA is no point at all
    assert W.points(f, "val_loss") == [(0, 0.9), (1, 0.8), (2, 0.7)]
    assert f["wall_time"].isna().all()


def test_keras_csvlogger_append_after_resume(tmp_path):
    # CSVLogger(append=True) after resuming from epoch 2: epochs 2.. are logged again
    text = KERAS + "3,0.75,0.7,0.62,0.69\n2,0.71,0.79,0.61,0.68\n3,0.76,0.69,0.63,0.67\n"
    W.write_text(tmp_path / "training.csv", text)
    (run,) = load_runs(tmp_path).runs
    assert run.format == "keras_csv"
    assert W.points(run.frame, "loss")[-2:] == [(2, 0.79), (3, 0.69)]
    assert [s for s, _ in W.points(run.frame, "loss")] == [0, 1, 2, 3]
    assert run.replaced == 4 * 2


# --------------------------------------------------------------------------- Lightning


LIGHTNING = """epoch,step,train_loss,val_loss
0,49,0.9,
0,99,0.8,
0,99,,0.85
1,149,0.7,
1,199,0.6,
1,199,,0.75
"""


def test_lightning_sparse_rows(tmp_path):
    data = read(W.write_text(tmp_path / "metrics.csv", LIGHTNING))
    assert data.format == "lightning_csv"
    assert data.warnings == []
    assert set(data.frame["metric"]) == {"train_loss", "val_loss"}
    assert W.points(data.frame, "train_loss") == [(49, 0.9), (99, 0.8), (149, 0.7), (199, 0.6)]
    assert W.points(data.frame, "val_loss") == [(99, 0.85), (199, 0.75)]


def test_lightning_step_and_epoch_suffixed_metrics(tmp_path):
    text = """epoch,step,train_loss_epoch,train_loss_step,val_loss
0,9,,0.95,
0,19,,0.9,
0,19,0.92,,0.88
1,29,,0.8,
1,39,,0.7,
1,39,0.75,,0.77
"""
    data = read(W.write_text(tmp_path / "metrics.csv", text))
    f = data.frame
    assert set(f["metric"]) == {"train_loss_epoch", "train_loss_step", "val_loss"}
    assert W.points(f, "train_loss_step") == [(9, 0.95), (19, 0.9), (29, 0.8), (39, 0.7)]
    assert W.points(f, "train_loss_epoch") == [(19, 0.92), (39, 0.75)]
    assert W.points(f, "val_loss") == [(19, 0.88), (39, 0.77)]


def test_lightning_header_that_grew_mid_file(tmp_path):
    text = """epoch,step,train_loss
0,9,0.9
0,19,0.8
epoch,step,train_loss,val_loss
0,19,,0.85
1,29,0.7,
"""
    data = read(W.write_text(tmp_path / "metrics.csv", text))
    assert W.points(data.frame, "train_loss") == [(9, 0.9), (19, 0.8), (29, 0.7)]
    assert W.points(data.frame, "val_loss") == [(19, 0.85)]


def test_lightning_version_dir_found_from_parent(tmp_path):
    W.write_text(tmp_path / "lightning_logs" / "version_0" / "metrics.csv", LIGHTNING)
    W.write_text(tmp_path / "lightning_logs" / "version_0" / "hparams.yaml", "lr: 0.1\nbatch_size: 32\n")
    W.write_text(tmp_path / "lightning_logs" / "version_1" / "metrics.csv", LIGHTNING)
    result = load_runs(tmp_path)
    assert result.errors == []
    assert [r.name for r in result.runs] == ["lightning_logs/version_0", "lightning_logs/version_1"]
    run = result.runs[0]
    assert run.format == "lightning_csv"
    assert run.files == [str(tmp_path / "lightning_logs" / "version_0" / "metrics.csv")]
    assert set(run.frame["run"]) == {"lightning_logs/version_0"}
    assert W.points(run.frame, "val_loss") == [(99, 0.85), (199, 0.75)]


# --------------------------------------------------------------------------- plain and long


@pytest.mark.parametrize("step_col", ["step", "global_step", "iteration", "Step", "_step", "iter"])
def test_plain_csv_step_column(tmp_path, step_col):
    path = W.write_csv(tmp_path / "log.csv", [step_col, "loss", "lr"],
                       [[s, 1.0 / (s + 1), 0.01] for s in range(0, 500, 5)])
    data = read(path)
    assert data.warnings == []
    assert set(data.frame["metric"]) == {"loss", "lr"}
    assert W.points(data.frame, "loss") == [(s, 1.0 / (s + 1)) for s in range(0, 500, 5)]


def test_plain_csv_with_wall_time(tmp_path):
    path = W.write_csv(tmp_path / "log.csv", ["step", "wall_time", "loss"],
                       [[s, 1_700_000_000.25 + s, s * 0.5] for s in range(10)])
    data = read(path)
    assert set(data.frame["metric"]) == {"loss"}
    assert W.triples(data.frame, "loss") == [(s, 1_700_000_000.25 + s, s * 0.5) for s in range(10)]


def test_no_step_column_uses_row_number_with_warning(tmp_path):
    path = W.write_csv(tmp_path / "log.csv", ["loss", "acc"], [[1.0, 0.1], [0.5, 0.2]])
    data = read(path)
    assert W.points(data.frame, "loss") == [(0, 1.0), (1, 0.5)]
    assert any("step" in w for w in data.warnings)


def test_long_layout(tmp_path):
    rows = [[s, m, v] for s in range(5) for m, v in (("train/loss", 1.0 - s / 10), ("val/loss", 2.0 - s / 10))]
    data = read(W.write_csv(tmp_path / "scalars.csv", ["step", "metric", "value"], rows))
    assert data.warnings == []
    assert set(data.frame["metric"]) == {"train/loss", "val/loss"}
    assert W.points(data.frame, "train/loss") == [(s, 1.0 - s / 10) for s in range(5)]
    assert W.points(data.frame, "val/loss") == [(s, 2.0 - s / 10) for s in range(5)]


def test_long_layout_with_wall_time_and_nan(tmp_path):
    rows = [[1_700_000_000.5 + s, s, "loss", v] for s, v in enumerate([1.0, NAN, math.inf, 0.5])]
    data = read(W.write_csv(tmp_path / "scalars.csv", ["wall_time", "step", "tag", "value"], rows))
    assert W.same_points(W.triples(data.frame, "loss"),
                         [(s, 1_700_000_000.5 + s, v) for s, v in enumerate([1.0, NAN, math.inf, 0.5])])


def test_tensorboard_csv_export(tmp_path):
    text = "Wall time,Step,Value\n1700000000.123,0,2.5\n1700000010.456,100,1.25\n1700000020.789,200,0.625\n"
    path = W.write_text(tmp_path / "run-x-tag-train_loss.csv", text)
    data = read(path)
    assert set(data.frame["metric"]) == {"train_loss"}  # the tag, from run-<run>-tag-<tag>.csv
    assert W.triples(data.frame, "train_loss") == [
        (0, 1700000000.123, 2.5), (100, 1700000010.456, 1.25), (200, 1700000020.789, 0.625)]


# --------------------------------------------------------------------------- dialects


def test_semicolon_separator(tmp_path):
    path = W.write_csv(tmp_path / "log.csv", ["step", "loss", "val_loss"],
                       [[s, s + 0.5, s + 0.25] for s in range(4)], sep=";")
    data = read(path)
    assert W.points(data.frame, "loss") == [(s, s + 0.5) for s in range(4)]
    assert W.points(data.frame, "val_loss") == [(s, s + 0.25) for s in range(4)]


def test_tab_separated(tmp_path):
    path = W.write_csv(tmp_path / "log.tsv", ["step", "loss"], [[s, s + 0.5] for s in range(4)], sep="\t")
    assert W.points(read(path).frame, "loss") == [(s, s + 0.5) for s in range(4)]


def test_utf8_bom(tmp_path):
    path = W.write_text(tmp_path / "log.csv", "step,loss\n0,1.5\n1,1.25\n", encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    data = read(path)
    assert data.warnings == []
    assert set(data.frame["metric"]) == {"loss"}
    assert W.points(data.frame, "loss") == [(0, 1.5), (1, 1.25)]
    (run,) = load_runs(tmp_path).runs  # sniffed through the BOM too
    assert len(run.frame) == 2


def test_crlf_line_endings_and_spaces(tmp_path):
    path = tmp_path / "log.csv"
    path.write_bytes(b"step, loss\r\n0, 1.5\r\n1, 1.25\r\n")
    data = read(path)
    assert W.points(data.frame, "loss") == [(0, 1.5), (1, 1.25)]


# --------------------------------------------------------------------------- bad content


def test_text_cells_in_numeric_column(tmp_path):
    path = W.write_text(tmp_path / "log.csv", "step,loss,acc\n0,0.5,0.1\n1,oops,0.2\n2,0.3,0.3\n3,diverged,0.4\n")
    data = read(path)
    assert W.points(data.frame, "loss") == [(0, 0.5), (2, 0.3)]
    assert W.points(data.frame, "acc") == [(0, 0.1), (1, 0.2), (2, 0.3), (3, 0.4)]
    (warning,) = data.warnings
    assert str(path) in warning and "'loss'" in warning and "2" in warning


def test_text_cells_in_step_column(tmp_path):
    path = W.write_text(tmp_path / "log.csv", "step,loss\n0,0.5\nresumed,0.4\n2,0.3\n")
    data = read(path)
    assert W.points(data.frame, "loss") == [(0, 0.5), (2, 0.3)]
    assert any(str(path) in w and "step" in w for w in data.warnings)


def test_header_only(tmp_path):
    path = W.write_text(tmp_path / "metrics.csv", "epoch,step,train_loss,val_loss\n")
    with pytest.raises(InputError) as exc:
        reader.read(path)
    assert exc.value.path == str(path) and "no data" in exc.value.problem
    result = load_runs(tmp_path)
    assert result.runs == []
    assert any(str(path) in e for e in result.errors)


def test_no_header(tmp_path):
    path = W.write_text(tmp_path / "log.csv", "0,0.5,0.1\n1,0.4,0.2\n")
    with pytest.raises(InputError) as exc:
        reader.read(path)
    assert exc.value.path == str(path) and "header" in exc.value.problem
    result = load_runs(tmp_path)
    assert result.runs == [] and result.errors


def test_empty_csv(tmp_path):
    path = W.write_text(tmp_path / "log.csv", "")
    with pytest.raises(InputError) as exc:
        reader.read(path)
    assert exc.value.path == str(path)


def test_all_text_values_is_an_error(tmp_path):
    path = W.write_text(tmp_path / "log.csv", "step,status\n0,ok\n1,ok\n")
    with pytest.raises(InputError) as exc:
        reader.read(path)
    assert exc.value.path == str(path)


def test_training_log_that_is_a_csv(tmp_path):
    W.write_csv(tmp_path / "training.log", ["epoch", "loss", "val_loss"], [[e, 1.0 / (e + 1), 0.9] for e in range(5)])
    (run,) = load_runs(tmp_path).runs
    assert run.files == [str(tmp_path / "training.log")]
    assert W.points(run.frame, "loss") == [(e, 1.0 / (e + 1)) for e in range(5)]


def test_training_log_that_is_keras_console_output_is_read_as_console(tmp_path):
    """Not CSV: Keras' printed fit output, which the console reader reads (issue 10)."""
    W.write_text(tmp_path / "training.log", "Epoch 1/10\n100/100 - 2s - loss: 0.5000 - val_loss: 0.6\n")
    (run,) = load_runs(tmp_path).runs
    assert run.format == "console"
    assert W.points(run.frame, "loss") == [(0, 0.5)]


def test_training_log_that_is_plain_text_is_not_a_log(tmp_path):
    W.write_text(tmp_path / "training.log", "Starting training\nloading data...\ndone in 2 s\n")
    result = load_runs(tmp_path)
    assert result.runs == [] and len(result.errors) == 1 and "no training logs" in result.errors[0]


def test_stable_baselines3_progress_csv_is_indexed_by_timesteps(tmp_path):
    """stable-baselines3's CSVOutputFormat: one row per dump, keys as first seen (the first dump
    has no train/ statistics yet, so its cells are empty once the header grows); the step axis is
    time/total_timesteps."""
    keys = ["time/fps", "time/iterations", "time/time_elapsed", "time/total_timesteps", "rollout/ep_rew_mean",
            "train/approx_kl", "train/loss", "train/value_loss"]
    rows = []
    for i in range(1, 31):
        row = [300, i, 7 * i, 2048 * i, 20 + 10 * i]
        row += ["", "", ""] if i == 1 else [0.01, -0.01 * i, 5.0 + i]
        rows.append(row)
    (tmp_path / "PPO_1").mkdir()
    W.write_csv(tmp_path / "PPO_1" / "progress.csv", keys, rows)
    (run,) = load_runs(tmp_path / "PPO_1").runs
    f = run.frame[run.frame["metric"] == "rollout/ep_rew_mean"]
    assert f["step"].tolist() == [2048 * i for i in range(1, 31)]
    assert "time/total_timesteps" not in set(run.frame["metric"].unique())
    assert not any("no step column" in w for w in run.warnings)
