"""Where a log's bytes live, kept below the readers: a :class:`Store` (local disk, an fsspec URL,
standard input) lists directories and opens files; a :class:`Blob` is one file in a store.

Readers take a Blob (or a plain path, turned into a local Blob), so none of them knows whether
it reads a disk, a bucket or a pipe. Stores and blobs pickle, so runs can be read in worker
processes or on a Dask cluster. Everything here opens for reading only.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from typing import BinaryIO

from lossctl.errors import InputError


class Store:
    """A place holding files and directories. Paths are the store's own strings (a local path,
    ``bucket/key`` for a bucket); :meth:`display` turns one into what the user typed or a URL."""

    local = False  # paths are local file names (the C scanner and sqlite open them directly)
    sep = "/"

    def display(self, path: str) -> str:
        raise NotImplementedError

    def kind(self, path: str) -> str | None:
        """``"file"``, ``"dir"`` or None when nothing is there; raises InputError when the
        store cannot be asked (access denied, no network)."""
        raise NotImplementedError

    def listdir(self, path: str) -> tuple[list[tuple[str, int]], list[str]]:
        """``([(file path, size)], [subdirectory path])``, each sorted by name; dot-names
        included (callers decide what to skip)."""
        raise NotImplementedError

    def open(self, path: str, size: int | None = None) -> BinaryIO:
        """Open for reading; ``size`` (from a listing) spares a remote store a look-up."""
        raise NotImplementedError

    def missing(self, path: str) -> str:
        """What to tell the user when nothing is at ``path``."""
        return "no such file or directory"

    def size(self, path: str) -> int:
        raise NotImplementedError

    def signature(self, path: str) -> tuple | None:
        """Something that changes when the file does (size, modification time), None if gone."""
        try:
            return (self.size(path),)
        except (OSError, InputError):
            return None

    def identity(self, path: str):
        """A key equal for two paths naming the same directory (loop detection)."""
        return path

    def join(self, *parts: str) -> str:
        return posixpath.join(*parts)

    def relpath(self, path: str, root: str) -> str:
        rel = posixpath.relpath(path, root) if path != root else "."
        return rel

    def basename(self, path: str) -> str:
        return posixpath.basename(path.rstrip("/"))

    def parent(self, path: str) -> str:
        return posixpath.dirname(path.rstrip("/"))


@dataclass(frozen=True)
class Blob:
    """One file in a store. ``str(blob)`` is how messages name it."""

    store: Store
    path: str
    listed_size: int | None = field(default=None, compare=False, repr=False)  # as the listing said

    def __str__(self) -> str:
        return self.store.display(self.path)

    def __fspath__(self) -> str:  # only meaningful for local files
        if not self.store.local:
            raise TypeError(f"{self} is not a local file")
        return self.path

    @property
    def name(self) -> str:
        return self.store.basename(self.path)

    @property
    def suffix(self) -> str:
        return os.path.splitext(self.name)[1]

    @property
    def stem(self) -> str:
        return os.path.splitext(self.name)[0]

    @property
    def local_path(self) -> str | None:
        return self.path if self.store.local else None

    def size(self) -> int:
        return self.store.size(self.path)

    def size_hint(self) -> int:
        """The listed size, else asked for, else 0: for deciding how to spread work, not to read."""
        if self.listed_size is not None:
            return self.listed_size
        try:
            return self.size()
        except (OSError, InputError):
            return 0

    def signature(self):
        return self.store.signature(self.path)

    def open(self) -> BinaryIO:
        return self.store.open(self.path, self.listed_size)

    def head(self, n: int) -> bytes:
        with self.open() as f:
            return f.read(n)

    def read_bytes(self) -> bytes:
        with self.open() as f:
            return f.read()

    def read_text(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """The text with universal newlines, as ``Path.read_text`` gives it."""
        data = self.read_bytes().decode(encoding, errors)
        return data.replace("\r\n", "\n").replace("\r", "\n") if "\r" in data else data

    def text(self, encoding: str = "utf-8-sig", errors: str = "replace") -> str:
        """:meth:`read_text`, with a failure to read as the one-line InputError naming the file."""
        try:
            return self.read_text(encoding, errors)
        except OSError as exc:
            raise cannot_read(self, exc) from None

    def sibling(self, name: str) -> Blob:
        return Blob(self.store, self.store.join(self.store.parent(self.path), name))


def cannot_read(where, exc: BaseException) -> InputError:
    """The one-line error for a file or URL that could not be opened or read."""
    why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return InputError(where, f"cannot read: {why}")
