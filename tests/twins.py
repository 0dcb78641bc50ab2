"""A run read twice by lossctl: from a log as a tool writes it, and from its CSV twin (the same
points as a logger's CSV would hold). What the readers' tests compare: each metric's points and
the findings."""

from __future__ import annotations

from lossctl.analysis import analyze_run
from lossctl.config import Config
from lossctl.runs import load_runs


def findings(run):
    return sorted((f.kind, f.severity, f.metric, f.start_step, f.end_step)
                  for f in analyze_run(run, Config()).findings)


def points(run, metric):
    f = run.frame[run.frame["metric"] == metric]
    return list(zip(f["step"].tolist(), f["value"].tolist()))


def read_twins(tmp_path, name: str, text: str, csv: str):
    """``(log run, CSV run)``, each read from its own directory (``log/NAME``, ``csv/metrics.csv``)."""
    (tmp_path / "log").mkdir()
    (tmp_path / "csv").mkdir()
    (tmp_path / "log" / name).write_text(text, encoding="utf-8")
    (tmp_path / "csv" / "metrics.csv").write_text(csv, encoding="utf-8")
    (a,) = load_runs(tmp_path / "log").runs
    (b,) = load_runs(tmp_path / "csv").runs
    return a, b
