"""Gradient boosting's evaluation lines, written with the libraries' own formatting:
XGBoost's ``EvaluationMonitor`` (``_fmt_metric``: ``\\t{data}-{metric}:{score:.5f}``, ``+{std:.5f}``
from ``xgb.cv``) and LightGBM's ``log_evaluation`` (``_format_eval_result``: ``{data}'s {metric}:
{value:g}``, `` + {std:g}`` from ``lgb.cv``), with the early-stopping headings that print the best
round again."""

from __future__ import annotations

import numpy as np
from writers import points

from lossctl.analysis import analyze_run
from lossctl.config import Config
from lossctl.runs import load_runs


def xgb_line(epoch: int, scores: dict, stds: dict | None = None) -> str:
    msg = f"[{epoch}]"
    for name, score in scores.items():
        data, metric = name.split("-", 1)
        std = (stds or {}).get(name)
        msg += (f"\t{data + '-' + metric}:{score:.5f}+{std:.5f}" if std is not None
                else f"\t{data + '-' + metric}:{score:.5f}")
    return msg + "\n"


def lgb_line(iteration: int, results: list[tuple]) -> str:
    def fmt(value):
        out = f"{value[0]}'s {value[1]}: {value[2]:g}"
        return out + (f" + {value[4]:g}" if len(value) == 5 else "")
    return f"[{iteration + 1}]\t" + "\t".join(fmt(v) for v in results) + "\n"


def overfitting_curves(n: int, seed: int = 0):
    """Training error keeps falling; validation error bottoms at a third of the rounds, then rises 40%."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, n)
    train = 0.7 * np.exp(-4 * t) + 0.05
    val = np.where(t < 1 / 3, 0.7 - 1.2 * t, 0.3 + 0.36 * (t - 1 / 3)) + rng.normal(0, 0.002, n)
    return train, val


def test_xgboost_rounds_with_an_early_stop_repeat(tmp_path):
    train, val = overfitting_curves(200)
    lines = ["[22:50:27] WARNING: ../src/learner.cc:767: Parameters: { \"silent\" } are not used.\n",
             "Will train until validation-rmse hasn't improved in 50 rounds.\n"]
    lines += [xgb_line(i, {"train-rmse": train[i], "validation-rmse": val[i]}) for i in range(200)]
    lines += ["Stopping. Best iteration:\n", xgb_line(66, {"train-rmse": train[66], "validation-rmse": val[66]})]
    p = tmp_path / "xgb.log"
    p.write_text("".join(lines))
    (run,) = load_runs(p).runs
    assert [s for s, _ in points(run.frame, "validation-rmse")] == list(range(200))  # the repeat is not a point
    assert not run.warnings
    report = analyze_run(run, Config())
    assert report.view.roles["loss"] == "train-rmse" and report.view.roles["val_loss"] == "validation-rmse"
    assert "overfitting" in {f.kind for f in report.findings}


def test_xgboost_cv_standard_deviations_are_not_curves(tmp_path):
    p = tmp_path / "cv.log"
    p.write_text("".join(xgb_line(i, {"train-auc": 0.8 + i / 1000, "test-auc": 0.79 + i / 1200},
                                  {"train-auc": 0.01, "test-auc": 0.02}) for i in range(50)))
    (run,) = load_runs(p).runs
    assert set(run.frame["metric"].unique()) == {"train-auc", "test-auc"}


def test_lightgbm_two_sets_and_an_early_stop(tmp_path):
    train, val = overfitting_curves(300, seed=1)
    lines = ["[LightGBM] [Info] Number of positive: 3000, number of negative: 7000\n",
             "Training until validation scores don't improve for 100 rounds\n"]
    lines += [lgb_line(i, [("training", "binary_logloss", train[i], False),
                           ("valid_1", "binary_logloss", val[i], False)]) for i in range(300)]
    lines += ["Early stopping, best iteration is:\n",
              lgb_line(99, [("training", "binary_logloss", train[99], False), ("valid_1", "binary_logloss", val[99], False)])]
    p = tmp_path / "lgb_train.log"
    p.write_text("".join(lines))
    (run,) = load_runs(p).runs
    assert [s for s, _ in points(run.frame, "valid_1's binary_logloss")] == list(range(1, 301))
    report = analyze_run(run, Config())
    assert report.view.roles["val_loss"] == "valid_1's binary_logloss"
    assert "overfitting" in {f.kind for f in report.findings}


def test_lightgbm_cv_aggregates(tmp_path):
    p = tmp_path / "cv.log"
    p.write_text("".join(lgb_line(i, [("cv_agg", "valid l2", 1 / (i + 1), False, 0.01)]) for i in range(30)))
    (run,) = load_runs(p).runs
    assert [v for _, v in points(run.frame, "cv_agg's valid l2")][:2] == [1.0, 0.5]
