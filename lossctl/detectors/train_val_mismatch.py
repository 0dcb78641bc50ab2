from __future__ import annotations

import numpy as np

from lossctl.detectors.base import Detector, RunView, Series
from lossctl.detectors.overfitting import safe_log, train_and_val
from lossctl.detectors.stats import fmt, median, median_rows


class TrainValMismatch(Detector):
    """Validation loss far above training loss from the start, or never better than an untrained model.

    What it flags: over its first {first_points:.0f} evaluations (those in the first half of the
    run) the validation loss is {min_ratio}x the training loss at the same steps or more
    (median), and either it is never below {min_ratio_each}x at any of them and no better than
    the untrained model (at least {min_vs_initial}x the training loss at the very start of the
    run), or it is never once below training's starting loss ({min_best_vs_initial}x of it or
    more at its best) while the training loss improves {min_train_gain:.0f}x or more. Validation and
    training data from the same distribution start out level (an untrained model is equally
    bad on both) and part only as the model learns; a validation loss that is worse than where
    training began, and several times the training loss, from its first evaluations on, is
    measuring something else; the second form allows a first evaluation level with training,
    as when the validation labels are encoded in another order (what the model learns makes
    validation worse from the first epoch). A fine-tuned model whose validation loss stays
    level with training's start is not this kind: it is not several times the training loss.
    The first evaluations speak for the start only when training has improved less than
    {max_train_gain_before:.0f}x by then; evaluated later (a model that learns fast, such as a
    fine-tune memorising its data before its first evaluation), the validation loss must itself
    be {min_ratio}x training's starting loss or more. And the gap must not close: at every
    later evaluation the validation loss stays {min_ratio_each}x the training loss or more (a gap
    that closes was transient, such as BatchNorm statistics settling or an unstable start). A
    gap that opens after validation has improved (overfitting) is not this kind; a run can have
    both. Runs that log only one of the two losses, or losses that go negative, are not judged.

    How: the comparison is made by step, never by index, on a log scale (ratios: the loss's
    scale does not matter). The training level at a validation step is the median of the
    training points logged in the half evaluation interval before it; a training loss logged
    once per epoch (an average over the epoch) is read half an epoch later, where the model
    matches the one validated at the end of the epoch. The start of training is its first value
    (or the median of its first {start_fraction:.0%} of steps when higher). The evidence also
    says whether the validation loss stays flat while training improves (its best is less than
    {max_val_gain_flat}x below where it started and its end less than {max_val_gain_flat}x above,
    while the training loss ends {min_train_gain:.0f}x or more below its start), and whether the
    two keep a constant ratio (training improved {min_train_gain:.0f}x or more and the ratio at
    the end is within 1.5x of the one at the start: a loss computed differently). The message says "worse than" training's starting loss when
    the validation loss is above it, "about as high as" when it is between
    {min_vs_initial}x and 1x of it.

    Why it matters: every decision taken on the validation loss (early stopping, model
    selection, hyper-parameter search) is taken on a broken number.

    What to do: apply exactly the same preprocessing to validation as to training (fit the
    scaler or normaliser on the training data, transform both with it, targets included);
    check the validation pipeline and its labels; check that validation comes from the same
    distribution; compute both losses the same way (same reduction, same terms).
    """

    kind = "train_val_mismatch"
    severity = "warning"
    # a training loss that diverged before the first evaluation leaves nothing to compare with
    suppressed_by = ("divergence",)
    summary = "validation loss far above training loss from the start"
    thresholds = {"min_ratio": 2.5, "min_ratio_each": 1.8, "min_vs_initial": 0.75, "first_points": 3,
                  "min_points": 3, "start_fraction": 0.01, "max_val_gain_flat": 1.1, "min_train_gain": 2.0,
                  "min_best_vs_initial": 1.0, "max_train_gain_before": 5.0}

    def detect(self, run: RunView):
        pair = train_and_val(run)
        if pair is None:
            return []
        tr, va = pair
        if len(va) < self.t["min_points"] or len(tr) < 2:
            return []
        if np.any(va.values < 0) or np.any(tr.values < 0) or not np.any(va.values > 0):
            return []  # a ratio needs a loss with a true zero
        lv, lt = safe_log(va.values), safe_log(tr.values)
        k = int(min(self.t["first_points"], len(va)))
        at = train_at(tr.steps, lt, va.steps, len(va))
        ok = np.isfinite(at)
        lr = lv - at  # log validation/training at the same step
        first_idx = np.flatnonzero(ok & (va.steps <= _start_limit(tr, va)))[:k]
        if len(first_idx) == 0:
            return []
        start_ratio = float(np.exp(median(lr[first_idx])))
        if start_ratio < self.t["min_ratio"]:
            return []
        lowest_ratio = float(np.exp(np.min(lr[first_idx])))
        t0 = _initial_level(tr.steps, lt, self.t["start_fraction"])
        val_start = float(median(lv[first_idx]))
        vs_initial = float(np.exp(val_start - t0))
        gain_before = float(np.exp(t0 - median(at[first_idx])))
        if gain_before >= self.t["max_train_gain_before"] and vs_initial < self.t["min_ratio"]:
            return []  # first evaluated after training had learned most: the gap says nothing of the start
        # how the rest of the run looks: does validation move at all, does the gap keep a constant ratio?
        val_best = float(va.values.min())
        val_gain = float(np.exp(val_start - lv.min()))
        tail = np.flatnonzero(ok)[-k:]
        end_ratio = float(np.exp(median(lr[tail])))
        train_gain = float(np.exp(t0 - median(at[tail])))
        best_vs_initial = float(np.exp(lv.min() - t0))
        far_above = lowest_ratio >= self.t["min_ratio_each"] and vs_initial >= self.t["min_vs_initial"]
        # the first evaluation may sit level with training (an untrained model is equally bad on
        # both), yet validation never once beats where training began while training improves
        never_learns = best_vs_initial >= self.t["min_best_vs_initial"] and train_gain >= self.t["min_train_gain"]
        if not (far_above or never_learns):
            return []
        # a gap that closes was transient (BatchNorm statistics settling, an unstable start):
        # after the evaluations compared, a different measurement stays well above training
        rest = lv[first_idx[-1] + 1:] - train_at(tr.steps, lt, va.steps, len(va), every=True)[first_idx[-1] + 1:]
        rest = rest[np.isfinite(rest)]
        closest = float(np.exp(rest.min())) if len(rest) else None
        if closest is not None and closest < self.t["min_ratio_each"]:
            return []
        val_rise = float(np.exp(median(lv[-k:]) - val_start))
        val_flat = (val_gain < self.t["max_val_gain_flat"] and val_rise < self.t["max_val_gain_flat"]
                    and train_gain >= self.t["min_train_gain"])
        constant_ratio = train_gain >= self.t["min_train_gain"] and abs(np.log(end_ratio / start_ratio)) < np.log(1.5)
        ev = {"ratio_at_start": round(start_ratio, 3), "lowest_ratio_at_start": round(lowest_ratio, 3),
              "val_start": float(np.exp(val_start)), "train_at_start": float(np.exp(median(at[first_idx]))),
              "train_initial": float(np.exp(t0)),
              "val_vs_train_initial": round(vs_initial, 3), "first_val_step": int(va.steps[first_idx[0]]),
              "val_points_compared": len(first_idx),
              "train_improvement_before": round(gain_before, 3),
              "closest_ratio_later": round(closest, 3) if closest is not None else None, "val_best": val_best, "val_improvement": round(val_gain, 3),
              "val_rise": round(val_rise, 3),
              "train_improvement": round(train_gain, 3), "ratio_at_end": round(end_ratio, 3),
              "val_flat": bool(val_flat), "constant_ratio": bool(constant_ratio),
              "val_best_vs_train_initial": round(best_vs_initial, 3), "far_above_at_start": bool(far_above),
              "never_below_start": bool(never_learns),
              "train_metric": tr.metric}
        s0 = int(va.steps[first_idx[0]])
        start = fmt(float(np.exp(t0)))
        if far_above:
            msg = (f"{va.metric} starts {fmt(start_ratio)}x above {tr.metric} at the same steps "
                   f"({fmt(float(np.exp(val_start)))} vs {fmt(ev['train_at_start'])} over its first {len(first_idx)} "
                   f"evaluations from step {s0:,}), "
                   + ("worse than" if vs_initial >= 1 else "about as high as") + f" training's own starting loss {start}")
            if never_learns:
                msg += (f", and {'stays flat, ' if val_flat else 'is '}never below that loss (its best "
                        f"{fmt(val_best)}) while {tr.metric} improves")
            elif val_flat:
                msg += ", and stays flat while training improves"
        else:
            msg = (f"{va.metric} is never below training's own starting loss {start} (its best {fmt(val_best)}) "
                   f"while {tr.metric} improves")
        msg += f" {fmt(train_gain)}x." if never_learns else "."
        ev = {key: val for key, val in ev.items() if val is not None}
        return [self.finding(run, va, s0, int(va.steps[-1]), msg, ev, _suggest(ev))]


def _suggest(ev: dict) -> list[str]:
    scale = ("Apply the same preprocessing to validation as to training: fit the scaler/normaliser on the "
             "training data and transform the validation data with it (a scaler applied to one split only is "
             "the usual cause)")
    target = ("The validation loss barely moves while training improves: check the validation targets' scale "
              "(a target scaler or label encoding applied to the training split only) and that validation "
              "outputs are not saturated")
    reduction = ("The validation/training ratio stays nearly constant ({:.3g}x): compute both losses the same "
                 "way (reduction 'mean' vs 'sum', per-token vs per-sequence, the same loss terms)")
    pipeline = ("Check the validation data pipeline: inputs and labels aligned, same dtype/units and "
                "augmentation off, not shuffled separately")
    dist = "Check that the validation split comes from the same distribution as the training data"
    same = "Compute both losses the same way (same reduction, same terms, same label format)"
    labels = ("The validation loss is never better than an untrained model's: check that the validation labels "
              "are encoded as the training labels are (class ids built per file, e.g. in the order the labels "
              "first appear, name different classes) and that its inputs go through the same pipeline")
    never = ev.get("never_below_start")
    # a validation loss that ends 2x above its start gets worse the more training learns: the
    # labels disagree (labels first); one that improves, or stays flat, is more often a scale
    out = [labels] if never and ev["val_rise"] >= 2.0 else []
    if ev.get("constant_ratio"):
        out.append(reduction.format(ev["ratio_at_start"]))
    if ev.get("val_flat"):
        out.append(target)
    out += [scale, labels if never else None, pipeline, dist, same]
    return [x for x in dict.fromkeys(out) if x]


def train_at(t_steps: np.ndarray, lt: np.ndarray, v_steps: np.ndarray, n_val: int, every: bool = False) -> np.ndarray:
    """The (log) training level at each validation step, aligned by step.

    A training loss logged about as often as the validation loss is an average over the
    interval (an epoch) ending at its step: it is interpolated half an interval later, where it
    describes the model that was validated. A denser training loss is summarised by the median
    of its points in the half validation interval before each validation step (NaN where there
    are none), for the first and last few validation steps (callers judge those), or for all
    of them with ``every``.
    """
    if len(t_steps) <= 1.5 * n_val:
        d = float(median(np.diff(t_steps))) if len(t_steps) > 1 else 1.0
        out = np.interp(v_steps, t_steps - 0.5 * d, lt)
        out[v_steps < t_steps[0] - 0.5 * d] = np.nan
        return out
    gaps = np.diff(v_steps)
    half = 0.5 * np.r_[gaps[0] if len(gaps) else v_steps[0] - t_steps[0], gaps]
    lo = np.searchsorted(t_steps, v_steps - half, side="left")
    hi = np.searchsorted(t_steps, v_steps, side="right")
    # median over each (small) window, for the validation points callers use (the first and
    # last few); windows of one size (the usual regular evaluation) as rows of one partition
    out = np.full(len(v_steps), np.nan)
    need = np.arange(len(v_steps)) if every else np.array(_needed(len(v_steps)))
    size = hi[need] - lo[need]
    before = need[(size <= 0) & (hi[need] > 0)]  # an empty window: the last point before it
    out[before] = lt[hi[before] - 1]
    for c in np.unique(size[size > 0]):
        g = need[size == c]
        out[g] = median_rows(lt[lo[g][:, None] + np.arange(c)])
    return out


def _needed(n: int, k: int = 8) -> list[int]:
    return sorted(set(range(min(k, n))) | set(range(max(0, n - k), n)))


def _initial_level(steps: np.ndarray, lt: np.ndarray, fraction: float) -> float:
    """The untrained model's (log) training loss: its first value, or the median over the first
    ``fraction`` of the step range when that is higher (a noisy first batch)."""
    span = max(int(steps[-1] - steps[0]), 1)
    m = int(np.searchsorted(steps, steps[0] + fraction * span, side="right"))
    return float(max(lt[0], median(lt[: max(1, m)])))


def _start_limit(tr: Series, va: Series) -> float:
    """Comparisons must lie in the first half of the run to speak for 'the start'."""
    first = min(tr.steps[0], va.steps[0])
    last = max(tr.steps[-1], va.steps[-1])
    return first + 0.5 * (last - first)
