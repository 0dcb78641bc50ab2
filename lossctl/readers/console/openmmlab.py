"""OpenMMLab text logs (mmdetection, mmpretrain, mmsegmentation, ...): mmengine's
``<timestamp>/<timestamp>.log`` and console (``LogProcessor.get_log_after_iter`` /
``get_log_after_epoch``) and mmcv 1.x's ``<timestamp>.log`` (``TextLoggerHook._log_info``):

    2023/03/01 12:00:50 - mmengine - INFO - Epoch(train)  [1][  50/3665]  base_lr: 1.0000e-04 lr: 1.0000e-04  eta: 1 day, 2:46:38  time: 0.2557  data_time: 0.0086  memory: 3218  grad_norm: 81.8436  loss: 5.1436  loss_cls: 1.6542
    2023/03/01 12:00:50 - mmengine - INFO - Iter(train) [  50/40000]  lr: 1.0000e-02  eta: ...  loss: 2.1
    2023/03/01 14:10:02 - mmengine - INFO - Epoch(val) [1][625/625]    coco/bbox_mAP: 0.3980  coco/bbox_mAP_50: 0.5810  data_time: 0.0017  time: 0.0461
    2022-03-01 12:00:00,123 - mmdet - INFO - Epoch [1][50/7330]\tlr: 1.000e-02, eta: 1 day, 0:00:00, time: 0.500, data_time: 0.050, memory: 3000, loss_cls: 0.5000, loss: 1.2345, grad_norm: 10.1000
    2022-03-01 14:00:00,123 - mmdet - INFO - Epoch(val) [1][625]\tbbox_mAP: 0.3740, bbox_mAP_50: 0.5810, bbox_mAP_copypaste: 0.374 0.581 ...

The counter gives the step: ``[epoch][iter/iters]`` within an epoch (the scanner derives the
global step as for other epoch counters), ``Iter [i/n]`` the global one. Every ``name: value``
after it is a metric except the bookkeeping (eta, time, data_time, memory, base_lr, loss_scale)
and values that are strings of several numbers (``bbox_mAP_copypaste``). Validation summaries
are placed at the training step before them, named ``val/...`` unless the name already says
validation; validation progress lines (only bookkeeping) and test results add nothing.
The logger prefix (``2023/03/01 12:00:50 - mmengine - INFO - ``) is allowed before the counter.
"""

from __future__ import annotations

import re

from lossctl.readers.console.base import NUMBER, Layout
from lossctl.readers.console.jsonlines import val_name

NAME = "openmmlab"
# Epoch(train)  [1][  50/3665] | Iter(train) [ 50/40000] | Epoch(val) [1][625/625] | Epoch [1][50/7330]
# | Iter [50/40000] | Epoch(val) [1][625] | Iter(val) [625]; after the start or a " - " of the prefix
HEAD = re.compile(r"(?:^|(?<= - ))(Epoch|Iter|Iteration)(?:\((train|val|test)\))?\s*"
                  r"(?:\[\s*(\d+)\s*\])?\[\s*(\d+)\s*(?:/\s*(\d+)\s*)?\](?=\s)")
NAME_PAIR = re.compile(r"(?:^|(?<=[\s,]))([^\W\d][\w./\-]*): +(?=" + NUMBER + r")")
# a scalar ends the field: what follows is a separator, the next "name:" or the end
SCALAR_END = re.compile(r"\s*(?:,|$|\s[^\W\d][\w./\-]*:)")
SKIP = {"eta", "time", "data_time", "memory", "base_lr", "loss_scale"}
MARKER = re.compile(r"(?:^|(?<= - ))(?:Epoch|Iter|Iteration)(?:\((?:train|val)\))?\s*\[\s*\d")


def detect(line: str, nums) -> Layout | None:
    head = HEAD.search(line)
    if head is None:
        return None
    mode = head.group(2) or "train"
    if head.group(2) is None and head.group(1) == "Iteration":
        return None
    at = {x.start(): x for x in nums}
    slots: dict[int, str | None] = {}
    if mode == "train":
        epoch, i, total = head.start(3), head.start(4), head.start(5)
        if head.group(1) == "Epoch" and head.group(3) is not None and head.group(5) is not None:
            slots.update({epoch: "@epoch", i: "@batch", total: "@batches"})
        elif head.group(1) != "Epoch" and head.group(3) is None:
            slots[i] = "@step"
        else:
            return None
    rest = head.end()
    names = 0
    for m in NAME_PAIR.finditer(line, rest):
        x = at.get(m.end())
        name = m.group(1)
        if x is None or name in SKIP or not SCALAR_END.match(line, x.end()):
            continue
        slots[x.start()] = name if mode == "train" else val_name(name)
        names += 1
    if mode == "test" or not names:  # test results, validation progress: nothing to read
        return Layout(NAME, tuple(None for _ in nums), kind="skip")
    kind = "record" if mode == "train" else "carry_step"
    return Layout(NAME, tuple(slots.get(x.start()) for x in nums), kind=kind)
