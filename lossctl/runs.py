"""Finding runs in a directory tree and reading each into the common frame.

A run is a directory that directly holds at least one readable log. Files of one run are read
in name order (event file names start with their creation time) and merged with the restart
rule of :func:`lossctl.frame.drop_superseded`.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lossctl.errors import InputError, NotALog
from lossctl.frame import concat, constant_category, drop_superseded
from lossctl.readers import BY_FORMAT, READERS
from lossctl.readers.base import FileData

SNIFF_BYTES = 4096
SKIP_DIRS = {"__pycache__", "node_modules"}
PARALLEL_MIN_BYTES = 32 << 20  # below this, starting processes costs more than it saves


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
    except OSError:  # unreadable: claim it by name so that reading it tells the user why
        if path.suffix.lower() in (".csv", ".tsv"):
            return BY_FORMAT["csv"]
        head = b""
    return next((r for r in READERS if r.sniff(path, head)), None)


def walk_dirs(root: Path):
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


def load_runs(target: str | os.PathLike, verify: bool = True, progress=None,
              jobs: int | None = None) -> LoadResult:
    """Read every run below ``target`` (a run directory, a tree of runs, or one log file).

    Runs are read in parallel processes when there are several and enough bytes to pay for
    them (a sweep of hundreds of runs); ``progress(done, total)`` is called as runs finish.
    """
    root = Path(target)
    if not root.exists():
        raise InputError(root, "no such file or directory")
    if root.is_file():
        groups = [(root.parent, [root], root.name)]
    else:
        groups = [(d, files, run_name(d, root)) for d, files in walk_dirs(root)]
    work = []
    for _dir, files, name in groups:
        logs = [(p, r.format) for p in files if (r := reader_for(p)) is not None]
        if logs:
            path = os.path.normpath(os.path.join(str(target), name)) if root.is_dir() else str(root)
            work.append((logs, name, path, verify))
    runs, errors, skipped = [], [], []
    for run, skip in _map(_read_job, work, progress, jobs):
        skipped += skip
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


def _map(fn, work: list, progress, jobs: int | None):
    """``map(fn, work)`` in order, over processes when it pays."""
    total = len(work)
    size = sum(_size(p) for logs, *_ in work for p, _ in logs)
    workers = min(jobs or os.cpu_count() or 1, total)
    if workers < 2 or size < PARALLEL_MIN_BYTES:
        for i, item in enumerate(work, 1):
            yield fn(item)
            if progress:
                progress(i, total)
        return
    ctx = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        for i, result in enumerate(pool.map(fn, work, chunksize=max(1, total // (workers * 8))), 1):
            yield result
            if progress:
                progress(i, total)


def _size(p: Path) -> int:
    try:
        return p.stat().st_size
    except OSError:
        return 0


def _read_job(item):
    logs, name, path, verify = item
    skipped: list[str] = []
    run = _read_run([(p, BY_FORMAT[f]) for p, f in logs], name, path, verify, skipped)
    return run, skipped


def run_name(d: Path, root: Path) -> str:
    rel = os.path.relpath(d, root)
    return rel.replace(os.sep, "/")


def _read_run(logs, name: str, path: str, verify: bool, skipped: list[str]) -> Run:
    parts, warnings = [], []
    for p, reader in logs:
        try:
            data = reader.read(p, verify) if reader.format == "tensorboard" else reader.read(p)
        except NotALog as exc:
            skipped.append(str(exc))
            continue
        except InputError as exc:
            warnings.append(str(exc))
            continue
        parts.append((str(p), data))
    return assemble_run(name, path, parts, warnings)


def assemble_run(name: str, path: str, parts: list[tuple[str, FileData]], warnings: list[str]) -> Run:
    """One run from its files' data, in the order written, with the restart rule applied (also
    used by `lossctl watch`, which keeps each file's data between polls)."""
    frames, formats, purges, files = [], [], [], []
    warnings = list(warnings)
    offset = 0
    for p, data in parts:
        warnings += data.warnings
        frames.append(data.frame)
        purges += [(offset + pos, step) for pos, step in data.purges]
        offset += len(data.frame)
        files.append(p)
        if data.format not in formats:
            formats.append(data.format)
    frame = concat(frames)
    if len(frame):
        frame["_file"] = np.repeat(np.arange(len(frames), dtype=np.int32), [len(f) for f in frames])
    frame, replaced = drop_superseded(frame, purges)
    if replaced:
        left = np.bincount(frame["_file"].to_numpy(), minlength=len(frames))
        where = [f"{os.path.basename(p)}: {len(f) - k:,}" for p, f, k in zip(files, frames, left) if len(f) > k]
        warnings.append(f"{name}: {replaced:,} points replaced by data logged again at the same or an "
                        "earlier step (a resumed run, or a metric logged twice per step; the later values "
                        f"are used; replaced in {', '.join(where)})")
    frame = frame.drop(columns="_file", errors="ignore")
    frame["run"] = constant_category(name, len(frame))
    return Run(name, path, "+".join(formats) or "unknown", frame, files, warnings, replaced)
