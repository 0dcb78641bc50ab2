"""Keras ``fit`` output (``keras/src/utils/progbar.py``): an ``Epoch 3/10`` header, then the
progress bar, rewritten in place with ``\\b`` and ``\\r`` under ``verbose=1`` (its final state
holds the epoch's metrics), or one line per epoch under ``verbose=2``:

    Epoch 3/10
    32/32 ━━━━━━━━━━━━━━━━━━━━ 1s 5ms/step - accuracy: 0.9100 - loss: 0.2345 - val_accuracy: 0.8800 - val_loss: 0.3456
    32/32 [==============================] - 1s 5ms/step - loss: 0.2345 - accuracy: 0.9100 - val_loss: 0.3456
    32/32 - 1s - 5ms/step - accuracy: 0.9100 - loss: 0.2345 - val_accuracy: 0.8800 - val_loss: 0.3456
    65s - loss: 0.4883 - acc: 0.8585 - val_loss: 2.1612 - val_acc: 0.4865          (Keras 1, verbose=2)
     - 65s - loss: 0.4883 - acc: 0.8585 - val_loss: 2.1612 - val_acc: 0.4865       (Keras 2.0-2.2)

The step is the epoch index counted from 0, as Keras' ``CSVLogger`` writes it (``Epoch 3/10``
is step 2); of the lines printed during an epoch, the last is its result.
"""

from __future__ import annotations

import re

from lossctl.readers.console.base import NUMBER, Layout

NAME = "keras"
HEADER = re.compile(r"^\s*Epoch (\d+)/(\d+)\s*$")
# the bar (``32/32``), or Keras 1's and Keras 2.0-2.2's verbose=2 line: ``65s - loss: ...``,
# `` - 65s - loss: ...`` (``'%ds'`` / ``' - %.0fs'`` of the time the epoch took)
PROGRESS = re.compile(r"^\s*(?:\d+/(?:\d+|Unknown)|\d+/\d+ \[[=>.]*\]|(?:-\s+)?\d+s(?=\s-\s))\s")
PAIR = re.compile(r" - ([A-Za-z_][\w./-]*): (" + NUMBER + r")(?=\s|$)")
MARKER = re.compile(r" - [A-Za-z_][\w./-]*: \S")


def detect(line: str, nums) -> Layout | None:
    if HEADER.match(line):
        # alone, a hand-written loop's heading (``print(f"Epoch {epoch}/{num_epochs - 1}")``)
        return Layout(NAME, ("@epoch", "@epochs"), kind="keras_epoch", activates=False)
    if not PROGRESS.match(line):
        return None
    pairs = {m.start(2): m.group(1) for m in PAIR.finditer(line)}
    if not pairs:
        return None
    return Layout(NAME, tuple(pairs.get(m.start()) for m in nums), kind="keras_progress")
