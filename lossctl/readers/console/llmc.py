"""llm.c: the ``-o`` log file (``llmc/logger.h``; ``train_gpt2.py`` writes the same) and the
console lines of ``train_gpt2.cu`` / ``train_gpt2.py`` / ``train_gpt2.c``.

    s:100 trl:2.345678                       (train_gpt2.py: "s:%d trl:%f")
    s:100 trl:2.3457 lr:0.000300 norm:1.23    (logger.h: "s:%d trl:%.4f lr:%.6f norm:%.2f")
    s:100 tel:2.4012                          (validation) / s:100 eval:0.2950 (HellaSwag)
    step  100/5000 | loss 2.345678 (+0.12z)| norm 1.2345 (-0.30z)| lr 3.00e-04 | 120.33 ms | 45.2% bf16 MFU | 123456 tok/s
    step  100/5000 | train loss 2.345678 | norm 1.2345 | lr 3.00e-04 | (120.33 ms | 123456 tok/s)
    step 100: train loss 2.345678 (took 120.330000 ms)
    val loss 2.401234                         (printed before the step's line: the last step seen)

``trl`` and ``tel`` are named ``train loss`` and ``val loss`` (llm.c's own abbreviations).
"""

from __future__ import annotations

import re

from lossctl.readers.console.base import NUMBER, Layout

NAME = "llmc"
N = "(" + NUMBER + ")"
LOGFILE = re.compile(rf"^s:{N}((?: [a-z]+:{NUMBER})+)\s*$")
LOG_PAIR = re.compile(rf" ([a-z]+):({NUMBER})")
CONSOLE = re.compile(r"^step\s+\d+/\d+ \|")
C_STEP = re.compile(rf"^step {N}: train loss {N} \(took {N} ms\)\s*$")
VAL = re.compile(rf"^val loss {N}\s*$")
KEYS = {"trl": "train loss", "tel": "val loss"}
MARKER = re.compile(r"^(?:s:\d+ [a-z]+:|step\s+\d+/\d+ \||val loss )")


def detect(line: str, nums) -> Layout | None:
    m = LOGFILE.match(line)
    if m:
        names = {m.start(1): "@step"}
        off = m.start(2)
        names.update({off + p.start(2): KEYS.get(p.group(1), p.group(1)) for p in LOG_PAIR.finditer(m.group(2))})
        if len(names) == len(nums) and all(x.start() in names for x in nums):
            return Layout(NAME, tuple(names[x.start()] for x in nums))
        return None
    if CONSOLE.match(line):
        return _console(line, nums)
    m = C_STEP.match(line)
    if m and len(nums) == 3:
        return Layout(NAME, ("@step", "train loss", "took ms"))
    if VAL.match(line) and len(nums) == 1:
        return Layout(NAME, ("val loss",), kind="carry_step")
    return None


def _console(line: str, nums) -> Layout | None:
    slots: dict[int, str | None] = {}
    pos = 0
    for part in line.split("|"):
        start, pos = pos, pos + len(part) + 1
        inside = [x for x in nums if start <= x.start() < pos]
        if not inside:
            continue
        if part.strip().startswith("step"):
            slots[inside[0].start()] = "@step"
            for x in inside[1:]:
                slots[x.start()] = None
            continue
        first = inside[0]
        name = line[start:first.start()].strip(" (")
        unit = line[first.end():pos - 1].split("(")[0].strip(" )")
        name = name or unit
        if not name:
            return None
        slots[first.start()] = name
        for x in inside[1:]:  # the z-score after a value: "(+0.12z)"
            slots[x.start()] = f"{name} z" if line[x.end():x.end() + 1] == "z" else None
    if "@step" not in slots.values() or len(slots) != len(nums):
        return None
    return Layout(NAME, tuple(slots[x.start()] for x in nums))
