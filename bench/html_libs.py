"""Compare plotting libraries for the HTML report: file size and time to draw in headless Chromium."""
import json, sys, time, os, tempfile
from pathlib import Path
import numpy as np

UPLOT = Path("/tmp/npm/package/dist")
OUT = Path("/tmp/libbench/out"); OUT.mkdir(exist_ok=True)

def data(charts, series, points, seed=0):
    rng = np.random.default_rng(seed)
    x = np.arange(points)
    out = []
    for c in range(charts):
        ys = []
        for s in range(series):
            y = np.exp(-x / (points / 3)) * (1 + s) + 0.05 * rng.standard_normal(points)
            ys.append(np.round(y.astype(np.float32), 5))
        out.append((x, ys))
    return out

def plotly_html(d, gl):
    import plotly.graph_objects as go
    from plotly.offline import get_plotlyjs
    divs = []
    for i, (x, ys) in enumerate(d):
        T = go.Scattergl if gl else go.Scatter
        fig = go.Figure([T(x=x, y=y, mode="lines") for y in ys])
        fig.update_layout(height=300, width=900)
        divs.append(fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"c{i}"))
    return f"<html><head><meta charset=utf-8><script>{get_plotlyjs()}</script></head><body>{''.join(divs)}</body></html>"

def bokeh_html(d):
    from bokeh.plotting import figure
    from bokeh.layouts import column
    from bokeh.embed import file_html
    from bokeh.resources import INLINE
    figs = []
    for x, ys in d:
        f = figure(width=900, height=300, output_backend="canvas")
        for y in ys:
            f.line(x, y)
        figs.append(f)
    return file_html(column(figs), INLINE, "b")

def altair_html(d):
    import altair as alt, pandas as pd
    alt.data_transformers.disable_max_rows()
    charts = []
    for x, ys in d:
        df = pd.concat([pd.DataFrame({"step": x, "v": y, "s": str(i)}) for i, y in enumerate(ys)])
        charts.append(alt.Chart(df).mark_line().encode(x="step", y="v", color="s").properties(width=900, height=300).interactive())
    p = OUT / "alt_tmp.html"
    alt.vconcat(*charts).save(str(p), inline=True)
    return p.read_text()

def uplot_html(d):
    js = (UPLOT / "uPlot.iife.min.js").read_text(); css = (UPLOT / "uPlot.min.css").read_text()
    payload = json.dumps([[x.tolist()] + [y.tolist() for y in ys] for x, ys in d], separators=(",", ":"))
    return f"""<html><head><meta charset=utf-8><style>{css}</style><script>{js}</script></head><body>
<script>const D={payload};
D.forEach((d,i)=>{{const el=document.createElement('div');document.body.appendChild(el);
new uPlot({{width:900,height:300,scales:{{x:{{time:false}}}},series:[{{}}].concat(d.slice(1).map((_,k)=>({{stroke:['red','blue','green'][k%3]}})))}},d,el);}});
</script></body></html>"""

COUNT = {"plotly": "document.querySelectorAll('.js-plotly-plot .scatterlayer .trace, .js-plotly-plot .gl-canvas-context').length >= N",
         "plotly_gl": "document.querySelectorAll('.js-plotly-plot .gl-canvas-context').length >= N",
         "bokeh": "window.Bokeh && Bokeh.documents.length > 0 && Bokeh.documents[0].is_idle",
         "altair": "document.querySelectorAll('canvas, svg.marks').length >= 1",
         "uplot": "document.querySelectorAll('.uplot canvas').length >= N"}

def measure(path, check, n):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        pg = b.new_page(viewport={"width": 1200, "height": 900})
        errs = []
        pg.on("console", lambda m: errs.append(m.text) if m.type == "error" else None)
        pg.on("pageerror", lambda e: errs.append(str(e)))
        t0 = time.perf_counter()
        pg.goto(path.as_uri(), wait_until="load", timeout=120000)
        pg.wait_for_function(check.replace("N", str(n)), polling="raf", timeout=120000)
        pg.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        t = time.perf_counter() - t0
        pg.screenshot(path=str(path.with_suffix(".png")))
        b.close()
        return t, errs

if __name__ == "__main__":
    scen = {"A_1x3x100k": (1, 3, 100_000), "B_100x3x2000": (100, 3, 2000)}
    which = sys.argv[1:] or ["uplot", "plotly", "plotly_gl", "bokeh", "altair"]
    for sname, (c, s, pts) in scen.items():
        d = data(c, s, pts)
        for lib in which:
            if lib == "plotly_gl" and c > 1:
                continue
            t0 = time.perf_counter()
            html = {"plotly": lambda: plotly_html(d, False), "plotly_gl": lambda: plotly_html(d, True), "bokeh": lambda: bokeh_html(d),
                    "altair": lambda: altair_html(d), "uplot": lambda: uplot_html(d)}[lib]()
            gen = time.perf_counter() - t0
            p = OUT / f"{sname}_{lib}.html"; p.write_text(html)
            try:
                t, errs = measure(p, COUNT[lib], c)
            except Exception as e:
                t, errs = float("nan"), [str(e)[:200]]
            print(f"{sname:14s} {lib:10s} size {len(html.encode())/1e6:6.2f} MB  python {gen:5.2f} s  browser {t:6.2f} s  errors {errs[:2]}", flush=True)
