"""The sweep section's sentences, built from the same numbers the table shows.

Every count in a sentence is a count of rows of the table; every value is written with
:func:`lossctl.sweep.text.fmt_value`, as the table writes it.
"""

from __future__ import annotations

from lossctl.detectors.stats import fmt
from lossctl.sweep.text import did, fmt_value, names
from lossctl.text import plural


def condition(sep: dict, side: str) -> str:
    """``lr >= 0.1`` (kind side) / ``lr <= 0.03`` (healthy side); ``optimizer = sgd``."""
    key = sep["hparam"]
    if sep["type"] == "threshold":
        if side == "kind":
            return f"{key} {sep['op']} {fmt_value(sep['threshold'])}"
        op = "<=" if sep["op"] == ">=" else ">="
        return f"{key} {op} {fmt_value(sep['bound'])}"
    vals = sep["values"] if side == "kind" else sep["others"]
    return f"{key} = {vals[0]}" if len(vals) == 1 else f"{key} in {{{', '.join(vals)}}}"


def fix(sep: dict) -> str:
    key = sep["hparam"]
    if sep["type"] == "threshold":
        where = "below" if sep["op"] == ">=" else "above"
        return f"keep {key} at or {where} {fmt_value(sep['bound'])}"
    return f"avoid {condition(sep, 'kind')}"


def split_sentence(sep: dict) -> str:
    """"All 4 runs with lr >= 0.1 diverged, and none of the 8 with lr <= 0.03 did: keep lr at or
    below 0.03." with the exceptions named and the runs lacking the hyperparameter counted."""
    verb, aux = did(sep["kinds"])
    k, h = sep["kind_side"], sep["healthy_side"]
    if k["with"] == k["runs"]:
        first = f"All {k['runs']} runs with {condition(sep, 'kind')} {verb}"
    else:
        first = (f"{k['with']} of the {k['runs']} runs with {condition(sep, 'kind')} {verb} "
                 f"(not {names(k['exceptions'])})")
    if h["with"] == 0:
        second = f"none of the {h['runs']} with {condition(sep, 'healthy')} {aux}"
    else:
        second = (f"only {h['with']} of the {h['runs']} with {condition(sep, 'healthy')} {aux} "
                  f"({names(h['exceptions'])})")
    out = f"{first}, and {second}"
    if sep["not_covered"]:
        out += f" ({plural(sep['not_covered'], 'run')} without {sep['hparam']} not counted)"
    out = f"{out}: {fix(sep)}."
    if sep.get("equally"):
        others = sep["equally"]
        out += (f" {' and '.join(others)} {'separates' if len(others) == 1 else 'separate'} them as well: "
                "the sweep cannot tell which matters.")
    return out


def no_split_sentence(sep: dict) -> str:
    verb, aux = did(sep["kinds"])
    head = (f"No single hyperparameter separates the {sep['with']} runs that {verb} from the "
            f"{sep['without']} that {aux} not")
    c = sep.get("closest")
    if c is None:
        return head + " (no hyperparameter split has enough runs on both sides)."
    return (head + f" (closest: {condition(c, 'kind')} against {condition(c, 'healthy')}, with "
            f"{plural(c['exceptions'], 'exception')}, more than the {c['allowed_exceptions']} allowed).")


def too_few_sentence(groups: list[dict], runs: int) -> str:
    parts = [f"{' and '.join(g['kinds'])} ({g['with']} of {runs})" for g in groups]
    return ("Too few runs on one side to look for what separates them: " + ", ".join(parts) + ".")


def association_sentence(a: dict, what: str = "loss") -> str:
    """``what``: the final value's name (loss, return); the best median is the lowest loss or the
    highest return."""
    excl = f", {plural(a['excluded_failed'], 'failed run')} left out" if a["excluded_failed"] else ""
    if a["type"] == "numeric":
        if a["spearman"] is None:
            return f"{a['hparam']}: no rank correlation (n = {a['n']}{excl})"
        return f"{a['hparam']}: Spearman {a['spearman']:+.2f} with the final {what} (n = {a['n']}{excl})"
    if a.get("best") is None:
        return f"{a['hparam']}: fewer than two values among runs that did not fail (n = {a['n']}{excl})"
    b, w = a["best"], a["worst"]
    best, worst = ("highest", "lowest") if what == "return" else ("lowest", "highest")
    return (f"{a['hparam']}: {best} median final {what} with {b['value']} ({fmt(b['median_final'])}, "
            f"n = {b['n']}), {worst} with {w['value']} ({fmt(w['median_final'])}, n = {w['n']}){excl}")


def best_sentence(best: dict, runs: int) -> str:
    head = f"Best run: {best['run']} (final {best['metric']} {fmt(best['final'])})"
    worse = best["worse"]
    judged = best["judged"]
    if not judged:
        return head + "."
    tail = f"; {len(worse)} of the {judged} others judged against it are worse by the compare rule"
    if worse:
        tail += f" ({names(worse)})"
    return head + tail + "."
