"""Golden output of the renderers on sample_logs/ (regenerate: LOSSCTL_UPDATE_GOLDEN=1 pytest)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from lossctl.analysis import analyze_run
from lossctl.config import Config
from lossctl.renderers import RENDERERS
from lossctl.runs import load_runs

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"


@pytest.fixture(scope="module")
def reports():
    old = os.getcwd()
    os.chdir(ROOT)  # run paths in the output are relative to where lossctl is called
    try:
        result = load_runs("sample_logs")
    finally:
        os.chdir(old)
    return [analyze_run(r, Config()) for r in result.runs], result.errors


def check(name: str, text: str):
    path = GOLDEN / name
    if os.environ.get("LOSSCTL_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    want = path.read_text(encoding="utf-8")
    if name.endswith(".json"):  # numbers to 1e-12: numpy and pandas releases differ in the last ulp
        assert _same(json.loads(text), json.loads(want)), f"{name} changed; LOSSCTL_UPDATE_GOLDEN=1 to accept"
        return
    assert text == want, f"{name} changed; LOSSCTL_UPDATE_GOLDEN=1 to accept"


def _same(a, b) -> bool:
    """Equal JSON documents, floats compared to a relative 1e-12."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and a == b


def test_terminal_plain(reports):
    text = RENDERERS["terminal"](*reports, color=False, width=100)
    assert "\x1b[" not in text
    check("sample_logs.terminal.txt", text)


def test_terminal_colour_has_ansi(reports):
    text = RENDERERS["terminal"](*reports, color=True, width=100)
    assert "\x1b[" in text


def test_json(reports):
    text = RENDERERS["json"](*reports, color=False, width=100)
    json.loads(text)
    check("sample_logs.json", text)


def test_json_report_is_the_same_without_msgspec(reports, monkeypatch):
    """msgspec writes the report fast; without it (the readers run without it too, and ``make
    bench`` measures them so) the json module writes the same document."""
    from lossctl.renderers import json_text

    text = RENDERERS["json"](*reports, color=False, width=100)
    monkeypatch.setattr(json_text, "msgspec", None)
    assert json.loads(RENDERERS["json"](*reports, color=False, width=100)) == json.loads(text)


# what each sample run was made to show (scripts/make_sample_logs.py): one run per kind, each
# flagged with that kind and nothing else, a healthy run flagged with nothing, and the sweep
SAMPLE_KINDS = {
    "healthy_tensorboard": set(),
    "diverging_lightning": {"divergence"},
    "rl_collapse_tensorboard/PPO_1": {"divergence"},  # the agent's return
    "oscillating_keras": {"oscillation"},
    "overfitting_keras_json": {"overfitting"},
    "nonfinite_tensorboard": {"nonfinite"},
    "nonfinite_console": {"nonfinite"},
    "spike_lightning": {"spike"},
    "plateau_keras": {"plateau"},
    "train_val_mismatch_keras_json": {"train_val_mismatch"},
    # validation never beats the untrained model, and it gets worse from the first epoch on
    "val_labels_permuted_keras": {"train_val_mismatch", "overfitting"},
    # a per-epoch training loss averages the bouncing away; the validation loss swings
    "val_oscillating_keras_json": {"oscillation"},
    "noisy_lightning": {"noisy"},
    "epoch_periodic_tensorboard": {"epoch_periodic"},
    "loss_imbalance_lightning": {"loss_imbalance"},
    "long_spikes_lightning": {"spike"},  # 120,000 steps: the long-run spike rules
    "two_heads_keras": {"overfitting"},  # the price head's pair; the total is fine
    "overfitting_hf_trainer/checkpoint-600": {"overfitting"},  # evaluated 5 times: every move up
    # the learning-rate sweep: the two highest learning rates diverge to NaN, the rest train
    **{f"lr_sweep/lr={lr},seed={seed}": ({"divergence", "nonfinite"} if lr in ("1e-1", "3e-1") else set())
       for lr in ("1e-3", "3e-3", "1e-2", "3e-2", "1e-1", "3e-1") for seed in (1, 2)},
}


def test_sample_logs_show_what_they_were_made_to_show(reports):
    from lossctl.detectors import DETECTORS

    kinds = {r.run.name: {f.kind for f in r.findings} for r in reports[0]}
    assert kinds == SAMPLE_KINDS
    assert set().union(*SAMPLE_KINDS.values()) == {d.kind for d in DETECTORS}  # every kind has a sample


# --- CI formats and compare (built from the same sample_logs) --------------------------------


@pytest.mark.parametrize("fmt,name", [("github", "sample_logs.github.txt"), ("junit", "sample_logs.junit.xml"),
                                      ("markdown", "sample_logs.md")])
def test_ci_formats(reports, fmt, name):
    text = RENDERERS[fmt](*reports, color=False, width=100)
    assert text == RENDERERS[fmt](*reports, color=True, width=60)  # neither colour nor width matter
    check(name, text)


@pytest.fixture(scope="module")
def judged(reports):
    """The sample runs judged against healthy_tensorboard, as `analyze --baseline` does."""
    from dataclasses import replace

    from lossctl.compare import judge

    runs = {r.run.name: r for r in reports[0]}
    base = runs["healthy_tensorboard"]
    # the agent of rl_collapse_tensorboard logs objectives and a return, nothing to set beside a loss
    out = [replace(r, baseline=None if r is base else judge(base, r)) for r in reports[0]
           if "rl_collapse" not in r.run.path]
    return out, reports[1]


@pytest.mark.parametrize("fmt,name", [("github", "sample_logs.baseline.github.txt"),
                                      ("markdown", "sample_logs.baseline.md"),
                                      ("terminal", "sample_logs.baseline.terminal.txt")])
def test_ci_formats_with_baseline(judged, fmt, name):
    check(name, RENDERERS[fmt](*judged, color=False, width=100))


@pytest.mark.parametrize("names,golden", [
    (["healthy_tensorboard", "diverging_lightning"], "compare"),
    (["oscillating_keras", "overfitting_keras_json", "healthy_tensorboard"], "compare3"),
])
def test_compare_golden(reports, names, golden):
    from lossctl.compare import compare
    from lossctl.renderers import COMPARE_RENDERERS

    runs = {r.run.name: r for r in reports[0]}
    c = compare([runs[n] for n in names])
    text = COMPARE_RENDERERS["terminal"](c, [], color=False, width=100)
    assert "\x1b[" not in text and "\x1b[" in COMPARE_RENDERERS["terminal"](c, [], color=True, width=100)
    check(f"{golden}.terminal.txt", text)
    text = COMPARE_RENDERERS["json"](c, [], color=False, width=100)
    json.loads(text)
    check(f"{golden}.json", text)
