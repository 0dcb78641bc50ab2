"""What a source is: something that, shown one directory of a tree, says which runs it holds.

Discovery (:mod:`lossctl.discovery`) walks a store and hands every directory, as a
:class:`Listing`, to each source in registry order. A source takes what is its own (files, or
whole subdirectories it will not have walked further) and returns one :class:`RunRef` per run
found there: a directory of logs is one run; an ``mlflow.db`` holds every run of every
experiment; a W&B folder holds one run per ``run-*`` directory. A RunRef is small and pickles,
so runs are read (and analysed) in worker processes; ``read`` turns it into a
:class:`lossctl.run.Run`. A new source is one file here plus one line in ``__init__.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from lossctl.run import Run
from lossctl.storage import Blob, Store


@dataclass
class Listing:
    """One directory of the walk. Sources remove from ``files`` and ``dirs`` what they take."""

    store: Store
    path: str  # the directory in its store
    name: str  # relative to the target ("." for the target itself); run names start here
    files: list[Blob]
    dirs: list[str]
    target_is_file: bool = False  # the user named one file, not a directory
    notes: list[str] = field(default_factory=list)  # for the user: what was found but not read

    def run_name(self, *parts: str) -> str:
        """A run name below this directory: ``exp/run`` at the target, ``sub/exp/run`` deeper."""
        parts = tuple(p for p in parts if p)
        if not parts:
            return self.name
        return "/".join(parts) if self.name == "." else "/".join((self.name, *parts))

    def take_dir(self, name: str) -> str | None:
        """Claim the subdirectory called ``name`` (it is not walked further); its path or None."""
        for d in self.dirs:
            if self.store.basename(d) == name:
                self.dirs.remove(d)
                return d
        return None

    def file(self, name: str) -> Blob | None:
        return next((b for b in self.files if b.name == name), None)


@dataclass
class RunRef:
    """A run found but not yet read: its name, where it lives, and the source's own locator."""

    name: str
    path: str  # where it is read from, for people (a directory, a database, a URL)
    source: str  # the registry name of the source that reads it
    locator: Any  # picklable; only the source knows what it holds
    size: int = 0  # bytes to read (an estimate): reading in parallel pays only for big work
    experiment: str | None = None  # a tracker's experiment (MLflow), for --experiment

    def read(self, verify: bool = True) -> ReadResult:
        from lossctl.sources import BY_NAME

        return BY_NAME[self.source].read(self, verify)


@dataclass
class ReadResult:
    """What reading one RunRef gave: usually one run; a console log may hold several."""

    runs: list[Run]
    skipped: list[str] = field(default_factory=list)  # files that were not logs after all
    notes: list[str] = field(default_factory=list)  # files read past on purpose (console beside a structured log)


class Source(Protocol):
    name: str

    def claim(self, listing: Listing) -> list[RunRef]: ...

    def read(self, ref: RunRef, verify: bool) -> ReadResult: ...

    # Optional: ``signature(ref)``, a cheap value that changes when the run has new data
    # (`lossctl watch` reads a run again when it changes); sources without one are read once.
    # Optional: ``runs_at(target: str) -> Discovered | None`` for targets that are not a
    # store path (``mlflow+http://host:5000``): the runs there, or None when not its own.


@dataclass
class Discovered:
    refs: list[RunRef]
    notes: list[str] = field(default_factory=list)
