"""Public Python API."""

from __future__ import annotations

import os

import pandas as pd

from lossctl.errors import InputError
from lossctl.frame import concat


def load(path: str | os.PathLike, verify: bool = True, hparams: bool = False):
    """Read every run below ``path`` (a directory, a log file, a URL, an ``mlflow.db``, ...) into
    the common frame (run, metric, step, wall_time, value).

    With ``hparams=True`` return ``(frame, hparams)``, the second a frame of (run, name, value)
    holding each run's hyperparameters (numbers as numbers). Raises
    :class:`lossctl.errors.InputError` when nothing readable is found.
    """
    from lossctl.runs import load_runs

    result = load_runs(path, verify=verify)
    if not result.runs:
        raise InputError(path, "; ".join(result.errors))
    frame = concat([r.frame for r in result.runs])
    if not hparams:
        return frame
    rows = [(r.name, k, v) for r in result.runs for k, v in r.hparams.items()]
    table = pd.DataFrame(rows, columns=["run", "name", "value"]).astype({"run": "category", "name": "category"})
    return frame, table
