from __future__ import annotations

import numpy as np

from lossctl.detectors.base import Detector, RunView
from lossctl.detectors.collapse import DOC as RETURN_DOC
from lossctl.detectors.collapse import THRESHOLDS as RETURN_THRESHOLDS
from lossctl.detectors.collapse import collapse
from lossctl.detectors.nonfinite import iteration_counters
from lossctl.detectors.schedule import grad_growth, lr_context
from lossctl.detectors.stats import diff_noise, fmt, median, rolling_median


class Divergence(Detector):
    """The loss rises persistently well above its best and does not recover.

    What it flags: a training loss (validation loss when no training loss is logged) whose level
    over the last {tail_fraction:.0%} of the run is at least {min_ratio}x its best level and has
    given back at least {min_progress_lost:.0%} of the progress made from the start to the
    best, by more than {noise_k} times the curve's own noise. A loss that ends non-finite right
    after its last finite value shot {explode_ratio:.0f}x or more above its best (a blow-up too
    fast for any trend to show) counts too. Spikes that recover, warm-up bumps and warm
    restarts do not.

    How: the curve is reduced to at most 200 step-range bins (median per bin, so one bad batch
    does not move the trend and the logging interval does not matter); levels are compared on a
    log scale when the loss is positive. The onset is where the trend first leaves its best
    level for good.

    Why it matters: a diverged run is wasted compute, and its checkpoints after the onset are
    worse than the one at the best step.

    What to do: see the suggestions; they are ranked by the learning-rate and gradient-norm
    series when the run logs them (an lr that keeps growing is a scheduler bug; a rise right
    after warm-up ends points at the peak learning rate; exploding gradient norms call for
    clipping).
    """

    kind = "divergence"
    severity = "error"
    summary = "loss rises persistently well above its best and does not recover"
    thresholds = {"tail_fraction": 0.1, "min_ratio": 2.0, "min_progress_lost": 0.5, "noise_k": 3.0,
                  "min_sustained": 0.8, "min_points": 4, "explode_ratio": 100.0}

    def detect(self, run: RunView):
        if (judged := self.judged(run, "loss", "val_loss")) is None:
            return []
        s, f = judged
        found = self._trend(s, f)
        if found is None and not np.isfinite(s.values[-1]):
            found = self._explosion(f)
        if found is None:
            return []
        onset, best, best_step, end_level, ratio, lost = found
        ended_nan = not np.isfinite(s.values[-1])
        ev = {"best": best, "best_step": best_step, "last": end_level,
              "ratio": round(ratio, 2) if ratio is not None else None,
              "progress_lost": round(lost, 2), "onset_step": onset, "ends_nonfinite": ended_nan}
        ev.update({k: round(v, 6) if isinstance(v, float) else v
                   for k, v in lr_context(run, onset).items()})
        g = grad_growth(run, onset, int(s.steps[-1]))
        if g is not None:
            ev["grad_norm_growth"] = round(g, 2)
        ev.update({k: v for k, v in iteration_counters(run, onset).items() if v})
        how = f"{fmt(ev['ratio'])}x" if ratio is not None else f"{fmt(ev['progress_lost'])}x its progress"
        msg = (f"{s.metric} diverges from step {onset:,}: best {fmt(best)} at step "
               f"{best_step:,}, ending at {fmt(end_level)} ({how} above the best)"
               + (" and then non-finite" if ended_nan else "") + ".")
        return [self.finding(run, s, onset, int(s.steps[-1]), msg, ev, _suggest(ev))]

    def detect_return(self, run: RunView):
        """An agent's return that collapses (see collapse.py): a reinforcement-learning run's
        divergence, its losses being objectives with no better direction."""
        return collapse(self, run)

    def _trend(self, s, f):
        """A sustained rise of the binned trend: ``(onset, best, best_step, tail level, ratio,
        progress lost)`` or None."""
        first, last, y = f.binned()
        n = len(y)
        positive = bool(np.all(y > 0))
        z = rolling_median(np.log(y) if positive else y, 5 if n >= 10 else 3)
        k = min(n, max(1, int(round(n * self.t["tail_fraction"]))))
        tail = z[n - k:]
        head = z[: max(1, min(k, n - k))]
        i_best = int(np.argmin(z[: n - k])) if n > k else 0
        best = z[i_best]
        tail_level = float(median(tail))
        rise = tail_level - best
        if rise <= 0:
            return None
        lin = np.exp if positive else (lambda x: x)
        best_lin, tail_lin, start_lin = lin(best), lin(tail_level), lin(float(median(head)))
        noise = diff_noise(y)
        progress = max(start_lin - best_lin, noise, 1e-12 * abs(best_lin))
        lost = (tail_lin - best_lin) / progress
        ratio = tail_lin / best_lin if positive else None
        if positive and ratio < self.t["min_ratio"]:
            return None
        if lost < self.t["min_progress_lost"] or (tail_lin - best_lin) < self.t["noise_k"] * noise:
            return None
        # the rise has clearly begun where the trend first exceeds best + 25% of the rise; the onset
        # is the last point before that still at the best level
        exceed = i_best + int(np.argmax(z[i_best:] > best + 0.25 * rise))
        near = np.flatnonzero(z[i_best:exceed] <= best + 0.05 * rise)
        onset_i = i_best + (int(near[-1]) if len(near) else 0)
        sustained = float(np.mean(z[exceed:] > best + 0.25 * rise))
        if sustained < self.t["min_sustained"]:
            return None
        return int(last[onset_i]), float(best_lin), int(first[i_best]), float(tail_lin), ratio, lost

    def _explosion(self, f):
        """A loss that ends non-finite right after shooting ``explode_ratio`` times above its best:
        the rise is too fast for the trend (one or two points before NaN) but is divergence all
        the same. Same tuple as :meth:`_trend`, or None."""
        v = f.values
        if len(v) < 3 or np.any(v <= 0):
            return None
        z = np.log(v)
        zs = rolling_median(z[:-1], 3)  # the level before the last point, one odd batch aside
        i_best = int(np.argmin(zs))
        best = float(np.exp(zs[i_best]))
        peak = float(v[-1])
        if peak < self.t["explode_ratio"] * best or peak <= float(np.max(v[:-1])):
            return None
        calm = np.flatnonzero(v[:-1] <= 2.0 * best)  # the climb starts after the last calm point
        onset_i = int(calm[-1]) + 1 if len(calm) else len(v) - 1
        start = float(np.exp(median(z[: max(1, len(z) // 10)])))
        lost = (peak - best) / max(start - best, 1e-12 * best)
        return int(f.steps[onset_i]), best, int(f.steps[i_best]), peak, peak / best, lost


def _suggest(ev: dict) -> list[str]:
    lr10 = "Lower the learning rate about 10x (or halve it until the run is stable)"
    warm = "Add or lengthen a learning-rate warm-up"
    clip = "Clip gradients (e.g. clip_grad_norm_ at 1.0)"
    sched = ("The logged learning rate keeps growing ({:.0f}x from the start to the onset): check the "
             "scheduler (gamma > 1, a per-epoch scheduler stepped per batch, an LR-range test left on)")
    data = "Check the data pipeline for scale bugs (unnormalised inputs, a corrupted shard) near the onset"
    peak = "The rise starts after warm-up ends at step {:,}: the peak learning rate is too high; lower it or warm up longer"
    out = []
    growth = ev.get("lr_growth")
    if growth is not None and growth >= 2 and "warmup_end_step" not in ev:
        out.append(sched.format(growth))
    if "warmup_end_step" in ev:
        out.append(peak.format(ev["warmup_end_step"]))
    if (ev.get("grad_norm_growth") or 0) >= 10:
        out += [clip, lr10]
    else:
        out += [lr10, clip]
    out += [warm, data, "Resume from the checkpoint at the best step rather than the last one"]
    return list(dict.fromkeys(out))


# an agent's return is judged too, higher being better (collapse.py)
Divergence.__doc__ += RETURN_DOC
Divergence.thresholds = {**Divergence.thresholds, **RETURN_THRESHOLDS}
