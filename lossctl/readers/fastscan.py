"""The C TensorBoard scanner (``lossctl.readers._scan``) wrapped for the TensorBoard reader.

The extension is optional (see setup.py): :data:`available` says whether it was built.
``LOSSCTL_PURE_PYTHON=1`` in the environment makes :func:`enabled` false so the pure-Python
reader, the reference implementation, is used instead (tests compare the two).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

try:
    from lossctl.readers import _scan
except ImportError:  # not compiled (no compiler at install time): the Python reader is used
    _scan = None

available: bool = _scan is not None
hardware_crc: bool = bool(_scan is not None and _scan.hardware_crc)


def enabled() -> bool:
    """True when the C scanner should be used (built and not disabled by the environment)."""
    return available and os.environ.get("LOSSCTL_PURE_PYTHON", "") not in ("1", "true", "yes")


@dataclass
class ScanResult:
    """Every scalar point of one event file plus what went wrong while reading it."""

    tags: list[str]  # sorted: ``codes`` index it (the categories pd.Categorical(tags) would get)
    codes: np.ndarray  # int32, one per point
    steps: np.ndarray  # int64
    wall_times: np.ndarray  # float64
    values: np.ndarray  # float64
    purges: list[tuple[int, int]]  # (point index, step) of each SessionLog.START
    damaged: list[tuple[int, str, int | None]]  # (byte offset, problem, points lost or None)
    truncated_at: int | None  # offset of an incomplete last record
    records: int  # good records (CRC passed, or verify off)
    undecodable: int  # good records that are not valid events
    size: int  # bytes in the file when it was opened
    end: int  # offset after the last complete record: where a follow-up scan resumes
    plugins: dict[str, str] = field(default_factory=dict)  # tag -> plugin name seen so far
    hparams_at: list[int] = field(default_factory=list)  # offsets of records with hparams plugin summaries


def scan(path: str | os.PathLike, verify: bool = True, plugins: dict[str, str] | None = None,
         buffer_size: int = 0, start: int = 0) -> ScanResult:
    """Read one event file with the C scanner; raises OSError when it cannot be read.

    ``plugins`` (tag -> plugin name, updated in place) carries TF2 plugin metadata, which a
    writer attaches to a tag's first value only, from one file of a run to the next.
    ``buffer_size`` (tests) overrides the 16 MiB read buffer. ``start`` (a record boundary, as a
    previous result's ``end``) reads only what was appended since (`lossctl watch`).
    ``hparams_at``: the scanner only finds the records holding TensorBoard hparams plugin summaries
    (rare: one to three per run); the reader decodes those few in Python.
    """
    if _scan is None:
        raise RuntimeError("lossctl.readers._scan is not built")
    plugins = {} if plugins is None else plugins
    if start < 0:
        raise ValueError(f"start must be >= 0 (got {start})")
    (tags, codes, steps, walls, values, purges, damaged, truncated_at, records, undecodable,
     size, end, hparams_at) = _scan.scan(os.fspath(Path(path)), bool(verify), plugins, buffer_size, start)
    codes = np.frombuffer(codes, dtype=np.int32)
    if len(tags) > 1:  # categories sorted, as pd.Categorical sorts them
        order = sorted(range(len(tags)), key=tags.__getitem__)
        rank = np.empty(len(tags), dtype=np.int32)
        rank[order] = np.arange(len(tags), dtype=np.int32)
        codes = rank[codes]
        tags = [tags[i] for i in order]
    return ScanResult(
        tags=tags,
        codes=codes,
        steps=np.frombuffer(steps, dtype=np.int64),
        wall_times=np.frombuffer(walls, dtype=np.float64),
        values=np.frombuffer(values, dtype=np.float64),
        purges=purges,
        damaged=[(off, problem, None if lost < 0 else lost) for off, problem, lost in damaged],
        truncated_at=truncated_at,
        records=records,
        undecodable=undecodable,
        size=size,
        end=end,
        plugins=plugins,
        hparams_at=hparams_at,
    )
