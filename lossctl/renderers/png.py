"""``--format png``: the curves as a static picture (matplotlib, Agg backend; the ``png`` extra).

One run: 1200x600, the losses (raw faint, TensorBoard-smoothed solid when dense), lr and grad
norm on their own axes below, each finding's step range shaded in its severity's colour with
a numbered line at its onset, the findings listed under the plot. Up to ``MAX_GRID`` runs share
one image as a grid; more give one image per run. ``compare``: the runs overlaid on the judged
metric (and the training loss beside it), with the verdicts.
"""

from __future__ import annotations

import io

import numpy as np

from lossctl.renderers.ci import steps as steps_text
from lossctl.renderers.html_data import extremes
from lossctl.renderers.plot import ema_debiased
from lossctl.roles import shown_roles
from lossctl.text import plural

SEVERITY_COLOURS = {"error": "#d1242f", "warning": "#bf8700", "info": "#0969da", "ok": "#1a7f37"}
SPAN_ALPHA = 0.18
ROLE_COLOURS = {"loss": "#0a9396", "val_loss": "#c2185b", "reward": "#2e7d32", "lr": "#e07a1f", "grad_norm": "#2b7bb9"}
RUN_COLOURS = ["#0a9396", "#c2185b", "#6a4c93", "#e07a1f", "#2b7bb9", "#5a8f29", "#8c564b", "#7f7f7f",
               "#bcbd22", "#17becf"]
MAX_GRID = 9
DPI = 100
COLUMNS = 2400  # points kept per curve: the extremes of each of these columns
SMOOTHING = 0.6


class MissingExtra(ImportError):
    """The optional dependency is not installed; the message says how to install it."""


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise MissingExtra("--format png needs matplotlib: pip install 'lossctl[png]'") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _thin(steps, values, keep=()):
    if len(steps) <= 2 * COLUMNS:
        return steps, values
    idx, _ = extremes(np.asarray(steps, dtype=np.int64), np.asarray(values, dtype=np.float64), COLUMNS, keep)
    return steps[idx], values[idx]


def _line(ax, s, colour, label, keep=(), smooth=True):
    """A curve: raw (faint when smoothed), its TensorBoard smoothing, NaN/Inf marked at the bottom."""
    steps, values = np.asarray(s.steps), np.asarray(s.values, dtype=np.float64)
    dense = smooth and len(values) > 200
    x, y = _thin(steps, values, keep)
    ax.plot(x, np.where(np.isfinite(y), y, np.nan), color=colour, lw=1.0 if dense else 1.6,
            alpha=0.3 if dense else 1.0, label=None if dense else label,
            marker="o" if len(values) < 60 else None, ms=3)
    if dense:
        sx, sy = _thin(steps, ema_debiased(values, SMOOTHING), keep)
        ax.plot(sx, np.where(np.isfinite(sy), sy, np.nan), color=colour, lw=1.8, label=label)
    bad = ~np.isfinite(values)
    if bad.any():
        marked = "NaN/Inf" in ax.get_legend_handles_labels()[1]
        ax.plot(steps[bad], np.zeros(bad.sum()), "x", color=SEVERITY_COLOURS["error"], ms=7, mew=2,
                transform=ax.get_xaxis_transform(), clip_on=False, label="_nolegend_" if marked else "NaN/Inf")


def _log_if_wide(ax, series):
    vals = [np.asarray(s.values)[np.isfinite(s.values)] for s in series if s is not None and len(s)]
    vals = np.concatenate(vals) if vals else np.array([])
    pos = vals[vals > 0]
    # as the terminal and HTML plots: log when the values span more than 30x (and hardly any is <= 0)
    if len(pos) and len(vals) - len(pos) <= 0.01 * len(vals) and pos.max() / pos.min() > 30:
        ax.set_yscale("log", nonpositive="mask")
        # a blow-up near float64's limit (1e308) overflows matplotlib's log ticks: cap the axis
        ax.set_ylim(pos.min() / 1.5, min(pos.max() * 1.5, 1e250))


def _shade(ax, findings, label=None, numbers=True):
    for n, f in findings:
        if f.start_step is None:
            continue
        colour = SEVERITY_COLOURS[f.severity]
        end = f.end_step if f.end_step is not None else f.start_step
        ax.axvspan(f.start_step, max(end, f.start_step), color=colour, alpha=SPAN_ALPHA, lw=0, zorder=0)
        ax.axvline(f.start_step, color=colour, ls="--", lw=1.2, zorder=1)
        if not numbers:
            continue
        ax.annotate(str(label or n), (f.start_step, 1.0), xycoords=ax.get_xaxis_transform(),
                    xytext=(0, -2), textcoords="offset points", ha="center", va="top", fontsize=9,
                    fontweight="bold", color="white",
                    bbox={"boxstyle": "circle,pad=0.25", "fc": colour, "ec": "none"})


def _onsets(ax, r, numbered):
    for _, f in numbered:
        s = r.view.series.get(f.metric)
        if s is None or f.start_step is None or not len(s):
            continue
        i = min(np.searchsorted(s.steps, f.start_step), len(s) - 1)
        if np.isfinite(s.values[i]):
            ax.plot([s.steps[i]], [s.values[i]], "o", color=SEVERITY_COLOURS[f.severity], ms=7,
                    mec="white", mew=1.2, zorder=5)


def _run_axes(ax, r, aux_ax=None):
    view = r.view
    numbered = list(enumerate(r.findings, 1))
    keep = [s for f in r.findings for s in (f.start_step, f.end_step) if s is not None]
    losses = [(k, view.role(k)) for k in shown_roles(view.roles, view.series) if view.role(k) is not None]
    if not losses:
        losses = [("", s) for m, s in list(view.series.items())[:6]]
    for k, (role, s) in enumerate(losses):
        _line(ax, s, ROLE_COLOURS.get(role, RUN_COLOURS[(k + 2) % len(RUN_COLOURS)]), s.metric, keep)
    _log_if_wide(ax, [s for _, s in losses])
    _shade(ax, numbered)
    _onsets(ax, r, numbered)
    ax.grid(True, alpha=0.3)
    aux = [(k, view.role(k)) for k in ("lr", "grad_norm") if view.role(k) is not None and len(view.role(k))]
    if aux:
        if aux_ax is None:  # grid cell: lr / grad norm on a right-hand axis
            aux_ax = ax.twinx()
            style = {"alpha": 0.7}
        else:
            style = {}
            _shade(aux_ax, numbered, numbers=False)
            aux_ax.grid(True, alpha=0.3)
        first = aux_ax
        for j, (role, s) in enumerate(aux):
            target = first if j == 0 else first.twinx()
            x, y = _thin(np.asarray(s.steps), np.asarray(s.values, dtype=np.float64))
            target.plot(x, np.where(np.isfinite(y), y, np.nan), color=ROLE_COLOURS[role], lw=1.2,
                        label=s.metric, **style)
            target.set_ylabel(s.metric, color=ROLE_COLOURS[role], fontsize=9)
            target.tick_params(axis="y", labelsize=8, colors=ROLE_COLOURS[role])
            _log_if_wide(target, [s])
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="best", fontsize=8, framealpha=0.8)
    status = r.status
    ax.set_title(f"{r.label}  {status.upper()}", loc="left", fontsize=11, fontweight="bold",
                 color=SEVERITY_COLOURS[status] if status != "ok" else "black")


def _finding_lines(r, limit: int, width: int) -> list[str]:
    out = []
    for n, f in list(enumerate(r.findings, 1))[:limit]:
        where = f" steps {steps_text(f)}" if f.start_step is not None else ""
        text = f"{n}  {f.severity} {f.kind} · {f.metric}{where}: {f.message}"
        out.append(text if len(text) <= width else text[: width - 1] + "…")
    if len(r.findings) > limit:
        out.append(f"… {plural(len(r.findings) - limit, 'more finding')} in the HTML or terminal report")
    return out


def _png(fig, plt) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    plt.close(fig)
    return buf.getvalue()


def figure_run(r, plt=None):
    """One run at 1200x600: losses above, lr / grad norm below, findings listed at the bottom."""
    plt = plt or _pyplot()
    has_aux = any(r.view.role(k) is not None for k in ("lr", "grad_norm"))
    lines = _finding_lines(r, 3, 150)
    fig = plt.figure(figsize=(12, 6), dpi=DPI)
    bottom = 0.04 + 0.035 * len(lines)
    if has_aux:
        gs = fig.add_gridspec(2, 1, height_ratios=[3, 1], hspace=0.08, left=0.07, right=0.93, top=0.93,
                              bottom=bottom + 0.07)
        ax = fig.add_subplot(gs[0])
        aux = fig.add_subplot(gs[1], sharex=ax)
        ax.tick_params(labelbottom=False)
    else:
        ax = fig.add_axes((0.07, bottom + 0.07, 0.86, 0.86 - bottom))
        aux = None
    _run_axes(ax, r, aux)
    (aux or ax).set_xlabel("step", fontsize=9)
    for i, line in enumerate(lines):
        f = r.findings[i] if i < len(r.findings) else None
        fig.text(0.07, bottom - 0.02 - 0.035 * i, line, fontsize=9,
                 color=SEVERITY_COLOURS[f.severity] if f is not None else "#59636e")
    return fig


def figure_grid(reports, plt=None):
    """Up to MAX_GRID runs in one image, one cell each."""
    plt = plt or _pyplot()
    n = len(reports)
    rows, cols = (2, 1) if n == 2 else (2, 2) if n <= 4 else (3, 3)
    size = {(2, 1): (12, 10), (2, 2): (16, 10), (3, 3): (18, 13.5)}[(rows, cols)]
    fig, axes = plt.subplots(rows, cols, figsize=size, dpi=DPI, squeeze=False)
    for ax, r in zip(axes.flat, reports):
        _run_axes(ax, r)
        kinds = ", ".join(f"{n} {f.kind} {steps_text(f)}" for n, f in enumerate(r.findings, 1))
        ax.set_xlabel(kinds or "no findings", fontsize=9)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def render(reports, errors, *, color: bool = False, width: int = 100) -> list[tuple[str, bytes]]:
    """``[(suffix, png)]``: one image for up to MAX_GRID runs, else one per run (suffix -NN)."""
    plt = _pyplot()
    if len(reports) == 1:
        return [("", _png(figure_run(reports[0], plt), plt))]
    if len(reports) <= MAX_GRID:
        return [("", _png(figure_grid(reports, plt), plt))]
    return [(f"-{i:02d}", _png(figure_run(r, plt), plt)) for i, r in enumerate(reports, 1)]


def figure_compare(c, plt=None):
    """The runs overlaid on the judged metric (and a second metric beside it), 1200x600."""
    from lossctl.renderers.compare_terminal import letter

    plt = plt or _pyplot()
    metrics = c.metrics[:2]
    fig, axes = plt.subplots(1, max(1, len(metrics)), figsize=(12, 6), dpi=DPI, squeeze=False)
    verdicts = {v.run: v for v in c.verdicts}
    for ax, m in zip(axes.flat, metrics):
        for i, (r, s, st) in enumerate(zip(c.reports, m.curves, m.stats)):
            if s is None or st is None or not len(s):
                continue
            v = verdicts.get(r.run.name) if i else None
            tag = " (baseline)" if i == 0 else f" ({v.verdict})" if v is not None else ""
            _line(ax, s, RUN_COLOURS[i % len(RUN_COLOURS)], f"{letter(i)} {r.label}{tag}")
            if m.axis == "step":
                _shade(ax, [(letter(i), f) for f in r.findings if f.metric == st.metric])
        _log_if_wide(ax, [s for s in m.curves if s is not None])
        ax.set_title(f"{m.label} ({m.direction} is better)", loc="left", fontsize=11, fontweight="bold")
        ax.set_xlabel(m.axis, fontsize=9)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, framealpha=0.8)
    worse = len(c.worse)
    fig.suptitle(f"compare: {worse} of {plural(len(c.verdicts), 'run')} worse than the baseline",
                 fontsize=12, color=SEVERITY_COLOURS["error"] if worse else "black", x=0.07, ha="left")
    fig.tight_layout()
    return fig


def render_compare(comparison, errors, *, color: bool = False, width: int = 100) -> list[tuple[str, bytes]]:
    plt = _pyplot()
    return [("", _png(figure_compare(comparison, plt), plt))]
