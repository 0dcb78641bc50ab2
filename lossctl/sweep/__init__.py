"""The sweep view: several runs read as one sweep (which failed, what they share, what to keep).

:func:`sweep_dict` turns the RunReports of one analysis into the JSON-ready ``sweep`` object
of the report (its shape is documented in the README, "The sweep object"); the terminal and
Markdown renderers print it. The pieces: ``hparams`` (a run's hyperparameters), ``table``
(rows, ranking, varying hyperparameters), ``separate`` (the split that separates a kind of
finding), ``association`` (hyperparameters against the final loss), ``best`` (the best run
and the verdicts against it), ``sentences`` (the text).

Cost: one pass over each run's loss series, one :func:`lossctl.compare.judge` per run, and
vectorised numpy over runs for the rest (O(n log n) per hyperparameter and kind group).
"""

from __future__ import annotations

import numpy as np

from lossctl.compare.model import num
from lossctl.sweep import sentences
from lossctl.sweep import separate as sep
from lossctl.sweep.association import association
from lossctl.sweep.best import verdicts
from lossctl.sweep.separate import Split, allowed_exceptions, best_split, columns, holds, kind_groups
from lossctl.sweep.table import Row, rank, row_of, varying

__all__ = ["sweep_dict", "sweep_of_rows"]


def sweep_dict(reports: list) -> dict | None:
    """The ``sweep`` object for these reports; None for fewer than 2 runs."""
    if len(reports) < 2:
        return None
    rows = [r.row if r.row is not None else row_of(r) for r in reports]
    out = sweep_of_rows(rows)
    best = out["best"]
    if best is not None:
        v = verdicts(reports, best.pop("_index"))
        for entry, i in zip(out["table"], rank(rows)):
            entry["vs_best"], reason, role = v[i]
            if entry["vs_best"] is None and reason is not None:
                entry["vs_best_note"] = reason
            if role is not None and role != entry["role"]:  # not the loss its final value is of
                entry["vs_best_role"] = role
        judged = [entry for entry in out["table"] if entry["vs_best"] is not None]
        best["judged"] = len(judged)
        best["worse"] = [e["run"] for e in judged if e["vs_best"] == "worse"]
        best["sentence"] = sentences.best_sentence(best, len(rows))
    return out


def sweep_of_rows(rows: list[Row]) -> dict:
    """Everything but the verdicts against the best run, from the rows alone."""
    n = len(rows)
    order = rank(rows)
    keys = varying(rows)
    candidates = [k for k in keys if k.lower() not in sep.NOT_CAUSES]
    cols = columns(rows, candidates)
    final = np.array([r.final for r in rows], dtype=np.float64)
    failed = np.array([r.failed for r in rows], dtype=bool)
    label = np.array([r.run for r in rows], dtype=object)

    table = []
    for pos, i in enumerate(order, 1):
        r = rows[i]
        table.append({"rank": pos, "run": r.run, "final": num(r.final), "metric": r.metric, "role": r.role,
                      "status": r.status, "failed": r.failed, "kinds": list(r.kinds),
                      "hparams": {k: r.hparams[k] for k in keys if k in r.hparams},
                      "hparams_source": r.hparams_source, "vs_best": None})

    separations, too_few = [], []
    for kinds, has in kind_groups(rows):
        c = int(has.sum())
        entry = {"kinds": kinds, "with": c, "without": n - c}
        if c < sep.MIN_WITH or n - c < sep.MIN_WITHOUT:
            entry.update(found=False, reason="too_few", sentence=None)
            too_few.append(entry)
            separations.append(entry)
            continue
        split = best_split(cols, has)
        if holds(split):
            entry.update(found=True, reason=None, **_split_dict(split, has, label, n))
            entry["sentence"] = sentences.split_sentence(entry)
        else:
            entry.update(found=False, reason="no_split",
                         closest=_split_dict(split, has, label, n) if split is not None else None)
            entry["sentence"] = sentences.no_split_sentence(entry)
        separations.append(entry)

    # a sweep of agents is judged by their return; a mixed tree's associations use the runs of
    # its kind only (a return and a loss are not one scale)
    judged = [r.higher for r in rows if r.role]
    higher = bool(judged) and all(judged)
    what = "return" if higher else "loss"
    same = np.array([r.higher == higher for r in rows], dtype=bool)
    assoc = [association(c, np.where(same, final, np.nan), failed, higher) for c in cols]
    unexplained = any(s["reason"] == "no_split" for s in separations)
    lines = [s["sentence"] for s in separations if s["sentence"]]
    if too_few:
        lines.append(sentences.too_few_sentence(too_few, n))
    if unexplained and assoc:
        lines.append(f"Association with the final {what}: "
                     + "; ".join(sentences.association_sentence(a, what) for a in assoc) + ".")

    ok = [i for i in order if not rows[i].failed and np.isfinite(rows[i].final) and rows[i].higher == higher]
    best = None
    if ok:
        b = rows[ok[0]]
        best = {"run": b.run, "final": num(b.final), "metric": b.metric, "role": b.role,
                "judged": 0, "worse": [], "sentence": None, "_index": int(ok[0])}
    roles = {r.role for r in rows if r.role and r.higher == higher}
    return {
        "runs": n,
        "ranked_by": {"roles": sorted(roles), "final": "mean of the last 5% of the run's steps"},
        "failed": int(failed.sum()),
        "varying": keys,
        "hparams_from": {s: sum(r.hparams_source == s for r in rows) for s in ("logged", "name", "none")},
        "table": table,
        "best": best,
        "separations": separations,
        "associations": assoc,
        "sentences": lines,
        "rules": {"min_with": sep.MIN_WITH, "min_without": sep.MIN_WITHOUT, "max_exceptions": sep.MAX_EXCEPTIONS,
                  "max_exception_share": sep.MAX_EXCEPTION_SHARE, "not_causes": sorted(sep.NOT_CAUSES)},
    }


def _split_dict(s: Split, has: np.ndarray, label: np.ndarray, n: int) -> dict:
    kind_exc = s.kind_runs[~has[s.kind_runs]]
    healthy_exc = s.healthy_runs[has[s.healthy_runs]]
    out = {"hparam": s.key, "type": "threshold" if s.kind_side != "values" else "category"}
    if s.kind_side == "values":
        out.update(values=list(s.values), others=list(s.others))
    else:
        out.update(op=">=" if s.kind_side == "high" else "<=", threshold=num(s.threshold), bound=num(s.bound))
    out.update(
        kind_side={"runs": int(len(s.kind_runs)), "with": int(len(s.kind_runs) - len(kind_exc)),
                   "exceptions": [str(x) for x in label[np.sort(kind_exc)]]},
        healthy_side={"runs": int(len(s.healthy_runs)), "with": int(len(healthy_exc)),
                      "exceptions": [str(x) for x in label[np.sort(healthy_exc)]]},
        exceptions=int(s.exceptions), allowed_exceptions=allowed_exceptions(s.covered),
        not_covered=int(n - s.covered), equally=list(s.equally),
    )
    return out
