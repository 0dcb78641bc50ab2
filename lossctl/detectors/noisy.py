from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from lossctl.detectors.base import Detector, RunView
from lossctl.detectors.stats import bin_index, binned, fmt, median, median_rows, quantile_rows, rolling_median

_Q10_Q90_SIGMAS = 2.5631  # q90 - q10 of a normal distribution, in sigmas


class Noisy(Detector):
    """Step-to-step noise large relative to the trend.

    What it flags: a per-step training loss whose batch-to-batch scatter hides its trend over
    at least {min_noisy_share:.0%} of the run, in either of two ways. The scatter (sigma) is
    {min_noise_to_decrease:.0%} or more of the whole decrease the trend achieves from the start
    to the end, and {min_noise_to_level:.0%} or more of the loss level itself: for a
    mean-squared-error loss with Gaussian errors the scatter of a batch of B examples is
    sqrt(2/B) of its level, so this means batches of 2/{min_noise_to_level}^2 examples or fewer.
    Or the loss is carried by rare batches: the upper tenth of the steps lie {min_tail_ratio:.0f}x
    or more above the typical (median) step, as when batches of one or two examples near
    convergence cost almost nothing except the few that hold a misclassified example. Ordinary
    mini-batch noise (batch 16-128) does neither, and a curve that barely moves but is smooth
    (a plateau) is not noisy.

    How: the run is cut into {segments:.0f} step ranges; in each, the scatter is measured from
    the differences between neighbouring points (in which the trend cancels out) as their
    10-90% spread, converted to the sigma of one point (divided by 2.56 x sqrt 2, what it is
    for normal noise); a spread of quantiles rather than a standard deviation stays honest for
    the skewed, heavy-tailed noise of small batches. The level and the decrease (early level
    minus final level) come from a trend of step-range bin medians; the tail ratio is the 90th
    percentile over the median of the points divided by that trend. Only per-step logs of
    {min_points:.0f} points or more are judged (epoch averages are not batch noise); a rising
    trend is reported as divergence instead.

    Why it matters: with this much noise one cannot tell from the curve whether the run is still
    improving, has stalled or is slowly getting worse, and the weights at the last step are a
    random draw from a wide band; very small batches or label noise are the usual causes.

    What to do: use a larger batch (or accumulate gradients), lower the learning rate or decay
    it, check the labels for noise, and read the curve through an exponential moving average
    (TensorBoard's smoothing slider); the suggestions give the window that would make the trend
    readable.
    """

    kind = "noisy"
    severity = "info"
    summary = "step-to-step noise large relative to the trend"
    suppressed_by = ("divergence", "oscillation", "epoch_periodic")
    thresholds: ClassVar[dict[str, float]] = {
        "min_noise_to_decrease": 0.3, "min_noise_to_level": 0.6, "min_noisy_share": 0.6,
        "min_tail_ratio": 10.0, "segments": 10, "min_points": 100, "min_segment_points": 8}

    def detect(self, run: RunView):
        # validation loss is averaged over the whole set: no batch noise
        if (judged := self.judged(run, "loss")) is None or np.any(judged[1].values < 0):
            return []
        s, f = judged
        m = measure_noise(f.steps, f.values, int(self.t["segments"]), int(self.t["min_segment_points"]))
        if m is None:
            return []
        a, c = self.t["min_noise_to_decrease"], self.t["min_noise_to_level"]
        # no measurable decrease: the noise hides whatever trend there is (a real rise is
        # divergence, which suppresses this finding)
        to_decrease = m["sigma"] / max(m["decrease"], 1e-12 * float(np.max(m["level"])))
        to_level = m["sigma"] / m["level"]
        scattered = (to_decrease >= a) & (to_level >= c)
        share = float(np.mean(scattered | (m["tail"] >= self.t["min_tail_ratio"])))
        if share < self.t["min_noisy_share"]:
            return []
        by_tail = float(np.mean(scattered)) < self.t["min_noisy_share"]  # rare batches carry the loss
        sigma = float(median(m["sigma"]))
        decrease, level = m["decrease"], float(median(m["level"]))
        ev = {"noise_sigma": sigma, "trend_decrease": decrease, "level": level,
              "tail_ratio": round(float(median(m["tail"][m["tail"] >= self.t["min_tail_ratio"]]
                                                  if by_tail else m["tail"])), 2),
              "noise_to_decrease": round(sigma / decrease, 3) if decrease > 0 else float("inf"),
              "noise_to_level": round(sigma / level, 3), "noisy_share": round(share, 2),
              "points": len(f), "start_level": m["start"], "end_level": m["end"]}
        # EMA window that brings the noise on the smoothed curve down to 10% of the decrease
        # (of 1% of the level when the trend is flat)
        window = max(1.0, (sigma / max(0.1 * decrease, 0.01 * level)) ** 2)
        ev["ema_points"] = math.ceil(window)
        ev["ema_weight"] = round(1.0 - 2.0 / (window + 1.0), 4)
        ev["ema_steps"] = math.ceil(window * m["step_interval"])
        lr = run.role("lr")
        if lr is not None:
            v = lr.values[np.isfinite(lr.values) & (lr.values > 0)]
            if len(v) >= 2:
                ev["lr_constant"] = bool(v.max() <= v.min() * 1.0001)
                ev["lr_decay"] = round(float(v[-1] / v.max()), 4)
        ev["noise_shrinks"] = bool(m["late_to_level"] < 0.5 * m["early_to_level"])
        of_decrease = (f"{ev['noise_to_decrease']:.0%} of the whole decrease of its trend ({fmt(decrease)})"
                       if decrease > 0 else "larger than any decrease of its trend")
        if by_tail:
            msg = (f"{s.metric} is noisy: it is carried by rare batches, a tenth of its steps lying "
                   f"{fmt(ev['tail_ratio'])}x or more above the typical step, so the trend is hard to read.")
        else:
            msg = (f"{s.metric} is noisy: its batch-to-batch scatter (sigma {fmt(sigma)}) is {of_decrease} and "
                   f"{ev['noise_to_level']:.0%} of its level ({fmt(level)}), so the trend is hard to read.")
        return [self.finding(run, s, int(f.steps[0]), int(f.steps[-1]), msg, ev, _suggest(ev))]


def measure_noise(steps: np.ndarray, values: np.ndarray, segments: int, min_points: int) -> dict | None:
    """Per step-range segment: the noise sigma of one point (from the 10-90% spread of the
    differences of neighbouring points) and the trend level; and the trend's decrease from its
    early level to its final level."""
    n = len(values)
    bins = int(min(100, max(10, n // 10)))  # >= 10 points per bin: the trend itself is not noise
    first, last, med = binned(steps, values, bins)
    trend_b = rolling_median(med, 5)
    trend = np.interp(steps, (first + last) / 2.0, trend_b)
    nb = len(trend_b)
    # early and final levels: medians of at least 30 points, so batch noise does not decide them
    start = max(float(np.max(trend_b[: max(1, nb // 20)])), float(median(values[: max(30, n // 20)])))
    end = float(median(values[-max(30, n // 10):]))
    idx = bin_index(steps, segments)
    bounds = np.flatnonzero(np.concatenate(([True], idx[1:] != idx[:-1], [True])))  # segments are contiguous
    sizes = np.diff(bounds)
    kept = sizes >= min_points
    starts, sizes = bounds[:-1][kept], sizes[kept]
    sig, lev, tail = np.empty(len(starts)), np.empty(len(starts)), np.empty(len(starts))
    for size in np.unique(sizes):  # segments of one size (k or k + 1 points) as rows of a 2-D array
        g = np.flatnonzero(sizes == size)
        rows = starts[g][:, None] + np.arange(size)
        v, tr = values[rows], trend[rows]
        # step-to-step: differences of neighbouring points, where the trend cancels out
        d = np.diff(v, axis=1)
        if d.shape[1] > 50_000:  # the spread of i.i.d. noise needs no more points than this
            d = d[:, :: d.shape[1] // 50_000 + 1]
        q10, q90 = quantile_rows(d, [0.1, 0.9])
        sig[g] = (q90 - q10) / (_Q10_Q90_SIGMAS * math.sqrt(2.0))
        lev[g] = median_rows(tr)
        # how far the upper tenth of the steps lies above the typical step: a loss carried by
        # rare batches (one or two examples per step near convergence) has a huge ratio
        r = v / np.maximum(tr, 1e-300)
        tail[g] = quantile_rows(r, [0.9])[0] / np.maximum(median_rows(r), 1e-300)
    ok = lev > 0  # a segment whose typical loss is 0 has no level
    sig, lev, tail = sig[ok], lev[ok], tail[ok]
    if len(sig) < max(3, segments // 2):
        return None
    k = max(1, len(sig) // 4)
    return {"sigma": sig, "level": lev, "tail": tail, "decrease": max(start - end, 0.0), "start": start, "end": end,
            "step_interval": float(median(np.diff(steps))),
            "early_to_level": float(median(sig[:k] / lev[:k])),
            "late_to_level": float(median(sig[-k:] / lev[-k:]))}


def _suggest(ev: dict) -> list[str]:
    batch = "Use a larger batch (or accumulate gradients over several steps): batches of 1-4 examples give this scatter"
    lr_const = "Lower the learning rate or add a decay schedule: the logged learning rate is constant"
    lr = "Lower the learning rate, or decay it over the run, so late updates average over more noise"
    labels = ("Check the labels for noise (duplicates with conflicting labels, a noisy target): "
              "the scatter does not shrink as training goes on")
    labels_plain = "Check the labels for noise (mislabeled rows keep the per-batch loss scattered)"
    ema = "Read the curve through an exponential moving average (TensorBoard's smoothing slider)"
    if ev.get("ema_points"):
        ema = (f"Read the curve through an exponential moving average over ~{ev['ema_steps']:,} steps "
               f"(TensorBoard smoothing {min(ev['ema_weight'], 0.999):.3f}) to see the trend")
    out = [batch]
    if ev.get("lr_constant"):
        out.append(lr_const)
    if not ev["noise_shrinks"]:
        out.append(labels)
    out += [lr if not ev.get("lr_constant") else None, labels_plain if ev["noise_shrinks"] else None, ema]
    return [x for x in dict.fromkeys(out) if x]
