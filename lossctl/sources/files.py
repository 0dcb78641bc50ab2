"""Log files in a directory (TensorBoard event files, CSV, JSON histories): the files of one
directory that the readers of :mod:`lossctl.readers` claim are one run, read in name order (event
file names start with their creation time) and merged with the restart rule."""

from __future__ import annotations

import os
from dataclasses import replace

from lossctl.errors import InputError, NotALog
from lossctl.hparams import read_hparams_yaml
from lossctl.readers import BY_FORMAT, READERS
from lossctl.run import assemble_run
from lossctl.sources.base import Listing, ReadResult, RunRef
from lossctl.storage import Blob

SNIFF_BYTES = 4096
HPARAMS = "hparams.yaml"


def reader_for(blob: Blob):
    """The reader whose ``sniff`` accepts this file, or None (not a log)."""
    try:
        head = blob.head(SNIFF_BYTES)
    except (OSError, InputError):  # unreadable: claim it by name so that reading it tells the user why
        if blob.suffix.lower() in (".csv", ".tsv"):
            return BY_FORMAT["csv"]
        head = b""
    return next((r for r in READERS if r.sniff(blob, head)), None)


class FilesSource:
    name = "files"

    def claim(self, listing: Listing) -> list[RunRef]:
        logs = [(b, r.format) for b in listing.files if (r := reader_for(b)) is not None]
        if not logs and listing.target_is_file and listing.files:
            # named explicitly but no shape recognised: the console reader says which it reads
            logs = [(listing.files[0], "console")]
        if not logs:
            return []
        taken = {b for b, _ in logs}
        listing.files = [b for b in listing.files if b not in taken]
        structured = [b for b, fmt in logs if fmt != "console"]
        if structured and len(structured) < len(logs) and not listing.target_is_file:
            # a structured log beside the console output printing the same metrics: the run is
            # read from the structured log; merging both would count every point twice
            for b, fmt in logs:
                if fmt == "console":
                    listing.notes.append(f"{b}: console log not merged (the run in {listing.store.display(listing.path)} "
                                         f"is read from {structured[0].name})")
            logs = [(b, fmt) for b, fmt in logs if fmt != "console"]
        if listing.target_is_file:
            path = str(logs[0][0])
        else:
            path = listing.store.display(listing.path)
            path = os.path.normpath(path) if listing.store.local else path
        size = sum(b.size_hint() for b, _ in logs)
        hparams = listing.file(HPARAMS)  # Lightning's save_hyperparameters() beside metrics.csv
        return [RunRef(listing.name, path, self.name, (logs, hparams), size)]

    def read(self, ref: RunRef, verify: bool) -> ReadResult:
        parts, skipped = [], []
        logs, hparams_file = ref.locator
        hparams, warnings = read_hparams_yaml(hparams_file) if hparams_file else ({}, [])
        for blob, fmt in logs:
            reader = BY_FORMAT[fmt]
            try:
                data = reader.read(blob, verify) if fmt == "tensorboard" else reader.read(blob)
            except NotALog as exc:
                skipped.append(str(exc))
                continue
            except InputError as exc:
                warnings.append(str(exc))
                continue
            parts.append((str(blob), data))
        return ReadResult(_split(ref, parts, warnings, hparams), skipped)


def _split(ref: RunRef, parts, warnings, hparams: dict | None = None) -> list:
    """One run, or one per label when a file's frame labels several runs in its ``run`` column
    (a console log of several trainings, a W&B chart export): ``<dir>/<label>``."""
    labels = {str(x) for _, d in parts for x in d.frame["run"].cat.categories} - {"."}
    if not labels:
        return [assemble_run(ref.name, ref.path, parts, warnings, hparams)]
    runs = []
    for label in sorted(labels):
        mine = [(p, replace(d, frame=d.frame[d.frame["run"] == label].reset_index(drop=True),
                            purges=[])) for p, d in parts]
        name = label if ref.name == "." else f"{ref.name}/{label}"
        runs.append(assemble_run(name, ref.path, [(p, d) for p, d in mine if len(d.frame)], warnings, hparams))
    return runs


source = FilesSource()
