"""What a bad-input case is: a generator writing damaged input into a directory and returning
what lossctl must make of it (:class:`Expect`). Cases register themselves with :func:`case`;
event-file cases run against both TensorBoard readers (C scanner and pure Python)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class Expect:
    target: Path  # what is passed to `lossctl analyze`
    code: int  # 0/1: analysed (problems in the runs' warnings); 2: nothing readable
    problems: list[tuple[str, str]] = field(default_factory=list)  # (file name, problem) on one line
    points: dict[str, dict[str, int]] = field(default_factory=dict)  # run -> metric -> points
    findings: set[str] = field(default_factory=set)  # kinds that must be reported


@dataclass
class Case:
    name: str
    make: Callable[[Path], Expect]
    tensorboard: bool  # run with both TensorBoard readers


CASES: dict[str, Case] = {}


def case(tensorboard: bool = False):
    def register(fn):
        CASES[fn.__name__] = Case(fn.__name__, fn, tensorboard)
        return fn

    return register


def healthy(n: int) -> np.ndarray:
    """A loss curve that raises no finding."""
    return 2.0 * np.exp(-np.arange(n) / (n / 5)) + 0.1


def write_good_csv(path: Path, n: int = 50) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("step,loss\n" + "".join(f"{s},{v!r}\n" for s, v in enumerate(healthy(n).tolist())))
    return path
