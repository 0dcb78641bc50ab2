from __future__ import annotations

import numpy as np

from lossctl.detectors.base import Detector, RunView
from lossctl.detectors.epochs import val_period
from lossctl.detectors.stats import line_fit, median, percentile, robust_sigma

SEARCH_POINTS = 1 << 16  # the period search works on at most this many (block-averaged) points
MAX_PAIRS = 200_000  # correlations use at most this many pairs of points


OFF_PERIOD = (0.125, 0.25, 0.375, 0.5)  # shares of an epoch: where a period decorrelates


class EpochPeriodic(Detector):
    """A saw-tooth in the per-step training loss that repeats every epoch (data not shuffled).

    What it flags: a per-step training loss whose ups and downs within an epoch come back, batch
    for batch, in the next epoch: after the trend is removed, the loss at each step correlates
    {min_corr:.0%} or more with the loss one epoch later (and again two epochs later), at least
    {min_z:.0f} times what noise gives for that many points and by {min_contrast} more than
    somewhere off the period, on both sides (an eighth, a quarter, three eighths or half an
    epoch: a slow wander correlates as well a little closer, while data sorted into similar
    class blocks also correlates a block off but not half a block off), with a pattern of at least
    {min_amplitude:.0%} of the loss level that is not one odd batch per epoch (a small last
    batch). It needs at least {min_points_per_epoch:.0f} logged points per epoch and
    {min_epochs:.0f} epochs; per-epoch logs cannot show it, and fewer points per epoch cannot
    tell it from a staircase (a loss that drops at each epoch boundary, as a fine-tuned model
    sees its examples again, and is flat between: the moving average below turns such steps
    into a ramp that repeats every epoch). Not flagged: a logged learning rate
    that restarts or cycles with the same period (a schedule), and a loss averaged since the
    start of each epoch (Keras batch-level logs), whose step-to-step change shrinks like 1/k.

    How: the epoch length is read from the spacing of the validation points when they are
    logged once per epoch. Without them it is searched by the autocorrelation of the loss's
    step-to-step changes; the search asks more ({search_min_corr:.0%} correlation, the
    batch-to-batch detail repeating too, at least {search_min_diff_corr:.0%}), because only a
    fixed data order repeats the detail: a schedule cycle of several epochs repeats just the
    smooth shape. The trend is removed with a moving average exactly one epoch wide, on a log
    scale when the loss is positive (on ranks otherwise), so the verdict does not depend on the
    loss's scale; logging every few steps works as long as an epoch keeps several points.

    Why it matters: without shuffling, every epoch feeds the batches in the same order (often
    sorted by label or target): the model drifts towards whatever class or target range it saw
    last, the gradients are biased within the epoch, and the final weights depend on the last
    batches of the last epoch.

    What to do: shuffle the training data every epoch (DataLoader(shuffle=True); tf.data
    shuffle with a buffer at least the dataset size; sklearn.utils.shuffle before batching), and
    check the sampler (DistributedSampler needs set_epoch each epoch). A learning rate stepped
    per epoch with restarts draws the same picture: log it to tell them apart.
    """

    kind = "epoch_periodic"
    severity = "warning"
    summary = "a saw-tooth repeating every epoch (data not shuffled)"
    thresholds = {"min_corr": 0.5, "min_z": 4.0, "min_contrast": 0.4, "min_amplitude": 0.1,
                  "min_points_per_epoch": 8, "min_epochs": 3,
                  "search_min_corr": 0.6, "search_min_z": 6.0, "search_min_diff_corr": 0.5}

    def detect(self, run: RunView):
        t = self.t
        if (judged := self.judged(run, "loss", min_points=t["min_points_per_epoch"] * t["min_epochs"])) is None:
            return []
        s, f = judged
        positive = bool(np.all(f.values > 0))
        g = _grid(f.steps, np.log(f.values) if positive else _ranks(f.values))
        if g is None:
            return []
        dt, z = g
        period, source = val_period(run, f.steps, dt)
        if source == "per-epoch":
            return []  # validation as often as training: per-epoch logs cannot show a within-epoch pattern
        ev = None
        if period is not None:
            ev = self._test(z, period / dt, searched=False)
        else:
            source = "autocorrelation search"
            for lag in _search(z, t):
                ev = self._test(z, lag, searched=True)
                if ev is not None:
                    break
        if ev is None:
            return []
        period = round(ev.pop("lag") * dt)
        if _lr_cycles(run, period, ev["epochs"]):
            return []  # the logged lr cycles with the same period: a schedule, not the data order
        ev = {"period": period, "period_from": source, **ev}
        ev.update(_lr_facts(run))
        size = ""
        if positive:  # the pattern's high/low ratio (90th/10th percentile of the per-phase level)
            ratio = float(np.exp(ev["amplitude"]))
            ev["amplitude_ratio"] = round(ratio, 3)
            ev["swing"] = round(ratio - 1, 3)  # the same as a share of the level
            size = (f", swinging by a factor of {ev['amplitude_ratio']:.1f} within each epoch" if ratio >= 2
                    else f", swinging by {ev['swing']:.0%} of its level within each epoch")
        ev["amplitude_units"] = "log" if positive else "rank"
        how = ("one epoch by the validation spacing" if source == "validation spacing"
               else "found by autocorrelation")
        msg = (f"{s.metric} repeats the same pattern every {period:,} steps ({how}): correlation "
               f"{ev['correlation']:.2f} between consecutive epochs over {ev['epochs']:.0f} epochs{size}.")
        return [self.finding(run, s, f.steps[0], f.steps[-1], msg, ev, _suggest(ev))]

    def _test(self, z: np.ndarray, lag: float, searched: bool) -> dict | None:
        """Does ``z`` (on a regular grid) repeat every ``lag`` points? Evidence if clearly so, else None."""
        t = self.t
        epochs = len(z) / lag
        if lag < t["min_points_per_epoch"] or epochs < t["min_epochs"]:
            return None
        r, offset = _detrend(z, lag)
        if len(r) < 2 * t["min_points_per_epoch"]:
            return None
        # one odd batch per epoch (a small last batch, a logging artefact) is not a saw-tooth:
        # leave out the phase that stands out most and judge the rest
        nph = int(min(max(round(lag), 1), 64))
        pos = np.arange(offset, offset + len(r))
        if lag == int(lag):
            phase = (pos % int(lag)) * nph // int(lag)
        else:
            phase = np.minimum((np.mod(pos, lag) * (nph / lag)).astype(np.int64), nph - 1)
        cnt = np.bincount(phase, minlength=nph)
        pattern = np.bincount(phase, weights=r, minlength=nph) / np.maximum(cnt, 1)
        pattern = pattern[cnt > 0]
        dev = np.abs(pattern - median(pattern))
        odd = np.zeros(nph, bool)
        odd[np.flatnonzero(cnt > 0)[np.argmax(dev)]] = True  # the phase that stands out most
        odd[np.flatnonzero(cnt > 0)[dev > 5 * robust_sigma(pattern)]] = True  # and any far outside the rest
        keep = ~odd[phase]
        pattern = pattern[~odd[cnt > 0]] if (~odd[cnt > 0]).sum() >= 3 else pattern
        # with logging that does not divide the epoch (lag 11.5 points), point i and point i + lag
        # are different batches; a whole number of epochs later they are the same ones again
        k = _whole_multiple(lag, epochs, t["min_epochs"])
        c1, m1 = _corr_at(r, keep, k * lag)
        if m1 < t["min_points_per_epoch"]:
            return None
        z1 = c1 * np.sqrt(m1)
        min_corr, min_z = ((t["search_min_corr"], t["search_min_z"]) if searched
                           else (t["min_corr"], t["min_z"]))
        if c1 < min_corr or z1 < min_z:
            return None
        # a period, not merely a slow wander: somewhere off the period (an eighth to half an epoch,
        # on both sides) the correlation must be far lower. A wander correlates as well or better
        # a little closer; data sorted into k similar class blocks also correlates 1/k epoch off
        off = min(max(_corr_at(r, keep, (k + f) * lag)[0], _corr_at(r, keep, (k - f) * lag)[0])
                  for f in OFF_PERIOD)
        if c1 - off < t["min_contrast"]:
            return None
        c2 = None
        if epochs >= 4 * k:  # and it repeats again as far again later
            c2 = _corr_at(r, keep, 2 * k * lag)[0]
            if c2 < 0.8 * min_corr:
                return None
        cd = None
        if searched:  # the batch-to-batch detail must repeat too (the same batches in the same order)
            # jumps (a reset, a block boundary) are left out: the detail between them must repeat
            d = np.diff(r)
            sub = d[:: max(1, len(d) // 100_000)]  # the spread of a subsample is plenty for a cut-off
            calm = np.abs(d - median(sub)) <= 5 * robust_sigma(sub)
            cd = _corr_at(d, keep[1:] & keep[:-1] & calm, lag)[0]
            if cd < t["search_min_diff_corr"]:
                return None
        p10, p90 = percentile(pattern, [10, 90])
        amplitude = float(p90 - p10)
        if amplitude < np.log1p(t["min_amplitude"]):
            return None
        if _running_average(z, lag, nph):
            return None  # a loss averaged since each epoch's start (Keras batch logs), not the data order
        ev = {"lag": lag, "points_per_epoch": round(lag, 1), "epochs": round(epochs, 1),
              "correlation": round(c1, 3), "z_score": round(z1, 1), "off_period_correlation": round(off, 3)}
        if c2 is not None:
            ev["correlation_2_epochs"] = round(c2, 3)
        if cd is not None:
            ev["step_change_correlation"] = round(cd, 3)
        ev["amplitude"] = round(amplitude, 4)
        return ev


def _whole_multiple(lag: float, epochs: float, min_epochs: float) -> int:
    """The number of epochs (1-3) after which ``lag`` lands nearest a whole number of points,
    keeping enough epochs to compare; 1 when the lag is whole."""
    ks = [k for k in (1, 2, 3) if epochs / k >= min_epochs] or [1]
    return min(ks, key=lambda k: (round(abs(k * lag - round(k * lag)), 2), k))


def _running_average(z: np.ndarray, lag: float, nph: int) -> bool:
    """Is ``z`` a running mean that restarts every epoch (Keras batch-level logs)? Its step-to-step
    change shrinks like 1/k with the position k after the restart: on a log-log scale the mean
    change per position falls with a slope near -1, where a per-batch loss has none."""
    if nph < 8:
        return False
    if len(z) > MAX_PAIRS:  # the last whole epochs are plenty to see how the changes shrink
        z = z[len(z) - int(MAX_PAIRS // lag * lag):]
    d = np.abs(np.diff(z))
    pos = np.arange(1, len(z))
    phase = np.minimum((np.mod(pos, lag) * (nph / lag)).astype(np.int64), nph - 1)
    cnt = np.bincount(phase, minlength=nph)
    mean = np.bincount(phase, weights=d, minlength=nph) / np.maximum(cnt, 1)
    k = (np.arange(nph) - int(np.argmax(mean))) % nph  # positions after the restart (the largest change)
    ok = (k >= 1) & (mean > 0)
    if ok.sum() < 4:
        return False
    slope = line_fit(np.log(k[ok]), np.log(mean[ok]))[0]
    return bool(slope < -0.6)


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks scaled to [0, 1]: a monotone, scale-free stand-in for a log when values are <= 0."""
    r = np.empty(len(x))
    r[np.argsort(x, kind="stable")] = np.arange(len(x))
    return r / max(len(x) - 1, 1)


def _grid(steps: np.ndarray, z: np.ndarray):
    """``(dt, values)`` on a regular grid of the median logging interval (interpolated
    where points are missing), or None when the logging is too irregular for one."""
    d = np.diff(steps)
    dt = float(median(d))
    if dt <= 0:
        return None
    if np.all(d == d[0]):
        return dt, z
    n = int((steps[-1] - steps[0]) // dt) + 1
    if n > 4 * len(steps):
        return None
    return dt, np.interp(steps[0] + dt * np.arange(n), steps, z)


def _detrend(z: np.ndarray, lag: float):
    """``z`` minus a centred moving average one period wide: ``(residual, index of its first point)``.

    A window of one full period averages any per-epoch pattern away, so the trend keeps the slow
    descent and the residual keeps the pattern. An even window is applied as the mean of two
    neighbouring windows (the classical 2xP moving average), so it stays centred.
    """
    w = max(round(lag), 2)
    c = np.r_[0.0, np.cumsum(z)]
    m = (c[w:] - c[:-w]) / w  # m[i] = mean of z[i:i+w]
    if w % 2:
        return z[w // 2: w // 2 + len(m)] - m, w // 2
    m = (m[:-1] + m[1:]) / 2
    return z[w // 2: w // 2 + len(m)] - m, w // 2


def _corr_at(x: np.ndarray, keep: np.ndarray, lag: float, max_pairs: int = MAX_PAIRS):
    """Pearson correlation of ``x[i]`` with ``x[i + lag]`` (linear interpolation for a fractional
    lag) over the points ``keep`` allows: ``(correlation, pairs)``. Long series use every k-th
    pair (at most ``max_pairs``): plenty for a correlation, and O(n) stays cheap."""
    l0 = int(np.floor(lag))
    w = lag - l0
    m = len(x) - l0 - (1 if w > 0 else 0)
    if m < 3:
        return 0.0, 0
    k = max(1, -(-m // max_pairs))
    a = x[:m:k]
    b = x[l0:l0 + m:k] if w == 0 else (1 - w) * x[l0:l0 + m:k] + w * x[l0 + 1:l0 + 1 + m:k]
    k = keep[:m:k]
    if not k.all():
        a, b = a[k], b[k]
    if len(a) < 3:
        return 0.0, 0
    a = a - a.mean()
    b = b - b.mean()
    den = np.sqrt(float(a @ a) * float(b @ b))
    return (float(a @ b) / den if den > 0 else 0.0), len(a)


def _search(z: np.ndarray, t: dict) -> list[float]:
    """Likely periods (in grid points), most likely first, from the autocorrelation of the loss's
    step-to-step changes: differencing removes the trend, and a fixed data order repeats the
    batch-to-batch detail (which a schedule cycle does not)."""
    n = len(z)
    block = max(1, -(-n // SEARCH_POINTS))  # long logs: search on block means, refine at full resolution
    zb = z[: n // block * block].reshape(-1, block).mean(axis=1) if block > 1 else z
    d = np.diff(zb)
    d = d - d.mean()
    m = len(d)
    min_lag = max(2, int(np.ceil(t["min_points_per_epoch"] / block)))
    max_lag = int(len(zb) // t["min_epochs"])
    if max_lag <= min_lag + 1 or m <= max_lag:
        return []
    size = 1 << int(np.ceil(np.log2(2 * m)))
    spec = np.fft.rfft(d, size)
    acf = np.fft.irfft(spec * np.conj(spec), size)[: max_lag + 1]
    if acf[0] <= 0:
        return []
    acf = acf / (m - np.arange(max_lag + 1)) / (acf[0] / m)
    lags = np.arange(min_lag, max_lag + 1)
    vals = acf[min_lag: max_lag + 1]
    peak = np.r_[False, (vals[1:-1] > vals[:-2]) & (vals[1:-1] >= vals[2:]), False]
    if not peak.any():
        return []
    best = float(vals[peak].max())
    if best < 0.5 * t["search_min_diff_corr"]:
        return []
    # the fundamental: the shortest peak nearly as strong as the best (multiples repeat it); then
    # the best peak itself (a pattern made of similar blocks also peaks at the block length)
    cands = [int(lags[peak][vals[peak] >= 0.8 * best][0]), int(lags[peak][np.argmax(vals[peak])])]
    if block == 1:
        return [float(c) for c in dict.fromkeys(cands)]
    dz = np.diff(z)
    return list(dict.fromkeys(_refine(dz, c * block, block, t) for c in cands))


def _refine(dz: np.ndarray, lag: int, block: int, t: dict) -> float:
    """The best whole lag near ``lag`` at full resolution (block means know a period only to within
    a block, and a period that is not a whole number of blocks shows up at twice its length)."""
    stride = max(1, len(dz) // 20_000)  # a subsample of pairs is plenty to rank nearby lags
    idx = np.arange(0, max(len(dz) - lag - block - 1, 0), stride)

    def best_near(center: int):
        cands = np.arange(max(2, center - block), center + block + 1)
        cands = cands[idx[-1] + cands < len(dz)] if len(idx) else cands[:0]
        if len(cands) == 0:
            return center, -1.0
        a = dz[idx] - dz[idx].mean()
        b = dz[idx[:, None] + cands[None, :]]  # one column per candidate lag
        b = b - b.mean(axis=0)
        den = np.sqrt(float(a @ a) * np.einsum("ij,ij->j", b, b))
        scores = np.where(den > 0, (a @ b) / np.where(den > 0, den, 1), 0.0)
        k = int(np.argmax(scores))
        return int(cands[k]), float(scores[k])

    lag, score = best_near(lag)
    for k in (2, 3):  # prefer the fundamental when a fraction of the lag repeats as well
        if lag / k >= t["min_points_per_epoch"]:
            sub, sub_score = best_near(round(lag / k))
            if sub_score >= 0.8 * score:
                return float(sub)
    return float(lag)


def _lr_cycles(run: RunView, period: float, epochs: float) -> bool:
    """Does the logged learning rate cycle (restart or oscillate) with about this period?"""
    lr = run.role("lr")
    if lr is None:
        return False
    ok = np.isfinite(lr.values) & (lr.values > 0)
    st, v = lr.steps[ok].astype(np.float64), lr.values[ok]
    if len(v) < 3 or v.max() <= v.min() * 1.05:
        return False
    up = st[1:][v[1:] > v[:-1] * 1.1]  # restarts / jumps up
    if len(up) >= max(2, 0.5 * epochs) and median(np.diff(up)) <= 1.1 * period:
        return True
    # a cycle must climb back up again and again; a decay stepped every epoch never does, and
    # cannot draw a repeating saw-tooth in the loss
    rise = np.diff(np.log(v))
    if rise[rise > 0].sum() < 0.5 * epochs * np.log(1.1):
        return False
    g = _grid(st, np.log(v))
    if g is None:
        return False
    dt, lz = g
    lag = period / dt
    if lag < 4 or len(lz) < 3 * lag:
        return False  # too coarse or too short to show a cycle of this period
    r, _ = _detrend(lz, lag)
    if len(r) < 4 or np.ptp(r) < np.log(1.1):
        return False
    return _corr_at(r, np.ones(len(r), bool), lag)[0] >= 0.5


def _lr_facts(run: RunView) -> dict:
    lr = run.role("lr")
    v = lr.values[np.isfinite(lr.values)] if lr is not None else np.array([])
    if len(v) == 0:
        return {"lr_logged": False}
    return {"lr_logged": True, "lr_constant": bool(v.max() <= v.min() * 1.0001)}


def _suggest(ev: dict) -> list[str]:
    out = [("Shuffle the training data every epoch: DataLoader(..., shuffle=True); with tf.data, "
            "dataset.shuffle(buffer_size >= dataset size, reshuffle_each_iteration=True) before .batch(); "
            "with NumPy/scikit-learn, sklearn.utils.shuffle(X, y) before splitting into batches"),
           ("Check the sampler: a SequentialSampler or a custom sampler ignores shuffle; a "
            "DistributedSampler needs sampler.set_epoch(epoch) every epoch; data stored sorted by label or "
            "target also needs a shuffle before the train/validation split")]
    if not ev.get("lr_logged"):
        out.append("If the learning rate is scheduled per epoch with restarts (cyclic or one-cycle per "
                   "epoch), log it: a per-epoch lr cycle draws the same pattern")
    return out
