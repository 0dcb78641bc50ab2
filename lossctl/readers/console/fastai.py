"""fastai's training table in a console (fastai v1 ``Recorder`` and v2 ``ProgressCallback``,
written by fastprogress's ``ConsoleProgressBar.write(..., table=True)``): a header of the
recorder's names, each padded to 8 characters and joined by two spaces, then a row per epoch,
each value padded to its name's width:

    epoch     train_loss  valid_loss  accuracy  time
    0         2.722157    2.387366    0.548566  02:32

Values are ``str()`` of an int, ``f'{v:.6f}'`` of a float, ``#na#`` for a missing one; ``time`` is
``format_time`` (``02:32``, ``1:11:26``), not a curve. The epoch as printed is the step (v1
counts from 1, v2 from 0). A row is named by the header seen last (see
:func:`.base.named_columns`); each table is a training of its own when its epochs start again.
"""

from __future__ import annotations

import re

from lossctl.readers.console.base import NUMBER, Layout

NAME = "fastai"
HEADER = re.compile(r"^epoch\s+train_loss(?:\s+\S+)*\s*$")
ROW = re.compile(rf"^\d+(?:\s+(?:#na#|\d+(?::\d\d)+|{NUMBER}))+\s*$")
MARKER = re.compile(r"^epoch\s+train_loss\s")


def detect(line: str, nums) -> Layout | None:
    if HEADER.match(line):
        return Layout(NAME, (), kind="skip", names={"table": NAME, "columns": line.split()})
    if not ROW.match(line):
        return None
    tokens = [(m.start(), m.end(), ":" in m.group()) for m in re.finditer(r"\S+", line)]
    slots = []
    for n in nums:  # the column of each number: the token holding it
        j = next(i for i, (a, b, _) in enumerate(tokens) if a <= n.start() < b)
        slots.append("@step" if j == 0 else None if tokens[j][2] else f"#{j}")
    return Layout(NAME, tuple(slots), names={"table": NAME})
