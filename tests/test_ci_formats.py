"""CI output: github workflow commands, JUnit XML, markdown summary, analyze --baseline, the action."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from runlogs import curve, keras_csv
from synth import run_of
from typer.testing import CliRunner

from lossctl.analysis import analyze_run
from lossctl.cli import app
from lossctl.config import Config
from lossctl.detectors import DETECTORS
from lossctl.findings import Finding
from lossctl.renderers import RENDERERS
from lossctl.renderers.github import escape_data, escape_property

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def diverging(n=60):
    y = curve(n, seed=5)
    y[n // 2:] = y[n // 2] * np.exp(np.arange(n - n // 2) / 3)
    return y


def fabricated(name: str, severities: list[str]):
    """A real report of a healthy synthetic run carrying the given findings (renderer input)."""
    r = analyze_run(run_of({"loss": curve(100)}, name=name), Config())
    r.findings = [Finding("spike" if s != "error" else "divergence", s, name, "loss", i, i + 5,
                          f"{s} number {i}", {}, ["fix it"]) for i, s in enumerate(severities)]
    return r


# --- github ---------------------------------------------------------------------------------


def test_github_escaping():
    assert escape_data("50% a\r\nb") == "50%25 a%0D%0Ab"
    assert escape_property("run:1,2%") == "run%3A1%2C2%25"
    r = fabricated("runs/a:b,c", ["error"])
    r.findings[0].message = "up 50%\nthen\rdown"
    (line,) = [ln for ln in RENDERERS["github"]([r], []).splitlines() if ln.startswith("::")]
    assert line.startswith("::error file=runs/a%3Ab%2Cc,title=lossctl%3A divergence in runs/a%3Ab%2Cc::")
    assert line.endswith("::up 50%25%0Athen%0Ddown Try: fix it")


def test_github_most_severe_first_at_most_10_per_level_then_one_notice():
    reports = [fabricated(f"r{i}", ["warning", "error", "info"]) for i in range(13)]
    lines = RENDERERS["github"](reports, []).splitlines()
    levels = [ln[2:].split(" ")[0].split("::")[0] for ln in lines if ln.startswith("::")]
    assert levels == ["error"] * 10 + ["warning"] * 10 + ["notice"] * 9 + ["notice"]
    assert lines[-1].startswith("::notice title=lossctl%3A more findings::")
    assert "10 more annotations not shown (3 errors, 3 warnings, 4 notices)" in lines[-1]
    assert lines[0].startswith("lossctl: 13 runs analysed")  # plain log line, not a command


def test_github_nothing_omitted_no_summary_notice():
    text = RENDERERS["github"]([fabricated("r", ["error", "warning"])], [])
    assert "more findings" not in text and text.count("\n::") == 2


# --- junit ----------------------------------------------------------------------------------


def check_junit(xml_text: str) -> ET.Element:
    """What CI servers read: testsuites/testsuite[@name,@tests,@failures,@errors,@skipped,@time]/
    testcase[@classname,@name,@time], with counts that add up."""
    root = ET.fromstring(xml_text)
    assert root.tag == "testsuites"
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for suite in root:
        assert suite.tag == "testsuite"
        assert suite.get("name")
        float(suite.get("time"))
        cases = suite.findall("testcase")
        got = {"tests": len(cases),
               "failures": sum(c.find("failure") is not None for c in cases),
               "errors": sum(c.find("error") is not None for c in cases),
               "skipped": sum(c.find("skipped") is not None for c in cases)}
        for k, v in got.items():
            assert int(suite.get(k)) == v, (suite.get("name"), k)
            totals[k] += v
        for c in cases:
            assert c.get("classname") and c.get("name")
            float(c.get("time"))
            assert sum(c.find(t) is not None for t in ("failure", "error", "skipped")) <= 1
            for t in ("failure", "error"):
                if c.find(t) is not None:
                    assert c.find(t).get("message")
        assert {ch.tag for ch in suite} <= {"properties", "testcase", "system-out", "system-err"}
    for k, v in totals.items():
        assert int(root.get(k)) == v
    return root


def test_junit_schema_levels_skips_and_baseline(tmp_path):
    out = tmp_path / "report.xml"
    r = invoke("analyze", ROOT / "sample_logs", "--format", "junit", "--output", out, "--fail-on", "warning",
               "--ignore", "noisy,spike", "--baseline", ROOT / "sample_logs" / "healthy_tensorboard")
    assert r.exit_code == 1
    assert "runs analysed" in r.stdout  # the screen still gets the terminal report
    root = check_junit(out.read_text())
    suites = {s.get("name"): s for s in root}
    assert set(suites) == {"diverging_lightning", "healthy_tensorboard", "oscillating_keras",
                           "overfitting_keras_json", "nonfinite_tensorboard", "spike_lightning",
                           "plateau_keras", "train_val_mismatch_keras_json", "noisy_lightning",
                           "epoch_periodic_tensorboard", "nonfinite_console", "loss_imbalance_lightning",
                           "long_spikes_lightning", "two_heads_keras", "overfitting_hf_trainer/checkpoint-600",
                           "val_labels_permuted_keras", "val_oscillating_keras_json", "rl_collapse_tensorboard/PPO_1"} | {
        f"lr_sweep/lr={lr},seed={seed}" for lr in ("1e-3", "3e-3", "1e-2", "3e-2", "1e-1", "3e-1") for seed in (1, 2)}
    for name, s in suites.items():
        cases = {c.get("name"): c for c in s.findall("testcase")}
        kinds = [d.kind for d in DETECTORS]
        assert list(cases)[:len(kinds)] == kinds
        assert cases["noisy"].find("skipped") is not None and cases["spike"].find("skipped") is not None
        # the agent logs objectives and a return: nothing to set beside the baseline's loss (a warning says so)
        assert ("baseline" in cases) == (name not in ("healthy_tensorboard", "rl_collapse_tensorboard/PPO_1"))
    div = suites["diverging_lightning"]
    assert div.find("testcase[@name='divergence']/failure").get("type") == "divergence"
    assert div.find("testcase[@name='baseline']/failure") is not None
    assert suites["oscillating_keras"].find("testcase[@name='oscillation']/failure") is not None
    assert suites["healthy_tensorboard"].get("failures") == "0"


def test_junit_findings_below_fail_level_pass_with_output():
    root = check_junit(RENDERERS["junit"]([fabricated("r", ["warning", "error"])], []))
    (suite,) = root
    spike = suite.find("testcase[@name='spike']")
    assert spike.find("failure") is None and "warning number 0" in spike.find("system-out").text
    assert suite.find("testcase[@name='divergence']/failure").get("message") == "error number 1"


def test_junit_unreadable_inputs_are_errors():
    root = check_junit(RENDERERS["junit"]([fabricated("r", [])], ["x/events.out: truncated"]))
    assert root.get("errors") == "1"
    assert root.find("testsuite[@name='input']/testcase/error").get("message") == "x/events.out: truncated"


# --- markdown -------------------------------------------------------------------------------


def test_markdown_rows_and_escaping():
    r = fabricated("a|b", ["error", "info"])
    r.findings[0].message = "pipe | and\nnewline"
    text = RENDERERS["markdown"]([r], [])
    assert "**❌ failed**" in text
    assert "| `a\\|b` | ❌ error | 2 |" in text
    assert "| `a\\|b` | divergence | ❌ error | `loss` | 0–5 | pipe \\| and newline |" in text
    assert text.count("| `a\\|b` |") == 3
    ok = RENDERERS["markdown"]([fabricated("b", ["info"])], [])
    assert "**✅ passed**" in ok


def test_summary_file_is_appended_and_output_keeps_working(tmp_path):
    keras_csv(tmp_path / "bad", diverging())
    summary, out = tmp_path / "summary.md", tmp_path / "ann.txt"
    summary.write_text("earlier step\n")
    r = invoke("analyze", tmp_path / "bad", "--format", "github", "--output", out, "--summary", summary)
    assert r.exit_code == 1
    assert summary.read_text().startswith("earlier step\n## lossctl\n")
    assert "::error " in out.read_text() and "::error" not in r.stdout and "ERROR" in r.stdout


# --- analyze --baseline ---------------------------------------------------------------------


@pytest.mark.parametrize("floor,code,verdict", [(0.1, 0, "same"), (0.3, 1, "worse"), (0.05, 0, "better")])
def test_analyze_baseline_exit_codes(tmp_path, floor, code, verdict):
    keras_csv(tmp_path / "base", curve(80, seed=1), curve(80, floor=0.15, seed=2))
    keras_csv(tmp_path / "new", curve(80, seed=3), curve(80, floor=floor * 1.5, seed=4))
    r = invoke("analyze", tmp_path / "new", "--baseline", tmp_path / "base", "--format", "json")
    assert r.exit_code == code, r.output
    doc = json.loads(r.stdout)
    (run,) = doc["runs"]
    assert run["baseline"]["verdict"] == verdict and run["baseline"]["baseline"] == str(tmp_path / "base")
    assert doc["summary"]["worse_than_baseline"] == int(verdict == "worse")


def test_analyze_baseline_matches_compare_and_skips_the_baseline_itself(tmp_path):
    keras_csv(tmp_path / "runs" / "base", curve(80, seed=1))
    keras_csv(tmp_path / "runs" / "new", curve(80, floor=0.13, seed=3, noise=0.005))
    keras_csv(tmp_path / "runs" / "bad", diverging(80))
    r = invoke("analyze", tmp_path / "runs", "--baseline", tmp_path / "runs" / "base", "--format", "json",
               "--fail-on", "never")
    assert r.exit_code == 1  # --fail-on never silences findings, not the baseline check
    runs = {x["run"]: x for x in json.loads(r.stdout)["runs"]}
    assert "baseline" not in runs["base"]
    assert runs["bad"]["baseline"]["verdict"] == "worse" and "divergence" in runs["bad"]["baseline"]["reason"]
    cmp = json.loads(invoke("compare", tmp_path / "runs" / "base", tmp_path / "runs" / "new",
                            "--format", "json").stdout)
    assert runs["new"]["baseline"]["verdict"] == cmp["verdicts"][0]["verdict"]
    assert runs["new"]["baseline"]["reason"] == cmp["verdicts"][0]["reason"]
    r = invoke("analyze", tmp_path / "runs" / "new", "--baseline", tmp_path / "runs" / "base",
               "--max-regression", 50)
    assert r.exit_code == 0 and "vs baseline" in r.stdout


def test_analyze_bad_baseline_exits_2(tmp_path):
    keras_csv(tmp_path / "runs" / "a", curve(50))
    keras_csv(tmp_path / "runs" / "b", curve(50, seed=1))
    for baseline, needle in [(tmp_path / "nope", "no such file"), (tmp_path / "runs", "holds 2 runs")]:
        r = invoke("analyze", tmp_path / "runs" / "a", "--baseline", baseline)
        assert r.exit_code == 2 and needle in r.stderr and "Traceback" not in r.output
        assert len(r.stderr.strip().splitlines()) == 1


# --- the composite action -------------------------------------------------------------------


def action_step(tmp_path, path, fail_on="error", baseline=""):
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    env = {**os.environ, "LOSSCTL": str(Path(sys.executable).with_name("lossctl")), "LOSSCTL_PATH": str(path),
           "LOSSCTL_FAIL_ON": fail_on, "LOSSCTL_BASELINE": str(baseline),
           "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output)}
    p = subprocess.run(["bash", str(ROOT / "scripts" / "github_action.sh")], env=env, capture_output=True,
                       text=True, cwd=ROOT, check=False, timeout=300)
    return p, summary.read_text() if summary.exists() else "", output.read_text()


def test_action_yml_declares_the_inputs_and_runs_the_script():
    text = (ROOT / "action.yml").read_text()
    for needle in ("using: composite", "  path:", "  fail-on:", "  baseline:", "${{ github.action_path }}",
                   "scripts/github_action.sh", "LOSSCTL_PATH: ${{ inputs.path }}",
                   "LOSSCTL_FAIL_ON: ${{ inputs.fail-on }}", "LOSSCTL_BASELINE: ${{ inputs.baseline }}"):
        assert needle in text, needle


def test_action_step_annotates_summarises_and_propagates_the_exit_code(tmp_path):
    p, summary, output = action_step(tmp_path, "sample_logs", baseline="sample_logs/healthy_tensorboard")
    assert p.returncode == 1, p.stderr
    assert "::error file=sample_logs/diverging_lightning/metrics.csv" in p.stdout
    assert summary.startswith("## lossctl") and "vs baseline" in summary
    assert output == "exit-code=1\n"
    p, summary, output = action_step(tmp_path, "sample_logs/healthy_tensorboard", fail_on="warning")
    assert p.returncode == 0 and "✅ passed" in summary and output.endswith("exit-code=0\n")
    p, summary, output = action_step(tmp_path, "sample_logs/nope")
    assert p.returncode == 2 and "could not analyse" in summary and output.endswith("exit-code=2\n")


def test_a_run_that_cannot_be_judged_against_the_baseline_is_said_not_fatal(tmp_path):
    r = invoke("analyze", ROOT / "sample_logs", "--baseline", ROOT / "sample_logs" / "healthy_tensorboard",
               "--format", "json")
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    (agent,) = [x for x in doc["runs"] if x["run"] == "rl_collapse_tensorboard/PPO_1"]
    assert any(w.startswith("not judged against the baseline:") and "reinforcement-learning objectives" in w
               for w in agent["warnings"])
