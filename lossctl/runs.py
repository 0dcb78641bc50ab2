"""Finding runs in a directory tree and reading each into the common frame.

A run is a directory that directly holds at least one readable log. Files of one run are read
in name order (event file names start with their creation time) and merged with the restart
rule of :func:`lossctl.frame.drop_superseded`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from lossctl.errors import InputError, NotALog
from lossctl.frame import concat, drop_superseded
from lossctl.readers import READERS

SNIFF_BYTES = 4096
SKIP_DIRS = {"__pycache__", "node_modules"}


@dataclass
class Run:
    name: str
    path: str
    format: str
    frame: pd.DataFrame
    files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    replaced: int = 0


@dataclass
class LoadResult:
    runs: list[Run]
    errors: list[str]  # input problems that left no readable run behind


def reader_for(path: Path):
    """The reader whose ``sniff`` accepts this file, or None (not a log)."""
    try:
        with open(path, "rb") as f:
            head = f.read(SNIFF_BYTES)
    except OSError:
        head = b""  # unreadable: let a name-based sniff claim it so the user hears why
    return next((r for r in READERS if r.sniff(path, head)), None)


def _walk(root: Path):
    """Yield ``(directory, [files])`` below root, following links but never looping."""
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        d = stack.pop()
        try:
            st = d.stat()
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError:
            continue
        files, subdirs = [], []
        for e in entries:
            try:
                if e.is_dir():
                    if not e.name.startswith(".") and e.name not in SKIP_DIRS:
                        subdirs.append(Path(e.path))
                elif e.is_file():
                    files.append(Path(e.path))
            except OSError:
                continue
        yield d, files
        stack.extend(reversed(subdirs))


def load_runs(target: str | os.PathLike, verify: bool = True) -> LoadResult:
    """Read every run below ``target`` (a run directory, a tree of runs, or one log file)."""
    root = Path(target)
    if not root.exists():
        raise InputError(root, "no such file or directory")
    if root.is_file():
        groups = [(root.parent, [root], root.name)]
    else:
        groups = [(d, files, _rel(d, root)) for d, files in _walk(root)]
    runs, errors, skipped = [], [], []
    for d, files, name in groups:
        logs = [(p, r) for p in files if (r := reader_for(p)) is not None]
        if not logs:
            continue
        path = os.path.normpath(os.path.join(str(target), name)) if root.is_dir() else str(root)
        run = _read_run(logs, name, path, verify, skipped)
        if run.frame.empty:
            errors.extend(run.warnings)
        else:
            runs.append(run)
    if not runs and not errors:
        errors = skipped
    if not runs and not errors:
        errors.append(f"{target}: no training logs found (looked for TensorBoard event files, "
                      "CSV and JSON histories)")
    return LoadResult(runs, errors)


def _rel(d: Path, root: Path) -> str:
    rel = os.path.relpath(d, root)
    return rel.replace(os.sep, "/")


def _read_run(logs, name: str, path: str, verify: bool, skipped: list[str]) -> Run:
    frames, warnings, formats, purges, files = [], [], [], [], []
    offset = 0
    for p, reader in logs:
        try:
            data = reader.read(p, verify) if reader.format == "tensorboard" else reader.read(p)
        except NotALog as exc:
            skipped.append(str(exc))
            continue
        except InputError as exc:
            warnings.append(str(exc))
            continue
        warnings += data.warnings
        frames.append(data.frame)
        purges += [(offset + pos, step) for pos, step in data.purges]
        offset += len(data.frame)
        files.append(str(p))
        if data.format not in formats:
            formats.append(data.format)
    frame = concat(frames)
    frame, replaced = drop_superseded(frame, purges)
    if replaced:
        warnings.append(f"{name}: {replaced:,} points replaced by data logged again after a restart")
    frame["run"] = pd.Categorical([name] * len(frame))
    return Run(name, path, "+".join(formats) or "unknown", frame, files, warnings, replaced)
