"""The state of `lossctl watch` between polls: which files are followed, and what was reported.

Each poll walks the directory (a restart writes a new event file; a sweep adds run directories),
starts following logs it has not seen, reads what was appended to each, and re-runs the usual
pipeline on every run that changed: :func:`lossctl.runs.assemble_run` (the restart rule) then
:func:`lossctl.analysis.analyze_run`. What is new since the last poll (files, input warnings,
findings) is returned for display; a finding is new the first time its (run, kind, metric)
appears.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from lossctl.analysis import RunReport, analyze_run
from lossctl.config import Config
from lossctl.discovery import RunFilter, listings
from lossctl.errors import InputError
from lossctl.findings import Finding
from lossctl.readers import BY_FORMAT
from lossctl.run import Run
from lossctl.sources import BY_NAME, SOURCES
from lossctl.sources.base import RunRef
from lossctl.sources.files import _split, folder_tags, hparams_sessions, reader_for, renamed
from lossctl.storage import LOCAL
from lossctl.watch.follow import Follower, StreamFollower, follower_for


@dataclass
class Update:
    """What one poll found that was not there before."""

    files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    points: int = 0  # new points read


class Session:
    def __init__(self, target: str | os.PathLike, config: Config, overrides: dict | None = None,
                 verify: bool = True, stdin=None, tee=None, chosen: RunFilter | None = None):
        self.target = str(target)
        self.chosen = chosen  # --experiment, --run-name: the runs to follow, as analyze chooses them
        self.left_out: set[str] = set()  # runs found that ``chosen`` leaves out
        self.root = Path(target)
        self.config, self.overrides, self.verify = config, overrides or {}, verify
        self.followers: dict[str, dict[Path, Follower]] = {}  # run name -> file -> follower
        self.stream: StreamFollower | None = None
        if self.target == "-":  # standard input: a console log that grows until the pipe closes
            import sys

            self.stream = StreamFollower(stdin if stdin is not None else sys.stdin.buffer, tee)
            self.followers["."] = {self.stream.path: self.stream}
        elif not self.root.exists():
            raise InputError(self.root, "no such file or directory")
        self.unclaimed: dict[Path, int] = {}  # file -> size when no reader claimed it
        self.reports: dict[str, RunReport] = {}
        self.reported: set[tuple[str, str, str]] = set()
        self.warned: set[str] = set()
        # runs of sources that say when they changed (``signature``; a W&B run folder): read
        # whole again on each change. run name -> (ref, last signature, points read)
        self.sourced: dict[str, tuple[RunRef, object, int]] = {}
        self.sessions: dict = {}  # add_hparams folders judged (part of their run, never followed)
        self.scalars: dict = {}  # add_scalars folders judged (part of their run, renamed)
        self.rename_of: dict[Path, tuple[str, str]] = {}  # event files in folders that name their tags (folder_tags)

    @property
    def finished(self) -> bool:
        """The input ended (standard input closed): nothing more will come."""
        return self.stream is not None and self.stream.finished

    def wait(self, timeout: float) -> None:
        """Sleep until the next poll is worth making (new lines on a pipe wake it early)."""
        if self.stream is not None:
            self.stream.wait(timeout)
        else:
            time.sleep(timeout)

    def poll(self) -> Update:
        up = Update()
        if self.stream is None:
            self._discover(up)
        for name, files in self.followers.items():
            changed = False
            for f in files.values():
                before = f.rows
                changed |= f.poll()
                up.points += f.rows - before
                for w in f.warnings:
                    if w not in self.warned:
                        self.warned.add(w)
                        up.warnings.append(w)
            if changed:
                self._analyse(name, files, up)
        for name, (ref, sig, points) in list(self.sourced.items()):
            now = BY_NAME[ref.source].signature(ref)
            if now == sig:
                continue
            runs = BY_NAME[ref.source].read(ref, self.verify).runs
            total = sum(len(r.frame) for r in runs)
            self.sourced[name] = (ref, now, total)
            up.points += max(0, total - points)
            for run in runs:
                for w in run.warnings:
                    if w not in self.warned:
                        self.warned.add(w)
                        up.warnings.append(w)
                if len(run.frame):
                    self._report(run.name, run, up)
        return up

    def _discover(self, up: Update) -> None:
        for listing in listings(LOCAL, str(self.root), self.root.is_file()):
            for source in SOURCES:  # tracker folders first, as discovery offers them
                if source.name != "files" and hasattr(source, "signature"):
                    for ref in source.claim(listing):
                        if not self._wanted(ref):
                            continue
                        if ref.name not in self.sourced:
                            self.sourced[ref.name] = (ref, None, 0)
                            up.files.append(ref.path)
            name = listing.name
            wanted = self.chosen is None or self.chosen.matches(RunRef(name, listing.path, "files", None))
            known = self.followers.get(name, {})
            events = {b for b in listing.files if "tfevents" in b.name}
            renames = folder_tags(listing, events, self.scalars)  # one run, as analyze reads it (those folders leave the walk)
            self.rename_of.update((Path(b.path), rule) for b, rule in renames.items())
            for blob in [*listing.files, *(b for b in renames if b not in listing.files)]:
                p = Path(blob.path)
                if p in known:
                    continue
                size = _size(p)
                if size == 0 or self.unclaimed.get(p) == size:
                    continue  # nothing to judge yet, or judged at this size already
                reader = BY_FORMAT["tensorboard"] if blob in renames else reader_for(blob)
                if reader is None:
                    self.unclaimed[p] = size
                    continue
                if not wanted:  # a log of a run left out: judged once, never followed
                    self.left_out.add(name)
                    self.unclaimed[p] = size
                    continue
                self.unclaimed.pop(p, None)
                known[p] = follower_for(p, reader.format, self.verify)
                up.files.append(str(p))
            if known:
                self.followers[name] = dict(sorted(known.items()))  # name order, as analyze reads
                hparams_sessions(listing, self.sessions)  # not walked: no run of their own, as in analyze

    def _wanted(self, ref: RunRef) -> bool:
        if self.chosen is None or self.chosen.matches(ref):
            return True
        self.left_out.add(ref.name)
        return False

    def _analyse(self, name: str, files: dict[Path, Follower], up: Update) -> None:
        parts = [(str(p), _renamed(f.data(), self.rename_of.get(p))) for p, f in files.items()
                 if f.rows and not f.ignored]
        if not parts:
            return
        if self.stream is not None:
            path = "<stdin>"
        else:
            path = os.path.normpath(os.path.join(self.target, name)) if self.root.is_dir() else self.target
        for run in _split(RunRef(name, path, "files", None), parts, []):  # a log of several trainings
            self._report(run.name, run, up)

    def _report(self, name: str, run: Run, up: Update) -> None:
        report = analyze_run(run, self.config, self.overrides)
        self.reports[name] = report
        for finding in report.findings:
            key = (name, finding.kind, finding.metric)
            if key not in self.reported:
                self.reported.add(key)
                up.findings.append(finding)

    def ignored(self) -> list[str]:
        """Why files that looked like logs were not followed (config JSON beside the logs, ...)."""
        return [f.ignored for files in self.followers.values() for f in files.values() if f.ignored]


def _renamed(data, rule: tuple[str, str] | None):
    """A folder's points with their tags renamed as analyze renames them (``validation/epoch_loss``)."""
    return data if rule is None else renamed(data, rule)


def _size(p: Path) -> int:
    try:
        return p.stat().st_size
    except OSError:
        return 0
