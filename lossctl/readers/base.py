"""What a reader is and what it hands back.

A reader is a module-level object with a ``format`` name, a ``sniff`` that decides from a
file's name and first bytes whether the file is one of its own, and a ``read`` returning a
:class:`FileData`. Register it in ``lossctl/readers/__init__.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pandas as pd


@dataclass
class FileData:
    """The points of one log file plus what went wrong while reading it."""

    frame: pd.DataFrame
    format: str
    warnings: list[str] = field(default_factory=list)
    # (row position in ``frame``, step) of each SessionLog.START: later data replaces earlier
    purges: list[tuple[int, int]] = field(default_factory=list)


class Reader(Protocol):
    format: str

    def sniff(self, path: Path, head: bytes) -> bool: ...

    def read(self, path: Path) -> FileData: ...
