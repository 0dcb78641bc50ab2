"""Shapes written by hand in training loops, tried only when no tool's own shape is in the file:

    step=100 loss=2.3 lr=1e-4              key=value or key: value pairs, | , ; or spaces between
    INFO step: 100, train_loss: 2.3        them, keys in any language, with a step-like key
    Epoch [2/5], Step [120/12942], Loss: 2.3     counters within an epoch: the global step is
    Epoch: 16 | Batch: 920/1330 | Loss: 4.6      derived from the epoch and the batch counter
    250 train 3.2145                       STEP NAME VALUE (a long format)

Counters within an epoch give ``step = (epoch - 1) * total + batch`` when epochs count from 1
as printed (``epoch * total + batch`` when the file shows an epoch 0), batches as printed.
A line holding only an epoch key (``Epoch 3: loss=0.2``) is per-epoch: the epoch is the step.
"""

from __future__ import annotations

import re

from lossctl.readers.console.base import BATCH_KEYS, EPOCH_KEYS, NUMBER, STEP_KEYS, Layout, norm_key

NAME = "generic"
N = "(" + NUMBER + ")"
WORD = r"[^\W\d][\w./\-]*"
PAIR = re.compile(rf"({WORD}(?: {WORD}){{0,3}})\s*(?:=|:|：)\s*\[?\s*{N}(?:\s*/\s*{N})?\s*\]?")
BRACKET = re.compile(rf"({WORD})\s*\[\s*{N}\s*/\s*{N}\s*\]")
LONG = re.compile(rf"^\s*{N}\s+({WORD})\s+{N}\s*$")
MARKER = re.compile(r"(?i)\b(?:step|iter|iteration|epoch)\b\s*[=:\[]")


def detect(line: str, nums) -> Layout | None:
    m = LONG.match(line)
    if m and len(nums) == 2:
        return Layout(NAME, ("@step", m.group(2)))
    found: dict[int, str | None] = {}
    counters = []  # (normalised key, value match start, total start or None)
    for rx in (BRACKET, PAIR):
        for p in rx.finditer(line):
            if p.start(2) in found:
                continue
            key = p.group(1).strip()
            total = p.start(3) if p.group(3) is not None else None
            found[p.start(2)] = key
            if total is not None:
                found[total] = None
            counters.append((norm_key(key), p.start(2), total))
    if len(found) < 2:
        return None
    slots = {i: k for i, k in found.items()}
    epoch = next((c for c in counters if c[0] in EPOCH_KEYS), None)
    step = next((c for c in counters if c[0] in STEP_KEYS and c[2] is None), None)
    batch = next((c for c in counters if c[0] in BATCH_KEYS and c[2] is not None), None)
    if epoch and batch and not step:
        slots[epoch[1]] = "@epoch"
        if epoch[2] is not None:
            slots[epoch[2]] = "@epochs"
        slots[batch[1]], slots[batch[2]] = "@batch", "@batches"
    elif step:
        slots[step[1]] = "@step"
        if epoch:
            slots[epoch[1]] = "epoch"
    elif batch:  # "Step [120/12942]" alone: a global counter with its total
        slots[batch[1]] = "@step"
    elif epoch:
        slots[epoch[1]] = "@step"
    else:
        return None
    if not any(v and not v.startswith("@") and v != "epoch" for v in slots.values()):
        return None
    return Layout(NAME, tuple(slots.get(x.start()) for x in nums))
