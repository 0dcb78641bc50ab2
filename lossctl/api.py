"""Public Python API."""

from __future__ import annotations

import os

import pandas as pd

from lossctl.errors import InputError
from lossctl.frame import concat


def load(path: str | os.PathLike, verify: bool = True) -> pd.DataFrame:
    """Read every run below ``path`` into the common frame (run, metric, step, wall_time, value).

    Raises :class:`lossctl.errors.InputError` when nothing readable is found.
    """
    from lossctl.runs import load_runs

    result = load_runs(path, verify=verify)
    if not result.runs:
        raise InputError(path, "; ".join(result.errors))
    return concat([r.frame for r in result.runs])
