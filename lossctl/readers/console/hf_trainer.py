"""Hugging Face ``Trainer`` console output: the dict ``ProgressCallback.on_log`` prints with
``tqdm.write(str(logs))`` (``PrinterCallback``: ``print(logs)``), between tqdm's ``\\r`` bars.

    {'loss': 2.3012, 'grad_norm': 1.9, 'learning_rate': 4.9e-05, 'epoch': 0.12}
    {'eval_loss': 2.4012, 'eval_runtime': 1.23, 'eval_samples_per_second': 81.3, 'epoch': 1.0}
    {'loss': '2.301', 'grad_norm': '1.9', 'learning_rate': '4.9e-05', 'epoch': '0.12'}

The last is how current versions print (floats as ``f"{v:.4g}"`` strings, for readability):
a string that is a number is read as that number. Python dict syntax, read with
``ast.literal_eval`` only (never ``eval``). The step is a
``step``/``global_step`` key when there is one, else the running count of training log lines
(evaluation lines take the count they follow); ``epoch`` is kept as a metric. The summary
``{'train_runtime': ...}`` printed at the end is not a point.
"""

from __future__ import annotations

import ast
import math
import re

from lossctl.readers.console.base import NUMBER, Layout
from lossctl.roles import is_loss_like

NAME = "hf_trainer"
MARKER = re.compile(r"^\{'[^']+': ")
PAIR = re.compile(r"'([^'\\]+)': '?(" + NUMBER + r")'?(?=,|\})")
STEP = {"step", "global_step"}
EVAL = ("eval_", "test_", "predict_")


def _is_train(keys) -> bool:
    return any(not k.startswith(EVAL) and k not in ("epoch", "step", "global_step") for k in keys)


FULL_NUMBER = re.compile(NUMBER)
NONFINITE = re.compile(r"(?<=: )(-?)(nan|inf)(?=[,}])")
SENTINEL = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def literal(line: str) -> dict | None:
    """The dict, by ``ast.literal_eval`` (``str()`` of a dict writes NaN and Inf as bare ``nan``
    and ``inf``, which are not literals: they are read through string sentinels)."""
    text = line.strip()
    if "nan" in text or "inf" in text:
        text = NONFINITE.sub(lambda m: repr("\x00" + m.group(1) + m.group(2)), text)
    try:
        doc = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return None
    if not (isinstance(doc, dict) and doc and all(isinstance(k, str) for k in doc)):
        return None
    return {k: SENTINEL[v[1:]] if isinstance(v, str) and v[1:] in SENTINEL and v[:1] == "\x00" else _number(v)
            for k, v in doc.items()}


def _number(v):
    """A string that is a number as printed (``'2.301'``, ``'3.629e+04'``, ``'nan'``) is that
    number; anything else stays as it is."""
    if isinstance(v, str) and FULL_NUMBER.fullmatch(v):
        return float(v)
    return v


def parse(line: str) -> dict[str, float] | None:
    doc = literal(line)
    if doc is None:
        return None
    out = {}
    train = _is_train(doc)
    for k, v in doc.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool) and _name(k, train):
            out["@step" if k in STEP else k] = float(v)
    return out or None


def detect(line: str, nums) -> Layout | None:
    s = line.strip()
    if not (s.startswith("{'") and s.endswith("}")):
        return None
    doc = literal(s)
    if doc is None:
        return None
    if "train_runtime" in doc:  # the summary after training: not a point
        return Layout(NAME, tuple(None for _ in nums), kind="skip")
    if _arguments(doc):
        return Layout(NAME, tuple(None for _ in nums), kind="skip")
    train = _is_train(doc)
    off = len(line) - len(line.lstrip())
    pairs = {m.start(2) + off: m.group(1) for m in PAIR.finditer(s)}
    numeric = [k for k, v in doc.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(pairs) == len(nums) == len(numeric) and all(m.start() in pairs for m in nums):
        slots = tuple("@step" if pairs[m.start()] in STEP else _name(pairs[m.start()], train)
                      for m in nums)
        return Layout(NAME, slots, train=train)
    return Layout(NAME, (), parse=parse, train=train)


def _arguments(doc: dict) -> bool:
    """The arguments a script prints first (``{'model_name': 'bert', 'lr': 3e-05, 'cuda': False}``),
    not a log line: text or flags among the values and no loss or step among the numbers (the
    Trainer logs numbers, or numbers as strings, which ``literal`` made numbers; an argument
    such as ``eval_interval`` is no evaluation)."""
    if not any(isinstance(v, (bool, str)) for v in doc.values()):
        return False
    numeric = [k for k, v in doc.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return not any(is_loss_like(k) or k in STEP for k in numeric)


def _name(key: str, train: bool) -> str | None:
    return None if key == "epoch" and not train else key  # the epoch is kept from training lines
