"""JSON logs: Keras ``history.history`` (plain, wrapped as ``{"history": ...}`` or a list of
per-epoch dicts) and Hugging Face ``trainer_state.json`` (``log_history``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from lossctl.errors import InputError, NotALog
from lossctl.frame import make_frame
from lossctl.readers.base import FileData
from lossctl.readers.columns import STEP_COLUMNS, WALL_COLUMNS, Numbers, pick, wide_to_long


class JsonReader:
    format = "keras_json"

    def sniff(self, path: Path, head: bytes) -> bool:
        return path.suffix.lower() == ".json"  # what is in it is judged by read, which says why

    def read(self, path: Path) -> FileData:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise InputError(path, f"malformed JSON: {exc}") from None
        if not text.strip():
            raise NotALog(path, "empty file" + (" (0 bytes)" if not text else " (only white space)"))
        try:
            doc = json.loads(text)
        except RecursionError:
            raise InputError(path, "malformed JSON: nested too deeply") from None
        except ValueError as exc:  # JSONDecodeError, or an integer of more than 4300 digits
            raise InputError(path, f"malformed JSON: {exc}") from None
        warnings: list[str] = []
        fmt = self.format
        if isinstance(doc, dict) and isinstance(doc.get("log_history"), list):
            fmt, doc = "hf_trainer", doc["log_history"]
        elif isinstance(doc, dict) and isinstance(doc.get("history"), dict):
            doc = doc["history"]
        if isinstance(doc, dict):
            lists, n = _from_columns(doc, str(path), warnings)
        elif isinstance(doc, list) and doc and all(isinstance(r, dict) for r in doc):
            keys = list(dict.fromkeys(k for row in doc for k in row))
            lists, n = {k: [row.get(k) for row in doc] for k in keys}, len(doc)
        else:
            raise NotALog(path, f"not a training history (top level is a {type(doc).__name__}, "
                             "expected a dict of lists or a list of dicts)")
        del doc
        columns = [(k, _column(v)) for k, v in lists.items()]
        names = list(lists)
        arrays, more = wide_to_long(columns, n, pick(names, STEP_COLUMNS), pick(names, WALL_COLUMNS), str(path))
        warnings += more
        if arrays is None:
            raise NotALog(path, "not a training history (no numeric values)")
        metric, step, wall, value = arrays
        return FileData(make_frame(metric, step, wall, value), fmt, warnings)


def _from_columns(doc: dict, where: str, warnings: list[str]) -> pd.DataFrame:
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


_NUMBER_TYPES = {float, int, type(None)}


def _column(values: list):
    """A list of parsed JSON values as :class:`Numbers` when every one is a number or None (a
    gap), in one pass without a Python string per value; else an object Series for the
    tolerant path (text, booleans, nested lists...)."""
    if set(map(type, values)) <= _NUMBER_TYPES:
        try:
            numbers = np.array(values, dtype=np.float64)  # None becomes NaN: told apart below
        except OverflowError:  # an integer beyond float64: the tolerant path says so
            return pd.Series(values, dtype=object)
        gaps = np.isnan(numbers)
        if gaps.any():  # a NaN token is a logged value, None (or a missing key) is a gap
            gaps[gaps] = [values[i] is None for i in np.flatnonzero(gaps)]
        return Numbers(numbers, gaps if gaps.any() else None)
    return pd.Series(values, dtype=object)


reader = JsonReader()
