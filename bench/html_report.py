"""The HTML report at scale: 100 runs of 100,000 steps (training loss, lr and grad norm at every
step, validation loss every 1,000), each with a one-step spike and a NaN somewhere.

Measures the page's size, the time to write it, the time headless Chromium takes from opening
the file to the first screen drawn (``lossctlReport.ready`` and two animation frames; plots
further down are made as they come near the screen) and then to draw all 200 plots at once, and
checks that every run's spike and NaN made it into the page. Needs /usr/bin/chromium and the
playwright package (dev extra).
"""

from __future__ import annotations

import base64
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lossctl.analysis import analyze_run
from lossctl.config import load_config
from lossctl.renderers import html
from lossctl.runs import Run

RUNS, STEPS = 100, 100_000
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def make_run(i: int, rng) -> tuple[Run, int, int]:
    steps = np.arange(STEPS)
    loss = 2.5 * np.exp(-steps / (15_000 + 300 * i)) + 0.2 + 0.03 * rng.standard_normal(STEPS)
    spike = int(rng.integers(10_000, STEPS - 10_000))
    nan = int(rng.integers(10_000, STEPS - 10_000))
    loss[spike] = 40.0
    loss[nan] = np.nan
    lr = 1e-3 * np.minimum(1, steps / 2000) * 0.5 * (1 + np.cos(np.pi * steps / STEPS))
    gn = 1 + 0.2 * rng.standard_normal(STEPS) ** 2
    vs = steps[::1000]
    frames = [pd.DataFrame({"metric": m, "step": s, "value": v}) for m, s, v in
              (("train/loss", steps, loss), ("train/lr", steps, lr), ("train/grad_norm", steps, gn),
               ("val/loss", vs, loss[vs] + 0.05))]
    df = pd.concat(frames, ignore_index=True)
    df["run"] = f"sweep/run_{i:03d}"
    df["wall_time"] = np.nan
    df = df[["run", "metric", "step", "wall_time", "value"]]
    df["metric"] = df["metric"].astype("category")
    run = Run(f"sweep/run_{i:03d}", f"sweep/run_{i:03d}", "synthetic", df)
    run.hparams = {"lr": [1e-3, 3e-4, 1e-4, 3e-3][i % 4], "batch": [32, 64][i % 2], "seed": i}
    return run, spike, nan


def kept(page: str, runs) -> bool:
    """Every run's spike and NaN step are among the points the page carries."""
    data = json.loads(re.search(r'id="lossctl-data">(.*?)</script>', page, re.DOTALL).group(1))
    loss = {c["id"]: next(s for s in c["series"] if s["label"] == "train/loss")
            for c in data["charts"] if c["id"].endswith("-loss")}
    ok = True
    for i, (_, spike, nan) in enumerate(runs):
        s = loss[f"run-{i}-loss"]
        x = np.frombuffer(base64.b64decode(s["x"]["b"]), dtype="<i4")
        y = np.frombuffer(base64.b64decode(s["y"]["b"]), dtype="<f4")
        ok &= bool(y[x == spike].size and y[x == spike][0] == 40.0 and np.isnan(y[x == nan]).all()
                   and (x == nan).any() and [nan, nan, 1, "nan"] in s["bad"])
    return ok


def open_in_chromium(path: Path) -> tuple[float, list]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        problems = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: problems.append(f"request {r.url}") if r.url != path.as_uri() else None)
        t0 = time.perf_counter()
        page.goto(path.as_uri(), wait_until="load", timeout=120_000)
        page.wait_for_function("window.lossctlReport && (lossctlReport.ready || lossctlReport.errors.length)",
                               timeout=120_000)
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        seconds = time.perf_counter() - t0
        t1 = time.perf_counter()
        page.evaluate("lossctlReport.drawAll()")  # every plot, not only those near the screen
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        all_seconds = time.perf_counter() - t1
        drawn = page.evaluate("lossctlReport.charts.filter(c => c.drawn.frames > 0).length")
        charts = page.evaluate("lossctlReport.charts.length")
        if drawn != charts:
            problems.append(f"{charts - drawn} of {charts} plots not drawn")
        browser.close()
    return seconds, all_seconds, problems


def main():
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    runs = [make_run(i, rng) for i in range(RUNS)]
    config = load_config()
    reports = [analyze_run(r, config) for r, _, _ in runs]
    t_analyze = time.perf_counter() - t0
    t0 = time.perf_counter()
    page = html.render(reports, [])
    t_render = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "report.html"
        path.write_text(page, encoding="utf-8")
        size = path.stat().st_size
        seconds, all_seconds, problems = open_in_chromium(path)
    return {"runs": RUNS, "points": sum(len(r.frame) for r, _, _ in runs), "analyze_s": t_analyze,
            "write_s": t_render, "bytes": size, "open_s": seconds, "draw_all_s": all_seconds,
            "problems": problems, "kept": kept(page, runs)}


if __name__ == "__main__":
    print(main())
