"""Hyperparameters from Lightning's hparams.yaml beside metrics.csv: typed, into the JSON report
and lossctl.load(..., hparams=True); YAML through safe_load only (a Python tag is refused)."""

from __future__ import annotations

import writers as W
import yaml

import lossctl
from lossctl.runs import load_runs


def _run(tmp_path, hparams_text: str):
    d = tmp_path / "lightning_logs" / "version_0"
    W.write_text(d / "metrics.csv", "epoch,step,train_loss\n0,9,5.0\n0,19,4.0\n")
    W.write_text(d / "hparams.yaml", hparams_text)
    return d


def test_lightning_hparams_yaml_becomes_typed_hparams(tmp_path):
    # as Lightning writes it: yaml.dump of save_hyperparameters()'s dict
    _run(tmp_path, yaml.dump({"lr": 3e-4, "batch_size": 64, "optimizer": "adamw", "model": {"depth": 4},
                              "warmup": "1e-2", "betas": [0.9, 0.999], "use_amp": True}))
    (run,) = load_runs(tmp_path).runs
    assert run.hparams == {"lr": 3e-4, "batch_size": 64, "optimizer": "adamw", "model.depth": 4, "warmup": 0.01,
                           "betas": "[0.9, 0.999]", "use_amp": True}
    frame, hp = lossctl.load(tmp_path, hparams=True)
    assert len(frame) == 2
    assert dict(zip(hp["name"], hp["value"]))["lr"] == 3e-4 and set(hp["run"]) == {"lightning_logs/version_0"}


def test_a_python_tag_in_hparams_yaml_is_refused_not_run(tmp_path):
    marker = tmp_path / "executed"
    _run(tmp_path, f'!!python/object/apply:os.system ["touch {marker}"]\n')
    (run,) = load_runs(tmp_path).runs
    assert run.hparams == {} and not marker.exists()
    assert any("hparams.yaml: not plain YAML" in w for w in run.warnings)
    assert len(run.frame) == 2  # the run is read all the same
