"""Source registry, in the order each directory is offered to them: sources that own whole
folders (trackers) come before ``files``, which takes the log files that are left.

Each line names the module holding the source (imported on first use: a folder of CSV logs
never imports the W&B or MLflow code) and the cheap test a directory must pass before that
source is asked to claim from it: the file and folder names it looks for, the SQLite header.
The test is a necessary condition of the source's own ``claim``, so skipping a source whose test
fails changes nothing found. ``targets``: the prefixes of the targets it reads through
``runs_at`` (``mlflow+http://``). A new source is one file plus one line here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

SQLITE_HEADER = b"SQLite format 3\x00"


class LazySource:
    """A source known by its module until a directory passes ``may_claim`` (or a target starts
    with one of ``targets``); then the module's ``source``, which every other attribute
    (``read``, ``signature``...) is handed on to."""

    def __init__(self, name: str, module: str, may_claim: Callable | None, targets: tuple[str, ...] = ()):
        self.name, self.module, self.may_claim, self.targets = name, module, may_claim, targets

    @property
    def source(self):
        return importlib.import_module(self.module).source

    def claim(self, listing) -> list:
        if self.may_claim is not None and not self.may_claim(listing):
            return []
        return self.source.claim(listing)

    def runs_at(self, target: str):
        if not target.lower().startswith(self.targets or ("\0",)):
            return None
        return self.source.runs_at(target)

    def __getattr__(self, name: str):
        if name.startswith("__"):  # (copy, pickle: not a source's attributes)
            raise AttributeError(name)
        return getattr(self.source, name)

    def __repr__(self) -> str:
        return f"<source {self.name} ({self.module})>"


def _sqlite_file(blob) -> bool:
    """A file the SQLite source looks into: a local file with SQLite's header, or (in a bucket,
    where it is only named in a note) a file named like an MLflow database."""
    from lossctl.errors import InputError

    if not blob.store.local:
        return "mlflow" in blob.name.lower() or blob.suffix.lower() in (".db", ".sqlite", ".sqlite3")
    try:
        return blob.head(len(SQLITE_HEADER)) == SQLITE_HEADER
    except (OSError, InputError):
        return False


def _wandb(listing) -> bool:
    """A ``*.wandb`` transaction log or a client's history from before it, or a ``run-*`` /
    ``offline-run-*`` / ``dryrun-*`` folder."""
    return any(b.suffix == ".wandb" or b.name == "wandb-history.jsonl" for b in listing.files) or any(
        listing.store.basename(d).startswith(("run-", "offline-run-", "dryrun-")) for d in listing.dirs)


SOURCES = [
    LazySource("mlflow_server", "lossctl.sources.mlflow.server", lambda listing: False,
               targets=("mlflow+http://", "mlflow+https://")),
    LazySource("mlflow_sqlite", "lossctl.sources.mlflow.sqlite", lambda listing: any(map(_sqlite_file, listing.files))),
    LazySource("mlflow_files", "lossctl.sources.mlflow.files", lambda listing: listing.file("meta.yaml") is not None),
    LazySource("wandb", "lossctl.sources.wandb", _wandb),
    LazySource("sb3_monitor", "lossctl.sources.sb3_monitor", lambda listing: any(
        b.name.endswith("monitor.csv") for b in listing.files)),
    LazySource("files", "lossctl.sources.files", None),
]
BY_NAME = {s.name: s for s in SOURCES}
