"""Verdicts on real public logs (../shared/real) that a reader of the curves checks at a glance."""

from __future__ import annotations

from pathlib import Path

import pytest

from lossctl.analysis import analyze_run
from lossctl.config import Config
from lossctl.runs import load_runs

REAL = Path(__file__).resolve().parents[2] / "shared" / "real"


def _findings(path: Path):
    if not path.exists():
        pytest.skip(f"{path} not present")
    return [f for run in load_runs(str(path)).runs for f in analyze_run(run, Config()).findings]


def test_learning_segmentation_model_is_not_a_plateau():
    """UNet_Adam_CE: the losses fall 9% over the late stretch and the logged test IoU rises
    0.70 -> 0.81: the model is learning, so no plateau ('gives every input the same output')."""
    found = _findings(REAL / "tensorboard/pets-segmentation/unet/runs/UNet_Adam_CE")
    assert [f.kind for f in found] == []


def test_one_epoch_validation_jump_is_a_recovered_spike():
    """Emotion-Detection: val_loss 1.44 -> 7.42 -> 1.29 at epochs 0-2."""
    found = _findings(REAL / "keras/Aditya24jar+Emotion-Detection-Resnet50")
    assert [(f.kind, f.metric, f.severity) for f in found] == [("spike", "val_loss", "info")]
    ev = found[0].evidence
    assert (ev["peak_step"], ev["peak"], ev["before"], ev["after"]) == (1, pytest.approx(7.417, abs=1e-3),
                                                                       pytest.approx(1.444, abs=1e-3),
                                                                       pytest.approx(1.286, abs=1e-3))
    assert ev["peak"] / max(ev["before"], ev["after"]) == pytest.approx(ev["peak_ratio"], abs=0.01)
    assert "recovers at the next evaluation" in found[0].message
