"""The command line through typer's runner: exit codes, JSON shape, options, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lossctl.cli import app

runner = CliRunner()
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "dev"


def write_csv(path: Path, loss, val=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["epoch,loss,val_loss"]
    for i, v in enumerate(loss):
        lines.append(f"{i},{v},{'' if val is None else val[i]}")
    path.write_text("\n".join(lines) + "\n")
    return path


def healthy(n=30):
    return 2.0 * np.exp(-np.arange(n) / 8) + 0.1


def diverging(n=30):
    y = healthy(n)
    y[n // 2:] = y[n // 2] * np.exp(np.arange(n - n // 2) / 3)
    return y


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_healthy_run_exits_0(tmp_path):
    write_csv(tmp_path / "run" / "training.log", healthy(), healthy() * 1.1)
    r = invoke("analyze", tmp_path)
    assert r.exit_code == 0, r.output
    assert "1 run analysed, 0 with findings" in r.output


def test_diverging_run_exits_1_and_json_matches_contract(tmp_path):
    write_csv(tmp_path / "good" / "training.log", healthy())
    write_csv(tmp_path / "bad" / "training.log", diverging())
    r = invoke("analyze", tmp_path, "--format", "json")
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert doc["schema"] == 1 and doc["lossctl_version"]
    assert doc["summary"] == {"runs": 2, "error": 1, "warning": 0, "info": 0}
    runs = {x["run"]: x for x in doc["runs"]}
    assert set(runs) == {"good", "bad"}
    bad = runs["bad"]
    assert bad["status"] == "error" and bad["format"] == "keras_csv"
    assert bad["roles"]["loss"] == "loss"
    assert set(bad["metrics"]["loss"]) >= {"points", "first_step", "last_step", "last", "min"}
    f = bad["findings"][0]
    assert set(f) == {"kind", "severity", "run", "metric", "start_step", "end_step", "message",
                      "evidence", "suggestions"}
    assert f["kind"] == "divergence" and f["run"] == "bad" and isinstance(f["start_step"], int)
    assert runs["good"]["status"] == "ok" and runs["good"]["findings"] == []


@pytest.mark.parametrize("fail_on,code", [("error", 1), ("never", 0), ("warning", 1)])
def test_fail_on(tmp_path, fail_on, code):
    write_csv(tmp_path / "bad" / "training.log", diverging())
    assert invoke("analyze", tmp_path, "--fail-on", fail_on).exit_code == code


def test_ignore_and_select(tmp_path):
    write_csv(tmp_path / "bad" / "training.log", diverging())
    assert invoke("analyze", tmp_path, "--ignore", "divergence").exit_code == 0
    assert invoke("analyze", tmp_path, "--select", "nonfinite,oscillation").exit_code == 0
    r = invoke("analyze", tmp_path, "--select", "bogus")
    assert r.exit_code == 2 and "unknown kind" in r.output


def test_loss_override_and_missing_tag_warning(tmp_path):
    p = tmp_path / "r" / "log.csv"
    p.parent.mkdir()
    y = diverging()
    p.write_text("step,objective_a,objective_b\n" + "".join(f"{i},{1.0},{v}\n" for i, v in enumerate(y)))
    r = invoke("analyze", tmp_path, "--format", "json", "--loss", "objective_b")
    doc = json.loads(r.stdout)
    assert doc["runs"][0]["roles"]["loss"] == "objective_b"
    assert r.exit_code == 1
    r = invoke("analyze", tmp_path, "--format", "json", "--loss", "nope")
    assert any("'nope' is not logged" in w for w in json.loads(r.stdout)["runs"][0]["warnings"])


def test_output_file_gets_format_while_screen_gets_report(tmp_path):
    write_csv(tmp_path / "run" / "training.log", healthy())
    out = tmp_path / "report.json"
    r = invoke("analyze", tmp_path / "run", "--format", "json", "--output", out)
    assert r.exit_code == 0
    assert json.loads(out.read_text())["summary"]["runs"] == 1
    assert "run analysed" in r.stdout


@pytest.mark.parametrize("setup,needle", [
    (lambda p: None, "no training logs found"),
    (lambda p: (p / "notes.txt").write_text("hello"), "no training logs found"),
    (lambda p: (p / "metrics.csv").write_text("epoch,loss\n"), "no data rows"),
    (lambda p: (p / "history.json").write_text('{"loss": [1.0, 0.5'), "malformed JSON"),
    (lambda p: (p / "events.out.tfevents.1.x").write_bytes(b""), "empty file"),
])
def test_nothing_readable_exits_2_with_one_line(tmp_path, setup, needle):
    setup(tmp_path)
    r = invoke("analyze", tmp_path)
    assert r.exit_code == 2
    assert needle in r.output
    assert "Traceback" not in r.output


def test_missing_path_exits_2(tmp_path):
    r = invoke("analyze", tmp_path / "nope")
    assert r.exit_code == 2 and "no such file or directory" in r.output


def test_partial_read_reports_warning_and_analyses_the_rest(tmp_path):
    write_csv(tmp_path / "run" / "training.log", healthy())
    (tmp_path / "run" / "history.json").write_text("{broken")
    r = invoke("analyze", tmp_path, "--format", "json")
    assert r.exit_code == 0
    (run,) = json.loads(r.stdout)["runs"]
    assert any("history.json" in w and "malformed JSON" in w for w in run["warnings"])


def test_rules_and_explain():
    r = invoke("rules")
    assert r.exit_code == 0
    for kind in ("nonfinite", "divergence", "oscillation"):
        assert kind in r.output
    r = invoke("explain", "divergence")
    assert r.exit_code == 0 and "min_ratio = 2" in r.output and "What to do" in r.output
    assert invoke("explain", "nope").exit_code == 2


def test_config_from_pyproject(tmp_path, monkeypatch):
    write_csv(tmp_path / "bad" / "training.log", diverging())  # ends 63x above its best
    monkeypatch.chdir(tmp_path)
    assert invoke("analyze", "bad").exit_code == 1  # divergence at the default min_ratio of 2
    # the threshold shows in the exit code: above the run's ratio nothing is found, below it is
    (tmp_path / "pyproject.toml").write_text('[tool.lossctl.divergence]\nmin_ratio = 100.0\n')
    assert invoke("analyze", "bad").exit_code == 0
    assert "min_ratio = 100" in invoke("explain", "divergence").output
    (tmp_path / "pyproject.toml").write_text('[tool.lossctl.divergence]\nmin_ratio = 50.0\n')
    assert invoke("analyze", "bad").exit_code == 1
    (tmp_path / "pyproject.toml").write_text('[tool.lossctl]\nfail-on = "never"\n')
    assert invoke("analyze", "bad").exit_code == 0
    (tmp_path / "pyproject.toml").write_text('[tool.lossctl]\nbogus = 1\n')
    r = invoke("analyze", "bad")
    assert r.exit_code == 2 and "unknown setting" in r.output


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus/dev not present")
def test_whole_dev_corpus_reads_without_exit_2():
    r = invoke("analyze", CORPUS, "--format", "json")
    assert r.exit_code in (0, 1)
    doc = json.loads(r.stdout)
    assert doc["summary"]["runs"] == 69
