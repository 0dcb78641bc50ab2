"""Log files in a directory (TensorBoard event files, CSV, JSON histories): the files of one
directory that the readers of :mod:`lossctl.readers` claim are one run, read in name order (event
file names start with their creation time) and merged with the restart rule.

A run's hyperparameters come from Lightning's ``hparams.yaml`` beside the logs, from TensorBoard's
hparams plugin in its event files, and from the sub-directories ``add_hparams`` writes (see
:func:`hparams_sessions`), which are part of the run, not runs of their own."""

from __future__ import annotations

import os
from dataclasses import replace

from lossctl.errors import InputError, NotALog
from lossctl.frame import column
from lossctl.hparams import read_hparams_yaml
from lossctl.readers import BY_FORMAT, READERS, tb_hparams
from lossctl.roles import TRAIN_WORDS, VAL_WORDS
from lossctl.run import assemble_run
from lossctl.sources.base import Listing, ReadResult, RunRef
from lossctl.storage import Blob

SNIFF_BYTES = 4096
HPARAMS = "hparams.yaml"
# a folder per split: Keras' TensorBoard callback (train/, validation/), CatBoost's (learn/, test/)
SPLIT_DIRS = ("train", "learn", "validation", "val", "eval", "test")
TRAIN_SPLITS = ("train", "learn")
KERAS_EVAL_DIRS = ("validation", "val", "eval")
# CatBoost's catboost_info/: the same metric columns per set, and the time a run took
CATBOOST_FILES = {"learn_error.tsv": "learn", "test_error.tsv": "test"}
NOT_CURVES = {"time_left.tsv"}
SESSION_MAX_BYTES = 1 << 20  # an add_hparams session is a few KB: larger folders are not looked into
ADD_SCALARS_DEPTH = 4  # add_scalars' folders: main_tag "a/b/c" and its key, below the run
ADD_SCALARS_MAX_BYTES = 64 << 20


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
        vis = vis_data(listing)
        logs = [(b, r.format) for b in listing.files if b.name not in NOT_CURVES and (r := reader_for(b)) is not None]
        renames = folder_tags(listing, {b for b, fmt in logs if fmt == "tensorboard"})
        renames.update((b, ("split", CATBOOST_FILES[b.name])) for b, _ in logs if b.name in CATBOOST_FILES)
        logs += [(b, "tensorboard") for b in renames if b not in listing.files] + [(b, "console") for b in vis]
        if not logs and listing.target_is_file and listing.files:
            # named explicitly but no shape recognised: the console reader says which it reads
            logs = [(listing.files[0], "console")]
        if not logs:
            return []
        taken = {b for b, _ in logs}
        listing.files = [b for b in listing.files if b not in taken]
        structured = [b for b, fmt in logs if fmt != "console" or b in vis]
        fallback = set()
        if structured and len(structured) < len(logs) and not listing.target_is_file:
            # a structured log beside the console output printing the same metrics: the run is
            # read from the structured log (merging both would count every point twice), and
            # from the console logs only if no structured log holds a curve
            fallback = {b for b, _ in logs if b not in structured}
            logs = [x for x in logs if x[0] not in fallback] + [x for x in logs if x[0] in fallback]
        if listing.target_is_file:
            path = str(logs[0][0])
        else:
            path = listing.store.display(listing.path)
            path = os.path.normpath(path) if listing.store.local else path
        size = sum(b.size_hint() for b, _ in logs)
        hparams = listing.file(HPARAMS)  # Lightning's save_hyperparameters() beside metrics.csv
        sessions = {} if listing.target_is_file else hparams_sessions(listing)
        return [RunRef(listing.name, path, self.name, (logs, hparams, sessions, renames, fallback), size)]

    def read(self, ref: RunRef, verify: bool) -> ReadResult:
        parts, skipped, notes = [], [], []
        logs, hparams_file, sessions, renames, fallback = ref.locator
        hparams, warnings = read_hparams_yaml(hparams_file) if hparams_file else ({}, [])
        for blob, fmt in logs:
            if blob in fallback and parts:
                notes.append(f"{blob}: console log not merged (the run in {ref.path} is read from "
                               f"{os.path.basename(parts[0][0])})")
                continue
            reader = BY_FORMAT[fmt]
            try:
                data = reader.read(blob, verify) if fmt == "tensorboard" else reader.read(blob)
            except NotALog as exc:
                if fmt == "tensorboard" and (plugin := _session([blob])) is not None:
                    hparams.update(plugin)  # only the hparams plugin's summaries (hp.KerasCallback's file)
                else:
                    skipped.append(str(exc))
                continue
            except InputError as exc:
                warnings.append(str(exc))
                continue
            if blob in renames:  # the folder says what the tags are
                data = renamed(data, renames[blob])
            parts.append((str(blob), data))
            hparams.update(data.hparams)
        hparams.update(sessions)
        return ReadResult(_split(ref, parts, warnings, hparams), skipped, notes)


def folder_tags(listing: Listing, events: set[Blob], seen: dict | None = None) -> dict[Blob, tuple[str, str]]:
    """Event files in folders whose names say what their tags are, each with how its tags are
    renamed (see :func:`renamed`); those folders leave the walk. Keras' split folders
    (``logdir/train/`` beside ``logdir/validation/``, or ``validation/`` named alone: its
    ``epoch_loss`` is the validation loss) and the folders ``add_scalars`` writes below a run.
    ``events``: the listing's own event files; ``seen`` (`lossctl watch`) keeps each folder's
    add_scalars verdict from one poll to the next."""
    out = {b: ("split", s) for b, s in split_dirs(listing).items()}
    if not out and not listing.target_is_file and (split := listing.store.basename(listing.path)) in KERAS_EVAL_DIRS:
        out = {b: ("split", split) for b in events}
    if events:  # add_scalars writes through the run's own writer first: its event file is there
        out.update((b, ("key", key)) for b, key in add_scalars_dirs(listing, seen).items())
    return out


def renamed(data, rule: tuple[str, str]):
    """``data`` with its tags renamed by a folder's ``rule``: ``("split", "validation")`` prefixes
    the split (``validation/epoch_loss``), ``("key", "training")`` appends add_scalars' key
    (``loss/training``)."""
    how, value = rule
    tags = data.frame["metric"].cat.categories
    new = _split_names(tags, value) if how == "split" else [f"{t}/{value}" for t in tags]
    return replace(data, frame=data.frame.assign(metric=data.frame["metric"].cat.rename_categories(new)))


def add_scalars_dirs(listing: Listing, seen: dict | None = None) -> dict[Blob, str]:
    """The folders ``add_scalars(main_tag, {key: value})`` writes below a run: each key's points
    through a writer of its own, under the one tag ``main_tag``: torch's ``<run>/<main_tag with /
    as _>_<key>/``, tensorboardX's ``<run>/<main_tag>/<key>/``. A folder below the run whose event
    folders all hold that one tag and are named so is part of the run (taken out of the walk):
    its event files with their key. Folders of more than 64 MiB of event files are not looked
    into (their tags would be read twice) and stay runs of their own."""
    store, out = listing.store, {}
    for d in list(listing.dirs):
        leaves = _event_folders(store, d, store.basename(d), ADD_SCALARS_DEPTH)
        if not leaves or sum(b.size_hint() for _, blobs in leaves for b in blobs) > ADD_SCALARS_MAX_BYTES:
            continue  # their tags are read here and again with the run: large folders stay runs
        names = (d, tuple(sorted(f"{rel}/{b.name}" for rel, blobs in leaves for b in blobs)))
        if seen is not None and names in seen:
            verdict = seen[names]
        else:
            verdict = _scalars_keys(leaves)
            if seen is not None:
                seen[names] = verdict
        if verdict:
            listing.dirs.remove(d)
            out.update((b, verdict[f"{rel}/{b.name}"]) for rel, blobs in leaves for b in blobs)
    return out


def _scalars_keys(leaves: list) -> dict[str, str] | None:
    """Each event file's add_scalars key (by its path below the run), or None when a folder is
    not one."""
    keys = {}
    for rel, blobs in leaves:
        tags = _tags(blobs)
        key = _scalars_key(rel, next(iter(tags))) if len(tags) == 1 else None
        if key is None:
            return None
        keys.update((f"{rel}/{b.name}", key) for b in blobs)
    return keys


def _event_folders(store, d, rel: str, depth: int) -> list | None:
    """``(relative path, event files)`` of each folder below ``d`` holding files, or None when
    one holds anything but event files (or the tree is deeper than ``depth``)."""
    try:
        files, dirs = store.listdir(d)
    except (OSError, InputError):
        return None
    blobs = [Blob(store, f, size) for f, size in files]
    if any("tfevents" not in b.name for b in blobs) or (dirs and depth <= 1):
        return None
    out = [(rel, blobs)] if blobs else []
    for sub in dirs:
        more = _event_folders(store, sub, f"{rel}/{store.basename(sub)}", depth - 1)
        if more is None:
            return None
        out += more
    return out


def _tags(blobs: list[Blob]) -> set[str]:
    tags: set[str] = set()
    for b in blobs:
        try:
            tags.update(BY_FORMAT["tensorboard"].scan(b).frame["metric"].cat.categories)
        except (InputError, OSError):
            return set()
    return tags


def _scalars_key(rel: str, tag: str) -> str | None:
    """The key of an add_scalars folder at ``rel`` (below the run) holding ``tag``, or None."""
    for prefix in (tag.replace("/", "_") + "_", tag + "/"):  # torch, tensorboardX
        key = rel[len(prefix):] if rel.startswith(prefix) else ""
        if key and "/" not in key:
            return key
    return None


def _split_names(tags, split: str) -> list[str]:
    """The tags of a split folder prefixed by its split (``epoch_loss`` in ``validation/`` is
    ``validation/epoch_loss``), except those already filed under a split (``val/box_loss``),
    unless leaving them would make two tags one."""
    named = [t if "/" in t and t.split("/", 1)[0].lower() in VAL_WORDS | TRAIN_WORDS else f"{split}/{t}" for t in tags]
    return named if len(set(named)) == len(named) else [f"{split}/{t}" for t in tags]


def split_dirs(listing: Listing) -> dict[Blob, str]:
    """The event files of Keras' TensorBoard callback layout, ``logdir/train/`` beside
    ``logdir/validation/`` (``val/``, ``eval/``), each holding event files (Keras writes the same
    tags, ``epoch_loss``, in each): one run, not two, each event file with the split its tags are
    prefixed with (so ``validation/epoch_loss`` is the validation loss of ``train/epoch_loss``).
    Those folders are taken out of the walk."""
    if listing.target_is_file:
        return {}
    names = {listing.store.basename(d): d for d in listing.dirs}
    chosen = [n for n in SPLIT_DIRS if n in names]
    if not set(chosen) & set(TRAIN_SPLITS) or len(chosen) < 2:
        return {}
    out = {}
    for name in chosen:
        try:
            files, _ = listing.store.listdir(names[name])
        except (OSError, InputError):
            return {}
        blobs = [Blob(listing.store, p, size) for p, size in files]
        events = [b for b in blobs if (r := reader_for(b)) is not None and r.format == "tensorboard"]
        if not events:
            return {}
        out.update((b, name) for b in events)
    for name in chosen:
        listing.take_dir(name)
    return out


def vis_data(listing: Listing) -> list[Blob]:
    """mmengine's run folder ``<work_dir>/<timestamp>/``: the console ``<timestamp>.log`` beside
    ``vis_data/``, which holds ``scalars.json`` (``LocalVisBackend``), ``<timestamp>.json`` (the
    same lines again: ``LoggerHook`` passes it as ``file_path``) and ``config.py``. One run, read
    from ``scalars.json`` (``vis_data/`` is taken out of the walk); the copy is not read, in
    ``vis_data/`` itself either."""
    if listing.target_is_file:
        return []
    if listing.store.basename(listing.path) == "vis_data" and listing.file("scalars.json"):
        listing.files = [b for b in listing.files if b.name == "scalars.json" or not b.name.endswith(".json")]
        return []
    d = next((d for d in listing.dirs if listing.store.basename(d) == "vis_data"), None)
    try:
        files = listing.store.listdir(d)[0] if d else []
    except (OSError, InputError):
        return []
    found = [Blob(listing.store, p, size) for p, size in files if listing.store.basename(p) == "scalars.json"]
    if found:
        listing.take_dir("vis_data")
    return found


def hparams_sessions(listing: Listing, seen: dict | None = None) -> dict:
    """The hparams of the sub-directories ``add_hparams`` wrote below a run (torch and tensorboardX
    write each call into ``<run>/<time.time()>/``, or ``<run>/<name>/``), taken out of the walk.

    Such a folder holds only the hparams plugin's summaries and one scalar per metric the call
    named (``metric_dict``, listed in the plugin's ``experiment``). Those scalars are dropped: a
    single point at the writer's step, a copy of a value the run logs as a curve, would only
    mislead the detectors (a one-point ``hparam/loss`` is no loss curve). A folder holding any
    other scalar, or a damaged event file, stays a run of its own. ``seen`` (`lossctl watch`, which
    asks at every poll) keeps each folder's verdict while its files keep their sizes."""
    store, found = listing.store, {}
    for d in list(listing.dirs):
        try:
            files, dirs = store.listdir(d)
        except (OSError, InputError):
            continue
        if dirs or not files or sum(size for _, size in files) > SESSION_MAX_BYTES or \
                not all("tfevents" in store.basename(f) for f, _ in files):
            continue
        key = (d, tuple(files))
        if seen is not None and key in seen:
            session = seen[key]
        else:
            session = _session([Blob(store, f, size) for f, size in files])
            if seen is not None:
                seen[key] = session
        if session is not None:
            listing.dirs.remove(d)
            found.update(session)
    return found


def _session(blobs: list[Blob]) -> dict | None:
    """The hparams of an add_hparams folder's event files, or None when they are something else."""
    hparams, metrics, tags, sessions = {}, set(), set(), 0
    for blob in blobs:
        try:
            res = BY_FORMAT["tensorboard"].scan(blob)
        except InputError:
            return None
        if res.damaged or res.truncated_at is not None or res.undecodable or not res.hparams:
            return None
        plugin = tb_hparams.decode(res.hparams, str(blob))
        if plugin.warnings:
            return None
        hparams.update(plugin.hparams)
        metrics |= plugin.metrics
        sessions += plugin.sessions
        tags |= {str(t) for t in res.frame["metric"].unique()}
    return hparams if sessions and tags <= metrics else None


def _split(ref: RunRef, parts, warnings, hparams: dict | None = None) -> list:
    """One run, or one per label when a file's frame labels several runs in its ``run`` column
    (a console log of several trainings, a W&B chart export): ``<dir>/<label>``."""
    labels = {str(x) for _, d in parts for x in column(d.frame, "run").categories.tolist()} - {"."}
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
