"""stable-baselines3's ``verbose=1`` tables (``stable_baselines3/common/logger.py``,
``HumanOutputFormat.write``) and OpenAI baselines' (``baselines/logger.py``, ``writekvs``):

    ------------------------------------------
    | rollout/                |              |
    |    ep_rew_mean          | -1.2e+03     |
    | time/                   |              |
    |    total_timesteps      | 16384        |
    | train/                  |              |
    |    loss                 | -0.0104      |
    ------------------------------------------
    | eplenmean     | 200      |                  (baselines: flat keys, no section rows)
    | misc/total_timesteps | 2048 |

A table between two dash lines is one record. SB3 sorts the keys and prints each ``tag/`` once as
a section row (empty value), the keys under it indented by three spaces; a metric is named
section + key (``train/loss``), as SB3 recorded it. Keys and values longer than ``max_length``
(36; baselines 30) end in ``...`` and are named as printed; floats are ``%-8.3g``, other
values ``str()`` (a row whose value is no number is not read). The step of every row of a table
is its ``time/total_timesteps`` (baselines: ``total_timesteps``, ``misc/total_timesteps``,
``TimestepsSoFar``, ``steps``, ``total/steps``), printed after the ``rollout/`` rows; a table
without one takes the step of the table before, and a log without any, the table's number.

A row's section and step depend on the rows around it, which a shape classified once cannot
know (``success_rate`` is printed under ``rollout/`` and under ``eval/``): the dash lines and
section rows are kept as line numbers only (``kind="mark"``), and :func:`resolve` names and
places the rows at the end, in line order, a column at a time.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from lossctl.readers.console.base import NUMBER, Layout

NAME = "sb3"
SEES_PREFIX = True  # the prefix stripped before the body holds the row's "|" and indent
RULE = re.compile(r"^-{9,}\s*$")
ROW = re.compile(r"^([^|\s](?:[^|]*[^|\s])?) *\| ([^|]*?) *\|\s*$")
BAR = re.compile(r"\|( +)$")
NUMBER_ONLY = re.compile(rf"(?:{NUMBER})$")
# PPO's target_kl message: ``step`` there is the epoch within an update, no metric line
SKIP = re.compile(r"^Early stopping at step \d+ due to reaching max kl: ")
STEP_KEYS = ("time/total_timesteps", "total_timesteps", "misc/total_timesteps", "TimestepsSoFar",
             "steps", "total/steps")
STEP_PRINTED = {k.rsplit("/", 1)[-1] for k in STEP_KEYS}  # as a row prints them, under a section or not
MARKER = re.compile(r"^[^|\s][^|]*\| [^|]*\|\s*$")


def detect(line: str, nums, prefix: str = "") -> Layout | None:
    none = (None,) * len(nums)
    if RULE.match(line):
        return Layout(NAME, none, kind="mark", names={"rule": True}, activates=False)
    if SKIP.match(line):
        return Layout(NAME, none, kind="skip")
    bar = BAR.search(prefix)
    m = ROW.match(line) if bar else None
    if m is None:
        return None
    key, value = m.group(1), m.group(2)
    indent = len(bar.group(1)) > 1
    if not value and not indent:
        return Layout(NAME, none, kind="mark", names={"section": key}, activates=False)
    if not NUMBER_ONLY.match(value) or not nums or nums[-1].start() != m.start(2):
        return Layout(NAME, none, kind="mark", activates=False)  # a string, a bool, a list: no metric
    return Layout(NAME, none[:-1] + (key,), names={"key": key, "indent": indent}, activates=False)


def _tables(groups: list):
    """The dash lines (sorted line numbers) and, per table number (the count of dash lines
    before a line), whether it is whole: every line between its two dash lines is a row."""
    empty = np.zeros(0, dtype=np.int64)
    rules = np.sort(np.concatenate([empty] + [g.rows for g in groups if g.layout.names.get("rule")]))
    rows = np.concatenate([empty] + [g.rows for g in groups if not g.layout.names.get("rule")])
    count = np.bincount(np.searchsorted(rules, rows), minlength=len(rules) + 1)
    span = np.full(len(rules) + 1, -1)
    span[1:-1] = np.diff(rules) - 1
    return rules, (count == span) & (count > 0)


def shown(groups: list) -> bool:
    """Whether the tables are SB3's or baselines': two whole tables, or one holding the step.
    A two-column table alone (detectron2's ``| category | #instances |``) is not enough."""
    rules, whole = _tables(groups)
    tables = set()
    for g in groups:
        key = g.layout.names.get("key")
        if key is not None:
            t = np.searchsorted(rules, g.rows)
            t = t[whole[t]]
            if len(t) and key.rsplit("/", 1)[-1] in STEP_PRINTED:
                return True
            tables.update(np.unique(t).tolist())
            if len(tables) > 1:
                return True
    return False


def resolve(groups: list) -> list:
    """The rows as records: each named by the section row above it in its table and placed at
    its table's step. ``groups``: this family's groups (marks and rows), any order."""
    group = type(groups[0]) if groups else None  # the scanner's Group (which imports this module)
    empty = np.zeros(0, dtype=np.int64)
    rules, whole = _tables(groups)
    secs = [g for g in groups if "section" in g.layout.names]
    sec_names = sorted({g.layout.names["section"] for g in secs})
    sec_line = np.concatenate([empty] + [g.rows for g in secs])
    sec_code = np.concatenate([empty] + [np.full(len(g.rows), sec_names.index(g.layout.names["section"]))
                                         for g in secs])
    o = np.argsort(sec_line, kind="stable")
    sec_line, sec_code = sec_line[o], sec_code[o]
    sec_table = np.searchsorted(rules, sec_line)
    pieces = []  # (name, lines, table, values, present mask or None)
    for g in groups:
        key = g.layout.names.get("key")
        if key is None or key not in g.metrics:
            continue
        table = np.searchsorted(rules, g.rows)  # rows between the same two dash lines: one table
        code = np.full(len(g.rows), -1)
        if g.layout.names["indent"] and len(sec_line):
            j = np.searchsorted(sec_line, g.rows) - 1
            jj = np.maximum(j, 0)
            code = np.where((j >= 0) & (sec_table[jj] == table), sec_code[jj], -1)
        for c in np.unique(code).tolist():
            k = (code == c) & whole[table]  # a row outside a whole table is no SB3 row
            if not k.any():
                continue
            name = (sec_names[c] if c >= 0 else "") + key
            present = g.present.get(key)
            pieces.append((name, g.rows[k], table[k], g.metrics[key][k], None if present is None else present[k]))
    if not pieces:
        return []
    step_of = np.full(len(rules) + 1, np.nan)
    steps = [p for p in pieces if p[0] in STEP_KEYS]
    for _, _, table, values, present in steps:
        ok = np.isfinite(values) if present is None else present
        step_of[table[ok]] = values[ok]
    if np.isfinite(step_of).any():
        step_of = pd.Series(step_of).ffill().fillna(0).to_numpy()
    else:  # no step printed anywhere: the tables are counted
        used = np.unique(np.concatenate([p[2] for p in pieces]))
        step_of[used] = np.arange(1, len(used) + 1)
    out = []
    for name, lines, table, values, present in pieces:
        if name in STEP_KEYS:
            continue
        g = group(Layout(NAME, (name,)), lines, special={"@step": step_of[table]}, metrics={name: values})
        if present is not None:
            g.present[name] = present
        out.append(g)
    return out
