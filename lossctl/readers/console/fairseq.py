"""fairseq (and metaseq) with ``--log-format json``: ``JsonProgressBar`` logs ``json.dumps`` of the
stats through a logger renamed to the progress bar's tag, every value formatted as a string
(``format_stat``: ``"{:g}"``, meters ``"{:.3f}"``), under fairseq's logging format
(``%(asctime)s | %(levelname)s | %(name)s | %(message)s``) or Hydra's
(``[%(asctime)s][%(name)s][%(levelname)s] - %(message)s``):

    2022-06-06 09:24:34 | INFO | train_inner | {"epoch": 3, "update": 2.519, "loss": "0.261", ..., "num_updates": "2000", "lr": "1.99e-06", "gnorm": "0.131", ...}
    [2022-06-06 09:24:52,170][valid][INFO] - {"epoch": 3, "valid_loss": "0.261", "valid_accuracy": "39.889", ..., "valid_num_updates": "2000"}

``train_inner`` lines are the training curve, ``valid*`` the evaluations, ``train`` the epoch's
mean (``train_loss``); the step is ``num_updates`` (``<tag>_num_updates``). Throughput and
bookkeeping (``wps``, ``ups``, ``wpb``, ``bsz``, ``wall``, ``train_wall``, ``gb_free``, ``epoch``,
``update``) are not curves.
"""

from __future__ import annotations

import json
import re

from lossctl.readers.console.base import Layout

NAME = "fairseq"
LINE = re.compile(r"^\[?(train_inner|train|valid[\w-]*)\]?(?:\[\w+\])?\s*[-|]\s*(\{.*\})\s*$")
MARKER = re.compile(r"^\[?(?:train_inner|train|valid[\w-]*)\]?(?:\[\w+\])?\s*[-|]\s*\{")
SKIP = {"epoch", "update", "wps", "ups", "wpb", "bsz", "wall", "train_wall", "gb_free", "num_updates"}


def parse(line: str) -> dict[str, float] | None:
    m = LINE.match(line)
    if m is None:
        return None
    try:
        doc = json.loads(m.group(2))
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict):
        return None
    tag = m.group(1)
    step = doc.get("num_updates", doc.get(f"{tag}_num_updates"))
    out: dict[str, float] = {}
    try:
        out["@step"] = float(step)
    except (TypeError, ValueError):
        return None
    for key, value in doc.items():
        bare = key[len(tag) + 1:] if key.startswith(f"{tag}_") else key
        if bare in SKIP or isinstance(value, bool):
            continue
        try:
            out[key] = float(value)
        except (TypeError, ValueError):
            continue  # lists (tensors), words
    return out


def detect(line: str, nums) -> Layout | None:
    if LINE.match(line) is None:
        return None
    return Layout(NAME, (), parse=parse)
