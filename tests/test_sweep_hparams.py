"""Hyperparameters from run names: what must parse, and ordinary names that must not."""

from __future__ import annotations

import pandas as pd
import pytest

from lossctl.run import Run
from lossctl.sweep.hparams import hparams_of, parse_name
from lossctl.sweep.text import fmt_value


@pytest.mark.parametrize("name,want", [
    ("lr=3e-4,bs=64", {"lr": 3e-4, "bs": 64}),
    ("lr_3e-4-bs_64", {"lr": 3e-4, "bs": 64}),
    ("lr3e-4", {"lr": 3e-4}),
    ("batch_size-32", {"batch_size": 32}),
    ("optimizer=sgd", {"optimizer": "sgd"}),
    ("lr=0.001", {"lr": 0.001}),
    ("lr=1e-3", {"lr": 1e-3}),
    ("lr-1e-4", {"lr": 1e-4}),
    ("lr=3e-4_batch_size=64", {"lr": 3e-4, "batch_size": 64}),
    ("lr=0.001 optimizer=adam", {"lr": 0.001, "optimizer": "adam"}),
    ("mnist_lr0.1_bs32", {"lr": 0.1, "bs": 32}),
    ("wd0.01", {"wd": 0.01}),
    ("use_bn=true", {"use_bn": True}),
    ("lr_decay_0.9", {"lr_decay": 0.9}),
    ("seed_1", {"seed": 1}),  # parsed, but never used to explain a failure
    ("sweep/lr=1e-3/seed_2", {"lr": 1e-3, "seed": 2}),  # every path segment, deeper ones win
    ("lr=1e-3/lr=3e-3", {"lr": 3e-3}),
    # ordinary names invent nothing
    ("version_0", {}),
    ("run-20241001_1200", {}),
    ("epoch_10", {}),
    ("resnet50", {}),
    ("checkpoint-500", {}),
    ("lr_sweep", {}),
    ("gpt2", {}),
    ("model_v2", {}),
    ("my-exp", {}),
    ("lightning_logs/version_3", {}),
    ("2024-10-01", {}),
    ("lr=", {}),
    (".", {}),
])
def test_parse_name(name, want):
    got = parse_name(name)
    assert got == want
    assert {k: type(v) for k, v in got.items()} == {k: type(v) for k, v in want.items()}  # 64 stays int


def _run(name, path=None, hparams=None):
    return Run(name, path or name, "csv", pd.DataFrame(), hparams=dict(hparams or {}))


def test_logged_hparams_win_over_the_name():
    assert hparams_of(_run("lr=1e-3", hparams={"lr": 0.5, "optimizer": "adam"})) == (
        {"lr": 0.5, "optimizer": "adam"}, "logged")
    assert hparams_of(_run("lr=1e-3")) == ({"lr": 1e-3}, "name")
    assert hparams_of(_run("version_0")) == ({}, "none")
    # a run given as its own directory is named "." and read from its path's last segment
    assert hparams_of(_run(".", "sample_logs/lr_sweep/lr=1e-1,seed=2")) == ({"lr": 0.1, "seed": 2}, "name")


@pytest.mark.parametrize("value,text", [(3e-3, "3e-3"), (3e-4, "3e-4"), (0.03, "0.03"), (0.1, "0.1"),
                                        (64, "64"), (64.0, "64"), (True, "true"), ("sgd", "sgd"),
                                        (3.16e-3, "3.16e-3"), (1234567.0, "1234567")])
def test_values_are_written_exactly_enough(value, text):
    assert fmt_value(value) == text
