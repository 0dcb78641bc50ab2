from __future__ import annotations

import numpy as np

from lossctl.detectors.base import Detector, RunView
from lossctl.detectors.stats import bin_index, binned, fmt, line_fit, median, percentile, robust_sigma


class Oscillation(Detector):
    """Large swings relative to the loss level that do not settle.

    What it flags: over the second half of the run, the loss trend moves up and down from one
    point to the next without a trend to explain it: at least {min_up_fraction:.0%} of its moves
    go up, it travels {min_back_and_forth:.0f}x or more the net distance it covers, and its band
    of swings around its own trend (10th to 90th percentile) covers {min_amplitude_range:.0%} or
    more of the range the whole curve covers and is more than {noise_k} times what
    batch-to-batch noise alone would produce. A positive loss is judged on a log scale, as one
    plots a loss that falls over decades: its swings must be a factor of 1 +
    {min_amplitude_level} or more, and also {min_plain_range:.0%} or more of the curve's range in
    the loss's own units (a loss creeping towards zero swings by large factors that no plot
    shows). Rises where the logged learning rate jumps up (warm restarts) are not counted. The
    message says the swings go on "without settling" when the band of the last quarter of the
    run is still {min_late_share:.0%} or more of the second half's band, and that they narrow
    towards the end otherwise. An oscillation explains the spikes on its curve up to the cube of
    its swing factor (three bands on a log scale); a jump beyond that, such as one batch 1,000x
    the level, is reported as a spike beside it.

    How: the curve is reduced to at most {bins:.0f} step-range bins (median per bin): a per-epoch
    log is used as it is, a per-step log is averaged so that mini-batch noise cancels and only
    swings that last several steps remain; the averaged curve must then rise by more than
    {noise_k} times what noise alone would spread it (the noise of one point measured from the
    differences of neighbouring points within a bin) at least {min_swings:.0f} separate times (one
    rise is an event, such as a spike that knocked the loss up and its slow recovery). Only the
    second half is judged, so early instability that settles is not a finding. When a
    validation loss is logged beside the training loss ({min_val_points:.0f} or more evaluations
    over the judged half), it must swing too: a band of swings more than {max_val_calm:.0f} times
    the validation loss's own (on the same scale) is the noise of few-batch averages (a
    Trainer logging the mean loss of every few steps), not a model that swings; the model the
    validation loss measures would swing with the optimiser.

    The validation loss is judged by the same rules when the training loss is logged about
    once per evaluation (at most {max_train_per_eval} training points per validation point, as a
    per-epoch history is) and does not swing itself: a mean over an epoch's batches averages
    the bouncing weights into a smooth curve, while each evaluation measures them where the
    last update left them. The training loss must then have stalled over the judged half (its
    fitted trend falls by less than {max_train_progress:.0%}): beside a training loss that keeps
    falling, a swinging validation loss is the evaluation's own noise around a model that is
    still learning, not an optimiser that overshoots.

    Why it matters: the optimiser keeps overshooting the minimum; the run ends wherever the
    last swing leaves it, and the final checkpoint is a matter of luck.

    What to do: lower the learning rate (2-10x) or add a decay schedule; with momentum, lower
    the momentum; larger batches make each step less erratic.
    """

    kind = "oscillation"
    severity = "warning"
    summary = "large swings relative to the loss level that do not settle"
    suppressed_by = ("divergence", "nonfinite", "epoch_periodic")
    thresholds = {"bins": 60, "min_amplitude_level": 0.3, "min_amplitude_range": 0.2,
                  "min_back_and_forth": 3.0, "min_up_fraction": 0.3, "noise_k": 2.0, "min_points": 8,
                  "min_plain_range": 0.1, "min_late_share": 0.5, "min_swings": 2, "min_val_points": 5,
                  "max_val_calm": 4.0, "max_train_progress": 0.1,
                  "max_train_per_eval": 1.5}

    @staticmethod
    def explains(mine, other) -> bool:
        """Swings by a factor F (10th to 90th percentile) account for jumps up to F^3 (three
        bands on a log scale, some 7 sigma of the swings); a jump far beyond that (one batch
        1000x the level) is a spike of its own."""
        factor, jump = mine.evidence.get("swing_factor"), other.evidence.get("peak_ratio")
        return not (other.kind == "spike" and factor and jump and jump > factor ** 3)

    def detect(self, run: RunView):
        if (judged := self.judged(run, "loss", "val_loss")) is None:
            return []
        s, f = judged
        if (found := self._judge(run, s, f)) is not None:
            return [found]
        # a training loss logged once per evaluation (per epoch) is an average over all the
        # weights of the epoch, which smooths the swings away; the validation loss is measured at
        # one point of them
        val = run.role("val_loss")
        if (s is run.role("loss") and val is not None and len(vf := val.finite()) >= self.t["min_points"]
                and len(f) <= self.t["max_train_per_eval"] * len(vf)):
            found = self._judge(run, val, vf, beside=f)
        return [found] if found is not None else []

    def _judge(self, run: RunView, s, f, beside=None):
        """The finding for curve ``s`` (finite points ``f``), or None. ``beside`` is the training
        loss when ``s`` is the validation loss: it must have stalled over the judged half."""
        bins = int(self.t["bins"])
        first, last, y = binned(f.steps, f.values, bins)
        n = len(y)
        if n < self.t["min_points"]:
            return None
        # a positive loss is judged on a log scale: a swing is a factor, whatever the level,
        # and a first descent over decades does not dwarf the swings of the end
        log = bool(np.all(y > 0))
        z, points = (np.log(y), np.log(f.values)) if log else (y, f.values)
        h = z[n // 2:]
        resid, amplitude = _swings(h)  # around the half's own trend
        d = np.diff(h)
        d = d[~_lr_jumps(run, first[n // 2:], last[n // 2:])]  # a scheduled restart is not a swing
        travel = float(np.abs(d).sum())
        up_fraction = float(np.mean(d > 0)) if len(d) else 0.0
        back_and_forth = travel / max(abs(float(h[-1] - h[0])), 1e-300)
        p5, p95 = percentile(z, [5, 95])
        span = float(p95 - p5)
        # on a log scale a loss creeping towards zero swings by large factors while it moves by
        # nothing a plot would show: the swings must also cover part of the curve's plain range
        plain_amp = _swings(y[n // 2:])[1] if log else amplitude
        p5, p95 = percentile(y, [5, 95])
        plain_span = float(p95 - p5)
        plain_share = plain_amp / plain_span if plain_span > 0 else 0.0
        noise_amp = 0.0
        if len(f) > n:  # points were averaged into bins: how far would noise alone spread them?
            # the noise of one point from the differences of neighbours within a bin (a bin of
            # one point says nothing; residuals around a median of two or three understate it)
            idx = bin_index(f.steps, bins)
            same_bin = idx[1:] == idx[:-1]
            sigma = robust_sigma(np.diff(points)[same_bin]) / np.sqrt(2)
            noise_amp = 2 * 1.2816 * 1.2533 * sigma / np.sqrt(len(f) / n)
        ev = {"scale": "log" if log else "linear",
              "amplitude_to_range": round(amplitude / span, 3) if span > 0 else None,
              "back_and_forth": round(back_and_forth, 2), "up_fraction": round(up_fraction, 2), "points_judged": len(h),
              "from_step": int(first[n // 2]), "noise_amplitude": noise_amp}
        ev["amplitude"] = plain_amp
        if log:  # the band as a factor of the level it swings around
            ev["swing_factor"] = round(float(np.exp(amplitude)), 3)
            ev["level"] = float(np.exp(median(h)))
            ev["plain_amplitude_to_range"] = round(plain_share, 3)
        late = resid[len(resid) // 2:]  # the last quarter of the run: still swinging at the end?
        p10, p90 = percentile(late, [10, 90])
        late_band = float(p90 - p10)
        ev["late_amplitude_share"] = round(late_band / amplitude, 3) if amplitude > 0 else None
        # one rise beyond the noise is an event (a spike knocking the loss up, then its slow
        # recovery), not swings: the loss must rise clear of the noise again and again
        ev["swings"] = _rises(d, self.t["noise_k"] * noise_amp)
        if span <= 0 or amplitude / span < self.t["min_amplitude_range"]:
            return None
        if up_fraction < self.t["min_up_fraction"]:
            return None  # few, large rises between long descents: restarts or a saw-tooth, not swings
        if (back_and_forth < self.t["min_back_and_forth"] or amplitude < self.t["noise_k"] * noise_amp
                or ev["swings"] < self.t["min_swings"]):
            return None
        if log and (amplitude < np.log1p(self.t["min_amplitude_level"]) or plain_share < self.t["min_plain_range"]):
            return None
        if beside is not None:
            # a validation loss swinging beside a training loss that keeps falling is the
            # evaluation's own noise around a model still learning; an optimiser that overshoots
            # makes no progress: the training loss has stalled
            trend = _trend_change(beside, int(first[n // 2]))
            if trend is None or trend < 1 - self.t["max_train_progress"]:
                return None
            ev["train_metric"], ev["train_trend_change"] = beside.metric, round(trend - 1, 3)
            ev["train_points_per_eval"] = round(len(beside) / len(f), 2)
        # an optimiser that overshoots swings the model itself: the validation loss, averaged over
        # the whole validation set, swings with it; one that stays calm while the logged training
        # loss swings says the swings are batch noise in the logged averages
        val = run.role("val_loss") if s is run.role("loss") else None
        if val is not None:
            v = val.finite()
            v = v.values[v.steps >= first[n // 2]]
            if len(v) >= self.t["min_val_points"] and (not log or np.all(v > 0)):
                val_band = _swings(np.log(v) if log else v)[1]
                ev["val_points_checked"] = len(v)
                ev["val_swing_factor" if log else "val_amplitude"] = (
                    round(float(np.exp(val_band)), 3) if log else val_band)
                if amplitude > self.t["max_val_calm"] * val_band:
                    return None
        if log:
            band = f"up and down by a factor of {ev['swing_factor']:.2f} around its trend (level {fmt(ev['level'])})"
        else:
            band = f"over a band of {fmt(ev['amplitude'])} ({ev['amplitude_to_range']:.0%} of its range)"
        share = ev["late_amplitude_share"] or 0.0
        settling = ("to the end without settling" if share >= self.t["min_late_share"]
                    else f"to the end, narrowing to {share:.0%} of that band over the last quarter of the run")
        msg = (f"{s.metric} keeps swinging {band} from step {int(first[n // 2]):,} {settling}: its moves add up "
               f"to {ev['back_and_forth']:.0f}x its net change.")
        if beside is not None:
            msg += (f" {beside.metric}, averaged between evaluations, has stalled meanwhile (its trend moves "
                    f"{ev['train_trend_change']:+.0%}).")
        return self.finding(run, s, int(first[n // 2]), int(last[-1]), msg, ev, _suggest(run))


def _trend_change(s, start: int) -> float | None:
    """The fitted trend of ``s`` from ``start`` to its end, as end / start (on a log scale for a
    positive loss), or None with fewer than 3 points there."""
    f = s.finite()
    keep = f.steps >= start
    if keep.sum() < 3:
        return None
    _, _, y = binned(f.steps[keep], f.values[keep])
    log = bool(np.all(y > 0))
    z = np.log(y) if log else y
    x = np.arange(len(z), dtype=np.float64)
    a, b = line_fit(x, z)
    lo, hi = b, a * x[-1] + b
    if log:
        return float(np.exp(hi - lo))
    return float(hi / lo) if lo > 0 else None


def _swings(h: np.ndarray) -> tuple[np.ndarray, float]:
    """The residuals of ``h`` around its own linear trend, and their band (10th to 90th
    percentile)."""
    x = np.arange(len(h), dtype=np.float64)
    resid = h - np.polyval(line_fit(x, h), x)
    p10, p90 = percentile(resid, [10, 90])
    return resid, float(p90 - p10)


def _rises(d: np.ndarray, size: float) -> int:
    """How many times the curve whose moves are ``d`` rises by more than ``size`` (a rise: a
    maximal run of upward moves)."""
    count, rise = 0, 0.0
    for move in d:
        if move > 0:
            rise += move
        else:
            count += rise > size
            rise = 0.0
    return count + (rise > size)


def _lr_jumps(run: RunView, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """For each move between consecutive bins: does the logged lr jump up (x1.5) in between?"""
    moves = np.zeros(max(len(first) - 1, 0), dtype=bool)
    lr = run.role("lr")
    if lr is None or len(moves) == 0:
        return moves
    ok = np.isfinite(lr.values) & (lr.values > 0)
    steps, vals = lr.steps[ok], lr.values[ok]
    jumps = steps[1:][vals[1:] > 1.5 * vals[:-1]]
    if len(jumps):
        # move i goes from bin i to bin i+1; it crosses a jump in (last[i], last[i+1]]
        pos = np.searchsorted(last, jumps, side="left")
        pos = pos[(pos >= 1) & (pos <= len(moves))] - 1
        moves[pos] = True
    return moves


def _suggest(run: RunView) -> list[str]:
    out = ["Lower the learning rate 2-10x, or add a decay schedule (cosine, step decay, ReduceLROnPlateau)",
           "With momentum or Adam, lower momentum/beta1 (e.g. 0.9 -> 0.8) if lowering the lr alone is not enough",
           "Use larger batches (or gradient accumulation) so each update is less erratic",
           "Check that the data is shuffled each epoch"]
    lr = run.role("lr")
    if lr is not None and np.nanmax(lr.values) <= np.nanmin(lr.values) * 1.0001:
        out[0] = "Lower the learning rate 2-10x and add a decay schedule: the logged lr is constant"
    return out
