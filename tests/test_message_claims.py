"""Every sentence a finding prints is true of the evidence it carries (issue 13).

For every finding on every run of the dev corpus, the bench corpus, ``sample_logs/`` and the
real public logs: each number the message prints equals (to the precision printed) a value in
its evidence (or a threshold in force, where the message states the rule), and each
quantitative word in it ("barely", "dead flat", "keeps swinging", "stays level") holds for
the evidence by the rule in ``CLAIMS`` below, the same threshold ``lossctl explain KIND``
documents. A word of a message that is neither a claim of the table nor a plain word in
``PLAIN`` fails the test: a new word comes with its rule.

Everything runs in this process (no subprocess per run), so all corpora take seconds.
"""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path

import numpy as np
import pytest

from lossctl.analysis import analyze_run
from lossctl.config import Config
from lossctl.detectors import BY_KIND
from lossctl.runs import load_runs

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
ROOTS = [SHARED / "corpus" / "dev", ROOT / "bench" / "corpus" / "out", ROOT / "sample_logs",
         *sorted((SHARED / "real").glob("*/*"))]


def log_(x):
    return math.log(x) if x > 0 else -math.inf


# --- the claims: phrase (regex) -> what must hold of the evidence e and thresholds t --------
# one row per quantitative word or phrase any message prints; predicates read only the
# finding's evidence and the thresholds of its kind

def _stretch_needed(e, t):
    """60% of the run at 1.2x, down to 35% at 1.5x and beyond, more below 1.2x (log scale of the
    ratio, one line)."""
    r = e.get("rise_ratio")
    if r is None:
        return t["short_stretch"]
    a = min(math.log(r / t["min_ratio"]) / math.log(t["strong_ratio"] / t["min_ratio"]), 1.0)
    return t["min_stretch"] + a * (t["short_stretch"] - t["min_stretch"])


def _spike_recovered(e, t):
    """Back down: the level after the jump is no more than recover_fraction of the jump above
    the level before it (on the log scale for a positive loss, as the detector measures)."""
    b, a, p = e["level_before"], e["level_after"], e["peak"]
    if "peak_ratio" in e:
        return log_(a) - log_(b) <= t["recover_fraction"] * (log_(p) - log_(b)) + 1e-9
    return a - b <= t["recover_fraction"] * (p - b) + 1e-9


CLAIMS: dict[str, list[tuple[str, object]]] = {
    "divergence": [
        (r"diverges", lambda e, t: (e.get("ratio") is None or e["ratio"] >= t["min_ratio"])
         and e["progress_lost"] >= t["min_progress_lost"]),
        (r"above the best", lambda e, t: e["last"] > e["best"]),
        (r"and then non-finite", lambda e, t: e["ends_nonfinite"]),
        (r"its progress", lambda e, t: e.get("ratio") is None),
        # an agent's return (collapse.py)
        (r"collapses", lambda e, t: e.get("objective") == "return" and e["last"] < e["best"]),
        (r"of its gain since the start, [^ ]+, lost", lambda e, t: e.get("gained_on_start")
         and t["min_progress_lost"] <= e["progress_lost"] < 1 and e["start_level"] < e["best"]),
        (r"all its gain since the start, [^ ]+, lost: it ends below it",
         lambda e, t: e.get("gained_on_start") and e["progress_lost"] >= 1 and e["last"] < e["start_level"]),
        ((r"its level never rose above its start, [^ ]+, and ends at [^ :]+: training left the agent worse "
          r"than it began"), lambda e, t: e.get("gained_on_start") is False and e["last"] * t["min_ratio"] <= e["start_level"]),
    ],
    "nonfinite": [
        (r"from the start of training",
         lambda e, t: e["finite_before"] < t["start_points"] or e["finite_before"] < t["start_fraction"] * e["points"]),
        (r"after rising [^ ]+ above its low", lambda e, t: e["rise_before"] >= t["rise_before"]),
        (r"on isolated steps", lambda e, t: e["recovered"] and e["longest_nonfinite_run"] <= t["max_isolated_run"]),
        (r"in bursts \(up to [^ ]+ points in a row\)", lambda e, t: e["recovered"] and e["longest_nonfinite_run"] > t["max_isolated_run"]),
        (r"the loss recovers after them", lambda e, t: e["recovered"]),
        (r"after [^ ]+ finite points", lambda e, t: not e["recovered"]),
        (r"\(last [^)]+\)", lambda e, t: "last_finite" in e),
        (r"from step [^ ]+ too\)", lambda e, t: "also" in e),
        (r"NaN iterations", lambda e, t: e["nan_iterations"] > 0),
    ],
    "oscillation": [
        (r"keeps swinging", lambda e, t: e["back_and_forth"] >= t["min_back_and_forth"]
         and e["up_fraction"] >= t["min_up_fraction"] and e["amplitude_to_range"] >= t["min_amplitude_range"]),
        (r"up and down by a factor of", lambda e, t: e["swing_factor"] >= 1 + t["min_amplitude_level"]),
        (r"without settling", lambda e, t: e["late_amplitude_share"] >= t["min_late_share"]),
        (r"narrowing to [^ ]+ of that band over the last quarter of the run",
         lambda e, t: (e["late_amplitude_share"] or 0) < t["min_late_share"]),
        (r"moves add up to [^ ]+ its net change", lambda e, t: e["back_and_forth"] >= t["min_back_and_forth"]),
        (r"of its range", lambda e, t: e["amplitude_to_range"] >= t["min_amplitude_range"]),
        (r"has stalled meanwhile", lambda e, t: e["train_trend_change"] >= -t["max_train_progress"]),
        (r"averaged between evaluations", lambda e, t: e["train_points_per_eval"] <= t["max_train_per_eval"]),
    ],
    "spike": [
        # short runs
        (r"spikes (at step|\d+ times \(steps)", lambda e, t: 1 <= e["spikes"] <= t["max_spikes"]),
        (r"[^ ]+ its local level", lambda e, t: "significance" in e and e["significance"] >= t["significance"]
         and ("peak_ratio" not in e or e["peak_ratio"] >= t["min_ratio"])),
        (r"up to", lambda e, t: e["peak"] > e["level"]),
        (r"ordinary batches reach", lambda e, t: e["ordinary_p90_ratio"] < e["peak_ratio"]),
        (r"is back down within", _spike_recovered),
        # per-evaluation
        (r"the higher of its neighbours", lambda e, t: e["peak_ratio"] >= t["evaluation_ratio"]),
        (r"no other evaluation is above", lambda e, t: e.get("other_evaluations_max_ratio") is None
         or e["other_evaluations_max_ratio"] < e["others_below_ratio"]),
        (r"recovers at the next evaluation", lambda e, t: e["after"] * t["evaluation_ratio"] <= e["peak"]),
        # long runs
        (r"spikes [^ ]+ times? in", lambda e, t: e["spikes"] >= 1 and e["rule"] == "olmo-core stability monitor"),
        (r"std above it", lambda e, t: e["peak_std"] > t["long_std"]),
        (r"highest [^ ]+-step spike score", lambda e, t: e["max_spike_score"] > 0),
        (r"the largest, at step", lambda e, t: e["peak_std"] == max(x["height_std"] for x in e["largest"])),
        (r"is back under the threshold within", lambda e, t: e["largest"][0]["recovery_steps"] is not None),
        (r"is not back under the threshold", lambda e, t: e["largest"][0]["recovery_steps"] is None),
        (r"spiked first for [^ ]+ of", lambda e, t: 0 <= e["grad_norm_first"] <= e["spikes"]),
        (r"its running mean", lambda e, t: e["peak_ratio"] > 1),
    ],
    "plateau": [
        (r"barely improves", lambda e, t: abs(e["relative_improvement"]) < (
            t["max_progress_epoch_log"] if e["per_epoch_log"] else t["max_progress"])),
        (r"% lower", lambda e, t: e["relative_improvement"] >= 0),
        (r"% higher", lambda e, t: e["relative_improvement"] < 0),
        (r"flat from step", lambda e, t: e["flat_fraction"] >= t["min_flat_fraction"]
         and e["flat_deviation"] <= t["flat_band"] + 1e-9),
        (r"sits dead flat", lambda e, t: e["chance_flat_fraction"] >= t["chance_flat_fraction"]
         and e["chance_deviation"] <= t["chance_band"] + 1e-9),
        (r"the chance level for", lambda e, t: abs(e["chance_level_observed"] - e["chance_level"])
         <= t["chance_tolerance"] * e["chance_level"] + 1e-12),
        (r"stalls at", lambda e, t: e["flat_fraction"] >= t["stall_flat_fraction"]
         and e["flat_deviation"] <= t["flat_band"] + 1e-9),
        (r"after falling only", lambda e, t: 1 <= e["drop"] < t["stall_max_drop"]),
        (r"settles within", lambda e, t: e["flat_fraction"] >= t["min_flat_fraction"]
         and e["flat_deviation"] <= t["flat_band"] + 1e-9),
        (r"ends dead flat \(within", lambda e, t: e["dead_flat_range"] <= t["chance_band"] + 1e-9),
        (r"the validation loss at the same level", lambda e, t: abs(log_(e["val_level"] / e["level"]))
         <= math.log1p(t["same_level"]) + 1e-12),
        (r"gives every input the same output", lambda e, t: e["pattern"] == "constant_output"
         and e.get("quality_gain", 0) <= t["flat_band"] and e.get("val_change", 0) >= -t["flat_band"]),
        (r"with a constant learning rate", lambda e, t: e["lr_constant"]),
        (r"learning rate [^ ]+ at its start", lambda e, t: not e["lr_constant"]),
    ],
    "overfitting": [
        (r"rises from its best", lambda e, t: e["val_last"] > e["val_best"]
         and (e.get("rise_ratio") is None or e["rise_ratio"] >= t["mild_ratio"])),
        (r"over the last", lambda e, t: e["stretch_fraction"] >= _stretch_needed(e, t)),
        (r"keeps falling", lambda e, t: e["train_last"] < e["train_at_best"]
         and (e.get("train_change") is None or e["train_change"] <= t["max_train_change"])),
        (r"x lower\)", lambda e, t: e["train_last"] < e["train_at_best"]),
        # few evaluations: the direction of every move after the best
        (r"rises at every one of its [^ ]+ evaluations", lambda e, t:
         e["evaluations_rising"] == e["evaluations_after_best"] >= t["few_min_moves"]
         and e["rise_ratio"] >= t["few_min_ratio"]),
        (r"rises at [0-9]+ of its [^ ]+ evaluations", lambda e, t:
         e["evaluations_after_best"] - 1 <= e["evaluations_rising"] and e["evaluations_after_best"] >= t["few_min_moves"]
         and e["rise_ratio"] >= t["few_min_ratio"]),
        # a validation quality metric over the same steps
        (r"confirms it got worse", lambda e, t: e["quality_gain"] < -t["quality_band"]),
        (r"yet\s+\S*\s*keeps improving", lambda e, t: e["quality_gain"] > t["quality_band"]),
        (r"grows over-confident on the examples it gets wrong \(calibration\) rather than worse at the task",
         lambda e, t: e["quality_gain"] > t["quality_band"] and e["calibration"]),
        (r": flat\)", lambda e, t: abs(e["quality_gain"]) <= t["quality_band"]),
    ],
    "train_val_mismatch": [
        (r"starts [^ ]+ above\s+\S*\s*at the same steps", lambda e, t: e["ratio_at_start"] >= t["min_ratio"]
         and e["lowest_ratio_at_start"] >= t["min_ratio_each"]),
        (r"\([^ ]+ vs [^ ]+ over its first [^ ]+ evaluations", lambda e, t: e["val_start"] > e["train_at_start"]
         and e["val_points_compared"] <= t["first_points"]),
        (r"worse than training's own starting loss", lambda e, t: e["val_vs_train_initial"] >= 1),
        (r"about as high as training's own starting loss",
         lambda e, t: t["min_vs_initial"] <= e["val_vs_train_initial"] < 1),
        (r"stays flat(,| while training improves)", lambda e, t: e["val_flat"]
         and e["val_improvement"] < t["max_val_gain_flat"] and e["val_rise"] < t["max_val_gain_flat"]
         and e["train_improvement"] >= t["min_train_gain"]),
        (r"never below (that|training's own starting) loss", lambda e, t: e["val_best"] >= e["train_initial"]
         and e["val_best_vs_train_initial"] >= t["min_best_vs_initial"]),
        (r"improves [^ ]+x\.", lambda e, t: e["train_improvement"] >= t["min_train_gain"]),
    ],
    "noisy": [
        (r"is noisy", lambda e, t: e["noisy_share"] >= t["min_noisy_share"]),
        (r"carried by rare batches", lambda e, t: e["tail_ratio"] >= t["min_tail_ratio"]),
        (r"a tenth of its steps lying [^ ]+ or more above the typical step",
         lambda e, t: e["tail_ratio"] >= t["min_tail_ratio"]),
        (r"batch-to-batch scatter", lambda e, t: e["noise_to_level"] >= t["min_noise_to_level"]
         and e["noise_to_decrease"] >= t["min_noise_to_decrease"]),
        (r"larger than any decrease of its trend", lambda e, t: e["trend_decrease"] == 0),
        (r"the trend is hard to read", lambda e, t: e["noisy_share"] >= t["min_noisy_share"]),
    ],
    "epoch_periodic": [
        (r"repeats the same pattern every [^ ]+ steps", lambda e, t: e["correlation"] >= t["min_corr"]),
        (r"one epoch by the validation spacing", lambda e, t: e["period_from"] == "validation spacing"),
        (r"found by autocorrelation", lambda e, t: e["period_from"] == "autocorrelation search"),
        (r"swinging by a factor of [^ ]+ within each epoch", lambda e, t: e["amplitude_ratio"] >= 2),
        (r"swinging by [^ ]+% of its level within each epoch", lambda e, t: t["min_amplitude"] <= e["swing"] < 1),
    ],
    "loss_imbalance": [
        (r"holds\s+up", lambda e, t: e["held_up"] >= t["min_held"] and e["share_end"] >= t["min_share"]),
        (r"it rises", lambda e, t: e["own_change"] >= 1 + t["level_band"]),
        (r"it falls only", lambda e, t: t["min_own_ratio"] <= e["own_change"] <= 1 / (1 + t["level_band"])),
        (r"it stays level", lambda e, t: 1 / (1 + t["level_band"]) < e["own_change"] < 1 + t["level_band"]),
        (r"other terms \([^)]*\) fall", lambda e, t: e["others_change"] <= t["max_others_ratio"]),
        (r"had it fallen as they did", lambda e, t: e["held_up"] >= t["min_held"]),
        (r"would end [^ ]+ lower", lambda e, t: e["held_up"] > 1),
    ],
}

def _words(text: str) -> set[str]:
    return set(text.split())


# words that say nothing about size or time beyond the numbers next to them
PLAIN = _words("""
a above after an and any at batches between by counter evaluations finite for from in
iterations its loss megatron's nan inf non-finite of ones or points printed reaches step steps
that the them to typical while with x so it classes ln run start end terms total instead would
ending level local rule flags llm-foundry's gradient norm mean std previous spike score logged
threshold averages pattern consecutive epochs epoch correlation each trend decrease whole
sigma than range band around net change moves add becomes are is over training as on point
neighbours model best
""")


# --- numbers ----------------------------------------------------------------------------------

NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[-+]?\d+)?(?:%|x)?")


def _printed(token: str) -> tuple[float, float, bool]:
    """(value, half a unit of its last printed digit, is a percentage)."""
    pct = token.endswith("%")
    body = token.rstrip("%x").replace(",", "")
    mant, _, exp = body.partition("e")
    decimals = len(mant.split(".")[1]) if "." in mant else 0
    half = 0.5 * 10.0 ** (-decimals) * (10.0 ** int(exp) if exp else 1.0)
    return float(body), half, pct


def _values(ev, key="") -> list[tuple[str, float]]:
    """Every number in the evidence (nested dicts and lists, and numbers written in strings)."""
    if isinstance(ev, bool) or ev is None:
        return []
    if isinstance(ev, (int, float)):
        return [(key, float(ev))]
    if isinstance(ev, dict):
        return [x for k, v in ev.items() for x in _values(v, k)]
    if isinstance(ev, list):
        return [x for v in ev for x in _values(v, key)]
    if isinstance(ev, str):
        return [(key, _printed(m)[0]) for m in NUMBER.findall(ev)]
    return []


def _matches(token: str, candidates: list[tuple[str, float]]) -> bool:
    p, half, pct = _printed(token)
    tol = half * (1 + 1e-9) + 1e-12 * abs(p)
    for key, v in candidates:
        if not math.isfinite(v):
            continue
        v = abs(v)  # the sign is a word ("lower", "higher"), checked as a claim
        if pct and (abs(100 * v - abs(p)) <= tol or (key.endswith("pct") and abs(v - abs(p)) <= tol)):
            return True
        if not pct and abs(v - abs(p)) <= tol:
            return True
    return False


# --- checking one finding ---------------------------------------------------------------------

class _Read(dict):
    """Thresholds that remember which were read: each one a claim rests on must be described in
    ``lossctl explain KIND`` (its detector's docstring)."""

    def __init__(self, *a):
        super().__init__(*a)
        self.read = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)


def problems(f, metrics: list[str]) -> list[str]:
    """What is wrong with one finding's message (empty when every claim holds)."""
    det = BY_KIND[f.kind]
    ev, t = f.evidence, _Read(det.thresholds)
    msg = f.message
    # metric names (which may hold digits and words) are names, not claims
    for m in sorted({m for m in {*metrics, f.metric} if not m.isalpha()}, key=len, reverse=True):
        msg = re.sub(rf"(?<![\w/]){re.escape(m)}(?![\w/])", " ", msg)
    out = []
    candidates = _values(ev) + [(k, float(v)) for k, v in dict.items(t)]
    for token in NUMBER.findall(msg):
        if not _matches(token, candidates):
            out.append(f"number {token} is in no evidence value")
    covered = msg
    for phrase, holds in CLAIMS[f.kind]:
        if re.search(phrase, msg):
            try:
                ok, why = holds(ev, t), ""
            except (KeyError, TypeError, IndexError) as exc:
                ok, why = False, f" (evidence lacks {exc})"
            if not ok:
                out.append(f"claim {phrase!r} does not hold{why}")
            covered = re.sub(phrase, " ", covered)
    for key in sorted(t.read):
        if "{" + key not in det.__doc__:
            out.append(f"threshold {key} licenses a word but `lossctl explain {f.kind}` does not describe it")
    words = re.findall(r"[A-Za-z][A-Za-z'+/-]*", NUMBER.sub(" ", covered))
    for w in words:
        if not all(part.lower().strip("'") in PLAIN or part == "" for part in w.split("/")):
            out.append(f"word {w!r} is neither a claim in CLAIMS[{f.kind!r}] nor in PLAIN")
    return out


@functools.cache
def _reports(root: Path) -> list:
    """Every run below ``root`` analysed once (the findings and the sweep tests share them)."""
    return [analyze_run(r, Config()) for r in load_runs(str(root)).runs]


def _findings(root: Path):
    for rep in _reports(root):
        for f in rep.findings:
            yield rep.run.name, f, list(rep.view.series)


@pytest.mark.parametrize("root", [p for p in ROOTS if p.exists()], ids=lambda p: p.name)
def test_every_message_is_true_to_its_evidence(root):
    bad = []
    for run, f, metrics in _findings(root):
        bad += [f"{run} {f.kind}: {p}\n    {f.message}" for p in problems(f, metrics)]
    assert not bad, "\n".join(bad)


def test_every_kind_has_its_claims():
    assert set(CLAIMS) == set(BY_KIND)


def test_checker_catches_a_false_word():
    """The check itself: 'dead flat' on a 4% range, a number nowhere in the evidence and an
    unknown word all fail."""
    from lossctl.findings import Finding

    ev = {"pattern": "constant_output", "level": 0.7, "val_level": 0.7, "flat_fraction": 0.8,
          "flat_deviation": 0.05, "flat_start_step": 10, "flat_end_step": 99, "dead_flat_range": 0.04,
          "dead_flat_from_step": 70}
    f = Finding(kind="plateau", severity="warning", run="r", metric="loss", start_step=10, end_step=99,
                message="loss settles within 10% of 0.7 from step 10 to 99 (80% of the run) and ends dead "
                        "flat (within 4.0% from step 70), the validation loss at the same level (0.7): the "
                        "model gives every input the same output.", evidence=ev, suggestions=[])
    assert problems(f, ["loss"]) == ["claim 'ends dead flat \\\\(within' does not hold"]
    f.message = "loss sits at 0.71, obviously."
    assert problems(f, ["loss"]) == ["number 0.71 is in no evidence value",
                                     "word 'sits' is neither a claim in CLAIMS['plateau'] nor in PLAIN",
                                     "word 'obviously' is neither a claim in CLAIMS['plateau'] nor in PLAIN"]


# --- the sweep section's sentences ------------------------------------------------------------
# each sentence is checked against the entry it was written from (a separation, the
# associations, the best run): its numbers are values of that entry, its words hold for it

def _only(e):
    return 0 < e["healthy_side"]["with"] and e["exceptions"] <= e["allowed_exceptions"]


SWEEP_CLAIMS: list[tuple[str, object]] = [
    (r"^All \d+ runs with", lambda e: e["kind_side"]["with"] == e["kind_side"]["runs"]),
    (r"^\d+ of the \d+ runs with", lambda e: e["kind_side"]["with"] < e["kind_side"]["runs"]
     and e["exceptions"] <= e["allowed_exceptions"]),
    (r"none of the \d+ with", lambda e: e["healthy_side"]["with"] == 0),
    (r"only \d+ of the \d+ with", _only),
    (r"without\s+(?:\S+\s+)?not counted", lambda e: e["not_covered"] > 0),
    (r"keep\s+(?:\S+\s+)?at or (below|above)", lambda e: e["type"] == "threshold"),
    (r"avoid", lambda e: e["type"] == "category"),
    (r"separates? them as well: the sweep cannot tell which matters", lambda e: bool(e["equally"])),
    (r"^No single hyperparameter separates", lambda e: e["reason"] == "no_split"),
    (r"no hyperparameter split has enough runs on both sides", lambda e: e["closest"] is None),
    (r"closest:", lambda e: e["closest"] is not None),
    (r"more than the \d+ allowed", lambda e: e["closest"]["exceptions"] > e["closest"]["allowed_exceptions"]),
    (r"^Too few runs on one side to look for what separates them",
     lambda e: all(g["reason"] == "too_few" for g in e["groups"])),
    (r"Spearman", lambda e: all(-1 <= a["spearman"] <= 1 for a in e["associations"] if a.get("spearman") is not None)),
    (r"lowest median final loss with [^;]+, highest with", lambda e: all(
        a["best"]["median_final"] <= a["worst"]["median_final"] for a in e["associations"] if a.get("best"))),
    (r"fewer than two values among runs that did not fail", lambda e: any(
        a["type"] != "numeric" and a.get("best") is None for a in e["associations"])),
    (r"no rank correlation", lambda e: any(a.get("spearman", 0) is None for a in e["associations"])),
    (r"failed runs? left out", lambda e: any(a["excluded_failed"] for a in e["associations"])),
    (r"^Best run:", lambda e: e["run"] is not None),
    (r"others judged against it are worse by the compare rule", lambda e: len(e["worse"]) <= e["judged"]),
]

SWEEP_PLAIN = _words("""
runs run with and of the did not were that from to at or below above in n on final loss
with highest lowest association its by than more allowed exceptions exception
diverged went nan/inf oscillated spiked plateaued overfit had a train/validation mismatch noisy
showed an epoch saw-tooth median val_loss against
""")


def sweep_problems(sw: dict) -> list[str]:
    from lossctl.sweep import sentences

    names = {e["run"] for e in sw["table"]} | set(sw["varying"])
    names |= {str(v) for e in sw["table"] for v in e["hparams"].values() if isinstance(v, str)}
    names |= {e["metric"] for e in sw["table"] if e["metric"]} | {k for s in sw["separations"] for k in s["kinds"]}
    entries = [(s["sentence"], s) for s in sw["separations"] if s["sentence"]]
    too_few = [s for s in sw["separations"] if s["reason"] == "too_few"]
    if too_few:
        entries.append((sentences.too_few_sentence(too_few, sw["runs"]), {"groups": too_few, "runs": sw["runs"]}))
    assoc = {"associations": sw["associations"]}
    entries += [(s, assoc) for s in sw["sentences"] if s.startswith("Association with the final loss")]
    if sw["best"] and sw["best"]["sentence"]:
        entries.append((sw["best"]["sentence"], sw["best"]))
    assert {s for s, _ in entries} >= set(sw["sentences"]), "a sweep sentence this test does not know"
    out = []
    for text, entry in entries:
        msg = text
        for m in sorted(names, key=len, reverse=True):
            msg = re.sub(rf"(?<![\w/=.-]){re.escape(m)}(?![\w/=-])", " ", msg)
        candidates = _values(entry) + [("runs", float(sw["runs"]))]
        for token in NUMBER.findall(msg):
            if not _matches(token, candidates):
                out.append(f"number {token} is in no value of its entry: {text}")
        covered = msg
        for phrase, holds in SWEEP_CLAIMS:
            if re.search(phrase, covered):
                try:
                    ok = holds(entry)
                except (KeyError, TypeError) as exc:
                    ok = f"entry lacks {exc}"
                if ok is not True:
                    out.append(f"claim {phrase!r} does not hold ({ok}): {text}")
                covered = re.sub(phrase, " ", covered)
        for w in re.findall(r"[A-Za-z][A-Za-z'/+-]*", NUMBER.sub(" ", covered)):
            if w.lower() not in SWEEP_PLAIN:
                out.append(f"word {w!r} is neither a claim in SWEEP_CLAIMS nor in SWEEP_PLAIN: {text}")
    return out


@pytest.mark.parametrize("root", [p for p in [*ROOTS, ROOT / "sample_logs" / "lr_sweep"] if p.exists()],
                         ids=lambda p: p.name)
def test_every_sweep_sentence_is_true_to_its_table(root):
    from lossctl.sweep import sweep_dict

    sw = sweep_dict(_reports(root))
    if sw is None:
        pytest.skip("fewer than two runs: no sweep")
    assert not sweep_problems(sw), "\n".join(sweep_problems(sw))


def test_sweep_checker_catches_a_false_word():
    """'none of the 8 with lr <= 0.03 did' against a table where one of them did fails."""
    from lossctl.sweep import sweep_dict

    sw = sweep_dict(_reports(ROOT / "sample_logs" / "lr_sweep"))
    assert not sweep_problems(sw)
    sep = next(s for s in sw["separations"] if s["found"])
    sep["healthy_side"]["with"] = 1
    assert any("'none of the \\\\d+ with' does not hold" in p for p in sweep_problems(sw))


@pytest.mark.parametrize("width, words", [(1, "on isolated steps"), (10, "in bursts (up to 10 points in a row)")])
def test_nonfinite_words_follow_the_longest_stretch(width, words):
    """One NaN step is 'isolated'; ten in a row are not, and the message says so."""
    from synth import decay, findings

    y = decay(500)
    y[250:250 + width] = np.nan
    (f,) = findings({"train/loss": y})
    assert words in f.message and f.evidence["longest_nonfinite_run"] == width
    assert not problems(f, ["train/loss"])
