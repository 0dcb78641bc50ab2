"""Finding runs in a directory tree (lossctl.runs.load_runs) and the public lossctl.load."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import writers as W

from lossctl import load
from lossctl.errors import InputError
from lossctl.runs import load_runs

NUMERIC_LIST_BUG = (
    "json_reader: any *.json whose top level is an object holding a list of numbers is taken as a "
    "history, e.g. generation_config.json {'suppress_tokens': [1, 5, 7]} becomes metric "
    "'suppress_tokens' with steps 0..2 and the run format becomes 'keras_json+hf_trainer'")
LOGGING_LOG_BUG = (
    "csv_reader.sniff: a Python-logging training.log ('2024-01-01 12:00:00,123 INFO ...') has a comma "
    "in its first line, so it is claimed as CSV and the run gets the warning "
    "'training.log: no numeric metric values in any column'")


def make_tree(root):
    """Runs at several depths, in every format, with non-log files around them."""
    W.write_csv(root / "metrics.csv", ["step", "loss"], [[s, 1.0] for s in range(3)])  # run "."
    W.write_scalars(root / "tb" / "lr_0.1", [("train/loss", s, 2.0) for s in range(5)])
    W.write_scalars(root / "tb" / "lr_0.01" / "train", [("epoch_loss", s, 3.0) for s in range(4)])
    W.write_scalars(root / "tb" / "lr_0.01" / "validation", [("epoch_loss", s, 3.5) for s in range(4)])
    W.write_json(root / "keras" / "a" / "b" / "c" / "history.json", {"loss": [4.0, 3.0]})
    W.write_text(root / "pl" / "lightning_logs" / "version_0" / "metrics.csv", "epoch,step,train_loss\n0,9,5.0\n")
    W.write_text(root / "pl" / "lightning_logs" / "version_0" / "hparams.yaml", "lr: 0.1\n")
    (root / "plots").mkdir()
    (root / "plots" / "loss.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    W.write_text(root / "plots" / "README.md", "# plots, loss, val_loss\n")
    W.write_text(root / "notes.txt", "remember to lower the learning rate\n")


TREE_RUNS = {".": "csv", "tb/lr_0.1": "tensorboard", "tb/lr_0.01": "tensorboard",  # Keras' train/ + validation/
             "keras/a/b/c": "keras_json",
             "pl/lightning_logs/version_0": "lightning_csv"}


def test_tree_of_runs_at_different_depths(tmp_path):
    make_tree(tmp_path)
    result = load_runs(tmp_path)
    assert result.errors == []
    assert {r.name: r.format for r in result.runs} == TREE_RUNS
    for run in result.runs:
        assert run.warnings == []
        assert set(run.frame["run"]) == {run.name}
        assert run.path == os.path.normpath(os.path.join(str(tmp_path), run.name))
    by_name = {r.name: r for r in result.runs}
    assert W.points(by_name["tb/lr_0.01"].frame, "validation/epoch_loss") == [(s, 3.5) for s in range(4)]
    assert W.points(by_name["keras/a/b/c"].frame, "loss") == [(0, 4.0), (1, 3.0)]
    assert by_name["."].files == [str(tmp_path / "metrics.csv")]


def test_subtree_names_are_relative_to_the_argument(tmp_path):
    make_tree(tmp_path)
    result = load_runs(tmp_path / "tb")
    assert sorted(r.name for r in result.runs) == ["lr_0.01", "lr_0.1"]
    (run,) = load_runs(tmp_path / "tb" / "lr_0.1").runs
    assert run.name == "."


def test_single_file_argument(tmp_path):
    make_tree(tmp_path)
    path = tmp_path / "keras" / "a" / "b" / "c" / "history.json"
    (run,) = load_runs(path).runs
    assert run.files == [str(path)] and run.path == str(path)
    assert W.points(run.frame, "loss") == [(0, 4.0), (1, 3.0)]


def test_load_concatenates_every_run(tmp_path):
    make_tree(tmp_path)
    frame = load(tmp_path)
    assert list(frame.columns[:5]) == ["run", "metric", "step", "wall_time", "value"]
    assert set(frame["run"]) == set(TREE_RUNS)
    assert len(frame) == 3 + 5 + 4 + 4 + 2 + 1
    assert str(frame["step"].dtype) == "int64" and str(frame["value"].dtype) == "float64"


def test_empty_directory(tmp_path):
    result = load_runs(tmp_path)
    assert result.runs == []
    (error,) = result.errors
    assert str(tmp_path) in error and "no training logs" in error
    with pytest.raises(InputError):
        load(tmp_path)


def test_directory_without_logs(tmp_path):
    (tmp_path / "sub").mkdir()
    W.write_text(tmp_path / "sub" / "hparams.yaml", "lr: 0.1\nbatch_size: 32\n")
    (tmp_path / "sub" / "curve.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(64))
    W.write_text(tmp_path / "README.md", "loss,val_loss\n")
    W.write_text(tmp_path / "notes.txt", "tried lr 0.1\n")
    result = load_runs(tmp_path)
    assert result.runs == []
    (error,) = result.errors
    assert "no training logs" in error
    with pytest.raises(InputError) as exc:
        load(tmp_path)
    assert exc.value.path == str(tmp_path)


def test_nonexistent_path(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(InputError) as exc:
        load_runs(missing)
    assert exc.value.path == str(missing) and exc.value.problem
    with pytest.raises(InputError):
        load(missing)


def test_symlink_loops_terminate(tmp_path):
    make_tree(tmp_path)
    os.symlink(tmp_path, tmp_path / "tb" / "lr_0.1" / "up")  # loop back to the root
    os.symlink("..", tmp_path / "keras" / "a" / "parent")  # relative loop
    os.symlink(tmp_path / "tb" / "lr_0.1", tmp_path / "alias")  # a second way into one run
    os.symlink(tmp_path / "does-not-exist", tmp_path / "dangling")
    result = load_runs(tmp_path)
    names = [r.name for r in result.runs]
    assert len(names) == len(set(names)) == len(TREE_RUNS)  # each run once
    assert result.errors == []


CHILD = """import json, sys
from lossctl.runs import load_runs
r = load_runs(sys.argv[1])
print(json.dumps({"runs": [[x.name, x.files, x.warnings] for x in r.runs], "errors": r.errors}))"""


def test_self_symlink_file_and_unreadable_entries_do_not_crash(tmp_path):
    from bad_inputs.run import drop_privileges  # as root, chmod 000 needs dropped capabilities

    prefix = drop_privileges()
    if prefix is None:
        pytest.skip("running as root without setpriv: chmod 000 would not stop reads")
    W.write_csv(tmp_path / "log.csv", ["step", "loss"], [[0, 1.0]])
    os.symlink("self.csv", tmp_path / "self.csv")  # a symlink to itself: stat fails with ELOOP
    secret = W.write_csv(tmp_path / "secret.csv", ["step", "val_loss"], [[0, 3.0]])
    W.write_csv(tmp_path / "locked" / "log.csv", ["step", "loss"], [[0, 2.0]])
    secret.chmod(0)  # an unreadable log beside a readable one
    (tmp_path / "locked").chmod(0)  # a directory that cannot be listed
    try:
        r = subprocess.run([*prefix, sys.executable, "-c", CHILD, str(tmp_path)], capture_output=True,
                           text=True, timeout=120)
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    doc = json.loads(r.stdout)
    # the readable log is the run; the unreadable one beside it is named with the reason;
    # the locked directory cannot be looked into, so it holds no run that could be listed
    assert doc["runs"] == [[".", [str(tmp_path / "log.csv")], [f"{secret}: cannot read: Permission denied"]]]
    assert doc["errors"] == []


def test_hidden_and_cache_dirs_skipped(tmp_path):
    W.write_csv(tmp_path / ".git" / "log.csv", ["step", "loss"], [[0, 1.0]])
    W.write_csv(tmp_path / "__pycache__" / "log.csv", ["step", "loss"], [[0, 1.0]])
    W.write_csv(tmp_path / "run" / "log.csv", ["step", "loss"], [[0, 1.0]])
    assert [r.name for r in load_runs(tmp_path).runs] == ["run"]


def test_broken_run_next_to_good_run(tmp_path):
    W.write_csv(tmp_path / "good" / "log.csv", ["step", "loss"], [[0, 1.0]])
    bad = W.write_text(tmp_path / "bad" / "metrics.csv", "step,loss\n")
    result = load_runs(tmp_path)
    assert [r.name for r in result.runs] == ["good"]
    assert any(str(bad) in e for e in result.errors)


def test_one_dir_with_csv_and_event_file_is_one_run(tmp_path):
    W.write_scalars(tmp_path, [("train/loss", s, 1.0) for s in range(3)])
    W.write_csv(tmp_path / "extra.csv", ["step", "val_loss"], [[s, 2.0] for s in range(3)])
    (run,) = load_runs(tmp_path).runs
    assert set(run.format.split("+")) == {"tensorboard", "csv"}
    assert set(run.frame["metric"]) == {"train/loss", "val_loss"}
    assert len(run.files) == 2


def _hf_output_dir(root):
    out = root / "out"
    W.write_json(out / "trainer_state.json", {"log_history": [{"loss": 1.0, "step": 5}, {"loss": 0.5, "step": 10}]})
    (out / "training_args.bin").write_bytes(b"\x80\x04junk")
    return out


def test_hf_output_dir_side_json_files_add_no_warnings(tmp_path):
    out = _hf_output_dir(tmp_path)
    W.write_json(out / "config.json", {"architectures": ["BertForSequenceClassification"], "hidden_size": 768})
    W.write_json(out / "tokenizer_config.json", {"do_lower_case": True, "model_max_length": 512})
    W.write_json(out / "all_results.json", {"epoch": 3.0, "eval_loss": 0.5, "train_loss": 0.75})
    (run,) = load_runs(tmp_path).runs
    assert W.points(run.frame, "loss") == [(5, 1.0), (10, 0.5)]
    # side JSON files that are no history are ignored (errors.NotALog), not reported
    assert run.warnings == []


def test_json_config_with_numeric_list_is_not_a_metric(tmp_path):
    out = _hf_output_dir(tmp_path)
    W.write_json(out / "generation_config.json", {"bos_token_id": 0, "suppress_tokens": [1, 5, 7]})
    (run,) = load_runs(tmp_path).runs
    # actual: {'loss', 'suppress_tokens'} and format 'keras_json+hf_trainer'
    assert set(run.frame["metric"]) == {"loss"}
    assert run.format == "hf_trainer"


def test_python_logging_training_log_ignored(tmp_path):
    W.write_csv(tmp_path / "metrics.csv", ["step", "loss"], [[0, 1.0], [1, 0.5]])
    W.write_text(tmp_path / "training.log", "2024-01-01 12:00:00,123 INFO Starting training\n"
                                            "2024-01-01 12:00:01,456 INFO epoch 1 loss 0.5\n")
    (run,) = load_runs(tmp_path).runs
    # actual: ['<dir>/training.log: no numeric metric values in any column']
    assert run.warnings == []


def test_json_files_that_are_not_histories_do_not_break_discovery(tmp_path):
    # whatever the verdict on side files, a real history next to them is still read intact
    W.write_json(tmp_path / "history.json", {"loss": [2.0, 1.0]})
    W.write_json(tmp_path / "config.json", {"name": "resnet", "depth": 50})
    (tmp_path / "package.json").write_text(json.dumps({"name": "x"}))
    (run,) = load_runs(tmp_path).runs
    assert W.points(run.frame, "loss") == [(0, 2.0), (1, 1.0)]
