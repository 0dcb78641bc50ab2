"""MLflow's file store: ``mlruns/<experiment id>/<run id>/`` (MLflow's default store before
3.7, still everywhere).

A run directory holds ``meta.yaml`` and ``metrics/`` (and ``params/``, ``tags/``): each metric
is a file of ``timestamp value step`` lines (a legacy line ``timestamp value`` is step 0; a key
with ``/`` is a nested folder), read in the order written. Runs are claimed a whole experiment
at a time (the experiment directory's ``meta.yaml`` names it, and a name repeated within it
falls back to the run id), or one run when the user names a run directory. ``.trash`` is never
walked (discovery skips dot-directories). Everything is read through the store, so an
``mlruns/`` in a bucket reads as one on disk; YAML only through ``yaml.safe_load``.
"""

from __future__ import annotations

import io
import os

import numpy as np

from lossctl.errors import InputError
from lossctl.readers.base import FileData
from lossctl.run import assemble_run
from lossctl.sources.base import Listing, ReadResult, RunRef
from lossctl.sources.mlflow.common import frame_from, parse_param, run_labels
from lossctl.storage import Blob, Store, cannot_read

FORMAT = "mlflow_files"
RUN_DIRS = ("metrics", "params", "tags")  # claimed with the run: never offered to other sources


class MlflowFilesSource:
    name = "mlflow_files"

    def claim(self, listing: Listing) -> list[RunRef]:
        store = listing.store
        if listing.file("meta.yaml") is None:
            return []
        if any(store.basename(d) == "metrics" for d in listing.dirs):  # a run directory itself
            return self._claim_run(listing)
        runs = []  # an experiment directory: the run directories below it
        for d in listing.dirs:
            try:
                files, dirs = store.listdir(d)
            except (OSError, InputError):
                continue
            if any(store.basename(f) == "meta.yaml" for f, _ in files) and \
                    any(store.basename(s) == "metrics" for s in dirs):
                runs.append((d, sum(size for _, size in files)))
        if not runs:
            return []
        exp, warns = experiment_name(Blob(store, store.join(listing.path, "meta.yaml")), store.basename(listing.path))
        listing.files.remove(listing.file("meta.yaml"))
        for d, _ in runs:
            listing.dirs.remove(d)
        prefix = _parent(listing.name)
        return self._refs(store, [(d, exp, warns) for d, _ in runs], listing, prefix)

    def _claim_run(self, listing: Listing) -> list[RunRef]:
        store = listing.store
        parent = store.parent(listing.path)
        exp, warns = experiment_name(Blob(store, store.join(parent, "meta.yaml")), store.basename(parent),
                                     missing_ok=True)
        for name in RUN_DIRS:
            listing.take_dir(name)
        listing.files.remove(listing.file("meta.yaml"))
        return self._refs(store, [(listing.path, exp, warns)], listing, _parent(_parent(listing.name)),
                          here=True)

    def _refs(self, store: Store, runs, listing: Listing, prefix: str, here: bool = False) -> list[RunRef]:
        infos = []
        for d, exp, warns in runs:
            info = run_info(store, d)
            infos.append((d, exp, [*warns, *info.pop("warnings")], info))
        infos.sort(key=lambda x: (x[3].get("start_time") or 0, store.basename(x[0])))
        labels = run_labels([(store.basename(d), exp, info.get("name")) for d, exp, _, info in infos])
        refs, deleted = [], []
        for d, exp, warns, info in infos:
            name = "/".join(p for p in (prefix, labels[store.basename(d)]) if p)
            if info.get("deleted"):
                deleted.append(name)
                continue
            path = os.path.normpath(d) if store.local else store.display(d)
            refs.append(RunRef(name, path, self.name, (store, d, warns), metrics_size(store, d), experiment=exp))
        if deleted:
            shown = ", ".join(deleted[:5]) + (", ..." if len(deleted) > 5 else "")
            where = store.display(listing.path)
            listing.notes.append(f"{where}: {len(deleted)} deleted MLflow run(s) skipped ({shown})")
        return refs

    def read(self, ref: RunRef, verify: bool) -> ReadResult:
        store, run_dir, warns = ref.locator
        warnings = list(warns)
        keys, parts = [], []
        for key, blob in tree(store, store.join(run_dir, "metrics")):
            try:
                data = blob.read_bytes()
            except (OSError, InputError) as exc:
                warnings.append(str(cannot_read(blob, exc)))
                continue
            ts, step, value, problems = parse_metric(data, f"{blob}")
            warnings += problems
            if len(ts):
                keys.append(key)
                parts.append((ts, step, value))
        codes = np.repeat(np.arange(len(parts), dtype=np.int32), [len(p[0]) for p in parts])
        cat = (lambda i: np.concatenate([p[i] for p in parts]) if parts else np.empty(0))
        frame = frame_from(keys, codes, cat(1).astype(np.int64), cat(0), cat(2))
        hparams = {}
        for key, blob in tree(store, store.join(run_dir, "params")):
            try:
                hparams[key] = parse_param(blob.read_text(errors="replace").rstrip("\n"))
            except (OSError, InputError) as exc:
                warnings.append(str(cannot_read(blob, exc)))
        if not parts and not warnings:  # a parent run of a sweep, say: nothing to analyse, not an error
            return ReadResult([], [f"{ref.path}: MLflow run {ref.name} has no metrics logged"])
        run = assemble_run(ref.name, ref.path, [(ref.path, FileData(frame, FORMAT))] if parts else [],
                           warnings, hparams)
        if run.frame.empty:
            run.format = FORMAT
        return ReadResult([run])

    def signature(self, ref: RunRef):
        """Changes when a metric file does: each one's size and modification time."""
        store, run_dir, _ = ref.locator
        return tuple(blob.signature() for _, blob in tree(store, store.join(run_dir, "metrics")))


def metrics_size(store: Store, run_dir: str) -> int:
    """Bytes in a run's metric files, from the directory listings (which carry sizes): what the
    pipeline weighs to decide whether reading in parallel pays."""
    return sum(blob.size_hint() for _, blob in tree(store, store.join(run_dir, "metrics")))


def tree(store: Store, root: str) -> list[tuple[str, Blob]]:
    """``(key, blob)`` of every file below ``root``, the key its path with ``/`` (MLflow keeps a
    key ``train/loss`` as ``train/`` + ``loss``), in name order."""
    out, stack = [], [(root, "")]
    while stack:
        d, prefix = stack.pop()
        try:
            files, dirs = store.listdir(d)
        except (OSError, InputError):
            continue
        out += [(prefix + store.basename(f), Blob(store, f, size)) for f, size in files]
        stack += [(s, prefix + store.basename(s) + "/") for s in reversed(dirs)]
    return sorted(out, key=lambda x: x[0])


def parse_metric(data: bytes, where: str):
    """``(timestamp_ms, step, value, warnings)`` of one metric file. A last line without its
    newline (a write in progress, a copy cut short) is left out with a warning; lines that are
    not ``timestamp value [step]`` are skipped, each kind said once."""
    warnings = []
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        warnings.append(f"{where}: last line cut short ({data[cut:cut + 40]!r}); read the complete lines before it")
        data = data[:cut]
    try:
        ts, step, value = _parse_fast(data)
    except (ValueError, IndexError, TypeError):
        ts, step, value, bad = _parse_slow(data)
        if bad:
                warnings.append(f"{where}: {len(bad):,} line(s) not 'timestamp value step' skipped "
                            f"(first: line {bad[0][0]}: {bad[0][1][:60]!r})")
    return ts, step, value, warnings


def _parse_fast(data: bytes):
    import pandas as pd

    if not data.strip():
        return np.empty(0), np.empty(0, np.int64), np.empty(0)
    kw = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}
    df = pd.read_csv(io.BytesIO(data), sep=" ", header=None, names=range(5),
                     dtype={0: np.float64, 1: np.float64, 2: np.float64, 3: object, 4: object},
                     engine="c", **kw)
    ts, value, step = (df[i].to_numpy() for i in range(3))
    if np.isnan(ts).any() or np.any(ts != np.floor(ts)) or np.any(np.isfinite(step) & (step != np.floor(step))):
        raise ValueError("timestamp or step not an integer")
    return ts, np.nan_to_num(step, nan=0.0).astype(np.int64), value


def _parse_slow(data: bytes):
    ts, step, value, bad = [], [], [], []
    for i, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        f = line.split()
        if not f:
            continue
        try:
            if len(f) not in (2, 3, 5):
                raise ValueError
            t, v, s = int(f[0]), float(f[1]), int(f[2]) if len(f) >= 3 else 0
        except ValueError:
            bad.append((i, line))
            continue
        ts.append(t)
        value.append(v)
        step.append(s)
    return np.array(ts, np.float64), np.array(step, np.int64), np.array(value, np.float64), bad


def read_yaml(blob: Blob) -> tuple[dict, list[str]]:
    """A meta.yaml as a dict, and the warning when it is not one (one line naming the file)."""
    import yaml

    try:
        doc = yaml.safe_load(blob.read_bytes())
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" (line {where.line + 1})" if where is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        return {}, [f"{blob}: not valid YAML{at}: {problem}; its fields are ignored"]
    except (OSError, InputError) as exc:
        return {}, [str(cannot_read(blob, exc))]
    if not isinstance(doc, dict):
        return {}, [f"{blob}: not an MLflow meta.yaml (holds a {type(doc).__name__}); its fields are ignored"]
    return doc, []


def experiment_name(meta: Blob, fallback: str, missing_ok: bool = False) -> tuple[str, list[str]]:
    if missing_ok and meta.signature() is None:
        return fallback, []
    doc, warns = read_yaml(meta)
    name = doc.get("name")
    return (str(name) if name not in (None, "") else fallback), warns


def run_info(store: Store, run_dir: str) -> dict:
    """name, deleted, start_time and warnings of one run directory (meta.yaml, tags)."""
    doc, warns = read_yaml(Blob(store, store.join(run_dir, "meta.yaml")))
    tag = Blob(store, store.join(run_dir, "tags", "mlflow.runName"))
    name = None
    try:
        name = tag.read_text(errors="replace").strip() or None
    except (OSError, InputError):
        pass
    name = name or (str(doc["run_name"]) if doc.get("run_name") else None)
    start = doc.get("start_time")
    return {"name": name, "deleted": doc.get("lifecycle_stage") == "deleted",
            "start_time": start if isinstance(start, int) else 0, "warnings": warns}


def _parent(rel: str) -> str:
    """The relative name of a listing's parent ("" at or above the target)."""
    return rel.rsplit("/", 1)[0] if "/" in rel else ""


source = MlflowFilesSource()
