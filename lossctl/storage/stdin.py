"""Standard input as a one-file store: ``lossctl analyze -`` reads a finished log from a pipe.

The pipe is copied once into a temporary file (removed when the store goes), so readers can
sniff its head and read it again, and its size does not have to fit in memory.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from typing import BinaryIO

from lossctl.storage.base import Store

NAME = "-"


class StdinStore(Store):
    local = False  # readers stream it through open()

    def __init__(self, stream: BinaryIO | None = None):
        src = stream if stream is not None else sys.stdin.buffer
        self._file = tempfile.NamedTemporaryFile(prefix="lossctl-stdin-")  # noqa: SIM115 - lives as long as the store
        shutil.copyfileobj(src, self._file, 1 << 20)
        self._file.flush()

    def display(self, path: str) -> str:
        return "<stdin>"

    def kind(self, path: str) -> str | None:
        return "file"

    def listdir(self, path: str):
        return [], []

    def open(self, path: str, size: int | None = None) -> BinaryIO:
        return open(self._file.name, "rb")  # its own offset: readers may hold several at once

    def size(self, path: str) -> int:
        return os.fstat(self._file.fileno()).st_size

    def basename(self, path: str) -> str:
        return NAME

    def __reduce__(self):  # only the reading process holds the pipe's copy
        raise TypeError("standard input is read in the process that received it")
