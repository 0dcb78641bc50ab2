from __future__ import annotations

from typing import ClassVar

import numpy as np

from lossctl.detectors.base import Detector, RunView, Series
from lossctl.detectors.stats import fmt
from lossctl.roles import VAL_WORDS, is_loss_like, words

MAX_ROWS = 50_000  # shared steps the fit and the levels use at most (evenly spaced)


class LossImbalance(Detector):
    """One term of a composite loss holds the total up while the other terms fall.

    What it flags: a run that logs its total loss beside the terms it is the sum of (a PINN's
    `train_loss` beside `dynamics_loss` and `initial_theta_loss`; a detector's `total_loss`
    beside `loss_cls`, `loss_box_reg`, `loss_mask`; a Keras multi-output model's `loss` beside
    each head's), where one term does not fall: its level over the last {edge:.0%} of the run is
    at least {min_own_ratio}x its level over the first {edge:.0%} (it rises, stays level or
    falls by less than 1/{min_own_ratio}x), while the other terms together fall to at most
    {max_others_ratio}x of where they started; it ends as at least {min_share:.0%} of the total;
    and had it fallen as the others did, the total would end at least {min_held}x lower. The
    message says the term "rises" when it ends {level_band:.0%} or more above its start, "stays
    level" within {level_band:.0%} of it, and "falls only" otherwise.

    How: the total is looked for among the loss series of the same split (training or
    validation): the series that is a non-negative weighted sum of the others, the weights
    fitted by least squares on the steps they share, accepted only when the fit is near exact
    (the residual below {max_residual:.0%} of the total and below {max_residual_var:.0%} of the
    total's own variation, with at least {min_points:.0f} shared steps; a long log is thinned to
    50,000 evenly spaced shared steps first). A term that alone
    reproduces the total (the same loss logged twice) is not a component. A term's level is the
    median of its weighted values over the stretch, the total's level the sum of its terms'
    levels (so the shares add up to 100% and a wild first step does not set the start).

    Why it matters: the optimiser minimises the weighted sum, so a term whose weight or scale
    is off is traded away for the others: a PINN fits the differential equation and ignores its
    initial conditions, a detector learns to classify and not to place boxes. The total stops
    improving while most of it is one term the model is not learning.

    What to do: re-weight the terms (raise the stalled term's weight, or lower the others');
    normalise each term by its initial value so they start on one scale; learn the weights
    (GradNorm, or uncertainty weighting as in Kendall et al. 2018); and check that term's
    targets, labels and units: a term on a different scale, or one fed wrong labels, cannot fall.
    """

    kind = "loss_imbalance"
    severity = "warning"
    summary = "one term of a composite loss holds the total up while the others fall"
    thresholds: ClassVar[dict[str, float]] = {
        "min_points": 20, "max_residual": 0.01, "max_residual_var": 0.1, "edge": 0.05,
        "min_own_ratio": 0.67, "max_others_ratio": 0.67, "min_share": 0.25, "min_held": 1.3,
        "level_band": 0.05}

    def detect(self, run: RunView):
        out = []
        for split in (False, True):  # training terms, then validation terms: one sum each
            names = [m for m in run.series if is_loss_like(m) and bool(VAL_WORDS & set(words(m))) == split]
            first = run.roles.get("val_loss" if split else "loss")
            order = sorted(names, key=lambda m: (m != first, -_level(run.series[m])))
            found, used = [], set()
            for total in order[:30]:  # Lightning logs one sum per step and its mean per epoch
                if total in used:
                    continue
                fit = composite(run.series[total], [run.series[m] for m in names if m != total], self.t)
                if fit is not None:
                    used.update([total, *fit["names"]])
                    found += [f] if (f := self._judge(run, run.series[total], fit)) is not None else []
            if found:  # one finding per split: the sum whose term holds it up the most
                out.append(max(found, key=lambda f: f.evidence["held_up"]))
        return out

    def _judge(self, run: RunView, total: Series, fit: dict):
        t = self.t
        c = fit["terms"]  # (points, k): each weighted term on the shared steps
        n = len(c)
        k = max(3, int(round(t["edge"] * n)))
        c0, c1 = np.median(c[:k], axis=0), np.median(c[-k:], axis=0)
        t0, t1 = float(c0.sum()), float(c1.sum())
        if t0 <= 0 or t1 <= 0:
            return None
        best = None
        for i in range(c.shape[1]):
            o0, o1 = t0 - c0[i], t1 - c1[i]
            if c0[i] <= 0 or o0 <= 0:
                continue
            own, others = c1[i] / c0[i], o1 / o0
            held = t1 / (o1 + c0[i] * others)  # the total's end had this term fallen as the others
            if (own >= t["min_own_ratio"] and others <= t["max_others_ratio"]
                    and c1[i] / t1 >= t["min_share"] and held >= t["min_held"]
                    and (best is None or held > best[1])):
                best = (i, held, own, others)
        if best is None:
            return None
        i, held, own, others = best
        names = fit["names"]
        name = names[i]
        rest = [m for j, m in enumerate(names) if j != i]
        ev = {"component": name, "share_start": round(float(c0[i] / t0), 4), "share_end": round(float(c1[i] / t1), 4),
              "own_change": round(float(own), 3), "others_change": round(float(others), 3),
              "held_up": round(float(held), 3), "total_start": t0, "total_end": t1,
              "fit_residual": float(fit["residual"]),
              "components": ", ".join(f"{fmt(float(fit['weights'][j]))} x {m} ({c0[j] / t0:.0%} -> {c1[j] / t1:.0%})"
                                      for j, m in enumerate(names)),
              "shared_steps": fit["shared"],
              "terms": [{"metric": m, "weight": float(fit["weights"][j]), "start": float(c0[j]),
                         "end": float(c1[j]), "share_start": round(float(c0[j] / t0), 4),
                         "share_end": round(float(c1[j] / t1), 4)} for j, m in enumerate(names)],
              "own_fall": round(float(1 / own), 3), "others_fall": round(float(1 / others), 3),
              "total_end_had_it_fallen": float(t1 / held)}
        band = 1 + t["level_band"]
        if ev["own_change"] >= band:
            moves = f"rises {fmt(ev['own_change'])}x"
        elif ev["own_change"] <= 1 / band:
            moves = f"falls only {fmt(ev['own_fall'])}x"
        else:
            moves = "stays level"
        msg = (f"{name} holds {total.metric} up: it {moves} (from {ev['share_start']:.0%} to {ev['share_end']:.0%} "
               f"of the total) while the other terms ({', '.join(rest)}) fall {fmt(ev['others_fall'])}x; had it "
               f"fallen as they did, {total.metric} would end {fmt(ev['held_up'])}x lower "
               f"({fmt(ev['total_end_had_it_fallen'])} instead of {fmt(t1)}).")
        fixes = [(f"Re-weight the terms: raise the weight of {name} (or lower the others') so the optimiser "
                  "stops trading it away"),
                 "Normalise each term by its initial value (loss_i / loss_i at step 0) so all start on one scale",
                 "Learn the weights: GradNorm, or uncertainty weighting (Kendall et al. 2018)",
                 f"Check {name}'s targets, labels and units: a term on another scale or fed wrong labels cannot fall"]
        return self.finding(run, total, fit["steps"][0], fit["steps"][-1], msg, ev, fixes)


def composite(total: Series, candidates: list[Series], t: dict) -> dict | None:
    """``total`` as a near-exact non-negative weighted sum of two or more ``candidates`` on the
    steps they share: ``{names, weights, terms, steps, residual}``, or None."""
    steps, y = _last_per_step(total)
    keep = []
    for s in candidates:
        st, v = _last_per_step(s)
        if len(st) and _shared(steps, st).mean() >= 0.9:  # logged beside the total (not per epoch)
            keep.append((s.metric, st, v))
    if len(keep) < 2:
        return None
    at = steps
    for _, st, _ in keep:
        at = at[_shared(at, st)]
    shared = len(at)
    at = at[:: shared // MAX_ROWS + 1]  # a near-exact sum shows on a thinned sample as well
    cols = [v[np.searchsorted(st, at)] for _, st, v in keep]
    y = y[np.searchsorted(steps, at)]
    x = np.column_stack(cols)
    ok = np.isfinite(y) & np.isfinite(x).all(axis=1)
    steps, y, x = at[ok], y[ok], x[ok]
    if len(y) < max(t["min_points"], 5 * (len(keep) + 1)) or (y < 0).any() or (x < 0).any() or not (y > 0).any():
        return None
    names = [m for m, _, _ in keep]
    copies = [j for j in range(x.shape[1]) if _residual(x[:, [j]], y, _nnls(x[:, [j]], y)) < t["max_residual"]]
    cols = [j for j in range(x.shape[1]) if j not in copies and x[:, j].any()]
    if len(cols) < 2:
        return None
    w = _nnls(x[:, cols], y)
    used = [c for c, wj in zip(cols, w) if wj > 0]
    if len(used) < 2:
        return None
    w = w[w > 0]
    terms = x[:, used] * w
    resid = float(np.linalg.norm(terms.sum(axis=1) - y))
    var = float(np.linalg.norm(y - y.mean()))
    if resid > t["max_residual"] * float(np.linalg.norm(y)) or resid > t["max_residual_var"] * var:
        return None
    return {"names": [names[j] for j in used], "weights": w, "terms": terms, "steps": steps, "shared": shared,
            "residual": resid / float(np.linalg.norm(y))}


def _nnls(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Non-negative least squares by elimination: refit without the most negative weight until
    none is negative (a handful of columns; exact sums come out in one fit)."""
    scale = np.linalg.norm(x, axis=0)
    scale[scale == 0] = 1.0
    active = list(range(x.shape[1]))
    w = np.zeros(x.shape[1])
    while active:
        sol = np.linalg.lstsq(x[:, active] / scale[active], y, rcond=None)[0] / scale[active]
        if (sol >= 0).all():
            w[active] = sol
            break
        active.pop(int(np.argmin(sol)))
    return w


def _residual(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    return float(np.linalg.norm(x @ w - y)) / max(float(np.linalg.norm(y)), 1e-300)


def _shared(steps: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Which of the sorted unique ``steps`` the sorted unique ``other`` also has."""
    if len(steps) == len(other) and np.array_equal(steps, other):
        return np.ones(len(steps), dtype=bool)
    i = np.minimum(np.searchsorted(other, steps), len(other) - 1)
    return other[i] == steps


def _last_per_step(s: Series) -> tuple[np.ndarray, np.ndarray]:
    """Unique sorted steps and the value last logged at each (a restart logs a step again)."""
    if len(s.steps) < 2 or bool(np.all(s.steps[1:] > s.steps[:-1])):
        return s.steps, s.values
    rev = s.steps[::-1]
    st, idx = np.unique(rev, return_index=True)
    return st, s.values[::-1][idx]


def _level(s: Series) -> float:
    v = s.values[np.isfinite(s.values)]
    return float(np.median(v)) if len(v) else 0.0
