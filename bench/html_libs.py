"""Why uPlot: the candidate plotting libraries for the HTML report, measured on the same data.

Two cases: one plot of 3 curves x 100,000 points (speed with many points), and 100 plots of
3 curves x 2,000 points (a sweep's report after reduction for display). For each library: the
page's size with the library inlined, the time to write it, and the time headless Chromium
(/usr/bin/chromium) takes from opening the file to every plot drawn. Not part of `make bench`:
it needs the candidates, which lossctl does not depend on:

    pip install plotly bokeh altair vl-convert-python pandas playwright
    python bench/html_libs.py [uplot plotly plotly_gl bokeh altair]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ASSETS = Path(__file__).resolve().parent.parent / "lossctl" / "renderers" / "assets"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
# what tells that every plot is drawn, per library (N: the number of plots)
DRAWN = {
    "uplot": "document.querySelectorAll('.uplot canvas').length >= N",
    "plotly": "document.querySelectorAll('.js-plotly-plot .scatterlayer .trace').length >= 3 * N",
    "plotly_gl": "document.querySelectorAll('.js-plotly-plot .gl-canvas-context').length >= N",
    "bokeh": "window.Bokeh && Bokeh.documents.length > 0 && Bokeh.documents[0].is_idle",
    "altair": "document.querySelectorAll('canvas, svg.marks').length >= 1",
}


def data(plots: int, curves: int, points: int):
    rng = np.random.default_rng(0)
    x = np.arange(points)
    return [(x, [np.exp(-x / (points / 3)) * (1 + k) + 0.05 * rng.standard_normal(points) for k in range(curves)])
            for _ in range(plots)]


def plotly_html(d, gl: bool) -> str:
    import plotly.graph_objects as go
    from plotly.offline import get_plotlyjs

    trace = go.Scattergl if gl else go.Scatter
    divs = [go.Figure([trace(x=x, y=y, mode="lines") for y in ys], layout={"height": 300, "width": 900})
            .to_html(full_html=False, include_plotlyjs=False) for x, ys in d]
    return f"<html><head><meta charset=utf-8><script>{get_plotlyjs()}</script></head><body>{''.join(divs)}</body></html>"


def bokeh_html(d) -> str:
    from bokeh.embed import file_html
    from bokeh.layouts import column
    from bokeh.plotting import figure
    from bokeh.resources import INLINE

    figs = []
    for x, ys in d:
        f = figure(width=900, height=300)
        for y in ys:
            f.line(x, y)
        figs.append(f)
    return file_html(column(figs), INLINE, "bench")


def altair_html(d) -> str:
    import altair as alt
    import pandas as pd

    alt.data_transformers.disable_max_rows()
    charts = []
    for x, ys in d:
        df = pd.concat([pd.DataFrame({"step": x, "v": y, "s": str(k)}) for k, y in enumerate(ys)])
        charts.append(alt.Chart(df).mark_line().encode(x="step", y="v", color="s")
                      .properties(width=900, height=300).interactive())
    with tempfile.TemporaryDirectory() as t:
        p = Path(t) / "a.html"
        alt.vconcat(*charts).save(str(p), inline=True)
        return p.read_text()


def uplot_html(d) -> str:
    js, css = (ASSETS / "uPlot.iife.min.js").read_text(), (ASSETS / "uPlot.min.css").read_text()
    payload = json.dumps([[x.tolist()] + [np.round(y, 6).tolist() for y in ys] for x, ys in d])
    return f"""<html><head><meta charset=utf-8><style>{css}</style><script>{js}</script></head><body><script>
JSON.parse({json.dumps(payload)}).forEach(d => {{ const el = document.createElement('div'); document.body.appendChild(el);
  new uPlot({{width: 900, height: 300, scales: {{x: {{time: false}}}},
    series: [{{}}].concat(d.slice(1).map((_, k) => ({{stroke: ['red', 'blue', 'green'][k % 3]}})))}}, d, el); }});
</script></body></html>"""


BUILD = {"uplot": uplot_html, "plotly": lambda d: plotly_html(d, False), "plotly_gl": lambda d: plotly_html(d, True),
         "bokeh": bokeh_html, "altair": altair_html}


def measure(path: Path, drawn: str) -> float:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        page = b.new_page(viewport={"width": 1200, "height": 900})
        t0 = time.perf_counter()
        page.goto(path.as_uri(), wait_until="load", timeout=180_000)
        page.wait_for_function(drawn, polling="raf", timeout=180_000)
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        seconds = time.perf_counter() - t0
        b.close()
    return seconds


def main(libs: list[str]) -> None:
    for name, (plots, curves, points) in {"1 plot x 3 x 100,000": (1, 3, 100_000),
                                          "100 plots x 3 x 2,000": (100, 3, 2_000)}.items():
        d = data(plots, curves, points)
        for lib in libs:
            if lib == "plotly_gl" and plots > 1:  # WebGL contexts run out long before 100 plots
                continue
            try:
                t0 = time.perf_counter()
                page = BUILD[lib](d)
            except ImportError as exc:
                print(f"{name:22s} {lib:10s} not installed ({exc.name})")
                continue
            write = time.perf_counter() - t0
            with tempfile.TemporaryDirectory() as t:
                path = Path(t) / "page.html"
                path.write_text(page)
                seconds = measure(path, DRAWN[lib].replace("N", str(plots)))
            print(f"{name:22s} {lib:10s} {len(page.encode()) / 1e6:6.2f} MB  write {write:5.2f} s  "
                  f"drawn in Chromium {seconds:6.2f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["uplot", "plotly", "plotly_gl", "bokeh", "altair"])
