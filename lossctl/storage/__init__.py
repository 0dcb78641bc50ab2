"""Storage below the readers: :func:`locate` turns what the user typed (a path, a URL, ``-``)
into a store and a path in it. See :mod:`lossctl.storage.base`."""

from __future__ import annotations

import os
import re
from pathlib import Path

from lossctl.storage.base import Blob, Store, cannot_read
from lossctl.storage.local import LOCAL

__all__ = ["LOCAL", "Blob", "Store", "as_blob", "cannot_read", "locate"]

_URL = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")


def locate(target: str | os.PathLike, stdin=None) -> tuple[Store, str]:
    """``(store, path)`` for a path, an fsspec URL or ``-`` (standard input)."""
    text = os.fspath(target)
    if text == "-":
        from lossctl.storage.stdin import StdinStore

        return StdinStore(stdin), "-"
    m = _URL.match(text)
    if m and m.group(1).lower() != "file":
        from lossctl.storage.remote import FsspecStore

        protocol = m.group(1).lower()
        store = FsspecStore(protocol, text)
        path = text if protocol in ("http", "https") else text[m.end():]
        return store, path
    if m:
        text = text[m.end():]
    return LOCAL, str(Path(text))  # as Path spells it: "./runs/" and "runs" name runs alike


def as_blob(x) -> Blob:
    """A Blob, or a local path made one (readers accept either)."""
    return x if isinstance(x, Blob) else Blob(LOCAL, os.fspath(x))
