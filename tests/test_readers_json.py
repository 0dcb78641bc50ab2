"""JSON histories: Keras ``history.history`` (plain, wrapped, per-epoch list) and HF ``trainer_state.json``."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import writers as W

from lossctl.analysis import analyze_run
from lossctl.config import Config
from lossctl.errors import InputError, NotALog
from lossctl.readers.json_reader import reader
from lossctl.runs import load_runs

NAN, INF = math.nan, math.inf

JSON_NONE_BUG = (
    "json_reader.read: table.map(...) re-infers column dtypes, so an object column of floats and "
    "None (a missing entry) becomes float64 and None turns into NaN, which to_numbers then treats "
    "as a LOGGED NaN value instead of a gap")


def read(path):
    data = reader.read(path)
    assert data.frame["step"].dtype == np.int64
    assert data.frame["value"].dtype == np.float64
    return data


HISTORY = {"loss": [1.0, 0.5, 0.25], "accuracy": [0.5, 0.75, 0.875],
           "val_loss": [1.5, 1.0, 0.75], "val_accuracy": [0.4, 0.6, 0.7]}


def check_history(frame):
    assert set(frame["metric"]) == set(HISTORY)
    for k, v in HISTORY.items():
        assert W.points(frame, k) == list(enumerate(v))  # epoch index is the step
    assert frame["wall_time"].isna().all()


def test_history_dict_of_lists(tmp_path):
    data = read(W.write_json(tmp_path / "history.json", HISTORY))
    assert data.format == "keras_json"
    assert data.warnings == []
    check_history(data.frame)


def test_history_wrapped(tmp_path):
    doc = {"history": HISTORY, "params": {"epochs": 3, "steps": 100, "verbose": 1}}
    data = read(W.write_json(tmp_path / "history.json", doc))
    assert data.warnings == []
    check_history(data.frame)


def test_history_list_of_epoch_dicts_with_epoch_key(tmp_path):
    rows = [{"epoch": e + 1, "loss": 1.0 / (e + 1), "val_loss": 2.0 / (e + 1)} for e in range(4)]
    data = read(W.write_json(tmp_path / "history.json", rows))
    assert data.warnings == []
    assert set(data.frame["metric"]) == {"loss", "val_loss"}
    assert W.points(data.frame, "loss") == [(e + 1, 1.0 / (e + 1)) for e in range(4)]
    assert W.points(data.frame, "val_loss") == [(e + 1, 2.0 / (e + 1)) for e in range(4)]


def test_history_list_of_epoch_dicts_without_epoch_key(tmp_path):
    rows = [{"loss": v, "val_loss": v + 1} for v in (3.0, 2.0, 1.0)]
    data = read(W.write_json(tmp_path / "history.json", rows))
    assert W.points(data.frame, "loss") == [(0, 3.0), (1, 2.0), (2, 1.0)]


def test_coco_predictions_are_not_a_history(tmp_path):
    """detectron2's ``coco_instances_results.json`` (a list of per-detection dicts with ``bbox``
    lists and ``segmentation`` objects) sits beside its metrics in ``output/``: not a history,
    and the run is read from its logs without image_id, category_id and score curves."""
    dets = [{"image_id": i // 3, "category_id": 0, "bbox": [567.8, 12.5, 80.0, 91.0], "score": 0.99 - 0.01 * i,
             "segmentation": {"size": [2048, 1323], "counts": "Yl]1d0b0`0N2O1N3M2"}} for i in range(30)]
    W.write_json(tmp_path / "coco_instances_results.json", dets)
    with pytest.raises(NotALog, match="rows hold lists or objects"):
        read(tmp_path / "coco_instances_results.json")
    W.write_csv(tmp_path / "metrics.csv", ["step", "loss"], [[s, 1.0 / (s + 1)] for s in range(10)])
    (run,) = load_runs(tmp_path).runs
    assert set(run.frame["metric"]) == {"loss"}


def test_history_list_of_epoch_dicts_with_missing_key(tmp_path):
    rows = [{"loss": 1.0, "val_loss": 1.5}, {"loss": 0.8}, {"loss": 0.6, "val_loss": 1.1}]
    data = read(W.write_json(tmp_path / "history.json", rows))
    assert W.points(data.frame, "loss") == [(0, 1.0), (1, 0.8), (2, 0.6)]
    assert W.points(data.frame, "val_loss") == [(0, 1.5), (2, 1.1)]  # actual: (1, nan) in between


TRAINER_STATE = {
    "best_metric": None, "best_model_checkpoint": None, "epoch": 2.0, "global_step": 30,
    "is_hyper_param_search": False, "is_local_process_zero": True, "is_world_process_zero": True,
    "max_steps": 30, "num_train_epochs": 2, "total_flos": 1.2e12,
    "log_history": [
        {"epoch": 0.33, "grad_norm": 3.5, "learning_rate": 4e-05, "loss": 2.25, "step": 5},
        {"epoch": 0.67, "grad_norm": 2.5, "learning_rate": 3e-05, "loss": 1.75, "step": 10},
        {"epoch": 1.0, "grad_norm": 2.0, "learning_rate": 2.5e-05, "loss": 1.5, "step": 15},
        {"epoch": 1.0, "eval_loss": 1.625, "eval_runtime": 0.5, "eval_samples_per_second": 200.0,
         "eval_steps_per_second": 25.0, "step": 15},
        {"epoch": 1.33, "grad_norm": 1.5, "learning_rate": 2e-05, "loss": 1.25, "step": 20},
        {"epoch": 1.67, "grad_norm": 1.0, "learning_rate": 1e-05, "loss": 1.0, "step": 25},
        {"epoch": 2.0, "grad_norm": 0.5, "learning_rate": 0.0, "loss": 0.875, "step": 30},
        {"epoch": 2.0, "eval_loss": 1.125, "eval_runtime": 0.5, "eval_samples_per_second": 200.0,
         "eval_steps_per_second": 25.0, "step": 30},
        {"epoch": 2.0, "step": 30, "total_flos": 1.2e12, "train_loss": 1.4375, "train_runtime": 12.5,
         "train_samples_per_second": 38.4, "train_steps_per_second": 2.4},
    ],
    "logging_steps": 5, "save_steps": 500, "train_batch_size": 8, "trial_name": None, "trial_params": None,
}


def test_hf_trainer_state_reads(tmp_path):
    data = read(W.write_json(tmp_path / "trainer_state.json", TRAINER_STATE))
    assert data.format == "hf_trainer"
    assert data.warnings == []
    assert {"loss", "eval_loss", "learning_rate", "grad_norm"} <= set(data.frame["metric"])
    assert "epoch" not in set(data.frame["metric"]) and "step" not in set(data.frame["metric"])


def test_hf_trainer_state_train_and_eval_rows(tmp_path):
    data = read(W.write_json(tmp_path / "trainer_state.json", TRAINER_STATE))
    f = data.frame
    assert W.points(f, "loss") == [(5, 2.25), (10, 1.75), (15, 1.5), (20, 1.25), (25, 1.0), (30, 0.875)]
    assert W.points(f, "eval_loss") == [(15, 1.625), (30, 1.125)]
    assert W.points(f, "learning_rate") == [(5, 4e-05), (10, 3e-05), (15, 2.5e-05), (20, 2e-05),
                                            (25, 1e-05), (30, 0.0)]
    assert not f["value"].isna().any()  # no NaN was logged


def test_hf_trainer_state_through_load_runs(tmp_path):
    W.write_json(tmp_path / "checkpoint-30" / "trainer_state.json", TRAINER_STATE)
    (run,) = load_runs(tmp_path).runs
    assert run.name == "checkpoint-30" and run.format == "hf_trainer"
    # actual: the eval rows' missing 'loss' become NaN points at steps 15 and 30 and REPLACE
    # the real training losses there (same step, later row), and run.replaced counts them
    assert W.points(run.frame, "loss")[-1] == (30, 0.875)
    assert run.replaced == 0 and run.warnings == []


def test_nan_and_infinity_tokens_kept(tmp_path):
    path = W.write_json(tmp_path / "history.json", {"loss": [1.0, NAN, INF, -INF, 0.5]})
    assert b"NaN" in path.read_bytes() and b"Infinity" in path.read_bytes()
    data = read(path)
    assert W.same_points(W.points(data.frame, "loss"), list(enumerate([1.0, NAN, INF, -INF, 0.5])))


def test_nan_token_in_hf_log_history_kept(tmp_path):
    doc = {"log_history": [{"loss": 1.0, "step": 1}, {"loss": NAN, "step": 2}, {"loss": 0.5, "step": 3}]}
    data = read(W.write_json(tmp_path / "trainer_state.json", doc))
    assert W.same_points(W.points(data.frame, "loss"), [(1, 1.0), (2, NAN), (3, 0.5)])


def test_null_is_a_gap_when_column_has_text(tmp_path):
    # control case: with a non-float cell the column stays object and null is a gap
    path = W.write_json(tmp_path / "history.json", {"step": [0, 1, 2], "loss": [1.0, None, "n/a"]})
    data = read(path)
    assert W.points(data.frame, "loss") == [(0, 1.0)]


def test_unequal_lengths_warn(tmp_path):
    path = W.write_json(tmp_path / "history.json", {"loss": [3.0, 2.0, 1.0, 0.5], "val_loss": [3.5, 2.5]})
    data = read(path)
    (warning,) = data.warnings
    assert str(path) in warning and "unequal" in warning
    assert W.points(data.frame, "loss") == [(0, 3.0), (1, 2.0), (2, 1.0), (3, 0.5)]


def test_unequal_lengths_short_list_not_padded_with_nan(tmp_path):
    path = W.write_json(tmp_path / "history.json", {"loss": [3.0, 2.0, 1.0, 0.5], "val_loss": [3.5, 2.5]})
    data = read(path)
    # actual: [(0, 3.5), (1, 2.5), (2, nan), (3, nan)] -> a false 'nonfinite' finding downstream
    assert W.points(data.frame, "val_loss") == [(0, 3.5), (1, 2.5)]


def test_truncated_json(tmp_path):
    path = tmp_path / "history.json"
    path.write_text('{"loss": [1.0, 0.5, 0.2', encoding="utf-8")
    with pytest.raises(InputError) as exc:
        reader.read(path)
    assert exc.value.path == str(path) and "JSON" in exc.value.problem
    result = load_runs(tmp_path)
    assert result.runs == []
    assert any(str(path) in e for e in result.errors), result.errors


def test_json_string_is_not_a_history(tmp_path):
    path = W.write_json(tmp_path / "history.json", "just a string")
    with pytest.raises(InputError) as exc:
        reader.read(path)
    assert exc.value.path == str(path) and "str" in exc.value.problem
    result = load_runs(tmp_path)
    assert result.runs == [] and result.errors


@pytest.mark.parametrize("doc", [[], {}, [1, 2, 3], {"loss": 1.0}, {"history": []}], ids=repr)
def test_json_without_history_raises_input_error(tmp_path, doc):
    path = W.write_json(tmp_path / "history.json", doc)
    with pytest.raises(InputError) as exc:
        reader.read(path)
    assert exc.value.path == str(path)


def test_invalid_utf8_json(tmp_path):
    path = tmp_path / "history.json"
    path.write_bytes(b'{"loss": [1.0], "\xff": [2.0]}')
    with pytest.raises(InputError) as exc:
        reader.read(path)
    assert exc.value.path == str(path)


CATBOOST = Path(__file__).parent / "data" / "catboost" / "catboost_training.json"


def test_catboost_training_json(tmp_path):
    """CatBoost's catboost_info/catboost_training.json (a real one, tests/data/catboost): each
    iteration's values per metric of each set, named set/metric; learn and test pair up."""
    d = tmp_path / "catboost_info"
    d.mkdir()
    (d / "catboost_training.json").write_bytes(CATBOOST.read_bytes())
    (run,) = load_runs(d).runs
    assert run.format == "catboost"
    assert set(run.frame["metric"].unique()) == {"learn/Logloss", "test/AUC", "test/Logloss"}
    loss = run.frame[run.frame["metric"] == "learn/Logloss"]
    assert loss["step"].tolist() == list(range(300)) and loss["value"].iloc[0] == 0.5862293424
    report = analyze_run(run, Config())
    assert (report.view.roles["loss"], report.view.roles["val_loss"]) == ("learn/Logloss", "test/Logloss")
    # train and test logloss converge to one flat level, but the test AUC of 0.9 says the model
    # ranks its inputs: not a model that gives every input the same output
    assert report.findings == []


def test_catboost_info_tsv_and_event_folders(tmp_path):
    """catboost_info/ as fit() leaves it: learn_error.tsv and test_error.tsv (the same columns,
    'iter' then each metric), time_left.tsv (not a curve), and learn/ and test/ event folders:
    one run, each set's metrics prefixed with the set, learn/ paired with test/."""
    d = tmp_path / "catboost_info"
    d.mkdir()
    n = 60
    learn = [0.69 * (1 - i / 200) for i in range(n)]
    test = [0.69 * (1 - i / 300) if i < 20 else 0.69 * (1 - 20 / 300) * (1 + (i - 20) / 200) for i in range(n)]
    for name, vals in (("learn_error.tsv", learn), ("test_error.tsv", test)):
        (d / name).write_text("iter\tLogloss\n" + "".join(f"{i}\t{v:.10g}\n" for i, v in enumerate(vals)))
    (d / "time_left.tsv").write_text("iter\tPassed\tRemaining\n" + "".join(f"{i}\t{i * 3}\t{(n - i) * 3}\n" for i in range(n)))
    (run,) = load_runs(d).runs
    assert set(run.frame["metric"].unique()) == {"learn/Logloss", "test/Logloss"}
    view = analyze_run(run, Config()).view
    assert (view.roles["loss"], view.roles["val_loss"]) == ("learn/Logloss", "test/Logloss")
    tbx = pytest.importorskip("tensorboardX")
    e = tmp_path / "tb" / "catboost_info"
    for split, vals in (("learn", learn), ("test", test)):
        w = tbx.SummaryWriter(str(e / split))
        for i, v in enumerate(vals):
            w.add_scalar("RMSE", v, i)
        w.close()
    (run,) = load_runs(e).runs
    assert set(run.frame["metric"].unique()) == {"learn/RMSE", "test/RMSE"}


def test_sacred_run_folder_is_one_run_of_its_metrics(tmp_path):
    """A run written by Sacred's FileStorageObserver (``my_runs/1/``: metrics.json, run.json,
    config.json, cout.txt) is one run: each ``_run.log_scalar`` series at its steps, its
    timestamps as wall time; run.json and config.json are not histories and say nothing."""
    sacred = pytest.importorskip("sacred")
    from sacred.observers import FileStorageObserver

    ex = sacred.Experiment("fit", save_git_info=False)
    ex.observers.append(FileStorageObserver(str(tmp_path / "my_runs")))

    @ex.main
    def fit(_run):
        for step in range(1, 301):
            _run.log_scalar("training.loss", 2.0 / step ** 0.5, step)
            if step % 50 == 0:
                _run.log_scalar("validation.loss", 2.2 / step ** 0.5, step)

    ex.run(options={"--loglevel": "ERROR"})
    result = load_runs(tmp_path / "my_runs")
    (run,) = result.runs
    assert run.format == "sacred" and not result.errors
    f = run.frame
    loss = f[f["metric"] == "training.loss"]
    assert loss["step"].tolist() == list(range(1, 301))
    assert np.allclose(loss["value"], [2.0 / s ** 0.5 for s in range(1, 301)])
    assert f[f["metric"] == "validation.loss"]["step"].tolist() == [50, 100, 150, 200, 250, 300]
    assert loss["wall_time"].between(1.6e9, 4e9).all()
