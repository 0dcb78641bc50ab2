"""The CSV a W&B chart panel exports (panel menu > Export > CSV).

Header ``Step,<run> - <metric>,<run> - <metric>__MIN,<run> - <metric>__MAX,...`` (cells
usually quoted): the x-axis, then three columns per run and metric. ``__MIN``/``__MAX`` are the
band the chart draws when it samples or groups points, not metrics of their own; they are not
read. Each ``<run>`` prefix is a run: the frame labels its points in the ``run`` column and the
``files`` source makes one run of each (``<dir>/<run>``). Empty cells are steps a run did not
log; ``NaN``/``Infinity`` are values.
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pandas as pd

from lossctl.errors import InputError, NotALog
from lossctl.frame import make_frame
from lossctl.readers.base import FileData
from lossctl.storage import as_blob

SEP = " - "
BAND = ("__MIN", "__MAX")


def _header(text: str) -> list[str] | None:
    """The header cells when the first line is an export's: an x-axis column, then only
    ``<run> - <metric>`` columns, at least one of them not a ``__MIN``/``__MAX`` band."""
    first = text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    try:
        cells = next(csv.reader([first]))
    except (csv.Error, StopIteration):
        return None
    if len(cells) < 2 or SEP in cells[0] or not cells[0].strip():
        return None
    rest = cells[1:]
    if not all(SEP in c and c.split(SEP, 1)[0] and c.split(SEP, 1)[1] for c in rest):
        return None
    if not any(c.endswith(BAND) for c in rest):  # the band columns mark an export
        return None
    if not any(not c.endswith(BAND) for c in rest):
        return None
    return cells


class WandbExportReader:
    format = "wandb_export"

    def sniff(self, path, head: bytes) -> bool:
        if path.suffix.lower() not in (".csv", ""):
            return False
        return _header(head.decode("utf-8", "replace")) is not None

    def read(self, path) -> FileData:
        path = as_blob(path)
        text = path.text()
        header = _header(text)
        if header is None:
            raise NotALog(path, "not a W&B chart export (header is not 'Step, <run> - <metric>, ...')")
        rows = list(csv.reader(io.StringIO(text)))[1:]
        warnings: list[str] = []
        steps, keep, bad_step = [], [], 0
        for i, row in enumerate(rows):
            if not row or not any(c.strip() for c in row):
                continue
            s = _float(row[0])
            if s is None or not math.isfinite(s):
                bad_step += 1
                continue
            steps.append(int(s))
            keep.append(i)
        if bad_step:
            warnings.append(f"{path}: {bad_step:,} rows without a numeric {header[0]!r}; skipped")
        runs, metrics, step_out, values = [], [], [], []
        text_cells = 0
        for col, name in enumerate(header[1:], start=1):
            if name.endswith(BAND):
                continue
            run, metric = name.split(SEP, 1)
            for s, i in zip(steps, keep):
                row = rows[i]
                cell = row[col].strip() if col < len(row) else ""
                if not cell:
                    continue
                v = _float(cell)
                if v is None:
                    text_cells += 1
                    continue
                runs.append(run)
                metrics.append(metric)
                step_out.append(s)
                values.append(v)
        if text_cells:
            warnings.append(f"{path}: {text_cells:,} cells that are not numbers; skipped")
        if not values:
            raise InputError(path, "W&B chart export without a single value")
        frame = make_frame(pd.Categorical(metrics), np.asarray(step_out, dtype=np.int64), None, values)
        frame["run"] = pd.Categorical(runs)
        return FileData(frame, self.format, warnings)


def _float(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


reader = WandbExportReader()
