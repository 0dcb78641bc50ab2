"""Finding runs: walk what the user named (a directory tree, one file, a URL, standard input)
and ask each source (:mod:`lossctl.sources`) which runs every directory holds.

Hidden directories, ``__pycache__`` and ``node_modules`` are not walked; links are followed but
never in a loop. What a source claims (a file, or a folder it reads whole) is not offered to the
sources after it, nor walked further.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase

from lossctl.errors import InputError
from lossctl.sources import SOURCES
from lossctl.sources.base import Discovered, Listing, RunRef
from lossctl.storage import Blob, Store, locate

SKIP_DIRS = {"__pycache__", "node_modules"}


def discover(target: str | os.PathLike, stdin=None) -> Discovered:
    """Every run below ``target``, in walk order, and notes on what was found but not read.
    Raises InputError when ``target`` is missing or its store cannot be asked."""
    for source in SOURCES:
        runs_at = getattr(source, "runs_at", None)
        found = runs_at(os.fspath(target)) if runs_at else None
        if found is not None:
            return found
    store, root = locate(target, stdin)
    kind = store.kind(root)
    if kind is None:
        raise InputError(store.display(root), store.missing(root))
    out = Discovered([])
    for listing in listings(store, root, kind == "file"):
        for source in SOURCES:
            out.refs += source.claim(listing)
        out.notes += listing.notes
    return out


def listings(store: Store, root: str, is_file: bool = False) -> Iterator[Listing]:
    """Each directory below ``root`` once, depth first in name order; the directories a source
    took out of a listing's ``dirs`` are not entered."""
    if is_file:
        yield Listing(store, store.parent(root), ".", [Blob(store, root)], [], target_is_file=True)
        return
    seen = set()
    stack = [root]
    while stack:
        d = stack.pop()
        try:
            ident = store.identity(d)
            if ident in seen:
                continue
            seen.add(ident)
            files, dirs = store.listdir(d)
        except OSError:
            continue
        except InputError:
            if d == root:
                raise
            continue
        listing = Listing(store, d, store.relpath(d, root),
                          [Blob(store, p, size) for p, size in files],
                          [s for s in dirs if not _skipped(store.basename(s))])
        yield listing
        stack.extend(reversed(listing.dirs))


def _skipped(name: str) -> bool:
    return name.startswith(".") or name in SKIP_DIRS


@dataclass(frozen=True)
class RunFilter:
    """Which runs to read (``--experiment NAME``, ``--run-name GLOB``), for every source.

    A run's experiment is the one its tracker names (MLflow), else the first segment of its
    name; ``NAME`` may be a glob. ``GLOB`` (fnmatch, case-sensitive, ``*`` crosses ``/``) is
    matched against the whole run name and against its part after the experiment, so
    ``--run-name 'lr_*'`` picks ``exp/lr_0.1``."""

    experiment: str | None = None
    run_name: str | None = None

    def __bool__(self) -> bool:
        return bool(self.experiment or self.run_name)

    def matches(self, ref: RunRef) -> bool:
        exp = ref.experiment if ref.experiment is not None else ref.name.split("/", 1)[0]
        if self.experiment and not (exp == self.experiment or fnmatchcase(exp, self.experiment)):
            return False
        if self.run_name:
            own = ref.name.split(f"{exp}/", 1)[1] if f"{exp}/" in ref.name else ref.name
            return fnmatchcase(ref.name, self.run_name) or fnmatchcase(own, self.run_name)
        return True

    def describe(self) -> str:
        return " ".join(f"{opt} {val!r}" for opt, val in (("--experiment", self.experiment),
                                                          ("--run-name", self.run_name)) if val)


def select(found: Discovered, chosen: RunFilter | None) -> tuple[Discovered, list[str]]:
    """The runs ``chosen`` keeps, and the names of those it left out."""
    if not chosen:
        return found, []
    keep = [r for r in found.refs if chosen.matches(r)]
    left = [r.name for r in found.refs if not chosen.matches(r)]
    return Discovered(keep, found.notes), left
