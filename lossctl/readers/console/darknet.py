"""Darknet's ``detector train`` (YOLOv2-v4: pjreddie's and AlexeyAB's forks), one line per
iteration from ``train_detector``:

     500: 0.999788, 0.977420 avg loss, 0.000163 rate, 3.123 seconds, 32000 images, 12.3 hours left
    500: 1.234567, 1.345678 avg, 0.001000 rate, 2.970000 seconds, 32000 images     (pjreddie's)

The iteration is the step; the batch's loss is ``loss``, its running mean (``avg_loss * .9 +
loss * .1``) ``avg loss``, the rate ``lr``. With ``-map``, AlexeyAB's fork prints ``Last accuracy
mAP@0.5 = 40.34 %, best = 40.34 %`` before the iteration line after each evaluation: it is read
as ``mAP@0.5`` at the iteration before it.
"""

from __future__ import annotations

import re

from lossctl.readers.console.base import NUMBER, Layout

NAME = "darknet"
N = "(" + NUMBER + ")"
LINE = re.compile(rf"^\s*(\d+): {N}, {N} avg(?: loss)?, {N} rate, {N} seconds, (\d+) images(?:, {N} hours left)?\s*$")
MAP = re.compile(rf"^\s*Last accuracy mAP@0\.5 = {N} %, best = {N} %\s*$")
MARKER = re.compile(r"^\s*\d+: [-\d.]+, [-\d.]+ avg(?: loss)?, ")
SLOTS = ("@step", "loss", "avg loss", "lr", None, None, None)


def detect(line: str, nums) -> Layout | None:
    if m := LINE.match(line):
        slots = SLOTS[: len(nums)]
        return Layout(NAME, slots) if len(nums) == 6 + (m.group(7) is not None) else None
    if MAP.match(line) and len(nums) == 3:  # "mAP@0.5" holds its own 0.5
        return Layout(NAME, (None, "mAP@0.5", None), kind="carry_step", activates=False)
    return None
