"""Detection pipeline speed: one run with 1,000,000 points in every series.

Times frame -> roles -> all detectors -> JSON report (what `lossctl analyze` does after
reading), against a machine yardstick measured in the same process: sorting each series once
with numpy (an O(n log n) pass no analysis of these series can avoid much). Target: < 1 s.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from lossctl.analysis import analyze_run
from lossctl.config import Config
from lossctl.frame import concat, make_frame
from lossctl.renderers import RENDERERS
from lossctl.runs import Run

N = 1_000_000


def make_run(n: int = N, kind: str = "healthy", seed: int = 0) -> Run:
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, n)
    loss = (0.2 + 2.1 * np.exp(-6 * t)) * np.exp(rng.normal(0, 0.15, n))
    if kind == "diverging":
        k = int(0.7 * n)
        loss[k:] *= np.exp(np.linspace(0, 5, n - k))
    series = {
        "train/loss": loss,
        "val/loss": (0.25 + 2.0 * np.exp(-6 * t)) * np.exp(rng.normal(0, 0.01, n)),
        "lr": 1e-3 * np.minimum(1, t * 20) * (0.5 + 0.5 * np.cos(np.pi * t)),
        "grad_norm": np.abs(rng.normal(1, 0.3, n)),
    }
    steps = np.arange(n, dtype=np.int64)
    frames = [make_frame(pd.Categorical([m] * n), steps, None, v) for m, v in series.items()]
    frame = concat(frames)
    frame["run"] = pd.Categorical(["bench"] * len(frame))
    return Run("bench", "bench", "synthetic", frame)


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> list[tuple[str, float, float]]:
    rows = []
    rng = np.random.default_rng(1)
    data = [rng.normal(size=N) for _ in range(4)]
    ref = best_of(lambda: [np.sort(d) for d in data])
    for kind in ("healthy", "diverging"):
        run = make_run(kind=kind)

        def pipeline(run=run):
            report = analyze_run(run, Config())
            RENDERERS["json"]([report], [])
            return report

        t = best_of(pipeline)
        kinds = sorted({f.kind for f in pipeline().findings})
        rows.append((f"pipeline, 4 series x 1,000,000 points, {kind} ({', '.join(kinds) or 'no findings'})", t, ref))
    return rows


if __name__ == "__main__":
    for name, t, ref in main():
        print(f"{name}: {t:.3f} s ({t / ref:.1f}x the numpy-sort yardstick of {ref:.3f} s)")
