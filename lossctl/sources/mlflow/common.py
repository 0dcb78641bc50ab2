"""What the three MLflow sources share: run names, params as typed hparams, the frame."""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np
import pandas as pd

from lossctl.frame import make_frame

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)")  # "nan", "inf" stay text (JSON has no such numbers)


def parse_param(text: str) -> int | float | bool | str:
    """An MLflow param (always a string there) as the value it spells: ``32`` -> 32,
    ``1e-3`` -> 0.001, ``true``/``false`` -> bool; anything else stays a string."""
    s = str(text).strip()
    if _INT.fullmatch(s):
        return int(s)
    if _FLOAT.fullmatch(s) and math.isfinite(x := float(s)):
        return x
    low = s.lower()
    if low in ("true", "false"):
        return low == "true"
    return str(text)


def run_labels(runs: list[tuple[str, str, str | None]]) -> dict[str, str]:
    """``{run_id: "experiment/run name"}`` for ``(run_id, experiment name, run name)``: the run
    id stands in where the name is missing or used by another run of the same experiment."""
    seen = Counter((exp, name) for _, exp, name in runs if name)
    return {rid: f"{exp}/{name if name and seen[(exp, name)] == 1 else rid}" for rid, exp, name in runs}


def frame_from(keys: list[str], codes: np.ndarray, step: np.ndarray, timestamp_ms: np.ndarray,
               value: np.ndarray) -> pd.DataFrame:
    """The common frame from per-point arrays (metric as codes into ``keys``), in the order
    given: each source passes its points in the order MLflow returns them (the order written),
    so the restart rule keeps the later value of a step logged twice."""
    n = len(codes)
    metric = pd.Categorical.from_codes(np.asarray(codes, dtype=np.int32),
                                       categories=pd.Index(list(keys), dtype=object)) if n else []
    return make_frame(metric, step, np.asarray(timestamp_ms, dtype=np.float64) / 1000.0, value)
