"""Megatron-LM ``training_log`` (``megatron/training/training.py``) and its evaluation line:

     [2026-11-30 12:00:00.123456] iteration      100/   10000 | consumed samples:        12800 | elapsed time per iteration (ms): 1234.5 | learning rate: 3.000000E-04 | global batch size:   128 | lm loss: 2.345000E+00 | loss scale: 1.0 | grad norm: 1.234 | number of skipped iterations:   0 | number of nan iterations:   0 |
     validation loss at iteration 100 | lm loss value: 2.401234E+00 | lm loss PPL: 1.103585E+01 |

Each ``name: value`` field is a metric named as printed (evaluation ones prefixed
``validation``); the bookkeeping fields (consumed/skipped samples, batch size, loss scale) are
not curves and are left out. ``number of skipped iterations`` and ``number of nan iterations``
are kept: the nonfinite and divergence detectors use them as evidence.
"""

from __future__ import annotations

import re

from lossctl.readers.console.base import Layout

NAME = "megatron"
TRAIN = re.compile(r"^iteration\s+\d+/\s*\d+ \|")
VALID = re.compile(r"^validation(?:-\w+)? loss at (?:iteration \d+|.*?)\s*\|")
SKIP = {"consumed samples", "skipped samples", "global batch size", "loss scale"}
MARKER = re.compile(r"^(?:iteration\s+\d+/|validation(?:-\w+)? loss at )")


def detect(line: str, nums) -> Layout | None:
    train = TRAIN.match(line)
    if not train and not VALID.match(line):
        return None
    slots: dict[int, str | None] = {}
    pos = 0
    for i, part in enumerate(line.split("|")):
        start, pos = pos, pos + len(part) + 1
        inside = [x for x in nums if start <= x.start() < pos]
        if i == 0:
            if train:
                slots.update({x.start(): ("@step" if j == 0 else None) for j, x in enumerate(inside)})
            else:
                step = [x for x in inside if "iteration" in line[start:x.start()]]
                slots.update({x.start(): ("@step" if step and x is step[0] else None) for x in inside})
            continue
        name, _, _rest = part.partition(":")
        name = " ".join(name.split())
        for j, x in enumerate(inside):
            keep = j == 0 and name and name not in SKIP
            if keep and not train:
                name = "validation " + (name.removesuffix(" value"))
            slots[x.start()] = name if keep else None
    if "@step" not in slots.values():
        return Layout(NAME, tuple(slots.get(x.start()) for x in nums), kind="carry_step")
    return Layout(NAME, tuple(slots.get(x.start()) for x in nums))
