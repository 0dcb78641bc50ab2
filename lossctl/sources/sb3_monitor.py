"""stable-baselines3's Monitor files (OpenAI baselines' before it): ``monitor.csv``, ``<k>.monitor.csv``.

``Monitor(env, filename)`` (stable_baselines3/common/monitor.py, ``ResultsWriter``) writes one
file per environment: a JSON header line ``#{"t_start": 1700000000.1, "env_id": "CartPole-v1"}``,
then ``r,l,t`` (the episode's return, its length in steps, seconds since ``t_start``) and the
info keywords asked for, a row per finished episode. A folder's monitor files are one agent,
read as SB3's ``load_results`` and ``results_plotter`` read them: every episode of every file by
its end time (``t_start + t``), the step the timesteps so far (the cumulative sum of ``l``), ``r``
as ``episode_reward`` and ``l`` as ``episode_length`` (so the return is judged as an agent's),
other numeric columns by their names. A folder holding other logs too names this run
``<folder>/monitor``.
"""

from __future__ import annotations

import io
import json
import os

import numpy as np
import pandas as pd

from lossctl.errors import InputError
from lossctl.frame import make_frame
from lossctl.readers.base import FileData
from lossctl.run import assemble_run
from lossctl.sources.base import Listing, ReadResult, RunRef
from lossctl.storage import Blob, cannot_read

FORMAT = "sb3_monitor"
SUFFIX = "monitor.csv"
NAMES = {"r": "episode_reward", "l": "episode_length"}


def is_monitor(blob: Blob) -> bool:
    """A ``*monitor.csv`` whose first line is ``#`` and a JSON object (the Monitor's header)."""
    if not blob.name.endswith(SUFFIX):
        return False
    try:
        return blob.head(2) == b"#{"
    except (OSError, InputError):
        return False


class MonitorSource:
    name = FORMAT

    def claim(self, listing: Listing) -> list[RunRef]:
        mine = sorted((b for b in listing.files if is_monitor(b)), key=lambda b: b.name)
        if not mine:
            return []
        listing.files = [b for b in listing.files if b not in mine]
        from lossctl.sources.files import reader_for

        others = any(reader_for(b) is not None for b in listing.files)
        path = listing.store.display(listing.path)
        path = os.path.normpath(path) if listing.store.local else path
        return [RunRef(listing.run_name("monitor") if others else listing.name, path, self.name, tuple(mine),
                       sum(b.size_hint() for b in mine))]

    def read(self, ref: RunRef, verify: bool) -> ReadResult:
        tables, warnings = [], []
        for blob in ref.locator:
            try:
                tables.append(_table(blob))
            except InputError as exc:
                warnings.append(str(exc))
        tables = [t for t in tables if len(t)]
        if tables:
            episodes = pd.concat(tables, ignore_index=True).sort_values("t", kind="stable")
            frame = _frame(episodes)
        else:
            frame = make_frame(pd.Categorical([]), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
            if not warnings:
                warnings.append(f"{ref.path}: no finished episode in its monitor files")
        run = assemble_run(ref.name, ref.path, [(str(ref.locator[0]), FileData(frame, FORMAT))], warnings)
        run.format = FORMAT
        return ReadResult([run])

    def signature(self, ref: RunRef):
        return tuple(b.signature() for b in ref.locator)


def _table(blob: Blob) -> pd.DataFrame:
    """One monitor file's episodes, ``t`` made absolute (``t_start + t``)."""
    try:
        text = blob.read_text(errors="replace")
    except OSError as exc:
        raise cannot_read(blob, exc) from None
    first, _, rest = text.partition("\n")
    try:
        header = json.loads(first[1:])
        t_start = float(header.get("t_start", 0.0)) if isinstance(header, dict) else None
    except (ValueError, TypeError, RecursionError):
        t_start = None
    if t_start is None:
        raise InputError(blob, "not a Monitor file (its first line is not '#' and a JSON header)")
    try:
        table = pd.read_csv(io.StringIO(rest), index_col=None)
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(blob, f"not a Monitor file ({str(exc).splitlines()[0]})") from None
    if not {"r", "l", "t"} <= set(table.columns):
        raise InputError(blob, f"not a Monitor file (columns {', '.join(map(str, table.columns[:4]))}; "
                         "expected r, l, t)")
    for c in table.columns:
        table[c] = pd.to_numeric(table[c], errors="coerce")
    table = table[table["l"].between(0, 2**53) & np.isfinite(table["t"])]  # a length is a count of steps
    table["t"] += t_start
    return table


def _frame(episodes: pd.DataFrame) -> pd.DataFrame:
    """The long frame: each numeric column at the timesteps so far, the episode's end as wall time."""
    steps = np.cumsum(episodes["l"].to_numpy(np.float64)).astype(np.int64)
    wall = episodes["t"].to_numpy(np.float64)
    metric, step, time, value = [], [], [], []
    for col in episodes.columns:
        if col == "t" or not pd.api.types.is_numeric_dtype(episodes[col]):
            continue
        v = episodes[col].to_numpy(np.float64)
        if np.isnan(v).all():  # an info keyword that holds text
            continue
        metric += [NAMES.get(col, str(col))] * len(v)
        step.append(steps)
        time.append(wall)
        value.append(v)
    return make_frame(pd.Categorical(metric), np.concatenate(step), np.concatenate(time), np.concatenate(value))


source = MonitorSource()
