from __future__ import annotations

import numpy as np

from lossctl.detectors.base import Detector, RunView, Series
from lossctl.detectors.quality import quality_trend
from lossctl.detectors.stats import fmt, median, percentile, robust_sigma, rolling_median


class Overfitting(Detector):
    """Validation loss rises for a sustained stretch while training loss keeps falling.

    What it flags: a validation loss whose level over the last {tail_fraction:.0%} of its
    points is at least {mild_ratio}x its best level and has stayed up
    since the rise began, while the training loss over the same steps fell to at most
    {max_train_change}x its level at the validation best. The rise must exceed {noise_k} times
    the validation curve's own point-to-point noise (measured over the whole curve, around the
    best and over the tail, whichever is largest), and it must last: at least {min_stretch:.0%}
    of the run when the validation loss ends {min_ratio}x above its best, down to
    {short_stretch:.0%} when it ends {strong_ratio}x or more above it, and longer than
    {min_stretch:.0%} for a milder rise, down to {mild_ratio}x (on one line in the log of the
    ratio through those two points: the stronger the rise, the less of the run it needs). An ordinary noisy
    validation curve wobbling around its floor, a single bump, or a rise at the end of a run
    that also shows in the training loss (divergence) is not flagged. Runs that log only one
    of the two losses are not judged.

    Few evaluations ({min_evaluations:.0f} to {max_few_evaluations:.0f}, as trainers that
    evaluate a handful of times over a long run log): too few for a noise estimate, so the
    evidence is the direction of every move. After its lowest evaluation the validation loss
    rises at every evaluation but at most one (at least {few_min_moves:.0f} moves, the last two
    not both down), ends {few_min_ratio}x or more above that best, and the training loss
    (median over the half evaluation interval around each end) falls to at most
    {max_train_change}x meanwhile.

    A validation quality metric the run logs (accuracy, F1, IoU, AUC, BLEU, perplexity, by name)
    is shown beside the finding over the same steps: worse by more than {quality_band:.0%}
    confirms it; still improving by more than {quality_band:.0%} is the calibration case,
    worded so: the model grows over-confident on the examples it gets wrong, a question of the
    loss and the probabilities (early stopping on the loss, label smoothing, temperature
    scaling), not of accuracy.

    How: the validation curve is reduced to at most 200 step-range bins (median per bin) and
    compared on a log scale (ratios, so the loss's scale does not matter); its best level is
    the minimum of a rolling median, which sets the onset (the checkpoint to keep). Training
    and validation are aligned by step, never by index, so a validation loss logged once per
    epoch is compared with the training loss logged every step over the same steps.

    Why it matters: past the onset the model memorises the training set instead of learning
    what generalises; every later checkpoint is worse on unseen data than the one at the
    validation best, and the compute after it is wasted.

    What to do: keep the checkpoint at the validation best and use early stopping; then get
    more data or augment it, add regularisation (weight decay, dropout), use a smaller model
    or train for fewer epochs. A validation loss that ends above its very first value suggests
    label noise: check the labels.
    """

    kind = "overfitting"
    severity = "warning"
    summary = "validation loss rises for a sustained stretch while training loss keeps falling"
    thresholds = {"mild_ratio": 1.1, "min_ratio": 1.2, "strong_ratio": 1.5, "min_stretch": 0.6,
                  "short_stretch": 0.35, "tail_fraction": 0.2, "noise_k": 4.0, "min_sustained": 0.8,
                  "max_train_change": 0.95, "min_points": 6, "min_evaluations": 4, "max_few_evaluations": 12,
                  "few_min_moves": 4, "few_min_ratio": 1.1, "quality_band": 0.01}

    def detect(self, run: RunView):
        pair = train_and_val(run)
        if pair is None or len(pair[0]) < 2:
            return []
        tr, va = pair
        found = self._sustained(run, tr, va) if len(va) >= self.t["min_points"] else []
        if not found and self.t["min_evaluations"] <= len(va) <= self.t["max_few_evaluations"]:
            found = self._few_evaluations(run, tr, va)
        return found

    def _few_evaluations(self, run: RunView, tr: Series, va: Series):
        """A handful of evaluations: the direction of every move is the evidence (see the class
        docstring's 'Few evaluations')."""
        y = va.values
        if np.any(y <= 0) or np.any(tr.values <= 0):
            return []
        i = int(np.argmin(y))
        moves = np.diff(y[i:])
        ups = int(np.sum(moves > 0))
        if len(moves) < self.t["few_min_moves"] or ups < len(moves) - 1 or y[-1] < self.t["few_min_ratio"] * y[i]:
            return []
        if len(moves) > 1 and moves[-1] <= 0 and moves[-2] <= 0:
            return []
        onset, end = int(va.steps[i]), int(va.steps[-1])
        half = _half_gap(va.steps)  # the training steps that belong to an evaluation
        near = np.abs(tr.steps - onset) <= half
        t_best = float(median(tr.values[near])) if near.any() else float(np.interp(onset, tr.steps, tr.values))
        tail = tr.values[tr.steps >= end - half]
        t_end = float(median(tail)) if len(tail) else float(tr.values[-1])
        train_change = t_end / t_best
        if train_change > self.t["max_train_change"]:
            return []
        ratio = float(y[-1] / y[i])
        ev = {"val_best": float(y[i]), "best_step": onset, "val_last": float(y[-1]), "val_final": float(y[-1]),
              "val_first": float(y[0]), "rise_ratio": round(ratio, 3), "rise_pct": round(100 * (ratio - 1), 1),
              "train_at_best": t_best, "train_last": t_end, "train_change": round(train_change, 4),
              "evaluations_after_best": len(moves), "evaluations_rising": ups, "train_metric": tr.metric,
              "label_noise_suspected": _label_noise(float(y[0]), float(y[i]), float(y[-1])),
              "train_fall": round(1 / train_change, 3), "last_step": end}
        every = "every one" if ups == len(moves) else f"{ups}"
        msg = (f"{va.metric} rises at {every} of its {len(moves)} evaluations after its best {fmt(y[i])} at step "
               f"{onset:,}, to {fmt(y[-1])} at step {ev['last_step']:,} (+{ev['rise_pct']:.0f}%), while {tr.metric} keeps "
               f"falling ({fmt(t_best)} to {fmt(t_end)}, {fmt(ev['train_fall'])}x lower).")
        run_first = min(int(tr.steps[0]), int(va.steps[0]))
        run_last = max(int(tr.steps[-1]), int(va.steps[-1]))
        msg = _with_quality(run, va.metric, onset, end, msg, ev, self.t["quality_band"])
        return [self.finding(run, va, onset, end, msg, ev, _suggest(ev, run_first, run_last))]

    def _sustained(self, run: RunView, tr: Series, va: Series):
        first, last, y = va.binned()
        n = len(y)
        if n < self.t["min_points"]:
            return []
        positive = bool(np.all(y >= 0) and np.any(y > 0))
        z = safe_log(y) if positive else y
        w = 5 if n >= 15 else 3
        sm = rolling_median(z, w)
        k = min(n - 1, max(3, round(n * self.t["tail_fraction"])))
        i_best = int(np.argmin(sm[: n - k])) if n > k else 0
        if n - i_best - 1 < 3:
            return []
        best = float(sm[i_best])
        tail_level = float(median(z[n - k:]))
        rise = tail_level - best
        if rise <= 0:
            return []
        # noise: point-to-point spread (second differences cancel a local trend), taken as the
        # largest of the whole curve, the neighbourhood of the best and the tail
        h = max(w, n // 10)
        sigma = max(curve_noise(z), curve_noise(z[max(0, i_best - h): i_best + h + 1]), curve_noise(z[n - k:]))
        if rise < self.t["noise_k"] * sigma:
            return []
        thr = best + 0.25 * rise
        above = sm[i_best:] > thr
        if not above.any():
            return []
        exceed = i_best + int(np.argmax(above))
        sustained = float(np.mean(sm[exceed:] > thr))
        if sustained < self.t["min_sustained"]:
            return []
        onset, end = int(first[i_best]), int(last[-1])
        run_first = min(int(tr.steps[0]), int(va.steps[0]))
        run_last = max(int(tr.steps[-1]), int(va.steps[-1]))
        stretch = (end - onset) / max(run_last - run_first, 1)
        if positive:
            ratio = float(np.exp(rise))
            strong = ratio >= self.t["strong_ratio"]
            if ratio < self.t["mild_ratio"]:
                return []
        else:  # a loss that can go negative: judge the rise against the progress made to the best
            head = float(median(z[: max(1, min(k, i_best + 1))]))
            progress = max(head - best, 0.0)
            ratio = None
            strong = progress > 0 and rise >= 0.5 * progress
            if progress > 0 and rise < 0.2 * progress:
                return []
        if stretch < _needed_stretch(ratio, strong, self.t):
            return []
        # the training loss over the same steps must keep falling
        t_first, t_last, ty = tr.binned()
        t_pos = bool(np.all(ty >= 0) and np.any(ty > 0))
        tz = rolling_median(safe_log(ty) if t_pos else ty, 5 if len(ty) >= 15 else 3)
        t_mid = (t_first + t_last) / 2
        t_at_best = float(np.interp(onset, t_mid, tz))
        tail_mask = t_mid >= first[n - k]
        t_end = float(median(tz[tail_mask])) if tail_mask.any() else float(tz[-1])
        if t_pos:
            train_change = float(np.exp(t_end - t_at_best))
            if train_change > self.t["max_train_change"]:
                return []
        else:
            train_change = None
            p5, p95 = percentile(tz, [5, 95])
            t_span = float(p95 - p5)
            if t_end - t_at_best > -0.1 * t_span:
                return []
        lin = np.exp if positive else (lambda x: x)
        tlin = np.exp if t_pos else (lambda x: x)
        best_lin, tail_lin = float(lin(best)), float(lin(tail_level))
        tr_best, tr_end = float(tlin(t_at_best)), float(tlin(t_end))
        ev = {"val_best": best_lin, "best_step": onset, "val_last": tail_lin, "val_final": float(va.values[-1]),
              "val_first": float(va.values[0]),
              "rise_ratio": round(ratio, 3) if ratio is not None else None,
              "rise_pct": round(100 * (ratio - 1), 1) if ratio is not None else None,
              "train_at_best": tr_best, "train_last": tr_end,
              "train_change": round(train_change, 4) if train_change is not None else None,
              "gap_at_best": round(best_lin / tr_best, 3) if positive and t_pos and tr_best > 0 else None,
              "gap_last": round(tail_lin / tr_end, 3) if positive and t_pos and tr_end > 0 else None,
              "rise_to_noise": round(rise / sigma, 1) if sigma > 0 else None,
              "stretch_fraction": round(stretch, 3), "sustained": round(sustained, 3),
              "val_points_after_best": int(np.sum(va.steps > onset)), "train_metric": tr.metric,
              "label_noise_suspected": _label_noise(float(va.values[0]), best_lin, tail_lin),
              "rise": tail_lin - best_lin if ratio is None else None,
              "train_fall": round(1 / train_change, 3) if train_change else None}
        ev = {key: val for key, val in ev.items() if val is not None}
        how = f"+{ev['rise_pct']:.0f}%" if ratio is not None else f"+{fmt(ev['rise'])}"
        tr_how = f"{fmt(tr_best)} to {fmt(tr_end)}" + (f", {fmt(ev['train_fall'])}x lower" if train_change else "")
        msg = (f"{va.metric} rises from its best {fmt(best_lin)} at step {onset:,} to {fmt(tail_lin)} at the end "
               f"({how} over the last {ev['stretch_fraction']:.0%} of the run) while {tr.metric} keeps falling "
               f"({tr_how}).")
        msg = _with_quality(run, va.metric, onset, end, msg, ev, self.t["quality_band"])
        return [self.finding(run, va, onset, end, msg, ev, _suggest(ev, run_first, run_last))]


def _with_quality(run: RunView, val: str, onset: int, end: int, msg: str, ev: dict, band: float) -> str:
    """The message, with what a validation quality metric (accuracy, F1, IoU, ...) did over the
    same steps: falling too confirms the model got worse; still improving is the calibration
    case (more confident on the examples it gets wrong, not worse at the task)."""
    q = quality_trend(run, onset, end, like=val)
    if q is None:
        return msg
    ev.update(q)
    how = f"{q['quality_metric']} {fmt(q['quality_first'])} to {fmt(q['quality_last'])}"
    if q["quality_gain"] > band:
        ev["calibration"] = True
        return (msg[:-1] + f"; yet {q['quality_metric']} keeps improving ({fmt(q['quality_first'])} to "
                f"{fmt(q['quality_last'])}): the model grows over-confident on the examples it gets wrong "
                "(calibration) rather than worse at the task.")
    if q["quality_gain"] < -band:
        return msg[:-1] + f", and {how} confirms it got worse."
    return msg[:-1] + f" ({how}: flat)."


def _half_gap(steps: np.ndarray) -> float:
    """Half the median interval between evaluations: the training steps that belong to one."""
    return 0.5 * float(median(np.diff(steps))) if len(steps) > 1 else 0.0


def _label_noise(first: float, best: float, last: float) -> bool:
    """The validation loss fell (10%) from its first evaluation, then ended 10% above it: the model
    got worse than after its first epoch, the usual sign of memorised mislabelled examples."""
    return bool(first > best + 0.1 * abs(best) and last > first + 0.1 * abs(first))


def _suggest(ev: dict, run_first: int, run_last: int) -> list[str]:
    best = ev["best_step"]
    frac = (best - run_first) / max(run_last - run_first, 1)
    keep = (f"Keep the checkpoint from step {best:,} (validation best {fmt(ev['val_best'])}) and use early "
            "stopping on the validation loss (patience of a few evaluations, restore the best weights)")
    if frac <= 0.5:
        keep += f": the best came {frac:.0%} of the way into the run" + (
            "" if ev.get("calibration") else ", the rest made the model worse")
    calibration = (f"{ev.get('quality_metric')} still improves: the later checkpoints may be the better "
                   "classifiers; where calibrated probabilities matter, stop on the loss or use label "
                   "smoothing or temperature scaling")
    noise = ("The validation loss fell, then climbed well above its first value: suspect label noise (the "
             "model memorises mislabelled examples); check the labels, use label smoothing or a noise-robust loss")
    data = "Get more training data, or augment it"
    reg = "Add regularisation: weight decay (e.g. AdamW weight_decay=0.01-0.1) and dropout"
    gap = ev.get("gap_last")
    if gap is not None and gap >= 100:
        reg += (f" (the training loss is nearly zero, {fmt(gap)}x below validation at the end: the model "
                "memorises the training set)")
    small = "Use a smaller model (fewer or narrower layers)"
    fewer = f"Train for fewer epochs (about {frac:.0%} of this run's length reached the validation best)"
    out = [calibration, keep] if ev.get("calibration") else [keep]
    if ev.get("label_noise_suspected"):
        out.append(noise)
    out += [data, reg, small, fewer]
    return out


# --- helpers shared with train_val_mismatch ----------------------------------------------

def train_and_val(run: RunView) -> tuple[Series, Series] | None:
    """Finite training and validation loss series of a run, or None unless it logs both."""
    tr, va = run.role("loss"), run.role("val_loss")
    if tr is None or va is None or tr.metric == va.metric:
        return None
    tr, va = tr.finite(), va.finite()
    if len(tr) == 0 or len(va) == 0:
        return None
    return tr, va


def safe_log(x: np.ndarray) -> np.ndarray:
    """Log of a non-negative series; exact zeros (a loss rounded to 0) become its smallest positive value."""
    pos = x[x > 0]
    floor = float(pos.min()) if len(pos) else 1e-300
    return np.log(np.maximum(x, floor))


def _needed_stretch(ratio, strong: bool, t: dict) -> float:
    """How long a rise must last (share of the run): min_stretch at min_ratio, short_stretch at
    strong_ratio and beyond, on the line through them in the log of the ratio, which continues
    below min_ratio to mild_ratio (a milder rise must last longer)."""
    if ratio is None:
        return t["short_stretch"] if strong else t["min_stretch"]
    a = (np.log(ratio) - np.log(t["min_ratio"])) / (np.log(t["strong_ratio"]) - np.log(t["min_ratio"]))
    return float(t["min_stretch"] + min(a, 1.0) * (t["short_stretch"] - t["min_stretch"]))


def curve_noise(z: np.ndarray) -> float:
    """Point-to-point noise of a curve from robust second differences (a local trend cancels)."""
    if len(z) < 4:
        return 0.0
    return robust_sigma(np.diff(z, 2)) / np.sqrt(6)
