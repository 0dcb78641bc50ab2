"""What every family of console-line shapes shares: how numbers are found in a line, and the
:class:`Layout` a family gives a line shape (which number is the step, which a metric).

Special slot names: ``@step`` (the global step as printed), ``@epoch``/``@epochs`` (an epoch
counter and its total), ``@batch``/``@batches`` (a counter within the epoch and its total),
``@val`` (llm.c/Megatron evaluation printed without its step). ``None`` ignores a number.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

# a number as printed: 2.3, -1e-4, 3.000000E-04, nan, NaN, inf, -Infinity; not part of a word
# ("bf16", "v1.2.3") but possibly followed by a unit ("12.34ms", "45.2%", "(+0.12z)")
NUMBER = (r"[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?(?![\d.])"
          r"|(?:nan|NaN|NAN|inf|Inf|INF|infinity|Infinity)(?![A-Za-z_]))")
VALUE = re.compile(r"(?<![\w.])" + NUMBER)
STEP_KEYS = {"step", "steps", "global_step", "globalstep", "global step", "iter", "iters", "iteration",
             "iterations", "it", "update", "updates", "num_updates", "шаг", "итерация", "步", "步数",
             "迭代", "schritt", "étape", "etape", "paso", "passo", "ステップ",
             "episode"}  # an agent's episodes
EPOCH_KEYS = {"epoch", "epochs", "эпоха", "轮", "epoche", "época", "epoca", "époque", "エポック"}
BATCH_KEYS = {"batch", "step", "iter", "iteration", "it", "batches", "шаг", "批次"}


@dataclass
class Layout:
    """How one line shape reads: ``slots`` name each number of the line (after its prefix)."""

    family: str
    slots: tuple[str | None, ...]
    # "record", "keras_epoch" (an "Epoch 3/10" header), "keras_progress", "carry_step" (takes the
    # step of the record before it), "skip" (read nothing), "mark" (only where it stands is kept:
    # a table's frame and section rows, placed by the family's ``resolve`` at the end)
    kind: str = "record"
    parse: Callable[[str], dict[str, float] | None] | None = None  # per-line reading instead of slots
    train: bool = True  # counts as a training log line (Hugging Face's running step count)
    names: dict = field(default_factory=dict)  # a table's header: {"table", "columns"}; its rows: {"table"}
    # a shape too plain to tell which tool printed the log (``    name=value``, a row of a table):
    # read only when a shape of its family that does tell is in the same log
    activates: bool = True


_BEFORE = re.compile(r"[:=\[({,|]\s*$")
_AFTER = re.compile(r"\s*(?:[,|})\]\-(%]|z\)|$)")


def numbers(text: str) -> list[re.Match]:
    """The numbers of a line. ``nan``/``inf`` spelled as words count only where a value stands
    (after ``:`` or ``=``, or before a separator): "number of nan iterations" holds no NaN."""
    out = []
    for m in VALUE.finditer(text):
        if m.group()[-1:].isalpha() and not (_BEFORE.search(text, 0, m.start())
                                             or _AFTER.match(text, m.end())):
            continue
        out.append(m)
    return out


def to_float(s: str) -> float:
    return float(s)


def norm_key(key: str) -> str:
    return " ".join(key.strip().lower().split())


def named_columns(layout: Layout, columns: list[str] | None) -> Layout | None:
    """A table row's layout with its ``#i`` slots named by its header's columns (``#-1``: the
    last column), or None when no header was seen: the scanner keeps each table's last header."""
    if columns is None:
        return None
    n = len(columns)
    slots = tuple(s if not (s and s.startswith("#")) else columns[int(s[1:])] if -n <= int(s[1:]) < n else None
                  for s in layout.slots)
    return Layout(layout.family, slots, kind=layout.kind)
