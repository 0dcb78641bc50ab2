"""Runs in, findings out: builds each run's view, assigns roles, runs the enabled detectors."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lossctl.config import Config
from lossctl.detectors import BY_KIND, DETECTORS
from lossctl.detectors.base import RunView, Series
from lossctl.findings import Finding, severity_rank
from lossctl.roles import assign_roles, loss_pairs, objective_names
from lossctl.runs import Run


@dataclass
class RunReport:
    run: Run
    view: RunView
    findings: list[Finding] = field(default_factory=list)
    checked: tuple[str, ...] = ()  # the kinds that were looked for (the rest were not enabled)
    fail_on: str = "error"  # the severity at which this analysis fails (CI formats show it)
    baseline: object | None = None  # a compare.Verdict when judged against a baseline run
    row: object | None = None  # its sweep.table.Row, computed where the run was analysed

    @property
    def label(self) -> str:
        """The run's name for people: its path when it was given as the run directory itself."""
        return self.run.path if self.run.name == "." else self.run.name

    @property
    def status(self) -> str:
        if not self.findings:
            return "ok"
        return max((f.severity for f in self.findings), key=severity_rank)


def _metrics_of(f: Finding) -> set[str]:
    """The series a finding is about: its metric, and the training loss it was compared with
    (findings about the pair, overfitting and train_val_mismatch, name it in their evidence)."""
    return {f.metric, f.evidence.get("train_metric", f.metric)}


def view_of(run: Run, overrides: dict[str, str] | None = None) -> RunView:
    """The run's series, one per metric in order of first appearance, from categorical codes
    (a pandas groupby costs more than the detectors on a short run)."""
    metric = run.frame["metric"].array  # the Categorical: its codes without the .cat accessor's cost
    codes = metric.codes
    steps, values = run.frame["step"].to_numpy(), run.frame["value"].to_numpy()
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.concatenate(([True], sorted_codes[1:] != sorted_codes[:-1]))) if len(codes) else []
    groups = {int(sorted_codes[a]): order[a:b] for a, b in zip(starts, [*starts[1:], len(codes)])}
    series = {}
    for code in sorted(groups, key=lambda c: groups[c][0]):
        name = str(metric.categories[code])
        idx = groups[code]
        series[name] = Series(name, steps[idx], values[idx])
    points = {m: len(s) for m, s in series.items()}
    roles = assign_roles(points, overrides)
    pairs, pair_of = loss_pairs(points, roles)
    return RunView(run.name, series, roles, pairs, pair_of)


def objectives(view: RunView) -> list[str]:
    """The run's training losses that are reinforcement-learning objectives, not losses that
    training drives down (:func:`lossctl.roles.objective_names`). Their level and trend say
    nothing about failure by themselves (a value loss grows with the returns), so only NaN/Inf
    is judged there."""
    rl = set(objective_names(view.series))
    return [p.loss for p in view.pairs if p.loss in rl]


def _judge(view: RunView, detectors) -> list[Finding]:
    """Every detector on every loss pair of the run; a kind on a metric once (the NaN check
    scans all losses from any pair). A part of the overall training loss (a term of the sum,
    a head) keeps a finding about its own curve only when the overall loss shows that kind too
    (else the other parts made up for it: a trade-off between terms, a noise-level term, a
    question of weighting, not of training) and at most half the parts show it (else the
    total's finding says it all, and counts the parts that show it: naming a part only helps
    when it points at the few that carry it; one bad batch jumps in all 30 terms of a
    Mask2Former loss). A reinforcement-learning objective is judged only by the detectors that
    judge any objective (NaN/Inf): see :func:`objectives`; the agent's return by those that
    judge one (``detect_return``)."""
    findings, by_pair = [], []
    rl = objectives(view)
    for i, pair_view in enumerate(view.pair_views()):
        seen = {(f.kind, f.metric) for f in findings}
        judges = [d for d in detectors if d.any_objective] if view.pairs[i].loss in rl else detectors
        with np.errstate(all="ignore"):
            new = [f for det in judges for f in det.detect(pair_view) if (f.kind, f.metric) not in seen]
        findings += new
        by_pair += [i] * len(new)
    if view.role("reward") is not None:  # an agent: its return says whether training failed
        with np.errstate(all="ignore"):
            for det in detectors:
                if hasattr(det, "detect_return"):
                    new = det.detect_return(view)
                    findings += new
                    by_pair += [0] * len(new)
    found = {(f.kind, f.metric) for f in findings}
    parts: dict[str, list[str]] = {}
    for p in view.pairs:
        if p.part_of:
            parts.setdefault(p.part_of, []).append(p.loss)
    showing = {(kind, total): sum((kind, m) in found for m in terms)
               for total, terms in parts.items() for kind in {f.kind for f in findings}}
    kept = []
    for f, i in zip(findings, by_pair):
        pair = view.pairs[i] if i else None
        if pair and pair.part_of and f.metric == pair.loss and (
                (f.kind, pair.part_of) not in found or 2 * showing[(f.kind, pair.part_of)] > len(parts[pair.part_of])):
            continue  # not in the total (a trade-off), or in most parts (naming them tells nothing)
        if f.metric in parts and 2 * showing.get((f.kind, f.metric), 0) > len(parts[f.metric]):
            names = [m for m in parts[f.metric] if (f.kind, m) in found]
            f.evidence["parts_showing"] = f"{len(names)} of {len(parts[f.metric])}" + (
                f" ({', '.join(names)})" if len(names) <= 5 else "")
        if (j := view.pair_of.get(f.metric, i)):  # the primary pair is the roles line: unnamed
            f.evidence["pair"] = view.pairs[j].roles()
        kept.append(f)
    return kept


def analyze_run(run: Run, config: Config, overrides: dict[str, str] | None = None) -> RunReport:
    view = view_of(run, overrides)
    label = run.path if run.name == "." else run.name
    for role, metric in (overrides or {}).items():
        if metric and metric not in view.series:
            run.warnings.append(f"{label}: --{role.replace('_', '-')} {metric!r} is not logged in this run "
                                f"(metrics: {', '.join(sorted(view.series)) or 'none'})")
    if view.role("loss") is None and view.role("val_loss") is None and view.role("reward") is None:
        run.warnings.append(f"{label}: no loss series recognised among {', '.join(sorted(view.series))}; "
                            "name one with --loss TAG")
    if rl := objectives(view):
        run.warnings.append(f"{label}: {', '.join(rl)} {'is a' if len(rl) == 1 else 'are'} reinforcement-learning "
                            f"objective{'s' * (len(rl) > 1)}, judged for NaN/Inf only (a policy loss need not "
                            "fall; a value loss grows with the returns)")
    detectors = [cls(config.thresholds.get(cls.kind), config.severities.get(cls.kind))
                 for cls in DETECTORS if config.enabled(cls.kind)]
    checked = [d.kind for d in detectors]
    findings = _judge(view, detectors)
    for s in view.series.values():
        s.forget()
    findings = [f for f in findings if not any(
        g.kind in BY_KIND[f.kind].suppressed_by and g.metric in _metrics_of(f) and BY_KIND[g.kind].explains(g, f)
        for g in findings)]
    findings.sort(key=lambda f: (-severity_rank(f.severity), f.start_step if f.start_step is not None else -1))
    return RunReport(run, view, findings, tuple(checked), config.fail_on)
