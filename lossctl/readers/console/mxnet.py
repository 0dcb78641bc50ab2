"""MXNet's ``Module.fit`` (and Gluon scripts that reuse its callbacks): the ``Speedometer``
callback every ``frequent`` batches, and ``fit``'s lines at the end of each epoch:

    Epoch[0] Batch [20]	Speed: 142.33 samples/sec	accuracy=0.562500              (MXNet < 1.3)
    Epoch[5] Batch [0-20]	Speed: 25.77 samples/sec	M0_RPNAcc=0.996745	...     (``auto_reset=False``)
    Epoch[3] Batch [100-120]	Speed: 412.05 samples/sec	accuracy=0.91	ce=0.27   (``auto_reset=True``)
    Epoch[0] Train-accuracy=0.781250
    Epoch[0] Time cost=21.352
    Epoch[0] Validation-accuracy=0.812500

Epochs count from 0 and batches within the epoch, so the global step is epoch x the largest batch
printed + batch (the window's end for ``[a-b]``); each ``name=value`` of the evaluation metrics is
a curve, named as printed. An epoch's ``Train-`` and ``Validation-`` lines sit at the last batch
line before them; ``Speed`` and ``Time cost`` are not curves.
"""

from __future__ import annotations

import re

from lossctl.readers.console.base import NUMBER, Layout

NAME = "mxnet"
N = "(" + NUMBER + ")"
SPEED = re.compile(rf"^Epoch\[(\d+)\] Batch \[(\d+)(?:-(\d+))?\]\tSpeed: {N} samples/sec((?:\t[^=\t]+={NUMBER})*)\s*$")
PAIR = re.compile(rf"\t([^=\t]+)=({NUMBER})")
EPOCH_END = re.compile(rf"^Epoch\[(\d+)\] (Train|Validation)-([^=\t]+)=({NUMBER})\s*$")
TIME_COST = re.compile(rf"^Epoch\[\d+\] Time cost={NUMBER}\s*$")
MARKER = re.compile(r"^Epoch\[\d+\] (?:Batch \[|Train-|Validation-|Time cost=)")


def _slots(nums, where: dict[int, str]) -> tuple:
    """A name per number: the number a group of the match starts in (``-20`` holds ``20``)."""
    return tuple(next((name for at, name in where.items() if n.start() <= at < n.end()), None) for n in nums)


def detect(line: str, nums) -> Layout | None:
    if TIME_COST.match(line):
        return Layout(NAME, (None,) * len(nums), kind="skip")
    if m := EPOCH_END.match(line):
        return Layout(NAME, _slots(nums, {m.start(1): "@epoch_step", m.start(4): f"{m.group(2)}-{m.group(3)}"}))
    m = SPEED.match(line)
    if m is None:
        return None
    batch = 3 if m.group(3) is not None else 2
    where = {m.start(1): "@epoch", m.start(batch): "@batch"}
    where.update({p.start(2): p.group(1) for p in PAIR.finditer(line, m.start(5))})
    slots = _slots(nums, where)
    return Layout(NAME, slots) if sum(s is not None for s in slots) == len(where) else None
