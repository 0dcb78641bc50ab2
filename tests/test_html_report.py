"""The HTML report, opened in a real headless Chromium (Debian's /usr/bin/chromium driven by
Playwright; no browser is ever downloaded).

What a person would check: the page loads with no console error and no request beyond the file
itself, every run's plot has its series and one shaded span and onset marker per finding,
NaN/Inf are marked, the smoothing slider, the y-scale switch, the legend and the mouse change
what is drawn, the summary table sorts and filters, the dark theme follows the system. A
screenshot is written to tests/output/ for a person to look at.

Skipped (with the reason) only where Chromium or Playwright is missing and CI is not set; under
CI=true a missing browser fails the tests.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lossctl.renderers import html_data

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_logs"
OUT = Path(__file__).resolve().parent / "output"
CHROMIUM = os.environ.get("LOSSCTL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def lossctl(*args, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lossctl", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def _unavailable(why: str):
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"browser tests must run under CI: {why} (.ci/run installs Debian's chromium)")
    pytest.skip(f"{why}; install it with `apt-get install -y chromium` (required under CI)")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    # headless, and a fresh temporary --user-data-dir: Playwright's launch() does both itself
    with sync_playwright() as p:
        br = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield br
        br.close()


class Opened:
    """A page with everything it logged and requested."""

    def __init__(self, browser, path: Path, scheme: str = "light", width: int = 1400, draw_all: bool = True):
        self.page = browser.new_page(viewport={"width": width, "height": 1000}, color_scheme=scheme)
        self.console, self.requests = [], []
        self.page.on("console", lambda m: self.console.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.console.append(("pageerror", str(e))))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.console.append(("dialog", d.message)), d.dismiss()))
        self.page.goto(path.as_uri(), wait_until="load")
        self.page.wait_for_function("window.lossctlReport && (lossctlReport.ready || lossctlReport.errors.length)")
        if draw_all:  # plots far below the screen are otherwise made when scrolled to
            self.page.evaluate("lossctlReport.drawAll()")
        self.page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        self.url = path.as_uri()

    def charts(self) -> dict:
        return self.page.evaluate("""() => Object.fromEntries(lossctlReport.charts.filter(c => c.u).map(c => [c.spec.id, {
            drawn: Object.assign({}, c.drawn), series: c.spec.series.map(s => s.label),
            uplotSeries: c.u.series.length, findings: c.spec.findings.length, log: Object.assign({}, c.log),
            x: [c.u.scales.x.min, c.u.scales.x.max]}]))""")

    def pixels(self, chart_id: str) -> str:
        return self.page.evaluate(f"() => document.querySelector('#{chart_id} canvas').toDataURL()")

    def assert_clean(self):
        errors = [m for m in self.console if m[0] in ("error", "pageerror", "dialog")]
        assert not errors, errors
        assert self.page.evaluate("lossctlReport.errors") == []
        assert self.requests == [self.url], f"requests besides the file itself: {self.requests}"

    def close(self):
        self.page.close()


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("html") / "report.html"
    res = lossctl("analyze", "sample_logs", "--format", "html", "-o", out)
    assert res.returncode == 1, res.stderr  # the samples have error findings
    assert "Traceback" not in res.stderr
    return out


def _json_report():
    res = lossctl("analyze", "sample_logs", "--format", "json")
    return json.loads(res.stdout)


def test_sample_report_draws_every_run_with_its_findings(browser, sample_report):
    expected = _json_report()
    page = Opened(browser, sample_report)
    try:
        page.assert_clean()
        charts = page.charts()
        assert len([c for c in charts if c.endswith("-loss")]) == len(expected["runs"]) >= 10
        for i, run in enumerate(expected["runs"]):
            c = charts[f"run-{i}-loss"]
            roles = run["roles"]  # an agent's plot is its return, its losses being objectives
            losses = {roles["reward"]} if "reward" in roles else {roles.get("loss"), roles.get("val_loss")} - {None}
            shown = losses | {f["metric"] for f in run["findings"]} - {run["roles"].get("lr")}
            assert set(c["series"]) == shown, run["run"]
            assert c["uplotSeries"] == 1 + 2 * len(shown)  # x, then raw and smoothed per series
            assert c["drawn"]["series"] == len(shown)
            ranged = [f for f in run["findings"] if f["start_step"] is not None]
            assert c["drawn"]["spans"] == len(ranged), run["run"]
            assert c["drawn"]["onsets"] == len(ranged), run["run"]
            nonfinite = sum(m.get("nonfinite", 0) for name, m in run["metrics"].items() if name in shown)
            assert (c["drawn"]["nonfinite"] > 0) == (nonfinite > 0), run["run"]
            aux = [run["roles"][k] for k in ("lr", "grad_norm") if k in run["roles"]]
            if aux:
                assert charts[f"run-{i}-aux"]["series"] == aux
            else:
                assert f"run-{i}-aux" not in charts
        # beside each plot: the words of the terminal report
        terminal = lossctl("analyze", "sample_logs/diverging_lightning").stdout
        aside = page.page.inner_text("#run-0 aside")
        for line in ("train_loss diverges from step 119", "Lower the learning rate about 10x",
                     "evidence: best=0.107 · best_step=87"):
            assert line in terminal and line in aside
        OUT.mkdir(exist_ok=True)
        page.page.screenshot(path=str(OUT / "html_report.png"))
        page.page.locator("#run-4").screenshot(path=str(OUT / "html_report_nonfinite.png"))
    finally:
        page.close()


def test_smoothing_scale_legend_and_mouse_change_the_drawing(browser, sample_report):
    page = Opened(browser, sample_report)
    try:
        pg = page.page
        cid = "run-0-loss"  # diverging_lightning: log scale by default (the loss spans 1000x)
        assert page.charts()[cid]["log"]["y"] is True
        before = page.pixels(cid)
        pg.focus("#smoothing")
        pg.keyboard.press("End")  # to 0.99
        assert pg.input_value("#smoothing") == "0.99"
        assert pg.inner_text("#smoothing-value") == "0.99"
        smoothed = page.pixels(cid)
        assert smoothed != before
        pg.keyboard.press("Home")  # 0: raw curves only, smoothed series hidden
        assert page.pixels(cid) not in (before, smoothed)
        assert pg.evaluate(f"lossctlReport.charts.find(c => c.spec.id == '{cid}').u.series[2].show") is False
        pg.keyboard.press("End")
        assert page.pixels(cid) == smoothed  # the same state draws the same picture
        pg.select_option("#yscale", "linear")
        assert page.charts()[cid]["log"]["y"] is False
        linear = page.pixels(cid)
        assert linear != smoothed
        pg.select_option("#yscale", "log")
        assert page.charts()[cid]["log"]["y"] is True
        # show / hide a series from the legend
        legend = pg.locator(f"#{cid}-legend .lg-item").first
        legend.click()
        assert page.charts()[cid]["drawn"]["series"] == 1
        assert legend.get_attribute("aria-pressed") == "false"
        legend.click()
        assert page.charts()[cid]["drawn"]["series"] == 2
        # hover: the legend shows the step and values under the mouse (the plot on screen first:
        # the summary table of many runs pushes it down)
        pg.locator(f"#{cid} .u-over").scroll_into_view_if_needed()
        box = pg.locator(f"#{cid} .u-over").bounding_box()
        pg.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
        step_text = pg.inner_text(f"#{cid}-legend .lg-step")
        assert re.match(r"step \d", step_text), step_text
        assert re.search(r"\d", pg.locator(f"#{cid}-legend .lg-val").first.inner_text())
        # wheel zooms in around the mouse; the run's lr/grad-norm plot follows; double-click resets
        x0 = page.charts()[cid]["x"]
        pg.mouse.wheel(0, -300)
        pg.wait_for_timeout(50)
        x1 = page.charts()[cid]["x"]
        assert x1[1] - x1[0] < x0[1] - x0[0]
        # drag to zoom to a range
        pg.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + 50)
        pg.mouse.down()
        pg.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + 60, steps=5)
        pg.mouse.up()
        x2 = page.charts()[cid]["x"]
        assert x2[1] - x2[0] < x1[1] - x1[0]
        pg.mouse.dblclick(box["x"] + box["width"] * 0.5, box["y"] + 40)
        x3 = page.charts()[cid]["x"]
        assert x3[1] - x3[0] >= (x0[1] - x0[0]) * 0.99
        # epoch_periodic_tensorboard logs lr: its aux plot shares the zoom
        pg.locator("#run-1-loss .u-over").hover()
        pg.mouse.wheel(0, -300)
        pg.wait_for_timeout(50)
        ch = page.charts()
        assert ch["run-1-aux"]["x"] == pytest.approx(ch["run-1-loss"]["x"])
        page.assert_clean()
    finally:
        page.close()


def test_summary_table_sorts_filters_and_links(browser, sample_report):
    page = Opened(browser, sample_report, draw_all=False)
    try:
        pg = page.page
        # plots are made as they come near the screen
        n = len(_json_report()["runs"])
        last = f"run-{n - 1}"
        assert "run-0-loss" in page.charts() and f"{last}-loss" not in page.charts()
        pg.locator(f"#{last}").scroll_into_view_if_needed()
        pg.wait_for_function(f"lossctlReport.charts.find(c => c.spec.id == '{last}-loss').u")
        pg.evaluate("window.scrollTo(0, 0)")
        rows = pg.locator("#runs tbody tr")
        assert rows.count() == n
        pg.click("#runs th:has-text('status')")
        pg.click("#runs th:has-text('status')")  # descending: errors first
        first = [rows.nth(i).locator("td").nth(2).inner_text() for i in range(2)]
        assert all("error" in t for t in first), first
        pg.fill("#filter", "nonfinite_tensorboard")
        visible = [r for r in range(n) if rows.nth(r).is_visible()]
        assert len(visible) == 1
        assert pg.locator("section.run:visible").count() == 1
        assert pg.inner_text("#filter-count") == f"1 of {n} runs"
        pg.fill("#filter", "")
        href = pg.locator("#runs tbody a").first.get_attribute("href")
        assert pg.locator(href).count() == 1
        page.assert_clean()
    finally:
        page.close()


def test_dark_theme_follows_the_system(browser, sample_report):
    page = Opened(browser, sample_report, scheme="dark")
    try:
        bg = page.page.evaluate("getComputedStyle(document.body).backgroundColor")
        r, g, b = map(int, re.findall(r"\d+", bg)[:3])
        assert r + g + b < 120, bg
        page.assert_clean()
        OUT.mkdir(exist_ok=True)
        page.page.screenshot(path=str(OUT / "html_report_dark.png"))
    finally:
        page.close()


def test_compare_overlays_runs_with_the_verdicts(browser, tmp_path):
    out = tmp_path / "compare.html"
    runs = ["sample_logs/healthy_tensorboard", "sample_logs/diverging_lightning", "sample_logs/oscillating_keras"]
    res = lossctl("compare", *runs, "--format", "html", "-o", out)
    assert res.returncode == 1, res.stderr
    page = Opened(browser, out)
    try:
        page.assert_clean()
        charts = page.charts()
        overlays = [c for c in charts if c.startswith("metric-")]
        assert overlays and charts["metric-0"]["series"] == [f"{k} {r}" for k, r in zip("ABC", runs)]
        assert charts["metric-0"]["drawn"]["series"] == 3
        verdicts = page.page.locator("#runs tbody tr")
        assert verdicts.count() == 3
        assert "worse" in verdicts.nth(1).inner_text()
        assert "diverging_lightning has a divergence error" in verdicts.nth(1).inner_text()
        assert all(f"run-{i}-loss" in charts for i in range(3))
        OUT.mkdir(exist_ok=True)
        page.page.screenshot(path=str(OUT / "html_compare.png"))
    finally:
        page.close()


def test_hostile_run_names_stay_text(browser, tmp_path):
    name = "<img src=x onerror=alert(1)>"
    run = tmp_path / name
    run.mkdir()
    shutil.copy(SAMPLES / "diverging_lightning" / "metrics.csv", run / "metrics.csv")
    out = tmp_path / "r.html"
    assert lossctl("analyze", tmp_path, "--format", "html", "-o", out).returncode == 1
    page = Opened(browser, out)
    try:
        page.assert_clean()  # no dialog, no request for "x"
        assert name in page.page.inner_text("#run-0 h2")
    finally:
        page.close()


# ---- without a browser: the page's contents and the reduction of long curves ----

def _decode(p: dict) -> np.ndarray:
    dtype = {"f4": "<f4", "f8": "<f8", "i4": "<i4", "u1": "u1", "u2": "<u2", "u4": "<u4"}[p["t"]]
    return np.frombuffer(base64.b64decode(p["b"]), dtype=dtype)


def test_page_is_self_contained(sample_report):
    text = sample_report.read_text(encoding="utf-8")
    assert "<link" not in text
    assert not re.search(r"""\s(src|href)\s*=\s*["']?(https?:|//)""", text)
    assert not re.search(r"@import|url\(\s*['\"]?(https?:|//)", text)
    assert len(text.encode()) < 1_000_000


def test_reduction_keeps_spikes_nan_and_onsets():
    n = 300_000
    rng = np.random.default_rng(1)
    steps = np.arange(n, dtype=np.int64) * 3
    values = 1 + 0.01 * rng.standard_normal(n)
    values[123_457] = 50.0  # a one-point spike
    values[200_001] = np.nan
    values[250_000:250_003] = np.inf
    onset = 3 * 77_777
    out = html_data.reduce(steps, values, 1000, keep_steps=[onset])
    x, y = _decode(out["x"]), _decode(out["y"])
    assert len(x) <= 2 * 1000 + 1000 + 10  # min/max per column, first NaN per column, ends, onset
    assert 50.0 in y and x[np.flatnonzero(y == 50.0)[0]] == 3 * 123_457
    assert np.isnan(y).any() and x[np.flatnonzero(np.isnan(y))[0]] == 3 * 200_001
    assert onset in x
    assert out["bad"] == [[600_003, 600_003, 1, "nan"], [750_000, 750_006, 3, "inf"]]
    assert y[np.isfinite(y)].min() == pytest.approx(values[np.isfinite(values)].min(), rel=1e-6)
    counts = _decode(out["sn"])
    assert counts.sum() == n - 4  # every finite point is in one column's mean
    means = _decode(out["sy"])
    assert np.nanmean(means) == pytest.approx(1.0, abs=0.01)


def test_short_curves_are_kept_whole():
    steps = np.arange(100)
    values = np.linspace(1, 0, 100)
    out = html_data.reduce(steps, values, 1000)
    assert list(_decode(out["x"])) == list(steps)
    assert "sc" not in out


def test_html_to_stdout_and_png_needs_a_file(tmp_path):
    res = lossctl("analyze", "sample_logs/healthy_tensorboard", "--format", "html")
    assert res.returncode == 0 and res.stdout.startswith("<!DOCTYPE html>")
    res = lossctl("analyze", "sample_logs/healthy_tensorboard", "--format", "png")
    assert res.returncode == 2
    assert res.stderr.strip() == "lossctl: --format png writes image files: name one with --output FILE.png"


def test_summary_says_where_the_html_report_is(tmp_path):
    summary = tmp_path / "summary.md"
    out = tmp_path / "report.html"
    lossctl("analyze", "sample_logs/healthy_tensorboard", "--format", "html", "-o", out, "--summary", summary)
    assert f"HTML report with the curves and findings: `{out}`" in summary.read_text()


def test_plotting_libraries_are_not_imported_by_lossctl_or_help():
    help_code = ("import sys; sys.argv = ['lossctl', '--help']\nfrom lossctl.cli import main\n"
                 "try:\n    main()\nexcept SystemExit:\n    pass")
    for code in ("import lossctl", help_code):
        res = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True)
        imported = {line.split("|")[-1].strip().split(".")[0] for line in res.stderr.splitlines() if "|" in line}
        assert not imported & {"matplotlib", "playwright", "PIL"}, imported & {"matplotlib", "playwright", "PIL"}


def test_action_writes_the_html_report_and_the_summary_says_where(tmp_path):
    summary, output, report = tmp_path / "summary.md", tmp_path / "output.txt", tmp_path / "lossctl-report.html"
    env = {**os.environ, "LOSSCTL": str(Path(sys.executable).with_name("lossctl")),
           "LOSSCTL_PATH": "sample_logs/diverging_lightning", "LOSSCTL_FAIL_ON": "error", "LOSSCTL_BASELINE": "",
           "LOSSCTL_HTML": str(report), "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output)}
    p = subprocess.run(["bash", str(ROOT / "scripts" / "github_action.sh")], env=env, capture_output=True,
                       text=True, cwd=ROOT, check=False)
    assert p.returncode == 1, p.stderr
    assert p.stdout.count("::error") == 1  # the annotations are printed once
    assert report.read_text().startswith("<!DOCTYPE html>")
    text = summary.read_text()
    assert text.count("## lossctl") == 1
    assert f"HTML report with the curves and findings: `{report}`" in text
    assert output.read_text() == "exit-code=1\n"
    action = (ROOT / "action.yml").read_text()
    for needle in ("  html:", "LOSSCTL_HTML: ${{ inputs.html }}", "uses: actions/upload-artifact@v4",
                   "path: ${{ inputs.html }}", "steps.upload.outputs.artifact-url", ">> \"$GITHUB_STEP_SUMMARY\""):
        assert needle in action, needle


def test_summary_table_shows_the_hyperparameters_that_vary():
    from lossctl.analysis import analyze_run
    from lossctl.config import load_config
    from lossctl.renderers import html
    from lossctl.runs import load_runs

    runs = load_runs(SAMPLES).runs[:3]
    for i, run in enumerate(runs):  # as a source that records them (MLflow, W&B) sets them
        run.hparams = {"lr": [0.1, 0.01, 0.001][i], "optimizer": "adam", "batch": 32 + 32 * (i % 2)}
    page = html.render([analyze_run(r, load_config()) for r in runs], [])
    head = re.search(r'<table class="grid sortable" id="runs"><thead><tr>(.*?)</tr>', page).group(1)
    assert re.findall(r"<th>(.*?)</th>", head) == ["#", "run", "status", "findings", "batch", "lr"]
    assert 'data-v="0.001">0.001</td>' in page


def test_a_run_without_a_loss_still_draws(tmp_path):
    run = tmp_path / "acc_only"
    run.mkdir()
    (run / "metrics.csv").write_text("step,accuracy\n" + "".join(f"{i},{i / 100}\n" for i in range(100)))
    out = tmp_path / "r.html"
    res = lossctl("analyze", run, "--format", "html", "-o", out)
    assert res.returncode == 0, res.stderr
    data = json.loads(re.search(r'id="lossctl-data">(.*?)</script>', out.read_text(), re.DOTALL).group(1))
    assert [s["label"] for s in data["charts"][0]["series"]] == ["accuracy"]
