"""Synthetic curves with known shape, for detector tests (realistic noise, fixed seeds)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lossctl.analysis import analyze_run
from lossctl.config import Config
from lossctl.frame import concat, make_frame
from lossctl.runs import Run


def decay(n: int, start=2.3, floor=0.1, rate=5.0, noise=0.05, seed=0) -> np.ndarray:
    """A healthy loss: exponential decay to a floor with multiplicative batch noise."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, n)
    clean = floor + (start - floor) * np.exp(-rate * t)
    return clean * np.exp(rng.normal(0, noise, n))


def run_of(series: dict[str, np.ndarray], steps: dict[str, np.ndarray] | None = None, name="r") -> Run:
    frames = []
    for metric, values in series.items():
        st = (steps or {}).get(metric)
        st = np.arange(len(values)) if st is None else st
        frames.append(make_frame(pd.Categorical([metric] * len(values)), st, None, values))
    frame = concat(frames)
    frame["run"] = pd.Categorical([name] * len(frame))
    return Run(name, name, "synthetic", frame)


def kinds(series, steps=None, config=None) -> set[str]:
    report = analyze_run(run_of(series, steps), config or Config())
    return {f.kind for f in report.findings}


def findings(series, steps=None, config=None):
    return analyze_run(run_of(series, steps), config or Config()).findings
