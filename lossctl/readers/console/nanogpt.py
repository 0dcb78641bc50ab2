"""nanoGPT ``train.py``: ``print(f"iter {iter_num}: loss {lossf:.4f}, time {dt*1000:.2f}ms,
mfu {running_mfu*100:.2f}%")`` and, at each evaluation, ``print(f"step {iter_num}: train loss
{losses['train']:.4f}, val loss {losses['val']:.4f}")``.

    iter 100: loss 2.3456, time 12.34ms, mfu 30.12%
    step 500: train loss 2.1000, val loss 2.2000
"""

from __future__ import annotations

import re

from lossctl.readers.console.base import NUMBER, Layout

NAME = "nanogpt"
N = "(" + NUMBER + ")"
ITER = re.compile(rf"^iter {N}: loss {N}, time {N}ms, mfu {N}%\s*$")
EVAL = re.compile(rf"^step {N}: train loss {N}, val loss {N}\s*$")
MARKER = re.compile(r"^(?:iter \d+: loss|step \d+: train loss)")


def slots_from(m: re.Match, names, nums) -> tuple | None:
    where = {m.start(i + 1): n for i, n in enumerate(names)}
    if len(where) != len(nums) or any(x.start() not in where for x in nums):
        return None
    return tuple(where[x.start()] for x in nums)


def detect(line: str, nums) -> Layout | None:
    for rx, names in ((ITER, ("@step", "loss", "time", "mfu")),
                      (EVAL, ("@step", "train loss", "val loss"))):
        m = rx.match(line)
        if m:
            slots = slots_from(m, names, nums)
            return Layout(NAME, slots) if slots else None
    return None
