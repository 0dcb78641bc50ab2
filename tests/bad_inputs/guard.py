"""Proof that lossctl leaves the user's logs alone: checksums before and after, and an audit hook
that records every attempt (in the thread running the CLI) to open a file below the input for
writing, or to remove, rename, truncate, chmod or touch it.

``sys.addaudithook`` cannot be undone, so the hook is installed once and is idle unless a
:func:`guarded` block is active. The C scanner opens files with ``fopen(path, "rb")`` below the
hook's reach; ``test_c_scanner_opens_read_only`` checks its source and the read-only subprocess
run in ``test_unreadable.py`` checks it in practice.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import threading
from pathlib import Path

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_CHANGES = {"os.remove", "os.rename", "os.truncate", "os.chmod", "os.chown", "os.utime", "os.rmdir",
            "os.mkdir", "os.symlink", "os.link", "shutil.rmtree", "shutil.move", "shutil.copyfile"}
_state: dict = {"root": None, "thread": None, "violations": []}


def _below(path, root: str) -> bool:
    if isinstance(path, int) or path is None:
        return False
    try:
        p = os.path.abspath(os.fsdecode(os.fspath(path)))
    except TypeError:
        return False
    return p == root or p.startswith(root + os.sep)


def _hook(event: str, args) -> None:
    root = _state["root"]
    if root is None or threading.get_ident() != _state["thread"]:
        return
    if event == "open":
        path, mode, flags = args
        writing = bool(mode and any(c in mode for c in "wax+")) or bool(flags and flags & _WRITE_FLAGS)
        if writing and _below(path, root):
            _state["violations"].append(f"open({path!r}, mode={mode!r}, flags={flags!r})")
    elif event in _CHANGES and args and _below(args[0], root):
        _state["violations"].append(f"{event}{args!r}")


sys.addaudithook(_hook)


def checksums(root: Path) -> dict[str, str]:
    """sha256 of every regular file below ``root`` (symlinks not followed)."""
    root = Path(root)
    if root.is_file():
        return {str(root): hashlib.sha256(root.read_bytes()).hexdigest()}
    out = {}
    for d, _, files in os.walk(root):
        for name in files:
            p = os.path.join(d, name)
            if os.path.isfile(p) and not os.path.islink(p) and os.access(p, os.R_OK):
                with open(p, "rb") as f:
                    out[p] = hashlib.sha256(f.read()).hexdigest()
    return out


@contextlib.contextmanager
def guarded(root: Path):
    """Record write attempts below ``root`` made by this thread; yields the violation list."""
    _state.update(root=os.path.abspath(root), thread=threading.get_ident(), violations=[])
    try:
        yield _state["violations"]
    finally:
        _state.update(root=None, thread=None)
