"""JSON logs: Keras ``history.history`` (plain, wrapped as ``{"history": ...}`` or a list of
per-epoch dicts) and Hugging Face ``trainer_state.json`` (``log_history``)."""

from __future__ import annotations

import json

import pandas as pd

from lossctl.errors import InputError, NotALog
from lossctl.frame import make_frame
from lossctl.readers.base import FileData
from lossctl.readers.columns import STEP_COLUMNS, WALL_COLUMNS, pick, wide_to_long
from lossctl.storage import as_blob, cannot_read


class JsonReader:
    format = "keras_json"

    def sniff(self, path, head: bytes) -> bool:
        if path.suffix.lower() == ".json":  # what is in it is judged by read, which says why
            return True
        return path.suffix == "" and head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[")  # a pipe

    def read(self, path) -> FileData:
        path = as_blob(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise cannot_read(path, exc) from None
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
            table = _from_columns(doc, str(path), warnings)
        elif isinstance(doc, list) and doc and all(isinstance(r, dict) for r in doc):
            keys = list(dict.fromkeys(k for row in doc for k in row))
            table = pd.DataFrame({k: pd.Series([row.get(k) for row in doc], dtype=object) for k in keys})
        else:
            raise NotALog(path, f"not a training history (top level is a {type(doc).__name__}, "
                             "expected a dict of lists or a list of dicts)")
        step_col = pick(table.columns, STEP_COLUMNS)
        arrays, more = wide_to_long(table, step_col, pick(table.columns, WALL_COLUMNS), str(path))
        warnings += more
        if arrays is None:
            raise NotALog(path, "not a training history (no numeric values)")
        metric, step, wall, value = arrays
        return FileData(make_frame(pd.Categorical(metric), step, wall, value), fmt, warnings)


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
    return pd.DataFrame({k: pd.Series(list(v) + [None] * (n - len(v)), dtype=object) for k, v in cols.items()})


reader = JsonReader()
