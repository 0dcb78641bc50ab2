"""An agent's return that collapses: the reinforcement-learning form of divergence.

A reinforcement-learning run's losses are objectives with no better direction (roles.py), so
its failure shows in the return it logs: it climbs, then falls back and stays down (PPO's
policy collapse after too large an update, a DQN whose Q-values blow up). The rules mirror
:class:`~lossctl.detectors.divergence.Divergence` with higher being better, on a linear scale
(returns can be negative); the PPO statistics the run logs beside it (``approx_kl``,
``clip_fraction``) rank the fixes.
"""

from __future__ import annotations

import numpy as np

from lossctl.detectors.base import RunView, Series
from lossctl.detectors.schedule import lr_context
from lossctl.detectors.stats import diff_noise, fmt, median, percentile, robust_sigma, rolling_median
from lossctl.roles import words

DOC = """

An agent's return (a reinforcement-learning run, whose losses are judged for NaN/Inf only) is
judged the same way with higher being better, on a linear scale: over the last
{tail_fraction:.0%} of the run it has given back at least {min_progress_lost:.0%} of what it
gained from its start (the first twentieth) to its best, and has stayed down for at least a
tenth of the run since it last stood within a quarter of the fall of its best (a return swings
before it falls for good; severity error). The
gain and the fall must each exceed {noise_k} times its own noise (the largest of its
point-to-point noise, that of its start, and its changes over a tenth of the run: a moving
average of episodes wanders slowly, by far more than it moves from one point to the next), and
span {min_gain_of_range:.0%} and {min_share_of_range:.0%} of the range its values cover (5th to
95th percentile: a run that learned climbs across most of it); the climb to the best must be a
trend (rank correlation of the level with the step up to the best at least {min_rise_trend}),
not a wander that peaks there; and the fall must be sudden, three quarters of it within
{max_fall_share:.0%} of the run. A positive return that never gained on its start and ends at
1/{min_ratio:.0f} of it or less left the agent worse than it began, and is reported so. The
fixes are ranked by the PPO statistics logged beside it: an ``approx_kl`` from the best return
on above {ppo_kl_high} (PPO's updates usually stay near 0.01-0.02) points at too large a
policy update."""

THRESHOLDS = {"ppo_kl_high": 0.05, "min_share_of_range": 0.5, "min_gain_of_range": 0.75, "min_rise_trend": 0.8, "max_fall_share": 0.1}


def collapse(det, run: RunView) -> list:
    """The divergence finding of ``run``'s return, or []."""
    r = run.role("reward")
    if r is None:
        return []
    t = det.t
    f = r.finite()
    if len(f) < t["min_points"]:
        return []
    first, last, y = f.binned()
    n = len(y)
    w = 5 if n >= 10 else 3
    z = rolling_median(y, w)
    k = min(n, max(1, int(round(n * t["tail_fraction"]))))
    h = w // 2  # the first smoothed points rest on the first value repeated: one lucky evaluation
    if n - k - h < 2:
        return []
    i_best = h + int(np.argmax(z[h: n - k]))
    start = float(median(z[: max(1, min(max(3, n // 20), i_best + 1))]))  # its first twentieth
    # the noise of the whole curve, or of its start where that is larger: a few early evaluations
    # scattered around a level the rest of the run holds still say little about that level
    noise = max(diff_noise(y), diff_noise(y[: max(k, 5)]))
    # and its slow wander: a moving average of episodes (SB3's ep_rew_mean) moves little from
    # one point to the next yet swings far over a tenth of the run; the spread of its changes
    # over that lag (robust: a rise or a collapse is a few of them) measures those swings
    lag = max(1, n // 10)
    noise = max(noise, robust_sigma(z[lag:] - z[:-lag]) / np.sqrt(2.0))
    # a moving average of episodes (SB3's ep_rew_mean) wanders slowly, its point-to-point noise
    # small beside its swings: a rise or a fall must also span much of the range the return covers
    p5, p95 = percentile(f.values, [5, 95])
    span = t["min_share_of_range"] * float(p95 - p5)
    # an agent that gained on its start is judged from its best; one that never did, from its
    # start: a positive return that ends at a fraction of it left the agent worse than it began
    # and a gain is learning when the curve climbs to its best as a trend, not as a wander that
    # happens to peak there (rank correlation of the level with the step up to the best)
    learned = bool(float(z[i_best]) - start > max(t["noise_k"] * noise, t["min_gain_of_range"] * float(p95 - p5))
                   and _trend(z[: i_best + 1]) >= t["min_rise_trend"])
    if not learned:
        i_best = 0
    peak = float(z[i_best]) if learned else start
    end = float(median(z[n - k:]))
    drop = peak - end
    if drop <= max(t["noise_k"] * noise, span):
        return []
    if learned and drop < t["min_progress_lost"] * (peak - start):
        return []
    if not learned and not (float(np.min(f.values)) > 0 and end * t["min_ratio"] <= start):
        return []
    # the collapse starts where the return last stood near its top (a return swings before it
    # falls for good), and it must have stayed down since for at least a tenth of the run
    top = np.flatnonzero(z[i_best:] >= peak - 0.25 * drop)
    i_on = i_best + int(top[-1])
    if n - 1 - i_on < max(k, 3):
        return []
    onset = int(last[i_on])
    # a collapse is sudden: three quarters of the fall within a tenth of the run (a slow wander of a
    # moving average that happens to end low takes far longer)
    fallen = i_on + int(np.argmax(z[i_on:] < peak - 0.75 * drop))
    span_steps = float(f.steps[-1] - f.steps[0]) or 1.0
    if z[fallen] >= peak - 0.75 * drop or (first[fallen] - last[i_on]) > t["max_fall_share"] * span_steps:
        return []
    ev = {"best": peak, "best_step": int(first[i_best]), "last": end, "start_level": start, "drop": drop,
          "onset_step": onset, "ends_nonfinite": False, "objective": "return", "gained_on_start": learned}
    ev.update(_ppo(run, ev["best_step"]))
    lr = lr_context(run, onset)
    if lr.get("lr_growth", 1.0) >= 2.0 and "warmup_end_step" not in lr:
        ev["lr_growth"] = round(lr["lr_growth"], 2)
    if learned:
        ev["progress_lost"] = round(drop / (peak - start), 2)
        how = (f"{ev['progress_lost']:.0%} of its gain since the start, {fmt(start)}, lost" if ev["progress_lost"] < 1
               else f"all its gain since the start, {fmt(start)}, lost: it ends below it")
        msg = (f"{r.metric} collapses from step {onset:,}: best {fmt(peak)} at step {ev['best_step']:,}, "
               f"ending at {fmt(end)} ({how}).")
    else:
        msg = (f"{r.metric} collapses from step {onset:,}: its level never rose above its start, {fmt(start)}, "
               f"and ends at {fmt(end)}: training left the agent worse than it began.")
    return [det.finding(run, r, onset, int(r.steps[-1]), msg, ev, _suggest(ev, det.t))]


def _trend(x: np.ndarray) -> float:
    """Spearman's rank correlation of ``x`` with its index (ties are rare in smoothed returns)."""
    if len(x) < 5:
        return 0.0
    r = np.argsort(np.argsort(x, kind="stable"), kind="stable").astype(float)
    i = np.arange(len(x), dtype=float)
    r -= r.mean()
    i -= i.mean()
    d = float(np.sqrt(np.dot(r, r) * np.dot(i, i)))
    return float(np.dot(r, i) / d) if d > 0 else 0.0


def _named(run: RunView, *groups: set[str]) -> Series | None:
    """The first series whose name holds a word of every group (``train/approx_kl``)."""
    for name, s in run.series.items():
        ws = set(words(name))
        if all(ws & g for g in groups):
            return s
    return None


def _ppo(run: RunView, since: int) -> dict:
    """PPO's update statistics from the best return on (the update that broke it is among
    them), where the run logs them."""
    out = {}
    for key, groups in (("approx_kl", ({"approx"}, {"kl"})), ("clip_fraction", ({"clip", "clipfrac"},))):
        s = _named(run, *groups)
        if s is None:
            continue
        v = s.values[(s.steps >= since) & np.isfinite(s.values)]
        if len(v):
            out[f"{key}_max_after_best"] = float(np.max(v))
            out[f"{key}_metric"] = s.metric
    return out


def _suggest(ev: dict, t: dict) -> list[str]:
    """Fixes, most likely first: a learning rate that grew (the scheduler), PPO updates far too
    large (approx_kl), then the checkpoint to keep and the usual remedies."""
    keep = (f"Keep the checkpoint from step {ev['best_step']:,} (return {fmt(ev['best'])}) and evaluate it: "
            "later checkpoints are worse" if ev["gained_on_start"] else
            "Check the reward and the environment first: an agent that only gets worse may be optimising a "
            "reward with the wrong sign or scale")
    lr = "Lower the learning rate (2-10x), or anneal it to zero over the run"
    kl = ("Limit each update: PPO's target_kl (e.g. 0.02) stops an update's epochs early; fewer epochs or a "
          "smaller clip range do the same")
    value = ("With a value-based agent (DQN, SAC), update the target network more slowly and clip gradients: "
             "Q-values that blow up drag the return down")
    out = []
    if ev.get("lr_growth"):
        out.append(f"The logged learning rate grew {fmt(ev['lr_growth'])}x from the start to the collapse: check the "
                   "scheduler (a factor above 1, a schedule stepped the wrong way)")
    if ev.get("approx_kl_max_after_best", 0.0) > t["ppo_kl_high"]:
        out.append(f"{ev['approx_kl_metric']} reached {fmt(ev['approx_kl_max_after_best'])} from step "
                   f"{ev['best_step']:,} on, far above the 0.01-0.02 PPO keeps to: set target_kl (e.g. 0.02), "
                   "lower the learning rate, or use fewer epochs per update")
    out += [keep, lr, kl, value]
    return list(dict.fromkeys(out))[:5]
