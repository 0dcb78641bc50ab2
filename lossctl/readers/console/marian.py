"""Marian NMT's training log (``src/training/scheduler.h``), behind its ``[2018-11-28 03:23:11]``
prefix: every ``--disp-freq`` updates

    Ep. 1 : Up. 1000 : Sen. 70,000 : Cost 269.64 : Time 389.36s : 5310.41 words/s : L.r. 1.8750e-05
    Ep. 1.234 : Up. 1000 : Sen. 70,000 : Cost 2.31304216 * 1,234,567 @ 9,876 after 12,345,678 : Time 389.36s : 5310.41 words/s : gNorm 0.8123 : L.r. 3.0000e-04

(1.6 printed the cost with 2 decimals and no ``gNorm``; later versions with 8, the label counts
with ``--disp-label-counts``, ``L.r.`` only with ``--lr-report``), and after each validation
``[valid] Ep. 2 : Up. 15000 : cross-entropy : 75.1546 : new best`` (or ``: stalled 3 times
(last best: 46.29)``). The update is the step; ``Cost`` is the training loss, ``gNorm`` the
gradient norm, ``L.r.`` read as ``lr``; each validator's value is ``valid <type>``
(``valid cross-entropy``, ``valid perplexity``, ``valid bleu``).
"""

from __future__ import annotations

import re

from lossctl.readers.console.base import NUMBER, Layout

NAME = "marian"
N = "(" + NUMBER + ")"
TRAIN = re.compile(rf"^Ep\. [\d.]+ : Up\. (\d+) : Sen\. [\d,]+ : Cost {N}(?: \* [\d,]+(?: @ [\d,]+)? after [\d,]+)? "
                   rf": Time {N}s : {N} words/s(?: : gNorm {N})?(?: : L\.r\. {N})?\s*$")
VALID = re.compile(rf"^\[valid\] Ep\. [\d.]+ : Up\. (\d+) : ([\w.\-]+) : {N} : (?:new best|stalled \d+ times.*)\s*$")
MARKER = re.compile(r"^(?:\[valid\] )?Ep\. [\d.]+ : Up\. \d+ : ")
TRAIN_NAMES = {1: "@step", 2: "Cost", 4: "words/s", 5: "gNorm", 6: "lr"}


def detect(line: str, nums) -> Layout | None:
    if m := TRAIN.match(line):
        return _layout(m, TRAIN_NAMES, nums)
    if m := VALID.match(line):
        return _layout(m, {1: "@step", 3: f"valid {m.group(2)}"}, nums)
    return None


def _layout(m: re.Match, names: dict[int, str], nums) -> Layout:
    at = {m.start(g): name for g, name in names.items() if m.group(g) is not None}
    return Layout(NAME, tuple(at.get(n.start()) for n in nums))
