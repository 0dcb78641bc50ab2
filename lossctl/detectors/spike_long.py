"""Loss spikes on long runs (100,000+ steps: language-model pretraining), counted the way
large-model teams count them, so the numbers match the dashboards they already watch.

The short-run rule in ``spike.py`` asks whether one or a few jumps stand out from a curve; a
pretraining run of a million steps has dozens, and the question becomes how often, how high,
how long to recover and whether the gradient norm went first. Everything here is vectorised
numpy (rolling sums by cumulative sums), linear in the number of points.
"""

from __future__ import annotations

import numpy as np

from lossctl.detectors.base import RunView, Series
from lossctl.detectors.stats import fmt
from lossctl.text import plural

LONG_RUN_THRESHOLDS = {"long_run_steps": 100_000, "long_min_points": 1_000, "long_window": 128,
                       "long_std": 6.0, "long_score_steps": 10_000, "foundry_window": 100,
                       "foundry_multiplier": 2.0, "grad_lookback": 100, "long_max_listed": 10}

# appended to Spike's docstring: what `lossctl explain spike` prints about long runs
LONG_RUN_DOC = """

    Long runs ({long_run_steps:,.0f}+ steps logged at {long_min_points:,.0f}+ points, as in
    language-model pretraining) are judged by OLMo-core's stability monitor instead
    (allenai/OLMo-core, src/olmo_core/train/callbacks/stability_monitor.py): a logged value is a
    spike when it exceeds the mean plus {long_std:.0f} standard deviations of the previous
    {long_window:.0f} values, and the spike score is the share of spike points in a rolling
    {long_score_steps:,.0f}-step window. One finding sums the run up: the number of spikes
    (consecutive spike points are one spike) and the share of points that spike, the highest
    spike score, and for each spike its height (x the running mean, and in standard deviations
    above it), its recovery time (steps from the peak until the loss is back under the
    threshold, and until back at the running mean it jumped from) and whether the gradient norm
    (its own series, same rule) spiked in the {grad_lookback:.0f} logged steps before it. For
    comparison it also counts llm-foundry's outliers (mosaicml/llm-foundry,
    llmfoundry/callbacks/kill_loss_spike_callback.py: a loss at least {foundry_multiplier:.0f}x
    the mean of the previous {foundry_window:.0f}), a far coarser rule that only a blow-up
    meets once the loss is low. The {long_max_listed:.0f} highest spikes are listed in the
    evidence. The finding is a warning when a spike reaches llm-foundry's outlier level or has
    not come back under the threshold, otherwise info (small spikes that any long run shows)."""


def long_run_findings(det, run: RunView) -> list | None:
    """The ``spike`` finding of a long run (``[]`` when it has no spike), or None when the run
    is too short or too sparsely logged for these rules (the short-run rule then judges it)."""
    s = run.role("loss") or run.role("val_loss")
    if s is None:
        return None
    got = long_run_spikes(run, s, det.t)
    if not got:
        return got
    listed, st = got
    msg, ev = long_run_message(s.metric, listed, st, det.t)
    # info when every spike is small and recovered: what any long run shows now and then
    mild = ev["foundry_outliers"] == 0 and ev["not_recovered"] == 0
    return [det.finding(run, s, listed[0]["step"], listed[-1]["step"], msg, ev, _suggest(ev),
                        severity="info" if mild else None)]


def long_run_spikes(run: RunView, s: Series, t: dict):
    """``(spikes, statistics)`` of the finite series ``s``, ``[]`` when it has no spike, or None
    when the run is too short for these rules."""
    t = {**LONG_RUN_THRESHOLDS, **t}
    f = s.finite()
    n, w = len(f), int(t["long_window"])
    if n < max(t["long_min_points"], 2 * w) or f.steps[-1] - f.steps[0] + 1 < t["long_run_steps"]:
        return None
    steps, x = f.steps, f.values
    dt = max(float(steps[-1] - steps[0]) / (n - 1), 1.0)  # steps per logged point
    mean, std = rolling_prev(x, w)
    thr = mean + t["long_std"] * std
    hit = x > thr
    hit[:w] = False
    hit &= std > 1e-10  # OLMo-core skips a flat history
    if not hit.any():
        return []
    # spikes: runs of consecutive spike points
    idx = np.flatnonzero(hit)
    brk = np.flatnonzero(np.diff(idx) > 1)
    starts, ends = idx[np.r_[0, brk + 1]], idx[np.r_[brk, len(idx) - 1]]
    peaks = np.array([a + int(np.argmax(x[a:b + 1])) for a, b in zip(starts, ends)])
    k = max(1, int(round(t["long_score_steps"] / dt)))
    c = np.cumsum(np.r_[0, hit.astype(np.int64)])
    score = (c[k:] - c[:-k]) / k if n >= k else np.array([c[-1] / n])
    fw = int(t["foundry_window"])
    fmean, _ = rolling_prev(x, fw, std=False)
    foundry = int(np.sum(x[fw:] >= t["foundry_multiplier"] * fmean[fw:]))
    grad = _grad_spikes(run, t)
    look = t["grad_lookback"] * dt
    listed = []
    for a, p in zip(starts, peaks):
        base, sd, lim = mean[a], std[a], thr[a]
        after = x[p:]
        under = np.flatnonzero(after[: 20 * w] <= lim)
        back = np.flatnonzero(after[: 20 * w] <= base)
        first = None
        if grad is not None:
            g = grad[(grad < steps[a]) & (grad >= steps[a] - look)]
            first = bool(len(g))
        listed.append({"step": int(steps[p]), "peak": float(x[p]), "running_mean": float(base),
                       "height_ratio": round(float(x[p] / base), 3) if base > 0 else None,
                       "height_std": round(float((x[p] - base) / sd), 1),
                       "recovery_steps": int(steps[p + under[0]] - steps[p]) if len(under) else None,
                       "recovery_to_mean_steps": int(steps[p + back[0]] - steps[p]) if len(back) else None,
                       "grad_norm_first": first})
    return (listed, {"points": n, "spike_points": int(hit.sum()), "max_score": float(score.max()),
                      "max_score_step": int(steps[min(int(np.argmax(score)) + k - 1, n - 1)]),
                      "foundry_outliers": foundry, "dt": dt, "grad_logged": grad is not None,
                      "span": int(steps[-1] - steps[0])})


def rolling_prev(x: np.ndarray, w: int, std: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Mean and (population) standard deviation of the ``w`` values before each point, by
    cumulative sums of the values less their mean (so the squares keep their precision); the
    first ``w`` points get those of what precedes them (NaN for the very first)."""
    c0 = float(np.mean(x))
    y = x - c0
    cnt = np.minimum(np.arange(len(x)), w).astype(np.float64)
    cnt[0] = np.nan

    def prev_sum(v):
        c = np.cumsum(v)
        out = np.empty_like(c)
        out[0] = 0.0
        out[1:w + 1] = c[:w]
        out[w + 1:] = c[w:-1] - c[:-w - 1]
        return out

    m = prev_sum(y) / cnt
    if not std:
        return m + c0, None
    var = np.maximum(prev_sum(y * y) / cnt - m * m, 0.0)
    return m + c0, np.sqrt(var)


def _grad_spikes(run: RunView, t: dict) -> np.ndarray | None:
    """Steps where the logged gradient norm spikes by the same rule, or None when not logged."""
    g = run.role("grad_norm")
    if g is None:
        return None
    g = g.finite()
    w = int(t["long_window"])
    if len(g) <= w:
        return None
    mean, std = rolling_prev(g.values, w)
    hit = (g.values > mean + t["long_std"] * std) & (std > 1e-10)
    hit[:w] = False
    return g.steps[hit]


def long_run_message(metric: str, listed: list[dict], st: dict, t: dict) -> tuple[str, dict]:
    """The finding's sentence and evidence from :func:`long_run_spikes`' output."""
    t = {**LONG_RUN_THRESHOLDS, **t}
    top = sorted(listed, key=lambda e: -e["height_std"])[: int(t["long_max_listed"])]
    big = top[0]
    recovered = [e["recovery_steps"] for e in listed if e["recovery_steps"] is not None]
    ev = {"spikes": len(listed), "spike_points": st["spike_points"], "points": st["points"],
          "spike_rate": round(st["spike_points"] / st["points"], 6),
          "max_spike_score": round(st["max_score"], 6), "max_spike_score_step": st["max_score_step"],
          "peak_step": big["step"], "peak": big["peak"], "peak_ratio": big["height_ratio"],
          "peak_std": big["height_std"],
          "median_recovery_steps": int(np.median(recovered)) if recovered else None,
          "not_recovered": len(listed) - len(recovered),
          "foundry_outliers": st["foundry_outliers"], "rule": "olmo-core stability monitor"}
    if st["grad_logged"]:
        ev["grad_norm_first"] = sum(bool(e["grad_norm_first"]) for e in listed)
    ev["largest"] = top
    ev["steps_spanned"] = st["span"] + 1
    r = big["height_ratio"]
    ratio = "" if r is None else f"{fmt(r) if r >= 1.1 else f'{r:.3f}'}x its running mean, "  # 1.003x, not 1x
    rec = (f"back under the threshold within {plural(big['recovery_steps'], 'step')}"
           if big["recovery_steps"] is not None else "not back under the threshold")
    msg = (f"{metric} spikes {plural(len(listed), 'time')} in {ev['steps_spanned']:,} steps "
           f"({st['spike_points'] / st['points']:.3%} of logged points above the mean + "
           f"{fmt(t['long_std'])} std of the previous {t['long_window']:.0f}; highest "
           f"{t['long_score_steps']:,.0f}-step spike score {st['max_score']:.2%}): the largest, at step "
           f"{big['step']:,}, reaches {fmt(big['peak'])} ({ratio}{fmt(big['height_std'])} std above it) and is "
           f"{rec}; llm-foundry's {fmt(t['foundry_multiplier'])}x rule flags "
           f"{plural(st['foundry_outliers'], 'point')}")
    if st["grad_logged"]:
        msg += f"; the gradient norm spiked first for {ev['grad_norm_first']} of {len(listed)}"
    return msg + ".", ev


def _suggest(ev: dict) -> list[str]:
    """Fixes large-model teams apply, the gradient-norm evidence first."""
    fixes = []
    if ev.get("grad_norm_first"):
        fixes.append(f"The gradient norm spiked first for {ev['grad_norm_first']} of {ev['spikes']} spikes: "
                     "clip gradients (max norm 1.0) or clip adaptively on the grad-norm z-score (ZClip)")
    fixes += ["Lower the peak learning rate or lengthen the warm-up; for AdamW lower beta2 (0.95) and raise eps",
              "Stabilise the logits and attention: z-loss on the output logits, QK-layernorm (as OLMo 2 does)",
              (f"Restart from a checkpoint before the largest spike (step {ev['peak_step']:,}) and skip the "
               "batches around it: a bad data shard gives the same spike again"),
              "Clip gradients (torch.nn.utils.clip_grad_norm_(params, 1.0))"]
    return list(dict.fromkeys(fixes))[:5]
