"""Shapes written by hand in training loops, tried only when no tool's own shape is in the file:

    step=100 loss=2.3 lr=1e-4              key=value, key: value or key is value pairs, | , ; or spaces between
    INFO step: 100, train_loss: 2.3        them, keys in any language, with a step-like key
    Epoch [2/5], Step [120/12942], Loss: 2.3     counters within an epoch: the global step is
    Epoch: 16 | Batch: 920/1330 | Loss: 4.6      derived from the epoch and the batch counter
    250 train 3.2145                       STEP NAME VALUE (a long format)
    Epoch 1/100 - Train Loss: 4.05, Val Loss: 3.25      a counter written without a separator
    Epoch 0 | Step 10/6501 | Loss: 8.24 | LR: 6e-05     (``Epoch 3``, ``Step 10/6501``, ``iter 20/500``)
    iter 20/500 eps 0.84 loss 0.0079 vs-random 0.667    and, after such a counter, ``name value`` pairs
    Epoch: [0][ 10/5005]  Time  0.123 ( 0.456)  Loss 6.9077e+00 (6.9088e+00)  Acc@1   0.00 (  0.10)
    Train: 0 [  10/1251 (  1%)]  Loss: 6.91 (6.93)  Time: 0.312s,  3282.05/s  LR: 1.000e-03
    [100/200000] Train loss: 0.0041, Valid loss: 0.0066     a count of a total opening the line
    Train Epoch: 1 [640/60000 (1%)]	Loss: 2.30      PyTorch's ImageNet and MNIST examples, timm: an
                                           epoch and its batch (or its examples seen)
    Epoch 3/24                             a step on a line of its own, and below it lines
    train Loss: 0.51 Acc: 0.83             without one (PyTorch's transfer-learning tutorial);
    Test set: Average loss: 0.03, Accuracy: 9898/10000 (99%)    a line starting with a split
                                           word is about that split (the MNIST example's test)

Counters within an epoch give ``step = (epoch - 1) * total + batch`` when epochs count from 1
as printed (``epoch * total + batch`` when the file shows an epoch 0), batches as printed.
A line holding only an epoch key (``Epoch 3: loss=0.2``) is per-epoch: the epoch is the step.
A name printed twice in one line (``Train Loss: .. | Acc: .. | Val Loss: .. | Acc: ..``) takes
the split word of the name before it (``Val Acc``).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from lossctl.readers.console.base import BATCH_KEYS, EPOCH_KEYS, NUMBER, STEP_KEYS, Layout, norm_key
from lossctl.roles import is_loss_like

NAME = "generic"
N = "(" + NUMBER + ")"
WORD = r"[^\W\d][\w./\-]*(?:@[\d.]*\d)?"  # Acc@1, mAP@0.5: a metric at a threshold
PAIR = re.compile(rf"(?<![\w.])({WORD}(?: {WORD}){{0,3}})(?:\s*(?:=|:|：)| is)\s*\[?\s*{N}(?:\s*/\s*{N})?\s*\]?")
BRACKET = re.compile(rf"({WORD})\s*\[\s*{N}\s*/\s*{N}\s*\]")
LONG = re.compile(rf"^\s*{N}\s+({WORD})\s+{N}\s*$")
MARKER = re.compile(r"(?i)\b(?:step|iter|iteration|epoch)\b\s*[=:\[]|^Train: \d")
# an epoch and the batch within it, written by three libraries' progress lines: PyTorch's ImageNet
# example's ProgressMeter ("Epoch: [3][ 10/5005]", copied into many repositories), its
# MetricLogger as DINO prints it ("Epoch: [3/100]  [ 10/1562]") and timm's train.py
# ("Train: 3 [  10/1251 (  1%)]")
EPOCH_BATCH = re.compile(rf"(?i)(?<![\w.])(?:epoch\s*:\s*\[\s*{N}\s*(?:/\s*{N}\s*)?\]|train(?:\s+epoch)?\s*:\s*{N})"
                         rf"\s*\[\s*{N}\s*/\s*{N}\s*(?:\(\s*{N}\s*%\s*\))?\s*\]")
# the evaluation summary PyTorch's ImageNet example (``' * Acc@1 {top1.avg:.3f} Acc@5 {top5.avg:.3f}'``)
# and its MetricLogger copies (DeiT, DINO: ``'* Acc@1 .. Acc@5 .. loss {losses.global_avg:.3f}'``)
# print after the progress lines of their evaluation, whose header is "Test:"
STAR_SUMMARY = re.compile(rf"^\s*\*(?:\s+{WORD}\s+{NUMBER})+\s*$")
# DL4J's ScoreIterationListener: ``log.info("Score at iteration {} is {}", iteration, score)``
AT_COUNTER = re.compile(rf"(?i)(?<![\w.])({WORD}) at (?:iteration|iter|step|epoch|batch) \d+ is {N}")
_COUNTER_WORDS = sorted({k for k in STEP_KEYS | EPOCH_KEYS | BATCH_KEYS if " " not in k}, key=len, reverse=True)
COUNTER = re.compile(rf"(?i)(?<![\w.])({'|'.join(map(re.escape, _COUNTER_WORDS))})(?:\s+|\s*\[\s*)"  # "Step 5", "Step [5]"
                     rf"{N}(?:\s*/\s*{N})?(?:\s*\])?(?![\w.])")
SPACED = re.compile(rf"(?<![\w.\-])({WORD})\s+{N}(?![\w.%/])")
# tqdm's bar: "{desc}: {percentage:3.0f}%|{bar}| {n}/{total} [...]" (diffusers' "Steps:  10%|#  | 500/5000")
BAR = re.compile(rf"(?:({WORD}(?: {WORD}){{0,3}})\s*:\s*)?(\d{{1,3}})%\|[^|\n]*\|\s*(\d+)/(\d+)")
POSTFIX = re.compile(r"\s*\[([^\]]*)\]")  # the bar's "[elapsed<remaining, rate, postfix]"
DURATION = re.compile(r" ?(?:s|sec|secs|ms|min)\b")  # a value printed with a time unit
LEADING_COUNT = re.compile(r"^\[\s*(\d+)\s*/\s*(\d+)\s*\]\s+[^\W\d]")
# the rest of an h:mm:ss time, or of "1 day, 2:03:04" (PaddleDetection's eta, as str(timedelta))
CLOCK = re.compile(r"(?::\d\d){1,2}(?:\.\d+)?(?![\d.])| days?, \d+(?::\d\d){2}(?![\d.])")
# words that name nothing: before a number they are prose ("Accuracy at epoch 0 of the network on
# the 10000 test images: 72.2%"), not a metric called "the"
PROSE = frozenset(("a", "an", "the", "of", "on", "at", "in", "to", "for", "with", "by", "from", "and", "or",
                   "is", "are", "was", "were", "than", "after", "over", "per", "into", "all"))
SPLIT_WORDS = ("train", "training", "val", "valid", "validation", "eval", "test", "dev")
LEADING_SPLIT = re.compile(r"(?i)^\s*(" + "|".join(SPLIT_WORDS) + r")(?=\s|:)")  # not train.py
MIN_CARRIED = 3  # steps at which a shape without a counter is printed, for a curve


def detect(line: str, nums) -> Layout | None:
    m = LONG.match(line)
    if m and len(nums) == 2:
        return Layout(NAME, ("@step", m.group(2)))
    if STAR_SUMMARY.match(line):  # " * Acc@1 75.1 Acc@5 92.4": the result of the "Test:" lines above
        names = {p.start(2): f"Test {p.group(1)}" for p in SPACED.finditer(line)}
        return Layout(NAME, tuple(names.get(x.start()) for x in nums), kind="carry_step", names={"split": True})
    found: dict[int, str | None] = {}
    counters = []  # (normalised key, value match start, total start or None)
    for p in EPOCH_BATCH.finditer(line):
        e = p.start(1) if p.group(1) is not None else p.start(3)
        found.update({e: "epoch", p.start(4): "batch", p.start(5): None})
        for extra in (2, 6):  # the epochs in all, the percentage done
            if p.group(extra) is not None:
                found[p.start(extra)] = None
        counters += [("epoch", e, None), ("batch", p.start(4), p.start(5))]
    # "[100/200000] Train loss: ..": the iteration of a total (beside a loss: a bare "[ 10/782]  eta: .."
    # opens the progress lines of a feature extraction, an evaluation)
    leading = LEADING_COUNT.match(line) if not found else None
    if leading:
        found.update({leading.start(1): "step", leading.start(2): None})
        counters.append(("step", leading.start(1), leading.start(2)))
    bars = list(BAR.finditer(line))
    for p in bars:  # a tqdm bar: its percentage is progress, its n/total the count
        desc = norm_key(p.group(1) or "")
        found[p.start(2)] = None
        if p.start(3) not in found:
            key = "epoch" if desc in EPOCH_KEYS else "step"  # within an epoch when one is printed too
            found[p.start(3)], found[p.start(4)] = key, None
            counters.append((key, p.start(3), p.start(4)))
    # on a bar's line, name=value pairs count only in a bar's postfix: the rest is prose (a warning
    # printed onto the bar's line: "data.py:56: UserWarning: ... The batch size we found is 2")
    posts = [(m.start(1), m.end(1)) for b in bars if (m := POSTFIX.match(line, b.end()))]
    for p in AT_COUNTER.finditer(line):  # "Score at iteration 100 is 1.39": the name before the counter
        found[p.start(2)] = p.group(1)
    for rx in (BRACKET, PAIR, COUNTER):
        for p in rx.finditer(line):
            if p.start(2) in found:
                continue
            if bars and rx is not COUNTER and not any(a <= p.start() and p.start(2) < b for a, b in posts):
                continue
            if rx is PAIR and DURATION.match(line, p.end(2)) and is_loss_like(p.group(1)):
                found[p.start(2)] = None  # PaddlePaddle's "batch_cost: 5.33 s": a time, not a loss
                continue
            if clock := CLOCK.match(line, p.end(2)):  # "eta: 0:01:49", "Total time: 0:13:11": a duration
                found.update({n.start(): None for n in nums if p.start(2) <= n.start() < clock.end()})
                continue
            key = p.group(1).strip()
            total = p.start(3) if p.group(3) is not None else None
            found[p.start(2)] = key
            if total is not None:
                found[total] = None
            counters.append((norm_key(key), p.start(2), total))
    if any(c[0] in EPOCH_KEYS | STEP_KEYS | BATCH_KEYS for c in counters):
        # "name value" after a counter ("iter 20/500 eps 0.84"); on a bar's line only in its postfix
        # ("[55:03<00:00, 9.25s/it, loss 0.0000]"): the words before it are prose ("Fetching 2 files")
        spans = posts if bars else [(0, len(line))]
        for p in (m for a, b in spans for m in SPACED.finditer(line, a, b)):
            if p.start(2) not in found and (clock := CLOCK.match(line, p.end(2))):  # "ETA 34:13:14"
                found.update({n.start(): None for n in nums if p.start(2) <= n.start() < clock.end()})
                continue
            if (p.start(2) not in found and norm_key(p.group(1)) not in EPOCH_KEYS | STEP_KEYS | BATCH_KEYS
                    and p.group(1).lower() not in PROSE):  # "on the 10000 test images": prose
                found[p.start(2)] = p.group(1)
                counters.append((norm_key(p.group(1)), p.start(2), None))
    if not any(c[0] in EPOCH_KEYS | STEP_KEYS | BATCH_KEYS for c in counters):
        return _carried(line, found, nums)
    if leading and not any(k and is_loss_like(k) for k in found.values()):
        return None
    _name_repeats(found)
    slots = {i: k for i, k in found.items()}
    epoch = next((c for c in counters if c[0] in EPOCH_KEYS), None)
    step = next((c for c in counters if c[0] in STEP_KEYS and c[2] is None), None)
    batch = next((c for c in counters if c[0] in BATCH_KEYS and c[2] is not None), None)
    if epoch and batch and not step:
        slots[epoch[1]] = "@epoch"
        if epoch[2] is not None:
            slots[epoch[2]] = "@epochs"
        slots[batch[1]], slots[batch[2]] = "@batch", "@batches"
    elif step and epoch and step[2] is None and epoch[2] is None:
        # "Epoch 3, Step 25" / "(epoch: 3, iters: 400)": a step that may count within the epoch;
        # the scanner tells from the whole file (global when it never falls back as the epoch rises)
        slots[epoch[1]], slots[step[1]] = "@epoch", "@batch"
    elif step:
        slots[step[1]] = "@step"
        if epoch:
            slots[epoch[1]] = "epoch"
    elif batch:  # "Step [120/12942]" alone: a global counter with its total
        slots[batch[1]] = "@step"
    elif epoch:
        slots[epoch[1]] = "@epoch_step"  # the scanner places it among the other lines' steps
    else:
        return None
    for p in bars:  # a bar's count that another counter stood in for is no metric
        if not str(slots.get(p.start(3))).startswith("@"):
            slots[p.start(3)] = None
    kind = "record"
    if not any(v and not v.startswith("@") and v != "epoch" for v in slots.values()):
        kind = "head"  # a step on a line of its own ("Epoch 3/25"): the lines below it are at it
    return Layout(NAME, tuple(slots.get(x.start()) for x in nums), kind=kind)


def _carried(line: str, found: dict[int, str | None], nums) -> Layout | None:
    """A line of ``name: value`` pairs without a counter (``val Loss: 0.21 Acc: 0.93``): its
    points are at the step of the line with a step before it. A line that starts with a split
    word (``Test set: Average loss: ..``) is about that split: its names take the word."""
    names = {pos: k for pos, k in found.items() if k is not None}
    if not names:
        return None
    if any(norm_key(k) in SPLIT_WORDS or _progress(k) for k in names.values()):
        # "Test:  [20/79]  loss: ..", "Eval iter: 100": an evaluation's progress, not its result
        return Layout(NAME, (None,) * len(nums), kind="skip")
    split = LEADING_SPLIT.match(line)
    if split:
        own = {pos for pos, k in names.items() if set(norm_key(k).replace("_", " ").split()) & set(SPLIT_WORDS)}
        names = {pos: k if pos in own else f"{split.group(1)} {k}" for pos, k in names.items()}
    return Layout(NAME, tuple(names.get(x.start()) for x in nums), kind="carry_step",
                  names={"split": bool(split)})


def _progress(name: str) -> bool:
    """An evaluation's split word and a counter within it (``Eval iter``, ``Test step``): where an
    evaluation is (``Training epoch``, ``Eval epoch`` say which epoch a block is about)."""
    ws = norm_key(name).replace("_", " ").split()
    return (len(ws) > 1 and ws[0] in SPLIT_WORDS and ws[0] not in ("train", "training")
            and " ".join(ws[1:]) in STEP_KEYS | BATCH_KEYS)


def readable(groups: list) -> list:
    """The groups read from a log of hand-written shapes. Lines without a counter (see
    :func:`_carried`) are read under a step printed on a line of its own, the heading of a block
    (``Epoch 3/25``, then ``train Loss: .. Acc: ..``), in a log whose other lines print no step;
    a line that starts with a split word is also read after a line with a step (the MNIST
    example's ``Test set: Average loss: ..`` after its ``Train Epoch: ..`` lines). In a log whose
    metric lines print their step, a heading is a remark (``[Step 10] Debug info:``)."""
    records = any(g.layout.kind == "record" for g in groups)
    return [g for g in groups if not (records and g.layout.kind == "head")
            and (g.layout.kind != "carry_step" or not records or g.layout.names.get("split"))]


def carried_steps(st: np.ndarray, carry: np.ndarray, head: np.ndarray, layout_of: np.ndarray) -> np.ndarray:
    """The steps of lines without a counter (``carry``; records in the order written): each at
    the step of the line before it that has one (NaN before any such: a preamble, not read).
    When only headings (``head``) have a step and one shape is printed again and again under
    most of them (``Epoch 3``, then a ``loss: ..`` line per batch), the lines are counted in the
    order printed, as lines that print only their epoch are."""
    steps = pd.Series(np.where(carry, np.nan, st)).ffill().to_numpy()
    block = np.cumsum(~carry)  # a line with a step opens a block
    k = np.flatnonzero(carry & (block > 0))
    if len(k) and (head | carry).all():
        most = pd.Series(k).groupby([block[k], layout_of[k]]).size().groupby(level=0).max()
        if (most > 1).mean() > 0.5:
            steps = np.where(block > 0, np.cumsum(carry & (block > 0)) - 1, np.nan)
    # a shape printed at fewer than MIN_CARRIED steps is a remark (``Best val Acc: 0.95``, an
    # error every rank prints once), not a curve
    at = np.flatnonzero(carry & np.isfinite(steps))
    if len(at):
        seen = pd.Series(steps[at]).groupby(layout_of[at]).nunique()
        few = seen.index[seen < MIN_CARRIED].to_numpy()
        steps = np.where(carry & np.isin(layout_of, few), np.nan, steps)
    return np.where(carry, steps, st)


def _name_repeats(found: dict[int, str | None]) -> None:
    """A name printed again in the line takes the split word (``val``, ``test``, ...) of the
    nearest name before it that has one: ``Val Loss: .. | Token Acc: ..`` is ``Val Token Acc``."""
    seen, split = set(), None
    for pos in sorted(found):
        key = found[pos]
        if key is None:
            continue
        k = norm_key(key)
        first = k.split()[0]
        if first in SPLIT_WORDS:
            split = key.split()[0]
        if k in seen and split and first not in SPLIT_WORDS:
            found[pos] = f"{split} {key}"
        seen.add(k)
