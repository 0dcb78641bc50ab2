"""``--format html``: one self-contained page (every script, style and datum inline; nothing is
fetched from anywhere) with the curves drawn by uPlot (vendored in ``assets/``, MIT, 51 KB).

Per run: the losses on one plot, lr and grad norm on their own axes below it, each finding's
step range shaded in its severity's colour with a numbered marker at its onset, and beside it
the finding's message, evidence and fixes (the words of the terminal report). Several runs
get a sortable, filterable summary table; ``compare`` overlays the runs on shared axes with
the verdict table. Curves are reduced for display by :mod:`lossctl.renderers.html_data`.
"""

from __future__ import annotations

import json
from functools import cache
from html import escape
from importlib.resources import files

from lossctl import __version__
from lossctl.compare.model import fmt_pct
from lossctl.detectors.stats import fmt
from lossctl.findings import severity_rank
from lossctl.renderers import html_data
from lossctl.renderers.ci import pair_text
from lossctl.renderers.ci import steps as steps_text
from lossctl.renderers.compare_terminal import _delta, _stability, letter
from lossctl.renderers.terminal import MAX_SUGGESTIONS
from lossctl.renderers.terminal import _evidence as evidence_text
from lossctl.report import summary_line
from lossctl.roles import shown_roles
from lossctl.text import plural

SMOOTHING = 0.6  # TensorBoard's default
ROLE_COLOUR = {"loss": 0, "val_loss": 1, "reward": 2, "lr": 3, "grad_norm": 4}
ROLE_NAME = {"loss": "training loss", "val_loss": "validation loss", "reward": "return", "lr": "learning rate",
             "grad_norm": "grad norm"}
MAX_OTHER = 6  # series drawn when no loss role is recognised
ICON = {"error": "✖", "warning": "▲", "info": "●", "ok": "✔"}


@cache
def _asset(name: str) -> str:
    return (files("lossctl.renderers") / "assets" / name).read_text(encoding="utf-8")


def _script_json(data) -> str:
    """JSON safe inside <script>: no ``</`` can close the element."""
    return json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/").replace("<!--", "<\\!--")


class _Page:
    """Collects the chart specs of one page; counts the dense series first to share the budget."""

    def __init__(self, dense: int):
        self.cols = html_data.columns_for(dense)
        self.charts: list[dict] = []

    def chart(self, cid: str, sync: str, axis: str, height: int, scales, series, findings) -> str:
        self.charts.append({"id": cid, "sync": sync, "axis": axis, "height": height, "scales": scales,
                            "series": series, "findings": findings})
        return (f'<div class="legend" id="{cid}-legend"></div>'
                f'<div class="plot" id="{cid}" style="min-height:{height}px" role="img" '
                f'aria-label="{escape(axis)} plot"></div>')


def _series(page: _Page, label: str, s, colour: int, scale: str, keep=(), note: str = "") -> dict:
    out = html_data.reduce(s.steps, s.values, page.cols, keep_steps=keep)
    out.update(label=label, color=colour % 10, scale=scale)
    if note:
        out["note"] = note
    return out


def _main_metrics(r) -> list[tuple[str, str]]:
    """``(metric, role)`` for the loss plot: the loss roles (an agent's return), and any metric a
    finding is about."""
    roles = r.view.roles
    out = [(roles[k], k) for k in shown_roles(roles, r.view.series) if roles.get(k) in r.view.series]
    seen = {m for m, _ in out}
    aux = {roles.get("lr"), roles.get("grad_norm")}
    for f in r.findings:
        if f.metric in r.view.series and f.metric not in seen and f.metric not in aux:
            out.append((f.metric, ""))
            seen.add(f.metric)
    if not out:
        out = [(m, "") for m in list(r.view.series)[:MAX_OTHER] if m not in aux]
    return out


def _dense(reports) -> int:
    n = 0
    for r in reports:
        for m in [m for m, _ in _main_metrics(r)] + [r.view.roles.get(k) for k in ("lr", "grad_norm")]:
            if m in r.view.series and len(r.view.series[m]) > 2 * html_data.MIN_COLUMNS:
                n += 1
    return n


def _axis_of(r) -> str:
    from lossctl.compare.align import is_per_epoch

    return "epoch" if is_per_epoch(r) else "step"


def _findings_for_chart(findings, numbers) -> list[dict]:
    return [{"n": numbers[id(f)], "severity": f.severity, "kind": f.kind, "metric": f.metric,
             "start": f.start_step, "end": f.end_step} for f in findings]


def _finding_html(f, n: int) -> str:
    where = f"steps {steps_text(f)}" if f.start_step is not None else ""
    fixes = "".join(f"<li>{escape(s)}</li>" for s in f.suggestions[:MAX_SUGGESTIONS])
    return (f'<div class="finding {f.severity}" data-kind="{escape(f.kind)}">'
            f'<div class="fhead"><span class="num">{n}</span><span class="badge {f.severity}">'
            f'{ICON[f.severity]} {f.severity}</span><span class="kind">{escape(f.kind)}</span>'
            f'<span class="where"><code>{escape(f.metric)}</code> {where}'
            + (f" (pair {escape(pair)})" if (pair := pair_text(f.evidence.get("pair"))) else "") + "</span></div>"
            f"<p>{escape(f.message)}</p>"
            f'<div class="evidence">evidence: {escape(evidence_text(f.evidence))}</div>'
            + (f"<ol>{fixes}</ol>" if fixes else "") + "</div>")


def _verdict_html(v) -> str:
    return (f'<p class="verdict">vs baseline <code>{escape(v.baseline)}</code>: '
            f'<span class="badge {v.verdict}">{v.verdict}</span> {escape(v.reason)}</p>')


def _run_section(page: _Page, r, i: int, title_prefix: str = "") -> str:
    rid = f"run-{i}"
    view = r.view
    numbers = {id(f): n for n, f in enumerate(r.findings, 1)}
    keep = sorted({s for f in r.findings for s in (f.start_step, f.end_step) if s is not None})
    axis = _axis_of(r)
    main = [_series(page, m, view.series[m], ROLE_COLOUR.get(role, 5 + k), "y", keep,
                    ROLE_NAME.get(role, ""))
            for k, (m, role) in enumerate(_main_metrics(r))]
    plots = page.chart(f"{rid}-loss", rid, axis, 300, [{"key": "y", "label": "loss", "side": "left"}],
                       main, _findings_for_chart([f for f in r.findings if f.metric in view.series], numbers))
    aux, scales = [], []
    for role, key, side in (("lr", "lr", "left"), ("grad_norm", "gn", "right")):
        s = view.role(role)
        if s is not None and len(s):
            aux.append(_series(page, view.roles[role], s, ROLE_COLOUR[role], key, keep,
                               f"{ROLE_NAME[role]}, {side} axis" if len(scales) or role == "grad_norm" else ""))
            scales.append({"key": key, "label": ROLE_NAME[role], "side": side})
    if aux:
        if len(aux) == 1:
            aux[0].pop("note", None)
            scales[0]["side"] = "left"
        plots += page.chart(f"{rid}-aux", rid, axis, 150, scales, aux, [])
    run = r.run
    status = r.status
    head = (f'<div class="run-head"><h2>{escape(title_prefix + r.label)}</h2>'
            f'<span class="badge {status}">{ICON[status]} {status.upper()}</span>'
            f'<span class="meta">{escape(run.format)} · {run.points:,} points · roles: '
            + escape("  ".join(f"{k}={v}" for k, v in view.roles.items()) or "none recognised")
            + "</span></div>")
    if r.baseline is not None:
        head += _verdict_html(r.baseline)
    findings = "".join(_finding_html(f, numbers[id(f)]) for f in r.findings) or \
        '<p class="nofindings">✔ no findings</p>'
    warnings = "".join(f"<li>{escape(w)}</li>" for w in run.warnings)
    if warnings:
        findings += f'<ul class="warnings">{warnings}</ul>'
    return (f'<section class="run" id="{rid}" data-status="{status}">{head}'
            f'<div class="body"><div>{plots}</div><aside class="findings">{findings}</aside></div></section>')


def _hparams(reports) -> list[str]:
    """Hyperparameter names whose values differ between the runs (a sweep's axes)."""
    hps = [getattr(r.run, "hparams", None) or {} for r in reports]
    keys = sorted({k for h in hps for k in h})
    return [k for k in keys if len({json.dumps(h.get(k), default=str) for h in hps}) > 1] if len(reports) > 1 else []


def _cell(text, sort=None, cls: str = "") -> str:
    v = text if sort is None else sort
    return f'<td{f" class={cls!r}" if cls else ""} data-v="{escape(str(v))}">{text if isinstance(text, _Raw) else escape(str(text))}</td>'


class _Raw(str):
    """Markup already escaped."""


def _summary_table(reports) -> str:
    judged = any(r.baseline is not None for r in reports)
    keys = _hparams(reports)
    heads = ["#", "run", "status", "findings"] + (["vs baseline"] if judged else []) + keys
    rows = []
    for i, r in enumerate(reports):
        kinds = ", ".join(dict.fromkeys(f.kind for f in r.findings))
        cells = [_cell(i + 1, cls="num"),
                 _cell(_Raw(f'<a href="#run-{i}">{escape(r.label)}</a>'), sort=r.label),
                 _cell(_Raw(f'<span class="badge {r.status}">{ICON[r.status]} {r.status}</span>'),
                       sort=-1 if r.status == "ok" else severity_rank(r.status)),
                 _cell(_Raw(f"{len(r.findings)}" + (f' <span class="meta">{escape(kinds)}</span>' if kinds else "")),
                       sort=len(r.findings))]
        if judged:
            v = r.baseline
            cells.append(_cell(_Raw(f'<span class="badge {v.verdict}">{v.verdict}</span> '
                                    f'<span class="meta">{escape(v.reason)}</span>') if v is not None
                               else _Raw('<span class="meta">(baseline)</span>'),
                               sort=v.verdict if v is not None else ""))
        hp = getattr(r.run, "hparams", None) or {}
        for k in keys:
            val = hp.get(k, "")
            cells.append(_cell(val if not isinstance(val, float) else fmt(val), sort=val, cls="num"
                               if isinstance(val, (int, float)) and not isinstance(val, bool) else ""))
        rows.append(f'<tr data-run="run-{i}">{"".join(cells)}</tr>')
    thead = "".join(f"<th>{escape(h)}</th>" for h in heads)
    return (f'<div class="filterbar"><input id="filter" type="search" placeholder="filter runs (name, status, '
            f'kind, hyperparameter)" aria-label="filter runs"><span class="hint" id="filter-count">'
            f'{plural(len(reports), "run")}</span><span class="hint">click a heading to sort</span></div>'
            f'<table class="grid sortable" id="runs"><thead><tr>{thead}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _page(title: str, summary: str, body: str, page: _Page) -> str:
    data = {"smoothing": SMOOTHING, "charts": page.charts}
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="lossctl {__version__}">
<title>{escape(title)}</title>
<style>{_asset("uPlot.min.css")}
{_asset("report.css")}</style>
</head><body>
<header class="top"><h1>{escape(title)}</h1><span class="summary">{escape(summary)}</span>
<div class="controls">
<label title="TensorBoard's debiased exponential moving average">smoothing
<input id="smoothing" type="range" min="0" max="0.99" step="0.01" value="{SMOOTHING}"><span id="smoothing-value" class="mono">{SMOOTHING:.2f}</span></label>
<label>y scale <select id="yscale"><option value="auto">auto</option><option value="linear">linear</option><option value="log">log</option></select></label>
<span class="hint">drag: zoom · wheel: zoom · shift-drag: pan · double-click: reset · click a legend entry: show/hide</span>
</div></header>
<main>{body}
<footer>lossctl {__version__} · plots drawn with uPlot (MIT) · shaded: a finding's step range; numbered marker: its onset; ✖ at the bottom: NaN/Inf logged there.
Long curves are reduced for display to each column's lowest and highest point, so no spike is hidden.</footer>
</main>
<script type="application/json" id="lossctl-data">{_script_json(data)}</script>
<script>{_asset("uPlot.iife.min.js")}</script>
<script>{_asset("report.js")}</script>
</body></html>
"""


def render(reports, errors, *, color: bool = False, width: int = 100) -> str:
    """The analyze report as one HTML page."""
    page = _Page(_dense(reports))
    parts = []
    if len(reports) > 1 or any(r.baseline is not None for r in reports):
        parts.append(_summary_table(reports))
    if errors:
        parts.append('<ul class="warnings">' + "".join(f"<li>{escape(e)}</li>" for e in errors) + "</ul>")
    parts += [_run_section(page, r, i) for i, r in enumerate(reports)]
    title = "lossctl: " + (reports[0].label if len(reports) == 1 else plural(len(reports), "run"))
    return _page(title, summary_line(reports), "".join(parts), page)


def _metric_table(c, m) -> str:
    heads = ["run", "metric", "final", f"best ({m.axis})", f"reaches {fmt(m.target)}", "AUC", "stability"]
    rows = []
    for i, (r, s) in enumerate(zip(c.reports, m.stats)):
        lab = f'<b>{letter(i)}</b> {escape(r.label)}'
        if s is None:
            rows.append(f"<tr><td>{lab}</td><td colspan=6 class=meta>not logged</td></tr>")
            continue
        reached = f"{m.axis} {s.reached_at:,}" if s.reached_at is not None else "never"
        best = f"{fmt(s.best)} ({s.best_step:,})" if s.best_step is not None else fmt(s.best)
        vals = [fmt(s.final), best, reached, fmt(s.auc)]
        if i:
            deltas = [_delta(m.delta(i, k)) for k in ("final", "best", "reached_at", "auc")]
            vals = [f"{escape(v)}<br><span class=delta>{escape(d)}</span>" for v, d in zip(vals, deltas)]
        else:
            vals = [escape(v) for v in vals]
        stab, _ = _stability(r, s.metric)
        rows.append(f"<tr><td>{lab}</td><td><code>{escape(s.metric)}</code></td>"
                    + "".join(f'<td class="num">{v}</td>' for v in vals) + f"<td>{escape(stab)}</td></tr>")
    return (f'<table class="grid"><thead><tr>{"".join(f"<th>{escape(h)}</th>" for h in heads)}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def render_compare(comparison, errors, *, color: bool = False, width: int = 100) -> str:
    """``lossctl compare`` as one HTML page: verdicts, per-metric tables with the runs overlaid,
    then each run as ``analyze`` shows it."""
    c = comparison
    dense = _dense(c.reports) + sum(1 for m in c.metrics for s in m.curves
                                    if s is not None and len(s) > 2 * html_data.MIN_COLUMNS)
    page = _Page(dense)
    judged = c.metrics[0] if c.metrics else None
    runs = "".join(
        f'<tr data-run="run-{i}"><td data-v="{i}"><b>{letter(i)}</b></td>'
        f'<td data-v="{escape(r.label)}"><a href="#run-{i}">{escape(r.label)}</a>{" (baseline)" if i == 0 else ""}</td>'
        f'<td data-v="{-1 if r.status == "ok" else severity_rank(r.status)}"><span class="badge {r.status}">'
        f'{ICON[r.status]} {r.status}</span></td>'
        + (f'<td data-v="{v.verdict}"><span class="badge {v.verdict}">{v.verdict}</span> '
           f'<span class="meta">{escape(v.reason)}</span></td>' if (v := (c.verdicts[i - 1] if i else None))
           else '<td data-v=""><span class="meta">baseline</span></td>')
        + "</tr>" for i, r in enumerate(c.reports))
    parts = [(f'<p class="meta">verdict on {escape(judged.label) if judged else "-"}, tolerance '
             f'{fmt_pct(c.max_regression, sign=False)}; {len(c.worse)} of {plural(len(c.verdicts), "run")} '
             f'worse than the baseline</p>'
             '<div class="filterbar"><input id="filter" type="search" placeholder="filter runs" '
             f'aria-label="filter runs"><span class="hint" id="filter-count">{plural(len(c.reports), "run")}</span></div>'
             '<table class="grid sortable" id="runs"><thead><tr><th>#</th><th>run</th><th>status</th>'
             f'<th>verdict</th></tr></thead><tbody>{runs}</tbody></table>')]
    for k, m in enumerate(c.metrics):
        series, findings = [], []
        for i, (r, s, st) in enumerate(zip(c.reports, m.curves, m.stats)):
            if s is None or st is None or not len(s):
                continue
            mine = [f for f in r.findings if f.metric == st.metric and _axis_of(r) == m.axis]
            series.append(_series(page, f"{letter(i)} {r.label}", s, i, "y",
                                  [x for f in mine for x in (f.start_step, f.end_step) if x is not None]))
            findings += [{"n": letter(i), "severity": f.severity, "kind": f.kind, "metric": series[-1]["label"],
                          "start": f.start_step, "end": f.end_step} for f in mine]
        plot = page.chart(f"metric-{k}", "compare", m.axis, 340, [{"key": "y", "label": m.label, "side": "left"}],
                          series, findings)
        parts.append(f'<section class="overlay" id="metric-{k}-section"><div class="run-head"><h2>{escape(m.label)}</h2>'
                     f'<span class="meta">{m.direction} is better · common {m.axis}s {m.common[0]:,}–{m.common[1]:,}'
                     f'</span></div>{plot}{_metric_table(c, m)}</section>')
    if errors:
        parts.append('<ul class="warnings">' + "".join(f"<li>{escape(e)}</li>" for e in errors) + "</ul>")
    parts += [_run_section(page, r, i, f"{letter(i)}  ") for i, r in enumerate(c.reports)]
    summary = f"{len(c.worse)} of {plural(len(c.verdicts), 'run')} worse than the baseline"
    return _page(f"lossctl compare: {plural(len(c.reports), 'run')}", summary, "".join(parts), page)
