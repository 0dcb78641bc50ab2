"""lossctl compare: alignment on the common range, the statistics, verdicts and exit codes."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from runlogs import curve, keras_csv, lightning_csv
from synth import run_of
from typer.testing import CliRunner

from lossctl.analysis import analyze_run
from lossctl.cli import app
from lossctl.compare import compare, judge
from lossctl.compare.metrics import area, trailing_mean
from lossctl.config import Config
from lossctl.detectors.base import Series

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def report(series, steps=None, name="r"):
    return analyze_run(run_of(series, steps, name=name), Config())


# --- the statistics, against naive implementations ------------------------------------------


def test_trailing_mean_matches_a_loop_on_irregular_steps():
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.integers(1, 7, 300))
    y = rng.normal(1, 0.3, 300)
    y[[10, 50, 51]] = np.nan
    got = trailing_mean(x, y, 20.0)
    for i in range(len(x)):
        lo = min(np.searchsorted(x, x[i] - 20.0), max(i - 2, 0))
        w = y[lo:i + 1]
        assert got[i] == pytest.approx(np.nanmean(w), rel=1e-9)


def test_area_is_the_integral_of_the_interpolant_on_the_range():
    x = np.array([0, 10, 30, 60])
    y = np.array([4.0, 2.0, 1.0, 1.0])
    s = Series("loss", x, y)
    grid = np.linspace(5, 45, 40001)
    dense = np.interp(grid, x, y)
    assert area(s, 5, 45) == pytest.approx(float(np.sum(np.diff(grid) * (dense[1:] + dense[:-1]) / 2)), rel=1e-6)
    assert area(s, 0, 60) == pytest.approx(5 * 6 + 10 * 3 + 30 * 1)


# --- alignment: spacing, length, epochs ------------------------------------------------------


def test_every_step_against_every_10th_step_compares_by_step_not_index():
    y = curve(1000, seed=1)
    base = report({"loss": y})
    sparse = report({"loss": y[::10]}, {"loss": np.arange(0, 1000, 10)})
    c = compare([base, sparse])
    m = c.metrics[0]
    a, b = m.stats
    assert m.common == (0, 990)
    assert b.final == pytest.approx(a.final, rel=0.05)
    assert b.auc == pytest.approx(a.auc, rel=0.02)
    assert abs(b.best_step - a.best_step) <= 100
    assert c.verdicts[0].verdict == "same"
    # by index the sparse run's point 99 (step 990) would meet step 99 of the baseline: 4x higher
    assert y[99] > 3 * b.final


def test_different_lengths_are_judged_on_the_range_both_cover():
    y = curve(1000, seed=2)
    long, short = report({"loss": y}, name="long"), report({"loss": y[:400]}, name="short")
    c = compare([long, short])
    a, b = c.metrics[0].stats
    assert c.metrics[0].common == (0, 399)
    assert a.final == pytest.approx(b.final)  # the long run at step 399, not at its own end
    assert a.final_at_end < 0.7 * a.final
    assert c.verdicts[0].verdict == "same" and c.verdicts[0].change == pytest.approx(0)
    # and the other way round
    assert compare([short, long]).verdicts[0].verdict == "same"


def test_steps_to_target_and_best():
    y = curve(1000, seed=3, noise=0.0)
    fast = report({"loss": curve(1000, seed=3, noise=0.0, rate=10.0)}, name="fast")
    c = compare([report({"loss": y}), fast])
    a, b = c.metrics[0].stats
    assert c.metrics[0].target == pytest.approx(a.final)
    assert b.reached_at < 0.6 * a.reached_at  # twice the decay rate: there in about half the steps
    assert a.best_step > 900 and b.best <= a.best


def test_per_epoch_log_against_per_step_log_is_aligned_by_epoch(tmp_path):
    spe, epochs = 25, 40
    y = curve(spe * epochs, seed=4)
    val = curve(epochs, floor=0.12, seed=5, noise=0.01)
    keras_csv(tmp_path / "keras", y.reshape(epochs, spe).mean(axis=1), val)
    lightning_csv(tmp_path / "lightning", y, spe, val)
    r = invoke("compare", tmp_path / "keras", tmp_path / "lightning", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["axis"] == "epoch"
    (v,) = doc["verdicts"]
    assert v["verdict"] == "same" and v["metric"] == "val_loss" and v["common_range"] == [0, epochs - 1]
    train = next(m for m in doc["metrics"] if m["metric"] == "loss")
    a, b = train["runs"]
    assert b["final"] == pytest.approx(a["final"], rel=1e-9)  # epoch means, as Keras logs them
    assert b["auc"] == pytest.approx(a["auc"], rel=1e-9)


# --- verdicts and exit codes ------------------------------------------------------------------


@pytest.mark.parametrize("floor,verdict,code", [(0.05, "better", 0), (0.1, "same", 0), (0.2, "worse", 1)])
def test_exit_codes_better_same_worse(tmp_path, floor, verdict, code):
    keras_csv(tmp_path / "a", curve(100, seed=1), curve(100, floor=0.15, seed=2))
    keras_csv(tmp_path / "b", curve(100, seed=3), curve(100, floor=floor * 1.5, seed=4))
    r = invoke("compare", tmp_path / "a", tmp_path / "b", "--format", "json")
    assert r.exit_code == code, r.output
    (v,) = json.loads(r.stdout)["verdicts"]
    assert v["verdict"] == verdict and v["metric"] == "val_loss"


def test_max_regression_is_the_tolerance(tmp_path):
    keras_csv(tmp_path / "a", curve(100, seed=1, noise=0.005))
    keras_csv(tmp_path / "b", curve(100, floor=0.108, seed=2, noise=0.005))  # about 8 % worse at the end
    r = invoke("compare", tmp_path / "a", tmp_path / "b", "--format", "json")
    assert r.exit_code == 1
    v = json.loads(r.stdout)["verdicts"][0]
    assert v["verdict"] == "worse" and 5 < v["change_pct"] < 10 and v["noise_pct"] < 5
    r = invoke("compare", tmp_path / "a", tmp_path / "b", "--max-regression", 10, "--format", "json")
    assert r.exit_code == 0
    assert "within the tolerance (10%)" in json.loads(r.stdout)["verdicts"][0]["reason"]


def test_a_difference_inside_the_noise_is_same():
    a = report({"loss": curve(200, seed=1, noise=0.3)})
    b = report({"loss": curve(200, floor=0.105, seed=2, noise=0.3)})
    v = compare([a, b]).verdicts[0]
    assert v.verdict == "same" and "within the noise" in v.reason
    assert abs(v.change) < v.noise


def test_a_new_error_finding_is_worse_whatever_the_numbers():
    n = 300
    diverging = curve(n, seed=1)
    diverging[n // 2:] = diverging[n // 2] * np.exp(np.arange(n - n // 2) / 20)
    steps = {"val_loss": np.arange(9, n, 10)}
    base = report({"loss": curve(n, seed=2), "val_loss": curve(30, floor=0.2, seed=3)}, steps, "base")
    run = report({"loss": diverging, "val_loss": curve(30, floor=0.1, seed=4)}, steps, "run")
    assert any(f.kind == "divergence" for f in run.findings)
    v = judge(base, run)
    assert v.verdict == "worse" and "divergence" in v.reason and "baseline lacks" in v.reason
    assert v.final[1] < v.final[0]  # the judged numbers alone would have said better
    # the same error in another baseline is no news: the numbers decide, whichever way they go
    other = curve(n, seed=5)
    other[n // 2:] = other[n // 2] * np.exp(np.arange(n - n // 2) / 15)
    for val_floor, verdict in [(0.1, "same"), (0.2, "better")]:
        base2 = report({"loss": other, "val_loss": curve(30, floor=val_floor, seed=7)}, steps, "base2")
        assert any(f.kind == "divergence" for f in base2.findings)
        v = judge(base2, run)
        assert v.verdict == verdict and "divergence" not in v.reason and v.metric == "val_loss", v.reason
    assert judge(run, base2).verdict == "worse"  # run as the baseline of a run with a worse val_loss


def test_higher_is_better_for_accuracy_metrics():
    base = report({"loss": curve(200, seed=1), "accuracy": 1 - curve(200, floor=0.2, seed=2)})
    run = report({"loss": curve(200, seed=3), "accuracy": 1 - curve(200, floor=0.1, seed=4)})
    acc = next(m for m in compare([base, run]).metrics if m.key == "accuracy")
    assert acc.direction == "higher"
    a, b = acc.stats
    assert b.final > a.final and b.best > a.best and b.reached_at is not None


@given(seed=st.integers(0, 10_000), ratio=st.floats(0.6, 1.6), noise=st.floats(0.002, 0.2),
       scale=st.sampled_from([1e-3, 1000.0, 7.5e4]))
def test_verdict_is_scale_invariant(seed, ratio, noise, scale):
    a = curve(150, seed=seed, noise=noise)
    b = curve(150, floor=0.1 * ratio, seed=seed + 1, noise=noise)
    v1 = judge(report({"loss": a}), report({"loss": b}), max_regression=2.0)
    v2 = judge(report({"loss": a * scale}), report({"loss": b * scale}), max_regression=2.0)
    assert v1.verdict == v2.verdict
    assert v1.change_pct == pytest.approx(v2.change_pct, rel=1e-6, abs=1e-9)


def test_three_runs_each_verdict_is_its_two_run_verdict(tmp_path):
    keras_csv(tmp_path / "a", curve(100, seed=1))
    keras_csv(tmp_path / "b", curve(100, floor=0.2, seed=2))
    keras_csv(tmp_path / "c", curve(60, floor=0.05, seed=3))
    r = invoke("compare", tmp_path / "a", tmp_path / "b", tmp_path / "c", "--format", "json")
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert [v["verdict"] for v in doc["verdicts"]] == ["worse", "better"]
    assert doc["summary"] == {"runs": 3, "better": 1, "same": 0, "worse": 1}
    assert doc["metrics"][0]["common_range"] == [0, 59]  # the table: the range all runs cover
    two = json.loads(invoke("compare", tmp_path / "a", tmp_path / "b", "--format", "json").stdout)
    assert two["verdicts"][0] == doc["verdicts"][0]


def test_json_shape(tmp_path):
    keras_csv(tmp_path / "a", curve(50, seed=1), curve(50, floor=0.15, seed=2))
    keras_csv(tmp_path / "b", curve(50, seed=3), curve(50, floor=0.15, seed=4))
    doc = json.loads(invoke("compare", tmp_path / "a", tmp_path / "b", "--format", "json").stdout)
    assert {"schema", "lossctl_version", "command", "baseline", "axis", "max_regression_pct", "runs",
            "metrics", "verdicts", "summary"} <= set(doc)
    assert doc["command"] == "compare" and doc["baseline"] == str(tmp_path / "a")
    assert [r["label"] for r in doc["runs"]] == [str(tmp_path / "a"), str(tmp_path / "b")]
    m = doc["metrics"][0]
    assert m["metric"] == "val_loss" and m["better"] == "lower" and len(m["runs"]) == 2
    assert m["runs"][0]["delta"] is None
    assert set(m["runs"][1]["delta"]) == {"final", "best", "reached_at", "auc"}
    assert set(m["runs"][1]) >= {"final", "final_at_end", "best", "best_step", "reached_at", "auc", "noise",
                                 "stability"}
    assert set(doc["verdicts"][0]) >= {"run", "baseline", "verdict", "reason", "change_pct", "noise_pct"}


def test_output_file_gets_json_while_screen_gets_the_table(tmp_path):
    keras_csv(tmp_path / "a", curve(50, seed=1))
    keras_csv(tmp_path / "b", curve(50, seed=2))
    out = tmp_path / "cmp.json"
    r = invoke("compare", tmp_path / "a", tmp_path / "b", "--format", "json", "--output", out)
    assert r.exit_code == 0
    assert json.loads(out.read_text())["command"] == "compare"
    assert "training loss" in r.stdout and "verdict" in r.stdout


# --- bad input -------------------------------------------------------------------------------


def one_line_error(r, needle):
    assert r.exit_code == 2
    assert ("Traceback" not in r.output and r.exception is None) or isinstance(r.exception, SystemExit)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lossctl: ") and needle in lines[0], r.stderr


def test_run_without_the_baselines_metric_exits_2(tmp_path):
    keras_csv(tmp_path / "a", curve(50, seed=1), curve(50, seed=2))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "training.log").write_text("epoch,accuracy\n" + "".join(f"{i},{i / 50}\n" for i in range(50)))
    one_line_error(invoke("compare", tmp_path / "a", tmp_path / "b"), "no training loss to compare")
    one_line_error(invoke("analyze", tmp_path / "b", "--baseline", tmp_path / "a"), "no training loss")


def test_overridden_loss_missing_in_a_run_exits_2(tmp_path):
    p = tmp_path / "a" / "log.csv"
    p.parent.mkdir()
    p.write_text("step,objective\n" + "".join(f"{i},{float(v)!r}\n" for i, v in enumerate(curve(50))))
    keras_csv(tmp_path / "b", curve(50, seed=2))
    one_line_error(invoke("compare", tmp_path / "a", tmp_path / "b", "--loss", "objective"), "'objective'")


@pytest.mark.parametrize("which", [0, 1])
def test_nonexistent_path_exits_2(tmp_path, which):
    keras_csv(tmp_path / "a", curve(50))
    paths = [tmp_path / "a", tmp_path / "a"]
    paths[which] = tmp_path / "nope"
    one_line_error(invoke("compare", *paths), "no such file or directory")


def test_usage_errors_exit_2(tmp_path):
    keras_csv(tmp_path / "runs" / "a", curve(50))
    keras_csv(tmp_path / "runs" / "b", curve(50, seed=1))
    one_line_error(invoke("compare", tmp_path / "runs" / "a"), "at least one run")
    one_line_error(invoke("compare", tmp_path / "runs", tmp_path / "runs" / "a"), "holds 2 runs")
    assert invoke("compare", tmp_path / "runs" / "a", tmp_path / "runs", "--max-regression", -1).exit_code == 2


def plain_csv(run_dir, first_step=0, n=50):
    run_dir.mkdir(parents=True)
    rows = "".join(f"{first_step + i},{float(v)!r}\n" for i, v in enumerate(curve(n)))
    (run_dir / "log.csv").write_text("step,loss\n" + rows)


def test_no_common_range_exits_2(tmp_path):
    plain_csv(tmp_path / "a")
    plain_csv(tmp_path / "b", first_step=1000)
    one_line_error(invoke("compare", tmp_path / "a", tmp_path / "b"), "shares no step range")


def test_per_step_run_without_epoch_clock_against_per_epoch_run_exits_2(tmp_path):
    keras_csv(tmp_path / "a", curve(50))
    plain_csv(tmp_path / "b")
    one_line_error(invoke("compare", tmp_path / "a", tmp_path / "b"), "epoch length is unknown")


def test_a_tree_after_the_baseline_compares_every_run_in_it(tmp_path):
    keras_csv(tmp_path / "runs" / "a", curve(50))
    keras_csv(tmp_path / "runs" / "b", curve(50, floor=0.3, seed=1))
    keras_csv(tmp_path / "runs" / "c", curve(50, seed=2))
    r = invoke("compare", tmp_path / "runs" / "a", tmp_path / "runs", "--format", "json")
    doc = json.loads(r.stdout)
    assert [v["run"] for v in doc["verdicts"]] == ["b", "c"]  # the baseline is not compared with itself
    assert r.exit_code == 1


def test_a_million_points_compare_quickly():
    n = 1_000_000
    base = report({"loss": curve(n, seed=1, noise=0.1)})
    run = report({"loss": curve(n, floor=0.2, seed=2, noise=0.1)})
    t0 = time.perf_counter()
    c = compare([base, run])
    assert time.perf_counter() - t0 < 5.0
    assert c.verdicts[0].verdict == "worse"


def test_an_unreadable_log_beside_good_runs_is_a_warning(tmp_path):
    keras_csv(tmp_path / "a", curve(50))
    keras_csv(tmp_path / "runs" / "b", curve(50, seed=1))
    (tmp_path / "runs" / "c").mkdir()
    (tmp_path / "runs" / "c" / "history.json").write_text('{"loss": [1.0, 0.5')
    r = invoke("compare", tmp_path / "a", tmp_path / "runs", "--format", "json")
    assert r.exit_code == 0, r.output
    assert "malformed JSON" in r.stderr
    assert [v["run"] for v in json.loads(r.stdout)["verdicts"]] == ["b"]
