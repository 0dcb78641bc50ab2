"""Files on local disk (and anything mounted there)."""

from __future__ import annotations

import os
from typing import BinaryIO

from lossctl.storage.base import Store


class LocalStore(Store):
    local = True
    sep = os.sep

    def display(self, path: str) -> str:
        return path

    def kind(self, path: str) -> str | None:
        if os.path.isdir(path):
            return "dir"
        if os.path.exists(path):
            return "file"
        return None

    def listdir(self, path: str):
        files, dirs = [], []
        for e in sorted(os.scandir(path), key=lambda e: e.name):
            try:
                if e.is_dir():
                    dirs.append(e.path)
                elif e.is_file():
                    files.append((e.path, e.stat().st_size))
            except OSError:  # vanished or unreadable entry: readers report files they cannot open
                continue
        return files, dirs

    def open(self, path: str, size: int | None = None) -> BinaryIO:
        return open(path, "rb")

    def size(self, path: str) -> int:
        return os.stat(path).st_size

    def signature(self, path: str):
        try:
            st = os.stat(path)
        except OSError:
            return None
        return st.st_size, st.st_mtime_ns

    def identity(self, path: str):
        st = os.stat(path)
        return st.st_dev, st.st_ino

    def join(self, *parts: str) -> str:
        return os.path.join(*parts)

    def relpath(self, path: str, root: str) -> str:
        return os.path.relpath(path, root).replace(os.sep, "/")

    def basename(self, path: str) -> str:
        return os.path.basename(path.rstrip(os.sep)) or path

    def parent(self, path: str) -> str:
        return os.path.dirname(path)

    def __reduce__(self):
        return (LocalStore, ())


LOCAL = LocalStore()
