"""Weights & Biases run folders: ``wandb/run-<time>-<id>/`` and ``wandb/offline-run-<time>-<id>/``
(clients before 0.9: ``wandb/dryrun-<time>-<id>/`` and ``run-..``, their files in the folder itself).

Each run directory holds the transaction log ``run-<id>.wandb`` (decoded by
:mod:`lossctl.sources.wandb_log`, without the ``wandb`` package), and ``files/`` with
``config.yaml`` (online runs) or, from clients older than the transaction log,
``wandb-history.jsonl``. The whole directory is taken, so W&B's own ``logs/debug*.log`` and
``files/output.log`` are never mistaken for training logs; so are the ``wandb/`` folder's
``debug*.log`` links and ``latest-run``. A resumed run writes a new directory with the same id:
directories of one id are one run, read in time order with the restart rule.

History: every ``wandb.log`` item, ``_step`` as the step, ``_timestamp`` as the wall time
(``_runtime`` is not a metric); nested dicts are named as W&B names them (``val.loss``).
Config (``files/config.yaml`` over the log's config records, ``_wandb`` left out) becomes the
run's hparams. A run folder without history (its ``.wandb`` file not kept, or nothing logged
with ``wandb.log``) is read from the console W&B captured, ``files/output.log``, when that holds
a training log, and a warning says so. The run's name is its W&B display name, or its id when the name is missing or
used by another run of the same folder.
"""

from __future__ import annotations

import json
import math
import os
import re

import numpy as np
import pandas as pd

from lossctl.errors import InputError
from lossctl.frame import make_frame
from lossctl.hparams import flat, safe_yaml, typed_hparams
from lossctl.readers.base import FileData
from lossctl.run import assemble_run
from lossctl.sources.base import Listing, ReadResult, RunRef
from lossctl.sources.wandb_log import History, WandbLogError, read_log
from lossctl.storage import Blob, cannot_read

FORMAT = "wandb"
RUN_DIR = re.compile(r"^(?:(?:offline-)?run|dryrun)-(?:\d{8}_\d{6}-)?(?P<id>[^/]+)$")  # dryrun-: clients < 0.9
HISTORY = "wandb-history.jsonl"
# what a client before 0.9 wrote beside the history, in the run directory itself (no files/)
COMPANIONS = ("wandb-summary.json", "wandb-metadata.json", "wandb-events.jsonl", "config.yaml")
NAME_PROBE = 1 << 16
MAX_DAMAGE_LINES = 5  # the run record (its display name) is among the first records


class WandbSource:
    name = FORMAT

    def claim(self, listing: Listing) -> list[RunRef]:
        own = _log_in(listing.store, listing.files, listing.target_is_file)
        if own is not None:  # the user named a run directory, or its .wandb file
            d = _run_dir(listing.store, listing.path) or _RunDir(listing.path, own, None, None)
            d.log = own
            listing.files = [b for b in listing.files if not _wandb_own(b.name)]
            listing.dirs = [x for x in listing.dirs if listing.store.basename(x) not in ("files", "logs", "tmp")]
            return self._refs(listing, {d.run_id(listing.store): [d]})
        if (flat := _flat_run(listing.store, listing.path, listing.files)) is not None:
            listing.files = [b for b in listing.files if not _flat_own(b.name)]
            listing.dirs = [x for x in listing.dirs if listing.store.basename(x) not in ("media", "code")]
            m = RUN_DIR.match(listing.store.basename(listing.path))  # else the folder is the run
            return self._refs(listing, {m.group("id") if m else "": [flat]})
        groups: dict[str, list[_RunDir]] = {}
        for path in list(listing.dirs):
            m = RUN_DIR.match(listing.store.basename(path))
            if not m:
                continue
            d = _run_dir(listing.store, path)
            if d is None:
                continue
            listing.dirs.remove(path)
            groups.setdefault(d.run_id(listing.store, m.group("id")), []).append(d)
        if not groups:
            return []
        # the folder's own logs and the link to the newest run (already taken by its id)
        listing.dirs = [x for x in listing.dirs if listing.store.basename(x) != "latest-run"]
        listing.files = [b for b in listing.files if not re.match(r"^debug.*\.log$", b.name)]
        return self._refs(listing, groups)

    def _refs(self, listing: Listing, groups: dict[str, list[_RunDir]]) -> list[RunRef]:
        names = {}
        for rid, dirs in groups.items():
            dirs.sort(key=lambda d: re.sub(r"^(?:offline-)?(?:dry)?run-", "", listing.store.basename(d.path)))
            names[rid] = next((n for d in dirs if (n := d.display_name()) and "/" not in n), "")
        counts: dict[str, int] = {}
        for n in names.values():
            counts[n] = counts.get(n, 0) + 1
        refs = []
        for rid, dirs in groups.items():
            shown = names[rid] if names[rid] and counts[names[rid]] == 1 and names[rid] not in groups else rid
            path = listing.store.display(dirs[0].path)
            path = os.path.normpath(path) if listing.store.local else path
            locator = [(d.log, d.history, d.config, d.output) for d in dirs]
            refs.append(RunRef(listing.run_name(shown), path, self.name, locator,
                               sum(b.size_hint() for d in dirs for b in (d.log, d.history) if b)))
        return refs

    def read(self, ref: RunRef, verify: bool) -> ReadResult:
        parts, warnings, config = [], [], {}
        for log, history, config_yaml, _ in ref.locator:
            try:
                if log is not None:
                    data, cfg = _read_log(log, verify)
                    config.update(cfg)
                    parts.append((str(log), data))
                elif history is not None:
                    parts.append((str(history), _read_jsonl(history)))
            except InputError as exc:
                warnings.append(str(exc))
            if config_yaml is not None:
                try:
                    config.update(_read_config_yaml(config_yaml))
                except InputError as exc:
                    warnings.append(str(exc))
        if not any(len(d.frame) for _, d in parts) and not any(d.warnings for _, d in parts) and not warnings:
            where = parts[0][0] if parts else ref.path
            console = _console(ref.locator)
            if console is not None:
                parts = [console]
                warnings.append(f"{where}: no W&B history; read the console output W&B captured ({console[0]})")
            else:
                warnings.append(f"{where}: no history (nothing was logged with wandb.log)")
        run = assemble_run(ref.name, ref.path, parts, warnings, typed_hparams(config))
        run.format = FORMAT
        return ReadResult([run])

    def signature(self, ref: RunRef):
        return tuple((b.signature() if b is not None else None) for log, hist, _, out in ref.locator
                     for b in (log or hist or out,))


def _console(locator) -> tuple[str, FileData] | None:
    """The training log in the console output W&B captured (``files/output.log``), if any."""
    from lossctl.readers.console import reader as console

    for *_, output in locator:
        if output is None:
            continue
        try:
            data = console.read(output)
        except InputError:
            continue
        if len(data.frame):
            return str(output), data
    return None


class _RunDir:
    def __init__(self, path: str, log: Blob | None, history: Blob | None, config: Blob | None,
                 output: Blob | None = None):
        self.path, self.log, self.history, self.config, self.output = path, log, history, config, output
        self._name: str | None = None

    def run_id(self, store, fallback: str = "") -> str:
        if self.log is not None:
            return self.log.stem.removeprefix("run-")
        return fallback or store.basename(self.path)

    def display_name(self) -> str:
        """The run record's display name, from the head of the log (cheap; '' when none)."""
        if self._name is None:
            self._name = ""
            if self.log is not None:
                try:
                    import io

                    h = read_log(io.BytesIO(self.log.head(NAME_PROBE)), verify=False)
                    self._name = h.display_name
                except (OSError, InputError, WandbLogError):
                    pass
        return self._name


def _run_dir(store, path: str) -> _RunDir | None:
    """A W&B run directory: it holds ``run-<id>.wandb`` or a ``files/`` folder."""
    try:
        files, dirs = store.listdir(path)
    except (OSError, InputError):
        return None
    blobs = [Blob(store, p, size) for p, size in files]
    log = _log_in(store, blobs)
    files_dir = next((d for d in dirs if store.basename(d) == "files"), None)
    if log is None and files_dir is None:
        return _flat_run(store, path, blobs)
    history = config = output = None
    if files_dir is not None:
        try:
            inner, _ = store.listdir(files_dir)
        except (OSError, InputError):
            inner = []
        for p, size in inner:
            name = store.basename(p)
            if name == HISTORY:
                history = Blob(store, p, size)
            elif name == "config.yaml":
                config = Blob(store, p, size)
            elif name == "output.log":
                output = Blob(store, p, size)
    return _RunDir(path, log, history, config, output)


def _flat_run(store, path: str, blobs: list[Blob]) -> _RunDir | None:
    """A run directory of a client before 0.9 (``wandb/dryrun-<time>-<id>/``, or such a folder
    copied on its own): ``wandb-history.jsonl`` beside the files W&B wrote with it, no ``files/``."""
    named = {b.name: b for b in blobs}
    if HISTORY not in named or not any(c in named for c in COMPANIONS):
        return None
    return _RunDir(path, None, named[HISTORY], named.get("config.yaml"), named.get("output.log"))


def _flat_own(name: str) -> bool:
    return name.startswith("wandb-") or name in ("config.yaml", "output.log", "diff.patch", "requirements.txt")


def _log_in(store, blobs: list[Blob], named: bool = False) -> Blob | None:
    """The run's transaction log among a directory's files (any ``*.wandb`` the user named)."""
    return next((b for b in blobs if b.suffix == ".wandb" and (named or b.name.startswith("run-"))), None)


def _wandb_own(name: str) -> bool:
    return name.endswith(".wandb") or bool(re.match(r"^debug.*\.log$", name))


def _read_log(blob: Blob, verify: bool) -> tuple[FileData, dict]:
    try:
        with blob.open() as f:
            h = read_log(f, verify)
    except WandbLogError as exc:
        raise InputError(blob, str(exc)) from None
    except OSError as exc:
        raise cannot_read(blob, exc) from None
    frame = make_frame(pd.Categorical(h.metric), np.asarray(h.step, dtype=np.int64),
                       np.asarray(h.wall_time, dtype=np.float64), np.asarray(h.value, dtype=np.float64))
    return FileData(frame, FORMAT, _warnings(blob, h)), h.config


def _warnings(blob: Blob, h: History) -> list[str]:
    out = []
    for offset, problem in h.damaged[:MAX_DAMAGE_LINES]:
        skipped = "" if "dropped" in problem else "; skipped to the next 32 KiB block"
        out.append(f"{blob}: {problem} at byte {offset:,}{skipped}")
    if len(h.damaged) > MAX_DAMAGE_LINES:
        out.append(f"{blob}: {len(h.damaged) - MAX_DAMAGE_LINES:,} more damaged places (last at byte "
                   f"{h.damaged[-1][0]:,})")
    if h.truncated_at is not None:
        out.append(f"{blob}: last record incomplete at byte {h.truncated_at:,} (cut short, or still "
                   f"being written); read the {h.records:,} complete records before it")
    if h.zero_tail is not None:
        out.append(f"{blob}: zero bytes from byte {h.zero_tail:,} to the end (padding after the last record)")
    return out


def _read_jsonl(blob: Blob) -> FileData:
    """``files/wandb-history.jsonl`` of older clients: one JSON object per logged step."""
    try:
        text = blob.read_text(errors="replace")
    except OSError as exc:
        raise cannot_read(blob, exc) from None
    metric, step, wall, value, warnings = [], [], [], [], []
    bad = 0
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (ValueError, RecursionError):
            bad += 1
            if bad == 1:
                warnings.append(f"{blob}: line {lineno:,} is not JSON; skipped")
            continue
        if not isinstance(row, dict):
            continue
        s = row.get("_step", lineno - 1)
        s = int(s) if isinstance(s, (int, float)) and not isinstance(s, bool) and math.isfinite(s) else lineno - 1
        t = row.get("_timestamp")
        t = float(t) if isinstance(t, (int, float)) and not isinstance(t, bool) else math.nan
        for k, v in flat(row):
            if k in ("_step", "_timestamp", "_runtime"):
                continue
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                metric.append(k)
                step.append(s)
                wall.append(t)
                value.append(float(v))
    if bad > 1:
        warnings[-1] = warnings[-1].replace("; skipped", f"; {bad:,} such lines skipped")
    return FileData(make_frame(pd.Categorical(metric), step, wall, value), "wandb", warnings)


def _read_config_yaml(blob: Blob) -> dict:
    """``files/config.yaml``: ``{key: {value: X, desc: ...}}`` (a safe loader only)."""
    import yaml

    try:
        text = blob.read_text(errors="replace")
    except OSError as exc:
        raise cannot_read(blob, exc) from None
    try:
        doc = safe_yaml(text)
    except yaml.YAMLError as exc:
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(blob, f"not YAML ({why}); the run's config is left out") from None
    except RecursionError:
        raise InputError(blob, "not YAML (nested too deeply); the run's config is left out") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise InputError(blob, f"not a W&B config (top level is a {type(doc).__name__}); "
                         "the run's config is left out")
    return {str(k): (v["value"] if isinstance(v, dict) and "value" in v else v)
            for k, v in doc.items() if k != "wandb_version"}


source = WandbSource()
