"""Ultralytics YOLO (v8 and later, and YOLOv5) training output: tables whose header names the
columns of the row printed under it (``ultralytics/engine/trainer.py``, ``progress_string``
and the progress bar's description; the validators' ``get_desc`` and ``print_results``):

          Epoch    GPU_mem   box_loss   cls_loss   dfl_loss  Instances       Size
          1/100      2.13G      1.596      2.455      1.443          1        640: 100% ━━━━ 409/409 1.5it/s 4:25
                     Class     Images  Instances      Box(P          R      mAP50  mAP50-95): 100% ━━━━ 58/58
                       all        925       1248      0.622      0.391      0.351      0.169

The step is the epoch as printed (``1/100``: 1, as ``results.csv`` numbers it; YOLOv5 prints
``0/299``); the validation row belongs to the epoch printed above it. Names follow
``results.csv``: ``train/box_loss``, ``metrics/precision(B)``, ``metrics/mAP50-95(M)``,
``metrics/accuracy_top1``. The columns of a row are named by the header seen last (the scanner
keeps it: see :func:`.base.named_columns`); a row without a header before it is not read. Of several
progress lines printed for one epoch, the last (the epoch's mean) is its result.

YOLOv5 before v6 and YOLOv7 wrote ``results.txt`` instead, a row per epoch with no header, its
columns fixed by ``train.py`` (the progress line's ``'%10s' * 2 + '%10.4g' * 6``, then ``'%10.4g' * 7``
of the validation results; ``utils/plots.py`` reads them by position):

      2/54       14G   0.01742  0.001594         0   0.01901        18       640    0.6718    0.5404      0.61    0.2602   0.01777  0.003208         0

named as the later ``results.csv`` names them (the total and the label and image counts are not curves).
"""

from __future__ import annotations

import re

from lossctl.readers.console.base import Layout

NAME = "ultralytics"
# YOLOv5 before v6 printed "Epoch gpu_mem box obj cls total labels img_size" (v3: GIoU, targets)
TRAIN_HEAD = re.compile(r"^\s*Epoch\s+(?:GPU_mem|gpu_mem)\s+((?:\S+\s+)*?)(?:Instances\s+Size|labels\s+img_size|targets\s+img_size)\b")
# the columns run to the bar's ": " (YOLOv5's "mAP@.5:.95" holds a colon of its own)
VAL_HEAD = re.compile(r"^\s*(?:Class\s+Images\s+(?:Instances|Labels|Targets)|classes)\s+(.*?)(?::\s|:?\s*$)")
TRAIN_ROW = re.compile(r"^\s*\d+/\d+\s+(?:\d[\d.]*[KMGT]?|N/A)\s+\S")
VAL_ROW = re.compile(r"^\s*all\s+\d")
MARKER = re.compile(r"^\s*(?:Epoch\s+(?:GPU_mem|gpu_mem)\s|\d+/\d+\s+\d[\d.]*G\s)")
GROUPS = {"box": "B", "mask": "M", "pose": "P"}
# results.txt's 16 numbers: epoch, epochs, GPU memory, box, obj, cls, total, labels, size, then P, R,
# mAP@.5, mAP@.5:.95 and the validation box, obj and cls losses
LEGACY = ("@step", None, None, "train/box_loss", "train/obj_loss", "train/cls_loss", None, None, None,
          "metrics/precision", "metrics/recall", "metrics/mAP_0.5", "metrics/mAP_0.5:0.95",
          "val/box_loss", "val/obj_loss", "val/cls_loss")
# the old header's short names, as results.csv names them since v6 (GIoU was v3's box loss)
OLD_TERMS = {"box": "box_loss", "GIoU": "box_loss", "obj": "obj_loss", "cls": "cls_loss", "total": "total_loss"}
PLAIN = {"p": "precision", "r": "recall", "top1_acc": "accuracy_top1", "top5_acc": "accuracy_top5"}


def detect(line: str, nums) -> Layout | None:
    if m := TRAIN_HEAD.match(line):
        return Layout(NAME, (), kind="skip", names={"table": "train",
                                                     "columns": [f"train/{OLD_TERMS.get(c, c)}" for c in m.group(1).split()]})
    if m := VAL_HEAD.match(line):
        return Layout(NAME, (), kind="skip", names={"table": "val", "columns": metric_names(m.group(1).split())})
    if TRAIN_ROW.match(line) and len(nums) == len(LEGACY) and ":" not in line:  # a results.txt row
        return Layout(NAME, LEGACY)
    if TRAIN_ROW.match(line) and len(nums) >= 4:
        # epoch, epochs, GPU memory, then the header's losses (and Instances, Size, the bar)
        slots = ("@step", None, None, *(f"#{i}" for i in range(len(nums) - 3)))
        return Layout(NAME, slots, names={"table": "train"})
    if VAL_ROW.match(line):  # (Images, Instances,) then the metrics: named from the right
        slots = tuple(f"#{i - len(nums)}" for i in range(len(nums)))
        return Layout(NAME, slots, kind="carry_step", names={"table": "val"})
    return None


def metric_names(tokens: list[str]) -> list[str]:
    """``Box(P R mAP50 mAP50-95)`` -> ``metrics/precision(B)`` ... as ``results.csv`` names them."""
    out, group = [], ""
    for t in tokens:
        if "(" in t:
            g, t = t.split("(", 1)
            group = f"({GROUPS.get(g.lower(), g[:1].upper())})"
        closes = t.endswith(")")
        t = t.rstrip(")")
        out.append(f"metrics/{PLAIN.get(t.lower(), t)}{group}")
        if closes:
            group = ""
    return out
