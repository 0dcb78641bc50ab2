from __future__ import annotations

import numpy as np

from lossctl.detectors.base import Detector, RunView
from lossctl.detectors.stats import binned, bin_index, fmt, robust_sigma


class Oscillation(Detector):
    """Large swings relative to the loss level that do not settle.

    What it flags: over the second half of the run, the loss trend moves up and down from one
    point to the next (the direction flips in at least {min_alternation:.0%} of the moves), by a
    typical {min_swing_level:.0%} or more of its level and {min_swing_range:.0%} or more of the
    range the curve covers, and by more than {noise_k} times what batch-to-batch noise alone
    would produce.

    How: the curve is reduced to at most {bins:.0f} step-range bins (median per bin): a per-epoch
    log is used as it is, a per-step log is averaged so that mini-batch noise cancels and only
    swings that last several steps remain. Only the second half is judged, so early instability
    that settles is not a finding.

    Why it matters: the optimiser keeps overshooting the minimum; the run ends wherever the
    last swing leaves it, and the final checkpoint is a matter of luck.

    What to do: lower the learning rate (2-10x) or add a decay schedule; with momentum, lower
    the momentum; larger batches make each step less erratic.
    """

    kind = "oscillation"
    severity = "warning"
    summary = "large swings relative to the loss level that do not settle"
    thresholds = {"bins": 60, "min_swing_level": 0.10, "min_swing_range": 0.12,
                  "min_alternation": 0.4, "noise_k": 3.0, "min_points": 8}

    def detect(self, run: RunView):
        s = run.role("loss") or run.role("val_loss")
        if s is None:
            return []
        f = s.finite()
        if len(f) < self.t["min_points"]:
            return []
        bins = int(self.t["bins"])
        first, last, y = binned(f.steps, f.values, bins)
        n = len(y)
        if n < self.t["min_points"]:
            return []
        h = y[n // 2:]
        d = np.diff(h)
        d = d[d != 0]
        if len(d) < 4:
            return []
        swing = float(np.median(np.abs(d)))
        alternation = float(np.mean(np.sign(d[1:]) != np.sign(d[:-1])))
        span = float(np.percentile(y, 95) - np.percentile(y, 5))
        positive = bool(np.all(y > 0))
        level = float(np.median(h)) if positive else None
        noise_swing = 0.0
        if len(f) > n:  # points were averaged into bins: how much would noise alone move a bin?
            idx = bin_index(f.steps, bins)
            resid = f.values - y[np.searchsorted(np.unique(idx), idx)]
            per_bin = len(f) / n
            noise_swing = robust_sigma(resid) * 1.2533 / np.sqrt(per_bin) * np.sqrt(2) * 0.6745
        ev = {"swing": swing, "swing_to_range": round(swing / span, 3) if span > 0 else None,
              "alternation": round(alternation, 2), "points_judged": len(h),
              "from_step": int(first[n // 2]), "noise_swing": noise_swing}
        if level:
            ev["level"] = level
            ev["swing_to_level"] = round(swing / level, 3)
        if alternation < self.t["min_alternation"] or span <= 0 or swing / span < self.t["min_swing_range"]:
            return []
        if level is not None and swing / level < self.t["min_swing_level"]:
            return []
        if swing < self.t["noise_k"] * noise_swing:
            return []
        rel = f"{swing / level:.0%} of its level" if level else f"{swing / span:.0%} of its range"
        msg = (f"{s.metric} swings up and down by a typical {fmt(swing)} ({rel}) from step "
               f"{int(first[n // 2]):,} to the end, changing direction {alternation:.0%} of the time, "
               "without settling.")
        return [self.finding(run, s, int(first[n // 2]), int(last[-1]), msg, ev, _suggest(run))]


def _suggest(run: RunView) -> list[str]:
    out = ["Lower the learning rate 2-10x, or add a decay schedule (cosine, step decay, ReduceLROnPlateau)",
           "With momentum or Adam, lower momentum/beta1 (e.g. 0.9 -> 0.8) if lowering the lr alone is not enough",
           "Use larger batches (or gradient accumulation) so each update is less erratic",
           "Check that the data is shuffled each epoch"]
    lr = run.role("lr")
    if lr is not None and np.nanmax(lr.values) <= np.nanmin(lr.values) * 1.0001:
        out[0] = "Lower the learning rate 2-10x and add a decay schedule: the logged lr is constant"
    return out
