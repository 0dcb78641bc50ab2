"""pytorch-CycleGAN-and-pix2pix's ``loss_log.txt`` (and its console): ``Visualizer.print_current_losses``
writes ``'(epoch: %d, iters: %d, time: %.3f, data: %.3f) '`` and then ``'%s: %.3f '`` per loss,
under a ``================ Training Loss (date) ================`` header at each start:

    (epoch: 1, iters: 100, time: 0.273, data: 0.184) D_A: 0.345 G_A: 0.487 cycle_A: 2.132 idt_A: 0.435

``iters`` counts the images of the current epoch (it restarts at every epoch), so the step is
derived from the epoch and it, as for other counters within an epoch. The losses are named as the
model holds them (``getattr(model, 'loss_' + name)``): ``loss_G_GAN``, ``loss_D_real``,
``loss_cycle_A``, which also says that they are losses.
"""

from __future__ import annotations

import re

from lossctl.readers.console.base import NUMBER, Layout

NAME = "pix2pix"
HEAD = re.compile(rf"^\(epoch: {NUMBER}, iters: {NUMBER}, time: {NUMBER}, data: {NUMBER}\) ")
PAIR = re.compile(rf"(\w+): ({NUMBER})(?= |$)")
MARKER = re.compile(r"^\(epoch: \d+, iters: \d+, time: ")


def detect(line: str, nums) -> Layout | None:
    m = HEAD.match(line)
    if m is None:
        return None
    pairs = list(PAIR.finditer(line, m.end()))
    if not pairs or m.end() + sum(len(p.group(0)) + 1 for p in pairs) < len(line.rstrip()):
        return None  # something else follows the losses
    slots = ("@epoch", "@batch", None, None, *(f"loss_{p.group(1)}" for p in pairs))
    return Layout(NAME, slots) if len(slots) == len(nums) else None
