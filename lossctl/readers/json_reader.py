"""JSON logs: Keras ``history.history`` (plain, wrapped as ``{"history": ...}`` or a list of
per-epoch dicts), Hugging Face ``trainer_state.json`` (``log_history``) and CatBoost's
``catboost_info/catboost_training.json`` (``meta`` names the sets and metrics; each entry of
``iterations`` holds one value per metric of each set: ``learn/Logloss``, ``test/AUC``) and
Sacred's ``metrics.json`` (a step, timestamp and value list per metric)."""

from __future__ import annotations

import gc
import itertools
import json
from contextlib import contextmanager
from itertools import chain
from operator import itemgetter

import numpy as np
import pandas as pd

try:  # a dependency: parses large files about 3x faster than json, with no more memory (orjson
    import msgspec  # is as fast but holds a second copy of the document); json when it is missing

    _decode = msgspec.json.Decoder().decode
except ImportError:
    _decode = None

from lossctl.errors import InputError, NotALog
from lossctl.frame import make_frame
from lossctl.readers.base import FileData
from lossctl.readers.columns import STEP_COLUMNS, WALL_COLUMNS, Numbers, pick, wide_to_long
from lossctl.storage import as_blob, cannot_read

BOM = b"\xef\xbb\xbf"


@contextmanager
def _gc_paused():
    """Parsing makes a dict per entry and nothing cyclic, yet the cyclic collector, run every few
    hundred new containers, would walk the ever larger heap again and again: paused meanwhile
    (a quarter of the parse of a 300,000-entry trainer_state.json)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class JsonReader:
    format = "keras_json"

    def sniff(self, path, head: bytes) -> bool:
        if path.suffix.lower() == ".json":  # what is in it is judged by read, which says why
            return True
        return path.suffix == "" and head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[")  # a pipe

    @_gc_paused()
    def read(self, path) -> FileData:
        doc = _parse(as_blob(path))
        warnings: list[str] = []
        fmt = self.format
        if isinstance(doc, dict) and isinstance(doc.get("log_history"), list):
            fmt, doc = "hf_trainer", doc["log_history"]
        elif isinstance(doc, dict) and isinstance(doc.get("meta"), dict) and isinstance(doc.get("iterations"), list):
            fmt, doc = "catboost", _catboost_rows(doc["meta"], doc["iterations"])
        elif _is_sacred(doc):
            fmt, doc = "sacred", _sacred_rows(doc)
        elif isinstance(doc, dict) and isinstance(doc.get("history"), dict):
            doc = doc["history"]
        if isinstance(doc, dict):
            lists, n = _from_columns(doc, str(path), warnings)
            columns = {k: _column(lists.pop(k)) for k in list(lists)}
        elif isinstance(doc, list) and doc and set(map(type, doc)) == {dict}:  # (parsers make exact dicts)
            columns, n = _from_rows(doc), len(doc)
            if nested := _nested(columns):
                raise NotALog(path, f"not a training history: its rows hold lists or objects ({', '.join(nested[:3])}), "
                                    "as annotations or predictions do, not metric values")
        else:
            raise NotALog(path, f"not a training history (top level is a {type(doc).__name__}, "
                             "expected a dict of lists or a list of dicts)")
        del doc
        names = list(columns)
        arrays, more = wide_to_long(list(columns.items()), n, pick(names, STEP_COLUMNS),
                                    pick(names, WALL_COLUMNS), str(path))
        warnings += more
        if arrays is None:
            raise NotALog(path, "not a training history (no numeric values)")
        metric, step, wall, value = arrays
        return FileData(make_frame(metric, step, wall, value), fmt, warnings)


def _is_sacred(doc) -> bool:
    """Sacred's ``metrics.json`` (FileStorageObserver): ``{"training.loss": {"steps": [..],
    "timestamps": [..], "values": [..]}, ...}``."""
    return (isinstance(doc, dict) and bool(doc)
            and all(isinstance(v, dict) and isinstance(v.get("steps"), list) and isinstance(v.get("values"), list)
                    for v in doc.values()))


def _sacred_rows(doc: dict) -> list[dict]:
    """Sacred's metrics as rows: ``{"step": 3, "training.loss": .., "wall_time": ..}`` (its ISO
    timestamps in seconds since the epoch)."""
    rows = []
    for name, m in doc.items():
        times = m.get("timestamps") if isinstance(m.get("timestamps"), list) else []
        wall = pd.to_datetime(pd.Series(times, dtype=object), errors="coerce", utc=True) if times else None
        for i, (step, value) in enumerate(zip(m["steps"], m["values"])):
            row = {"step": step, name: value}
            if wall is not None and i < len(wall) and not pd.isna(wall.iloc[i]):
                row["wall_time"] = wall.iloc[i].timestamp()
            rows.append(row)
    return rows


def _catboost_rows(meta: dict, iterations: list) -> list[dict]:
    """CatBoost's iterations as rows: ``{"iteration": 3, "learn/Logloss": .., "test/AUC": ..}``."""
    sets = []
    for kind in ("learn", "test"):
        names = [m.get("name") for m in meta.get(f"{kind}_metrics") or [] if isinstance(m, dict)]
        sets += [(s, names) for s in meta.get(f"{kind}_sets") or [] if isinstance(s, str)]
    rows = []
    for it in iterations:
        if not isinstance(it, dict):
            continue
        row = {"iteration": it.get("iteration")}
        for s, names in sets:
            values = it.get(s)
            if isinstance(values, list):
                row.update((f"{s}/{n}", v) for n, v in zip(names, values) if isinstance(n, str))
        rows.append(row)
    return rows


def _parse(path):
    """The parsed document, or the one-line error naming the file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise cannot_read(path, exc) from None
    doc = _fast_loads(data)
    if doc is not None:
        return doc
    text = _text(path, data)
    del data  # one copy of the file at a time
    return _loads(path, text)


def _from_columns(doc: dict, where: str, warnings: list[str]) -> tuple[dict, int]:
    cols = {k: v for k, v in doc.items() if isinstance(v, list)}
    if not cols or len(cols) < len(doc):  # history.history maps every metric to a list
        raise NotALog(where, "not a training history (expected a JSON object mapping each metric "
                      "to a list of values)")
    lengths = {len(v) for v in cols.values()}
    if len(lengths) > 1:
        warnings.append(f"{where}: metric lists have unequal lengths ({min(lengths)}-{max(lengths)}); "
                        "shorter ones end early")
    n = max(lengths)
    return {k: v + [None] * (n - len(v)) if len(v) < n else v for k, v in cols.items()}, n


def _nested(columns: dict, sample: int = 50) -> list[str]:
    """The columns whose values (the first ``sample`` present) are mostly lists or objects: a
    metrics log holds numbers (and a few strings) in every row; COCO predictions hold ``bbox``
    lists and ``segmentation`` objects."""
    out = []
    for name, values in columns.items():
        seen = [v for v in itertools.islice((v for v in values if v is not None), sample)]
        if seen and sum(isinstance(v, (list, dict)) for v in seen) * 2 > len(seen):
            out.append(name)
    return out


def _fast_loads(data: bytes):
    """The parsed document by msgspec, from the bytes (no text copy), when it is installed and
    accepts them (strict UTF-8 JSON: the same objects as the json module's); else None."""
    if _decode is None:
        return None
    try:
        return _decode(memoryview(data)[len(BOM):] if data.startswith(BOM) else data)
    except (msgspec.MsgspecError, RecursionError):
        return None


def _text(path, data: bytes) -> str:
    """The file as text (a UTF-8 BOM dropped; universal newlines, as a text read gives them, so
    that the json module's error positions count lines as editors do)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"malformed JSON: {exc}") from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text or text.isspace():  # (text.strip() would copy a whole large file)
        raise NotALog(path, "empty file" + (" (0 bytes)" if not text else " (only white space)"))
    return text


def _loads(path, text: str):
    """The parsed document by the json module (which also reads ``NaN``/``Infinity`` tokens,
    ``1e400`` and lone surrogates), or the one-line error naming the file."""
    try:
        return json.loads(text)
    except RecursionError:
        raise InputError(path, "malformed JSON: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, or an integer of more than 4300 digits
        raise InputError(path, f"malformed JSON: {exc}") from None


def _from_rows(rows: list[dict]) -> dict:
    """One column per key (in order of first appearance) of a list of per-step dicts.

    Rows are grouped by their keys (an HF ``log_history`` has a few kinds of rows: training,
    eval, the final summary), so each value is fetched once, by C-level ``map``, from the rows
    that hold its key; a key absent from a row is a gap. Grouping by the number of keys is
    tried first (it builds nothing per row); rows of one length with different keys fall back
    to grouping by the keys themselves."""
    try:
        return _columns(rows, _groups_by_length(rows))
    except KeyError:  # rows of the same length with different keys
        return _columns(rows, _groups_by_keys(rows))


def _groups_by_length(rows: list[dict]) -> list:
    """``(row indexes or None for all, rows, keys of the group's first row)`` per row length, in
    order of first appearance (a KeyError later if a row lacks one of those keys)."""
    n = len(rows)
    lengths = np.fromiter(map(len, rows), dtype=np.intp, count=n)
    sizes, first = np.unique(lengths, return_index=True)
    if len(sizes) == 1:
        return [(None, rows, list(rows[0]))]
    groups = []
    for j in np.argsort(first):
        idx = np.flatnonzero(lengths == sizes[j])
        groups.append((idx, list(map(rows.__getitem__, idx.tolist())), list(rows[int(first[j])])))
    return groups


def _groups_by_keys(rows: list[dict]) -> list:
    """As :func:`_groups_by_length`, grouping by each row's exact key list."""
    shapes = list(map(tuple, rows))
    number = {shape: i for i, shape in enumerate(dict.fromkeys(shapes))}
    if len(number) == 1:
        return [(None, rows, list(shapes[0]))]
    ids = np.fromiter(map(number.__getitem__, shapes), dtype=np.intp, count=len(rows))
    groups = []
    for shape, i in number.items():
        idx = np.flatnonzero(ids == i)
        groups.append((idx, list(map(rows.__getitem__, idx.tolist())), list(shape)))
    return groups


def _columns(rows: list[dict], groups: list) -> dict:
    n = len(rows)
    keys = list(dict.fromkeys(k for _, _, group_keys in groups for k in group_keys))
    has = [set(group_keys) for _, _, group_keys in groups]
    columns = {}
    for k in keys:
        get = itemgetter(k)
        parts = [(idx, list(map(get, sub))) for (idx, sub, _), h in zip(groups, has) if k in h]
        if parts[0][0] is None:  # every row holds every key
            columns[k] = _column(parts[0][1])
            continue
        col = _column(parts[0][1] if len(parts) == 1 else list(chain.from_iterable(v for _, v in parts)))
        if isinstance(col, Numbers):
            idx = np.concatenate([i for i, _ in parts])
            values, missing = np.full(n, np.nan), np.ones(n, dtype=bool)
            values[idx] = col.values
            missing[idx] = False if col.missing is None else col.missing
            columns[k] = Numbers(values, missing)
        else:  # text, booleans...: the tolerant path, cell by cell (a missing key is None)
            columns[k] = pd.Series([row.get(k) for row in rows], dtype=object)
    return columns


_NUMBER_TYPES = {float, int, type(None)}


def _column(values: list):
    """A list of parsed JSON values as :class:`Numbers` when every one is a number or None (a
    gap), in one pass without a Python string per value; else an object Series for the
    tolerant path (text, booleans, nested lists...)."""
    types = set(map(type, values))
    if types <= _NUMBER_TYPES:
        try:
            if type(None) not in types:
                return Numbers(np.fromiter(values, dtype=np.float64, count=len(values)))
            numbers = np.array(values, dtype=np.float64)  # None becomes NaN: told apart below
        except OverflowError:  # an integer beyond float64: the tolerant path says so
            return pd.Series(values, dtype=object)
        gaps = np.isnan(numbers)  # None (a gap) or a NaN token (a logged value)
        if values.count(None) != np.count_nonzero(gaps):  # NaN tokens too: tell them apart
            gaps = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
        return Numbers(numbers, gaps)
    return pd.Series(values, dtype=object)


reader = JsonReader()
