from __future__ import annotations

import numpy as np

from lossctl.detectors.base import Detector, RunView, Series
from lossctl.detectors.stats import fmt
from lossctl.roles import is_loss_like


class NonFinite(Detector):
    """NaN or Inf in a loss series.

    What it flags: any NaN, +Inf or -Inf value in the training or validation loss (or in any
    other series whose name says it is a loss). Gradient norms are not checked: under
    mixed-precision loss scaling an infinite gradient norm on a skipped step is normal. It is
    the one kind judged on a reinforcement-learning objective (a run that logs rewards, or a
    loss named ``actor_loss``, ``value_loss``, ``qf1_loss``, ...): the others assume a loss that
    training drives down, which a policy surrogate or a value loss growing with the returns is not.

    How: every logged value is checked; nothing is smoothed or sampled away. The evidence says
    where the first non-finite value is, how many there are, whether the loss recovered, and
    what the loss (and gradient norm, when logged) did just before. The message says "from the
    start of training" when fewer than {start_points:.0f} points (or {start_fraction:.0%} of
    them) came before the first non-finite one; "after rising Nx above its low" when the highest
    finite value of the second half before it is {rise_before:.0f}x or more the lowest;
    "isolated steps" when the loss recovers and no more than {max_isolated_run:.0f} non-finite
    points follow one another (longer stretches are "bursts").

    Why it matters: once a loss is NaN, the weights usually are too, and every step after it is
    wasted compute; sporadic NaN points mean some batches poison the update.

    Megatron-LM's ``number of nan iterations`` counter is evidence too: its printed loss averages
    only the iterations that were finite, so a NaN iteration shows in the counter alone.

    What to do: see the suggestions, ranked by what preceded the NaN: a rise first points at
    the learning rate and exploding gradients; NaN from the very first step points at the
    inputs or the initialisation; isolated NaN steps point at bad data rows or unsafe ops
    (log(0), division by zero, float16 overflow).
    """

    kind = "nonfinite"
    any_objective = True  # NaN is wrong whatever the series optimises
    severity = "error"
    summary = "NaN or Inf appears in a loss series"
    thresholds = {"rise_before": 10.0, "start_points": 3, "start_fraction": 0.01, "max_isolated_run": 3}

    def detect(self, run: RunView):
        """One finding per run, on the series that went non-finite first; others in evidence."""
        candidates = {s.metric: s for s in run.losses()}
        candidates.update({m: s for m, s in run.series.items() if is_loss_like(m)})
        hit = [(s.steps[np.flatnonzero(~np.isfinite(s.values))[0]], s)
               for s in candidates.values() if not np.isfinite(s.values).all()]
        if not hit:
            return self._counted(run)
        hit.sort(key=lambda h: h[0])
        f = self._finding(run, hit[0][1], ~np.isfinite(hit[0][1].values))
        if len(hit) > 1:
            f.evidence["also"] = ", ".join(
                f"{s.metric} from step {int(step):,}" for step, s in hit[1:])
            f.message = f.message[:-1] + f" ({f.evidence['also']} too)."
        return [f]

    def _counted(self, run):
        """No NaN in the printed loss, but Megatron counted NaN iterations."""
        counter = run.series.get("number of nan iterations")
        loss = run.role("loss")
        if counter is None or loss is None or not len(loss):
            return []
        bad = np.isfinite(counter.values) & (counter.values > 0)
        if not bad.any():
            return []
        steps = counter.steps[bad]
        total = int(counter.values[bad].sum())
        ev = {"first_step": int(steps[0]), "nan_iterations": total, "intervals": int(bad.sum()),
              **{k: v for k, v in iteration_counters(run).items() if k != "nan_iterations"}}
        msg = (f"{loss.metric} had {total:,} NaN iterations from step {int(steps[0]):,} "
               f"(Megatron's 'number of nan iterations' counter; the printed loss averages the finite ones).")
        shown = Series(loss.metric, loss.steps, loss.values)
        return [self.finding(run, shown, int(steps[0]), int(steps[-1]), msg, ev,
                             _suggest(False, None, True, False, self.t["rise_before"]))]

    def _finding(self, run, s, bad):
        first = int(np.flatnonzero(bad)[0])
        count, n = int(bad.sum()), len(s)
        recovered = bool(np.isfinite(s.values[first:]).any())
        before = s.values[:first]
        kinds = sorted({"NaN" if np.isnan(v) else ("+Inf" if v > 0 else "-Inf") for v in s.values[bad]})
        edges = np.diff(np.r_[0, bad.astype(np.int8), 0])
        longest = int(np.max(np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)))
        ev = {"first_step": s.steps[first], "count": count, "points": n, "fraction": round(count / n, 4),
              "values": "/".join(kinds), "recovered": recovered, "finite_before": first}
        rise = None
        if first >= 2 and np.isfinite(before).any():
            fb = before[np.isfinite(before)]
            lo = np.min(fb)
            ev["last_finite"] = fb[-1]
            if lo > 0:
                rise = float(np.max(fb[len(fb) // 2:]) / lo)
                ev["rise_before"] = round(rise, 2)
        grad = run.role("grad_norm")
        grad_exploded = False
        if grad is not None:
            g = grad.values[grad.steps <= s.steps[first]]
            g = g[np.isfinite(g)]
            if len(g) >= 4:
                ev["grad_norm_growth"] = round(float(np.max(g[-max(2, len(g) // 10):]) / np.median(g)), 2)
                grad_exploded = ev["grad_norm_growth"] >= self.t["rise_before"]
        ev["longest_nonfinite_run"] = longest
        at = f"step {s.steps[first]:,}"
        at_start = first < self.t["start_points"] or first < self.t["start_fraction"] * n
        if at_start:
            story = "from the start of training"
        elif rise is not None and rise >= self.t["rise_before"]:
            story = f"after rising {fmt(ev['rise_before'])}x above its low"
        elif recovered and longest <= self.t["max_isolated_run"]:
            story = "on isolated steps; the loss recovers after them"
        elif recovered:
            story = f"in bursts (up to {longest:,} points in a row); the loss recovers after them"
        else:
            story = f"after {first:,} finite points (last {fmt(float(before[np.isfinite(before)][-1]))})"
        msg = (f"{s.metric} becomes {'/'.join(kinds)} at {at} {story}: "
               f"{count:,} of {n:,} points are non-finite.")
        return self.finding(run, s, s.steps[first], s.steps[np.flatnonzero(bad)[-1]], msg, ev,
                            _suggest(at_start, rise, recovered, grad_exploded, self.t["rise_before"]))


def _suggest(at_start, rise, recovered, grad_exploded, rise_limit):
    lr = "Lower the learning rate (try 10x lower) and add a warm-up"
    clip = "Clip gradients (e.g. torch.nn.utils.clip_grad_norm_(params, 1.0))"
    data = "Check the inputs and targets for NaN/Inf (e.g. assert np.isfinite(x).all()) and for constant features divided by a zero std"
    ops = "Guard unsafe operations: log(0), sqrt(0) gradients, division by zero; use log_softmax/cross-entropy on logits instead of log(softmax)"
    amp = "Under mixed precision enable dynamic loss scaling (GradScaler) or use bfloat16; keep softmax and losses in float32"
    init = "Check the initialisation and add normalisation layers (BatchNorm/LayerNorm): activations may overflow at the first step"
    if at_start:
        return [data, init, ops, amp]
    if grad_exploded or (rise is not None and rise >= rise_limit):
        return [lr, clip, amp, data]
    if recovered:
        return [data, ops, amp, clip]
    return [ops, amp, lr, clip, data]


# Megatron-LM prints per logging interval how many iterations the loss scaler skipped and how
# many produced NaN (``number of skipped iterations: 3 | number of nan iterations: 1 |``)
COUNTERS = (("number of skipped iterations", "skipped_iterations"), ("number of nan iterations", "nan_iterations"))


def iteration_counters(run: RunView, start: int | None = None) -> dict:
    """Totals of Megatron's skipped/NaN iteration counters (from ``start`` on), when logged."""
    out = {}
    for key, name in COUNTERS:
        s = run.series.get(key)
        if s is None or not len(s):
            continue
        v = s.values if start is None else s.values[s.steps >= start]
        out[name] = int(v[np.isfinite(v)].sum())
    return out
