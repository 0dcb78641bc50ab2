"""One run: its points in the common frame, where they came from, and what went wrong reading.

Every source builds its runs with :func:`assemble_run`, so the restart rule
(:func:`lossctl.frame.drop_superseded`) applies the same way to every format.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lossctl.frame import concat, constant_category, drop_superseded
from lossctl.readers.base import FileData


@dataclass
class Run:
    name: str
    path: str
    format: str
    frame: pd.DataFrame
    files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    replaced: int = 0
    hparams: dict[str, float | int | str | bool] = field(default_factory=dict)
    slimmed_points: int = 0  # the point count once :meth:`slim` dropped the frame

    @property
    def points(self) -> int:
        return self.slimmed_points if self.frame is None else len(self.frame)

    def slim(self) -> None:
        """Drop the frame (analysis keeps the series it needs): what a sweep holds per run."""
        if self.frame is not None:
            self.slimmed_points, self.frame = len(self.frame), None


def assemble_run(name: str, path: str, parts: list[tuple[str, FileData]], warnings: list[str],
                 hparams: dict | None = None) -> Run:
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
    several = len(frames) > 1 and len(frame)
    if several:  # which file each point came from, for the warning below
        frame["_file"] = np.repeat(np.arange(len(frames), dtype=np.int32), [len(f) for f in frames])
    frame, replaced = drop_superseded(frame, purges)
    if replaced:
        left = np.bincount(frame["_file"].to_numpy(), minlength=len(frames)) if several else [len(frame)]
        where = [f"{os.path.basename(p)}: {len(f) - k:,}" for p, f, k in zip(files, frames, left) if len(f) > k]
        warnings.append(f"{path if name == '.' else name}: {replaced:,} points replaced by data logged again at the same or an "
                        "earlier step (a resumed run, or a metric logged twice per step; the later values "
                        f"are used; replaced in {', '.join(where)})")
    if several:
        frame = frame.drop(columns="_file")
    frame["run"] = constant_category(name, len(frame))
    return Run(name, path, "+".join(formats) or "unknown", frame, files, warnings, replaced,
               dict(hparams or {}))
