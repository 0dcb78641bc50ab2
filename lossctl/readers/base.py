"""What a reader is and what it hands back.

A reader is a module-level object with a ``format`` name, a ``sniff`` that decides from a
file's name and first bytes whether the file is one of its own, and a ``read`` returning a
:class:`FileData`. Both take a :class:`lossctl.storage.Blob` (or a local path): a reader never
knows whether the bytes come from disk, a bucket or a pipe. Register it in
``lossctl/readers/__init__.py``; the ``files`` source (:mod:`lossctl.sources.files`) groups the
files readers claim into runs, one run per directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pandas as pd

from lossctl.storage import Blob


@dataclass
class FileData:
    """The points of one log file plus what went wrong while reading it."""

    frame: pd.DataFrame
    format: str
    warnings: list[str] = field(default_factory=list)
    # (row position in ``frame``, step) of each SessionLog.START: later data replaces earlier
    purges: list[tuple[int, int]] = field(default_factory=list)
    hparams: dict = field(default_factory=dict)  # written into the log itself (TensorBoard's hparams plugin)


class Reader(Protocol):
    format: str

    def sniff(self, path: Blob, head: bytes) -> bool: ...

    def read(self, path: Blob | Path) -> FileData: ...
