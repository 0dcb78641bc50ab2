from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from lossctl.detectors.base import Detector, RunView, Series
from lossctl.detectors.epochs import small_last_batch
from lossctl.detectors.schedule import lr_context
from lossctl.detectors.spike_long import LONG_RUN_DOC, LONG_RUN_THRESHOLDS, long_run_findings
from lossctl.detectors.stats import (
    binned,
    fmt,
    median,
    median_sorted,
    percentile,
    quantile,
    quantile_sorted,
    robust_sigma,
    rolling_median,
)
from lossctl.text import plural

_LN5 = math.log(5.0)
_LN10 = math.log(10.0)
_B_FLOOR = 1e-3  # noise scale floor (log units: 0.1%), so a smooth per-epoch curve has a scale


class Spike(Detector):
    """One or a few short, sharp jumps of the loss that recover.

    What it flags: at most {max_spikes:.0f} places where the training loss (validation loss when
    no training loss is logged) jumps to at least {min_ratio}x the level it jumps from, by at
    least {min_visible:.0%} of the range the curve covers, and comes back down: the jump and its
    recovery last at most {max_width:.0%} of the run (or {min_width_points:.0f} logging intervals on
    a short log), and the level after it is no more than
    {recover_fraction:.0%} of the jump above the level before it. The jump must stand out from
    the curve's own batch-to-batch noise: the chance that ordinary noise puts a point (or a run
    of points) that high anywhere in the run must be below e^-{significance}, and ordinary
    batches next to it must not reach half its height often enough to expect more than
    {max_half_high:.0f} such batches over the run. A per-epoch log qualifies the same way: one
    epoch far above its neighbours that recovers. The validation loss beside a training loss is
    judged evaluation by evaluation (with {min_evaluations:.0f} or more logged): an evaluation at
    least {evaluation_ratio}x the higher of its two neighbours, in a curve where no other
    evaluation is above half that ratio, is a spike that recovered (severity info): one odd
    evaluation, often BatchNorm statistics or the data order, not a broken run; while the training
    loss diverges it is part of the divergence.

    How: the loss is compared on a log scale with its level (the median of the points within
    {window:.0%} of the run before and after the jump, or a trend of step-range bin medians,
    whichever is higher), so neither the loss's scale nor the logging interval matters. The
    ordinary noise is the distribution of the points around the jump, used as it is and
    continued beyond its largest value by an exponential tail fitted to its 50-90th and 90-99th
    percentiles. Heavy-tailed mini-batch noise, whose ordinary batches already reach several
    times the level, therefore needs a far higher jump than a smooth curve; a jump that lingers
    over several points (the model was disturbed and recovers) adds up the evidence of every
    elevated point (Fisher's method); it is back down once within {grow_fraction:.0%} of the jump
    (on the log scale) of its level, so a smooth curve's own bend next to a jump is not taken
    for a slow recovery. Jumps where the logged learning rate jumps up (warm
    restarts) are not counted; a rise that stays up is divergence, not a spike; more than
    {max_spikes:.0f} jumps are noise (see `noisy`) or oscillation, not spikes. A small last batch
    (a data set that is not a whole number of batches, the remainder kept) makes its loss from
    a few examples: when the batch logged at the end of each epoch (at the validation step or
    next to it, over {last_batch_epochs:.0f}+ epochs) scatters at least {last_batch_ratio}x more
    than the other batches, it is left out of the noise the others are judged by, and a jump of
    its own counts only if it is at least {last_batch_z} of that batch's robust sigmas above the
    level or carries into the batches after it (more than {last_batch_carry:.0f} points raised:
    the update it gave disturbed the model).

    Why it matters: a spike means one update went badly wrong: a bad batch (corrupted shard,
    unnormalised inputs, binary junk, mislabeled rows) or a step too large for the curvature
    (learning rate too high, exploding gradients). The run usually recovers, but each spike
    undoes progress, can leave the weights in a worse region, and a larger one ends in
    divergence or NaN.

    What to do: see the suggestions, ranked by the evidence: a gradient-norm burst at the same
    steps calls for gradient clipping first; a learning rate that grew before the spikes, or a
    burst of spikes early in training, for a lower peak learning rate or a warm-up; short,
    isolated jumps for checking the batches at those steps.
    """

    kind = "spike"
    severity = "warning"
    summary = "one or a few short, sharp jumps that recover"
    suppressed_by = ("divergence", "oscillation", "epoch_periodic")
    thresholds: ClassVar[dict[str, float]] = {"min_ratio": 1.5, "min_visible": 0.05, "significance": 2.5, "max_width": 0.05, "min_width_points": 5,
                  "max_spikes": 5, "recover_fraction": 0.5, "window": 0.1, "trend_bins": 21,
                  "max_half_high": 10, "min_points": 12, "min_before": 2, "grow_fraction": 0.1,
                  "min_evaluations": 5, "evaluation_ratio": 3.0,
                  "last_batch_ratio": 2.5, "last_batch_epochs": 8,
                  "last_batch_carry": 2, "last_batch_z": 4.0}

    def detect(self, run: RunView):
        if (long := long_run_findings(self, run)) is not None:  # 100,000+ steps: spike_long.py
            return long
        if (judged := self.judged(run, "loss", "val_loss")) is None:
            return []
        s, f = judged
        out = []
        events = self._spikes(run, f)
        if events and len(events) <= self.t["max_spikes"]:
            out.append(self._finding(run, s, f, events))
        if s is not (v := run.role("val_loss")) and v is not None:
            out += self._evaluation_spikes(run, v)
        return out

    def _spikes(self, run: RunView, f: Series) -> list[dict]:
        """The spikes of ``f``. A small last batch (a few examples make its loss) is left out of
        the noise the other batches are judged by, and its own jumps count only when they are
        extraordinary even for it or carry into the batches after it."""
        t, lr = self.t, _lr_jump_steps(run)
        lb = small_last_batch(run, f.steps, f.values, t["last_batch_ratio"], int(t["last_batch_epochs"]))
        if lb is None:
            return find_spikes(f.steps, f.values, t, lr)
        last = lb.holds(f.steps)
        events = find_spikes(f.steps, f.values, t, lr, own_noise=last)
        return [e for e in events if not last[f.steps.searchsorted(e["peak_step"])]
                or e["points"] > t["last_batch_carry"] or e["height"] >= t["last_batch_z"] * lb.sigma]

    def _evaluation_spikes(self, run: RunView, v: Series):
        """Single evaluations far above both neighbours (a few evaluations: the noise model of
        :func:`find_spikes` needs more points than an epoch log of the validation loss has)."""
        t = self.t
        f = v.finite()
        y = f.values
        if len(y) < t["min_evaluations"] or not np.all(y > 0):
            return []
        ratio = y[1:-1] / np.maximum(y[:-2], y[2:])  # each inner evaluation against its higher neighbour
        hit = np.flatnonzero(ratio >= t["evaluation_ratio"])
        rest = np.delete(ratio, hit)
        if not 0 < len(hit) <= t["max_spikes"] or (len(rest) and rest.max() >= t["evaluation_ratio"] / 2):
            return []
        i = hit[np.argmax(ratio[hit])] + 1
        ev = {"spikes": len(hit), "steps": ", ".join(f"{int(f.steps[j + 1]):,}" for j in hit),
              "peak_step": int(f.steps[i]), "peak": float(y[i]), "before": float(y[i - 1]),
              "after": float(y[i + 1]), "peak_ratio": round(float(ratio[i - 1]), 2),
              "other_evaluations_max_ratio": round(float(rest.max()), 2) if len(rest) else None,
              "others_below_ratio": t["evaluation_ratio"] / 2,
              "recovered": True, "train_metric": run.role("loss").metric}  # a diverging one explains it
        where = f"at step {ev['peak_step']:,}" if len(hit) == 1 else f"{len(hit)} times (steps {ev['steps']})"
        msg = (f"{v.metric} spikes {where}: {fmt(ev['peak'])} between {fmt(ev['before'])} and "
               f"{fmt(ev['after'])}, {fmt(ev['peak_ratio'])}x the higher of its neighbours (no other "
               f"evaluation is above {ev['others_below_ratio']:g}x its neighbours), and recovers at the next "
               "evaluation.")
        sugg = [("Check the model's mode at evaluation: BatchNorm statistics estimated from few or "
                 "unshuffled batches (a small batch, a fresh head after unfreezing) make one evaluation "
                 "far off; more warm-up epochs or a higher BatchNorm momentum steady them"),
                ("Check the data order: shuffle the training set every epoch and keep the validation "
                 "set fixed; one odd epoch often follows one odd shard"),
                ("If the learning rate peaked there (the end of a warm-up), lower the peak or lengthen "
                 "the warm-up")]
        return [self.finding(run, v, f.steps[hit[0]], f.steps[hit[-1] + 2], msg, ev, sugg, severity="info")]

    def _finding(self, run: RunView, s: Series, f: Series, events: list[dict]):
        top = max(events, key=lambda e: e["height"])
        log = top["log"]
        steps_txt = ", ".join(f"{e['peak_step']:,}" for e in events)
        span = float(f.steps[-1] - f.steps[0]) or 1.0
        ev = {"spikes": len(events), "steps": steps_txt, "peak_step": top["peak_step"],
              "peak": top["peak"], "level": top["level"]}
        if log:
            ev["peak_ratio"] = round(math.exp(top["height"]), 2)
            ev["ordinary_p90_ratio"] = round(math.exp(top["p90_excess"]), 2)
        ev.update({"peak_to_noise": round(top["to_noise"], 1), "significance": round(top["significance"], 1),
                   "points_elevated": max(e["points"] for e in events),
                   "recovery_steps": max(e["recovery_steps"] for e in events),
                   "level_before": top["before"], "level_after": top["after"],
                   "early": bool(events[0]["start"] - f.steps[0] <= 0.1 * span)})
        g = _grad_burst(run, events, self.t["window"] * span)
        if g is not None:
            ev["grad_norm_ratio"], ev["grad_norm_ordinary_p99"] = round(g[0], 2), round(g[1], 2)
            ev["grad_norm_spiked"] = bool(g[0] >= max(3.0, 2.0 * g[1]))
        lr = lr_context(run, events[0]["start"])
        if lr:
            ev["lr_at_spike"] = lr["lr_at_onset"]
            ev["lr_max"] = lr["lr_max"]
            ev["lr_growth"] = round(lr["lr_growth"], 2)
            ev["lr_rising"] = bool(lr["lr_growth"] >= 2.0 and "warmup_end_step" not in lr)
            ev["lr_at_peak"] = bool(lr["lr_at_onset"] >= 0.9 * lr["lr_max"])
            if "warmup_end_step" in lr:
                ev["warmup_end_step"] = lr["warmup_end_step"]
        if log:
            how = (f"{fmt(ev['peak_ratio'])}x its local level of {fmt(top['level'])} "
                   f"(ordinary batches reach {fmt(ev['ordinary_p90_ratio'])}x)")
        else:
            how = f"{fmt(top['peak'] - top['level'])} above its local level of {fmt(top['level'])}"
        where = (f"at step {top['peak_step']:,}" if len(events) == 1
                 else f"{len(events)} times (steps {steps_txt})")
        msg = (f"{s.metric} spikes {where}: up to {fmt(top['peak'])}, {how}, and is back down "
               f"within {plural(ev['recovery_steps'], 'step')}.")
        start = min(e["start"] for e in events)
        end = max(e["end"] for e in events)
        return self.finding(run, s, start, end, msg, ev, _suggest(ev))


# runs of 100,000+ steps are judged by the rules large-model teams use (spike_long.py)
Spike.__doc__ += LONG_RUN_DOC
Spike.thresholds = {**Spike.thresholds, **LONG_RUN_THRESHOLDS}


def find_spikes(steps: np.ndarray, values: np.ndarray, t: dict, lr_jumps: np.ndarray | None = None,
                own_noise: np.ndarray | None = None) -> list[dict]:
    """The significant, short jumps of a finite series that recover, as dicts sorted by step.

    Works on log values when the series is non-negative (ratios to the local level), else on
    values divided by their 5-95% spread. ``lr_jumps``: steps where the logged lr jumps up;
    ``own_noise``: points that scatter by their own law (a small last batch), left out of the
    ordinary noise the others are judged by.
    """
    n = len(values)
    log = bool(np.all(values >= 0) and values.max() > 0)
    if log:
        scale = 1.0
        z = np.log(np.maximum(values, values.max() * 1e-12))
    else:
        lo, hi = percentile(values, [5, 95])
        scale = max(float(hi - lo), 1e-300)
        z = values / scale
    first, last, med = binned(steps, z)
    trend_b = rolling_median(med, int(t["trend_bins"]))
    trend = np.interp(steps, (first + last) / 2.0, trend_b)
    r = z - trend
    lin_trend = np.exp(trend_b) if log else trend_b
    trend_range = float(lin_trend.max() - lin_trend.min())
    m, q90 = quantile(r[:: n // 200_000 + 1], [0.5, 0.9])  # a sample is plenty for two quantiles
    b = max((q90 - m) / _LN5, _B_FLOOR)
    min_height = math.log(t["min_ratio"]) if log else 0.0
    screen = m + max(3.0 * b, 0.5 * min_height)
    cand = np.flatnonzero(r > screen)
    if len(cand) == 0:
        return []
    limit = max(50, n // 20)
    if len(cand) > limit:  # keep the highest; many outliers are noise, told apart by the count
        cand = np.sort(cand[np.argpartition(r[cand], -limit)[-limit:]])
    brk = np.flatnonzero(np.diff(cand) > 4)  # one event: elevated points at most 3 points apart
    first_of = np.concatenate(([0], brk + 1))
    starts, ends = cand[first_of], cand[np.concatenate((brk, [len(cand) - 1]))]
    peaks = np.maximum.reduceat(r[cand], first_of)
    order = np.argsort(-peaks)[: 3 * int(t["max_spikes"])]  # the highest are enough to judge
    span = float(steps[-1] - steps[0]) or 1.0
    # noise of one point from second differences (a smooth trend cancels out): the floor of the
    # residuals' spread, which a short per-epoch curve followed exactly by its trend would lack
    floor = robust_sigma(np.diff(z[:: n // 200_000 + 1], 2)) / math.sqrt(6.0)
    # the widest a spike may be: a share of the run, or a few logged points on a short log (a
    # jump over 3 of 50 epochs and its recovery are as short as such a log can show)
    interval = float(median(np.diff(steps))) if n > 1 else 1.0
    max_width = max(t["max_width"] * span, t["min_width_points"] * interval)
    ctx = {"steps": steps, "z": z, "n": n, "log": log, "scale": scale, "span": span, "floor": floor,
           "max_width": max_width,
           "window": t["window"] * span, "min_height": min_height, "trend_range": trend_range,
           "trend": trend, "noise_r": r if own_noise is None else np.where(own_noise, np.nan, r)}
    out = []
    for g in order:
        e = _judge(int(starts[g]), int(ends[g]), ctx, t)
        if e is None:
            continue
        if lr_jumps is not None and len(lr_jumps) and np.any(
                (lr_jumps >= steps[max(int(starts[g]) - 1, 0)]) & (lr_jumps <= steps[int(ends[g])])):
            continue  # the logged lr jumps up here: a warm restart, not a spike
        if not any(e["start"] <= o["end"] and o["start"] <= e["end"] for o in out):  # grown into one
            out.append(e)
        if len(out) > t["max_spikes"]:
            break  # too many to be spikes: the caller reports nothing
    out.sort(key=lambda e: e["start"])
    return out


def _judge(i0: int, i1: int, c: dict, t: dict) -> dict | None:
    """One group of elevated points ``[i0, i1]``: a spike (its facts) or None."""
    steps, z, n = c["steps"], c["z"], c["n"]
    w = steps.dtype.type(c["window"])
    seed = (i0, i1)
    # quiet points that end an event: 3, or fewer where a spike may only be a few points wide
    gap = min(3, max(1, round(0.25 * c["max_width"] / c["span"] * (n - 1))))
    # the ordinary noise: the points before the seed and those after it beyond the longest
    # recovery a spike may have (by steps, not by value, so the sample is not truncated)
    noise = _Noise(_noise_sample(steps, c["noise_r"], i0, i1, w, c["max_width"]), c["floor"])
    # pass 1 measures the level next to the seed and grows the seed over the neighbouring points
    # still above the ordinary band (a jump and its slower recovery are one event); pass 2
    # measures the level again next to the grown event
    for grow in (True, False):
        if steps[i1] - steps[i0] > c["max_width"]:
            return None
        # a window of 10% of the run on each side (at least 5 points where logged)
        lo = min(int(steps.searchsorted(steps[i0] - w, side="left")), max(0, i0 - 5))
        hi = max(int(steps.searchsorted(steps[i1] + w, side="right")), min(n, i1 + 6))
        if i0 - lo < t["min_before"] or hi - (i1 + 1) < 2:
            return None  # no level before it (first steps) or no recovery seen yet (last steps)
        pre, post = _thin_slice(lo, i0), _thin_slice(i1 + 1, hi)
        pre_level, post_level = float(median(z[pre])), float(median(z[post]))
        # the level it jumps from: the line through the medians before and after it (at their
        # median steps), at the event's highest end, raised by two standard errors of those
        # medians (erring high: a few points at the start of a run say little, and the line
        # lies above a convex descent)
        x0, x1 = float(median_sorted(steps[pre])), float(median_sorted(steps[post]))
        slope = (post_level - pre_level) / max(x1 - x0, 1e-9)
        chord = pre_level + slope * (float(steps[i0] if slope < 0 else steps[i1]) - x0)
        err = 2.0 * 1.2533 * noise.sigma / math.sqrt(min(_count(pre), _count(post)))
        level = chord + err
        if grow:  # against the line itself: on a steep descent the points before sit above its end
            line = pre_level + slope * (steps[lo:hi] - x0) + err
            # a neighbour joins only if it is raised by a tenth of the seed's own jump as well:
            # beyond the two medians the line falls below a convex descent, and on a smooth
            # short curve (a per-epoch log, 1% noise) that curvature alone cleared the band, so
            # the neighbours of one doubled epoch joined it and made it too wide to be a spike
            jump = float(np.max(z[i0:i1 + 1] - line[i0 - lo:i1 + 1 - lo]))
            above = z[lo:hi] > line + max(noise.band, t["grow_fraction"] * jump)
            i1 += _grow(above[i1 + 1 - lo:], gap)
            i0 -= _grow(above[:i0 - lo][::-1], gap)
            if (i0, i1) == seed:
                break  # it did not grow: pass 2 would measure the same level
    seg = z[i0:i1 + 1]
    k = int(np.argmax(seg))
    peak = float(seg[k])
    height = peak - level
    if height <= 0 or height < c["min_height"]:
        return None
    if post_level - pre_level > t["recover_fraction"] * (peak - pre_level):
        return None  # it stays up: divergence or a level shift, not a spike
    lin = (np.exp if c["log"] else (lambda x: x * c["scale"]))
    if float(lin(peak) - lin(level)) < t["min_visible"] * c["trend_range"] * (1.0 if c["log"] else c["scale"]):
        return None  # invisible on the curve's own scale (e.g. 0.001 -> 0.01 near zero loss)
    # the evidence: the peak alone, the seed or the grown event (nested), whichever is least
    # likely under the ordinary noise next to it, anywhere among the n points
    seeded = noise.log_p(z[seed[0]:seed[1] + 1] - level)
    grown = seeded if (i0, i1) == seed else noise.log_p(seg - level)
    sig = -min(noise.log_p(np.array([height])), seeded, grown) - math.log(n)
    if sig < t["significance"]:
        return None
    # heavy-tailed noise: ordinary points next to it that reach half its height (log scale), as
    # many as would make more than a handful over the run, mean it is one outlier among many
    half_high = float(np.mean(noise.sorted >= 0.5 * height)) * n
    if half_high > t["max_half_high"]:
        return None
    rec = min(i1 + 1, n - 1)  # the first point after the last elevated one: back at the level
    return {"start": int(steps[i0]), "end": int(steps[rec]), "peak_step": int(steps[i0 + k]),
            "peak": float(lin(peak)), "level": float(lin(level)), "after": float(lin(post_level)),
            "before": float(lin(pre_level)),
            "height": height, "to_noise": height / max(noise.p90, _B_FLOOR), "significance": sig,
            "p90_excess": noise.p90, "width_steps": int(steps[i1] - steps[i0]),
            "points": int(np.sum(seg - level > noise.p90)), "recovery_steps": int(steps[rec] - steps[i0 + k]),
            "half_high": half_high, "log": c["log"]}


def _noise_sample(steps, r, i0, i1, w, guard):
    """Residuals in a window before ``i0`` and one after ``i1 + guard``, 20+ points each (NaN:
    points left out of the ordinary noise)."""
    n = len(r)
    lo = min(int(steps.searchsorted(steps[i0] - w, side="left")), max(0, i0 - 20))
    a = int(steps.searchsorted(steps[i1] + steps.dtype.type(guard), side="right"))
    b = max(int(steps.searchsorted(steps[i1] + steps.dtype.type(guard + w), side="right")), min(n, a + 20))
    sample = np.concatenate([_thin(r[lo:i0]), _thin(r[a:b])])
    sample = sample[~np.isnan(sample)]
    if len(sample) >= 10:
        return sample
    sample = r[_thin(np.arange(n))]
    return sample[~np.isnan(sample)]


class _Noise:
    """The ordinary noise next to an event: its residuals above their median, as an empirical
    distribution, continued beyond its largest value by an exponential tail."""

    def __init__(self, residuals: np.ndarray, floor_sigma: float = 0.0):
        ordered = np.sort(residuals)
        m50, m90, m99 = quantile_sorted(ordered, [0.5, 0.9, 0.99])
        self.sorted = ordered - m50  # still sorted: subtracting a constant keeps the order
        self.p90 = max(float(m90 - m50), 1.2816 * floor_sigma)
        self.sigma = self.p90 / 1.2816  # the normal sigma with this 90th percentile
        b_bulk = max(self.p90 / _LN5, _B_FLOOR)  # exponential scale fitting the 50-90th percentiles
        b_tail = max((m99 - m90) / _LN10, _B_FLOOR)  # ... and the 90-99th
        # the band a point must clear to belong to an event; a tail heavier than exponential
        # (90-99th steeper than 50-90th: hard or mislabeled examples) is extrapolated heavier still
        self.band = 2.0 * max(b_bulk, b_tail)  # ordinary points clear it ~7% of the time
        self.b_ext = max(b_bulk, b_tail)

    def log_p(self, excess: np.ndarray) -> float:
        """ln P(ordinary noise puts these consecutive points at least this far above the level):
        each point's chance from the empirical distribution (+1 smoothing), exponential beyond
        its largest value; combined with Fisher's method (the sum of -ln p of k points is
        Gamma(k) distributed)."""
        m = len(self.sorted)
        above = m - np.searchsorted(self.sorted, excess, side="left")
        log_p = np.log((above + 1.0) / (m + 1.0))
        beyond = excess > self.sorted[-1]
        log_p[beyond] -= (excess[beyond] - self.sorted[-1]) / self.b_ext
        total = float(-log_p.sum())
        if len(excess) == 1:  # Gamma(1): the sum below is 1
            return -total + 0.0
        j = np.arange(len(excess))  # P(Gamma(k) > S) = e^-S sum_{j<k} S^j / j!
        terms = j * math.log(max(total, 1e-300)) - np.array([math.lgamma(x + 1.0) for x in j])
        return -total + float(np.logaddexp.reduce(terms))


def _grow(above: np.ndarray, gap: int = 3) -> int:
    """How many of the next points (in order) belong to the event: up to the last point above
    the band before the first run of more than ``gap`` points within it. A plain loop: the
    answer is a few points in, and numpy's per-call cost on such short stretches was most of it."""
    last = quiet = i = 0
    size = 64
    while i < len(above):  # a short stretch first: events are short, windows can be long
        for a in above[i:i + size].tolist():
            i += 1
            if a:
                last, quiet = i, 0
            else:
                quiet += 1
                if quiet > gap:
                    return last
        size *= 4
    return last


def _thin(x: np.ndarray, keep: int = 2000) -> np.ndarray:
    """Every k-th point of a long window: medians and quantiles of noise need no more."""
    return x if len(x) <= keep else x[:: len(x) // keep + 1]


def _thin_slice(a: int, b: int, keep: int = 2000) -> slice:
    """:func:`_thin` of the indices ``a..b-1`` as a slice (a view, not a gather)."""
    return slice(a, b) if b - a <= keep else slice(a, b, (b - a) // keep + 1)


def _count(s: slice) -> int:
    return len(range(s.start, s.stop, s.step or 1))


def _lr_jump_steps(run: RunView) -> np.ndarray | None:
    lr = run.role("lr")
    if lr is None:
        return None
    ok = np.isfinite(lr.values) & (lr.values > 0)
    st, v = lr.steps[ok], lr.values[ok]
    return st[1:][v[1:] > 1.5 * v[:-1]]


def _grad_burst(run: RunView, events: list[dict], window: float) -> tuple[float, float] | None:
    """Largest gradient norm during the spikes relative to its median just before them, and the
    99th percentile of that ratio over the ordinary steps before (its own heavy tail)."""
    g = run.role("grad_norm")
    if g is None:
        return None
    ok = np.isfinite(g.values) & (g.values > 0)
    st, v = g.steps[ok], g.values[ok]
    best = None
    for e in events:
        i = int(np.searchsorted(st, e["start"]))
        lo = min(int(np.searchsorted(st, e["start"] - window)), max(0, i - 20))
        before = v[lo:i]
        during = v[(st >= e["start"]) & (st <= e["end"])]
        if len(before) < 5 or len(during) == 0:
            continue
        med = float(median(before))
        ratio, ordinary = float(np.max(during)) / med, float(quantile(before, 0.99)) / med
        if best is None or ratio / ordinary > best[0] / best[1]:
            best = (ratio, ordinary)
    return best


def _suggest(ev: dict) -> list[str]:
    """Fixes, most likely first for this evidence: a gradient-norm burst -> clipping; a growing
    learning rate or early spikes -> the schedule; short isolated jumps -> the data at those steps."""
    grad = f": the gradient norm jumps {fmt(ev.get('grad_norm_ratio', 0))}x at the same steps"
    fixes = {
        "clip": "Clip gradients (e.g. torch.nn.utils.clip_grad_norm_(params, 1.0))"
                + (grad if ev.get("grad_norm_spiked") else ""),
        "lr_rising": (f"The logged learning rate grew {fmt(ev.get('lr_growth', 0))}x before the first spike: "
                      "lower the peak learning rate, or check the scheduler"),
        "warm": "Add or lengthen a learning-rate warm-up: the spikes come early in training",
        "lr": "Lower the learning rate (2-10x): with SGD/RMSprop and no clipping, too high a rate gives such jumps",
        "data": (f"Inspect the batches at steps {ev['steps']}: a corrupted shard, unnormalised inputs, "
                 "binary junk or mislabeled rows make one batch's loss jump"),
        "guard": "Skip or down-weight batches whose loss is far above the running median (a loss-spike guard)",
        "adam": "With Adam/AdamW, raise eps (e.g. 1e-6) or lower beta2 (e.g. 0.95) to damp sudden large updates",
        "norm": "In deep networks without normalisation, add BatchNorm/LayerNorm or residual connections",
    }
    order = []
    if ev.get("grad_norm_spiked"):
        order.append("clip")
    if ev.get("lr_rising"):
        order.append("lr_rising")
    if ev["early"]:
        order += ["warm", "lr", "clip"]
    elif ev["points_elevated"] <= 4 and ev["spikes"] <= 3:  # short, isolated: one bad batch each
        order += ["data", "guard"]
    order += ["lr", "clip", "data", "adam", "norm"]
    return [fixes[k] for k in dict.fromkeys(order)][:6]
