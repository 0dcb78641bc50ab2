from __future__ import annotations

import numpy as np

from lossctl.detectors.base import Detector, RunView, Series
from lossctl.detectors.quality import quality_trend
from lossctl.detectors.stats import fmt, line_fit, median, nanmedian_window
from lossctl.roles import VAL_WORDS, is_loss_like, words


class Plateau(Detector):
    """The training loss stops improving while still far from good.

    What it flags: a training loss that (a) barely moves: it ends less than {max_progress:.0%}
    below where it started ({max_progress_epoch_log:.0%} for per-epoch logs, whose first point
    already averages the first epoch) and stays within {flat_band:.0%} of its final level for at
    least {min_flat_fraction:.0%} of the run; or (b) stalls early: after a first drop of less
    than {stall_max_drop:.0f}x from its start, it stays within {flat_band:.0%} of one level for
    the last {stall_flat_fraction:.0%} or more of the run (per-step logs only); or (c) sits dead
    flat (within {chance_band:.0%}) for at least {chance_flat_fraction:.0%} of the run at the
    cross-entropy of a uniform guess, ln(number of classes), to within {chance_tolerance:.1%}
    of it (2 to {max_classes:.0f} classes): chance level; or (d) settles within
    {flat_band:.0%} of its final level for {min_flat_fraction:.0%} of the run and ends dead flat
    beside a validation loss just as flat at the same level (within {same_level:.0%}): the model
    gives every input the same output (the class prior's entropy, say), which scores alike on
    any split. Otherwise a run that fell far
    below its start (3x or more) and then flattened is not a plateau, nor is a flat stretch
    over which the validation loss, or a logged quality metric (accuracy, IoU, F1, AUC, BLEU,
    perplexity, mAP: its direction read from its name), still improves by more than
    {flat_band:.0%} ({constant_quality_gain:.0%} for (d): a model that gives every input the
    same output cannot raise it at all), nor (d) beside a logged AUC of {max_constant_auc} or more
    over the flat stretch (a constant prediction ranks at chance, 0.5); a late flat stretch where a schedule anneals the
    learning rate is too short to count.

    How: "far from good" is judged from the curve itself: the first logged loss stands in for
    chance (what the untrained model scores), so (a) and (b) are judged only when the log
    starts at the beginning of training. The curve is reduced to at most 200 step-range bins
    (median per bin), smoothed with a running median and compared on a log scale, so the
    verdict does not depend on the loss's scale or on how often it is logged; only (c) looks at
    the loss's value itself, as a cross-entropy, and only (d) at the validation loss beside it.
    The message's words are these rules: "barely improves" is (a), "stalls ... after falling
    only" is (b), "sits dead flat" is (c), "settles ... ends dead flat ... the same level" is
    (d); "flat" and "within" are the bands above, and the evidence holds each measured value
    (relative_improvement, drop, flat_deviation, chance_deviation, dead_flat_range).

    Why it matters: the run spends its compute without learning: the model is stuck at or near
    where it started and the final checkpoint is barely better than the first.

    What to do: see the suggestions, ranked by the evidence: a loss that never moved calls for a
    higher learning rate first (an LR range test), especially when the logged lr is tiny; a loss
    dead flat at chance points at regularisation that holds the weights at zero or at dead
    units; an early stall at a high level at the learning rate (too high as often as too low),
    regularisation and capacity. Frozen layers, initialisation, input scaling and how the loss
    and labels are wired are the other usual causes. When the logged learning rate had already
    decayed below {lr_decayed:.0%} of its peak where the loss flattened, the schedule ending too
    early comes first.
    """

    kind = "plateau"
    severity = "warning"
    summary = "loss stops improving while still far from good"
    suppressed_by = ("divergence", "oscillation")
    thresholds = {"min_points": 8, "max_progress": 0.2, "max_progress_epoch_log": 0.05, "flat_band": 0.1,
                  "min_flat_fraction": 0.5, "stall_max_drop": 3.0, "stall_flat_fraction": 0.85,
                  "chance_band": 0.01, "chance_flat_fraction": 0.5, "chance_tolerance": 0.003,
                  "max_classes": 1000, "same_level": 0.02, "lr_decayed": 0.05, "tiny_lr": 1e-5,
                  "constant_quality_gain": 0.03, "max_constant_auc": 0.6}

    def detect(self, run: RunView):
        if (judged := self.judged(run, "loss")) is None:
            return []
        s, f = judged
        t = self.t
        first, last, y = f.binned()
        n = len(y)
        if n < t["min_points"] or not np.all(y > 0):
            return []
        z = np.log(y)
        zs = _smooth(z, max(3, n // 20) | 1)
        span = float(last[-1] - first[0])
        if span <= 0:
            return []
        # does the log start at the beginning of training (so its first value stands in for chance)?
        dt = float(median(np.diff(f.steps)))
        from_start = f.steps[0] <= max(2 * dt, 0.02 * f.steps[-1])
        y0 = float(np.max(f.values[:3]))  # the highest of the first points: noise cannot shrink the start
        from_start = from_start and y0 > 0
        z_end = float(median(zs[-max(3, n // 10):]))
        fi = _flat_start(zs, z_end, np.log1p(t["flat_band"]))
        flat_frac = (last[-1] - first[fi]) / span if fi < n else 0.0
        level = float(np.exp(median(z[fi:]))) if fi < n else float(np.exp(z_end))
        best = float(np.exp(zs.min()))
        ev = {"start": y0 if from_start else None, "best": best, "level": level}

        # a per-epoch log (validation beside every training point) starts with an average over
        # the first epoch: part of the early progress is hidden, and the early drop cannot be timed
        per_epoch = _per_epoch(run, f.steps)
        max_progress = t["max_progress_epoch_log"] if per_epoch else t["max_progress"]
        pattern = None
        if from_start:
            progress = 1 - level / y0
            ev["relative_improvement"] = round(progress, 4)
            if (abs(progress) < max_progress and best >= y0 * (1 - 1.5 * max_progress)
                    and flat_frac >= t["min_flat_fraction"]):
                pattern = "no_progress"
            elif (not per_epoch and flat_frac >= t["stall_flat_fraction"] and progress > 0
                  and y0 / level < t["stall_max_drop"]):
                pattern = "stalled"
        chance = _chance(zs, z, first, last, span, t)
        if chance is not None:
            cfi = chance.pop("flat_index")
            ev.update(chance)
            if pattern is None and chance["chance_flat_fraction"] >= t["chance_flat_fraction"]:
                pattern, fi, flat_frac = "at_chance", cfi, chance["chance_flat_fraction"]
                ev["level"] = chance["chance_level_observed"]
        if pattern is None and (const := _constant_output(run, zs, z, first, last, span, t)) is not None:
            pattern, fi, flat_frac = "constant_output", const.pop("flat_index"), const["flat_fraction"]
            ev.update(const)
        if pattern is None or fi >= n:
            return []

        flat_start, flat_end = int(first[fi]), int(last[-1])
        zz, ss = z[fi:], first[fi:].astype(np.float64)
        slope = float(line_fit(ss - ss[0], zz)[0]) if len(zz) >= 3 and ss[-1] > ss[0] else 0.0
        ev.update({"pattern": pattern, "flat_start_step": flat_start, "flat_end_step": flat_end,
                   "flat_fraction": round(float(flat_frac), 3),
                   "flat_change": round(float(np.expm1(slope * (flat_end - flat_start))), 4)})
        lr = _lr_facts(run, flat_start)
        ev.update(lr)
        vc = _val_change(run, flat_start, flat_end)
        if vc is not None:
            ev["val_change"] = round(vc, 4)
            if vc < -t["flat_band"]:
                return []  # validation still improving: the model is learning
        if (q := quality_trend(run, flat_start, flat_end)) is not None:
            ev.update(q)
            # a logged accuracy (IoU, F1, mAP, ...) still improving: the model is learning; one that
            # gives every input the same output cannot raise it even by a few percent
            limit = t["constant_quality_gain"] if pattern == "constant_output" else t["flat_band"]
            if q["quality_gain"] > limit:
                return []
        if pattern == "constant_output" and (auc := _auc_level(run, flat_start, flat_end)) is not None:
            ev.update(auc)
            if auc["auc_level"] >= t["max_constant_auc"]:
                return []  # a model that gives every input the same output ranks at chance: AUC 0.5
        ev["per_epoch_log"] = per_epoch
        ev["flat_deviation"] = _deviation(zs[fi:], z_end)
        if pattern == "stalled":
            ev["drop"] = round(ev["start"] / ev["level"], 3)
        msg = _message(s, ev, pattern, t)
        return [self.finding(run, s, flat_start, flat_end, msg, ev, _suggest(ev, pattern, t))]


def _smooth(z: np.ndarray, window: int) -> np.ndarray:
    """Centred running median whose window shrinks at the ends (never padded with an end value,
    so one noisy last bin cannot pull the final level away)."""
    if len(z) < 3:
        return z
    return nanmedian_window(z, min(window, len(z)) | 1)


def _deviation(zs: np.ndarray, z_end: float) -> float:
    """How far a flat stretch strays from its level, as a fraction of it (what "within" rests on)."""
    return round(float(np.expm1(np.max(np.abs(zs - z_end)))), 4)


def _flat_start(zs: np.ndarray, z_end: float, band: float) -> int:
    """First index of the final stretch where the smoothed curve stays within ``band`` of ``z_end``."""
    outside = np.flatnonzero(np.abs(zs - z_end) > band)
    return int(outside[-1] + 1) if len(outside) else 0


def _chance(zs, z, first, last, span, t) -> dict | None:
    """The final dead-flat stretch, if its level is ln(k), the loss of a uniform guess over k classes."""
    z_end = float(median(zs[-max(3, len(zs) // 10):]))
    fi = _flat_start(zs, z_end, np.log1p(t["chance_band"]))
    if fi >= len(zs):
        return None
    observed = float(np.exp(median(z[fi:])))
    if not np.log(2) * 0.9 < observed < np.log(t["max_classes"] + 0.5):
        return None
    k = round(np.exp(observed))
    ln_k = float(np.log(k))
    tol = min(t["chance_tolerance"] * ln_k, 0.25 * (np.log(k + 1) - ln_k))
    if abs(observed - ln_k) > tol:
        return None
    return {"chance_classes": k, "chance_level": ln_k, "chance_level_observed": observed,
            "chance_flat_fraction": round(float((last[-1] - first[fi]) / span), 3), "flat_index": fi,
            "chance_deviation": _deviation(zs[fi:], z_end)}


def _constant_output(run: RunView, zs, z, first, last, span, t) -> dict | None:
    """The loss settles (within ``flat_band`` for ``min_flat_fraction`` of the run) and ends dead
    flat beside a validation loss just as flat at the same level: the model gives every input
    the same output (the class prior, say), which scores alike on any split, where a model that
    learned something scores apart on data it was not trained on."""
    v = run.role("val_loss")
    if v is None:
        return None
    z_end = float(median(zs[-max(3, len(zs) // 10):]))
    fi = _flat_start(zs, z_end, np.log1p(t["flat_band"]))
    frac = float((last[-1] - first[fi]) / span) if fi < len(zs) else 0.0
    if frac < t["min_flat_fraction"]:
        return None
    band = np.log1p(t["chance_band"])
    q = max(3, len(zs) // 4)  # the last quarter: dead flat, both
    ok = np.isfinite(v.values) & (v.values > 0) & (v.steps >= first[-q])
    zv = np.log(v.values[ok])
    if np.ptp(zs[-q:]) > band or len(zv) < 3 or np.ptp(zv) > 2 * band:
        return None
    level, val_level = float(np.exp(median(z[-q:]))), float(np.exp(median(zv)))
    if abs(np.log(val_level / level)) > np.log1p(t["same_level"]):
        return None
    return {"level": level, "val_level": val_level, "flat_fraction": round(frac, 3), "flat_index": fi,
            "dead_flat_from_step": int(first[-q]), "dead_flat_range": round(float(np.expm1(np.ptp(zs[-q:]))), 4)}


def _auc_level(run: RunView, start: int, end: int) -> dict | None:
    """The median of a logged AUC over the flat stretch (the held-out one first): a constant
    prediction ranks no example above another, an AUC of 0.5."""
    names = sorted((n for n in run.series if {"auc", "auroc", "roc_auc"} & set(words(n)) and not is_loss_like(n)),
                   key=lambda n: not VAL_WORDS & set(words(n)))
    for name in names:
        s = run.series[name]
        v = s.values[(s.steps >= start) & (s.steps <= end) & np.isfinite(s.values)]
        if len(v) >= 3 and 0.0 <= float(np.min(v)) and float(np.max(v)) <= 1.0:
            return {"auc_metric": name, "auc_level": round(float(median(v)), 4)}
    return None


def _per_epoch(run: RunView, steps: np.ndarray) -> bool:
    """Is the validation loss logged beside (nearly) every training point, as per-epoch logs do?"""
    v = run.role("val_loss")
    if v is None or len(v) < 3:
        return False
    return len(v) >= 0.9 * len(steps) and bool(np.isin(steps, v.steps).mean() >= 0.9)


def _lr_facts(run: RunView, flat_start: int) -> dict:
    lr = run.role("lr")
    if lr is None:
        return {}
    ok = np.isfinite(lr.values) & (lr.values > 0)
    steps, vals = lr.steps[ok], lr.values[ok]
    if len(vals) == 0:
        return {}
    before = vals[steps <= flat_start]
    at = float(before[-1]) if len(before) else float(vals[0])
    top = float(vals.max())
    return {"lr_max": top, "lr_at_flat_start": at, "lr_last": float(vals[-1]),
            "lr_constant": bool(top <= float(vals.min()) * 1.0001),
            "lr_decayed_at_flat_start": round(at / top, 6)}


def _val_change(run: RunView, start: int, end: int) -> float | None:
    """Relative change of the validation loss over the flat stretch (first third vs last third)."""
    v = run.role("val_loss")
    if v is None:
        return None
    ok = np.isfinite(v.values) & (v.steps >= start) & (v.steps <= end)
    vals = v.values[ok]
    if len(vals) < 3 or not np.all(vals > 0):
        return None
    k = max(1, len(vals) // 3)
    return float(median(vals[-k:]) / median(vals[:k]) - 1)


def _message(s: Series, ev: dict, pattern: str, t: dict) -> str:
    where = (f"from step {ev['flat_start_step']:,} to {ev['flat_end_step']:,} "
             f"({ev['flat_fraction']:.0%} of the run)")
    lr = ""
    if "lr_max" in ev:
        lr = (f", with a constant learning rate of {fmt(ev['lr_max'])}" if ev["lr_constant"]
              else f", learning rate {fmt(ev['lr_at_flat_start'])} at its start")
    chance = (f", the chance level for {ev['chance_classes']} classes (ln {ev['chance_classes']} = "
              f"{fmt(ev['chance_level'])})" if "chance_classes" in ev else "")
    if pattern == "no_progress":
        p = ev["relative_improvement"]
        how = f"{p:.1%} lower" if p >= 0 else f"{-p:.1%} higher"
        return (f"{s.metric} barely improves: from {fmt(ev['start'])} at the start to {fmt(ev['level'])} "
                f"({how}){chance}, flat {where}{lr}.")
    if pattern == "at_chance":
        return (f"{s.metric} sits dead flat at {fmt(ev['level'])}{chance}, {where}{lr}.")
    if pattern == "constant_output":
        return (f"{s.metric} settles within {t['flat_band']:.0%} of {fmt(ev['level'])} {where} and ends dead flat "
                f"(within {ev['dead_flat_range']:.1%} from step {ev['dead_flat_from_step']:,}), the validation "
                f"loss at the same level ({fmt(ev['val_level'])}){lr}: the model gives every input the same "
                "output.")
    return (f"{s.metric} stalls at {fmt(ev['level'])} {where} after falling only "
            f"{fmt(ev['drop'])}x from its start ({fmt(ev['start'])}){lr}.")


def _suggest(ev: dict, pattern: str, t: dict) -> list[str]:
    lr_max = ev.get("lr_max")
    tiny = lr_max is not None and lr_max <= t["tiny_lr"]
    only = f" (the logged lr is only {fmt(lr_max)})" if tiny else ""
    raise_lr = (f"Raise the learning rate 10-100x{only}: run an LR range test (lr_find) and use about a "
                "tenth of the lr where the loss falls fastest")
    tune_lr = ("Run an LR range test: after a fast first drop, a too-high learning rate keeps the loss "
               "bouncing at a high level (lower it 3-10x or add decay), a too-low one barely moves it")
    frozen = ("Check that the layers meant to train are trainable: count parameters with requires_grad=True "
              "(PyTorch) or model.trainable_weights (Keras), and that the optimizer was given them; unfreeze "
              "frozen layers")
    reg = ("Reduce regularisation (L2 / weight decay, dropout): a too-strong penalty holds the weights "
           "near zero and the loss at a high level")
    init = ("Check initialisation and activations: dead ReLUs (large negative biases, a bad init) pass no "
            "gradient; use He (Kaiming) init, zero biases, LeakyReLU or GELU")
    norm = ("Normalise the inputs (StandardScaler, per-channel mean and std): unscaled inputs start badly "
            "and stick")
    wiring = ("Check that the loss and labels are wired correctly: labels aligned with inputs, the right "
              "target column, logits vs probabilities (from_logits), optimizer.step() and zero_grad() called")
    capacity = "If all of that is fine, the model may lack capacity for the task: widen or deepen it"
    decayed = ev.get("lr_decayed_at_flat_start", 1.0) <= t["lr_decayed"] and not ev.get("lr_constant")
    annealed = (f"The learning rate had already decayed to {fmt(ev.get('lr_at_flat_start'))} "
                f"({ev.get('lr_decayed_at_flat_start', 0):.1%} of its peak) when the loss flattened at step "
                f"{ev['flat_start_step']:,}: the schedule ends far too early (check T_max / total steps, "
                "a per-epoch scheduler stepped per batch, the decay factor)")
    if pattern == "no_progress":
        out = [raise_lr, frozen, init, reg, norm, wiring]
        if "chance_classes" in ev and not tiny:
            out = [raise_lr, init, reg, frozen, wiring, norm]
    elif pattern in ("at_chance", "constant_output"):
        out = [reg, init, raise_lr, frozen, wiring, norm]
    else:
        out = [tune_lr, reg, frozen, init, norm, wiring, capacity]
    return [annealed, *out] if decayed else out
