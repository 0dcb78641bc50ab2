"""Gradient-boosting evaluation lines, one per boosting round:

    [12]	train-rmse:7.109038	validation-rmse:7.085521        XGBoost (EvaluationMonitor; xgb.cv adds +std)
    [12]	training's binary_logloss: 0.2301	valid_1's binary_logloss: 0.2512    LightGBM (log_evaluation)

The round is the step; each ``data-metric`` (XGBoost) or ``data's metric`` (LightGBM) is a curve,
named as printed; a cross-validation standard deviation (``+0.01``, `` + 0.01``) is not a curve.
When early stopping ends a training, both print the best round's line again under a heading
(``Stopping. Best iteration:``, ``Early stopping, best iteration is:``, ``Did not meet early
stopping. Best iteration is:``): that repeat is not a point (it would read as a resumed run
cut back to the best round).
"""

from __future__ import annotations

import re
from itertools import pairwise

from lossctl.readers.console.base import NUMBER, Layout

NAME = "boosting"
N = "(" + NUMBER + ")"
XGB = re.compile(rf"\t([\w.@\-]+-[\w.@\-]+):{N}(?:\+{NUMBER})?")
LGB = re.compile(rf"\t([\w.\-]+'s [\w.@\- ]+?): {N}(?: \+ {NUMBER})?(?=\t|\s*$)")
ROUND = re.compile(r"^\[(\d+)\](?=\t)")
BEST = re.compile(r"^(?:Stopping\. Best iteration:|Early stopping, best iteration is:"
                  r"|Did not meet early stopping\. Best iteration is:)\s*$")
MARKER = re.compile(r"^\[\d+\]\t[\w.@\-]+(?:-[\w.@\-]+:|'s )")


def _mark(_body: str) -> dict[str, float]:
    return {"@mark": 1.0}


def detect(line: str, nums) -> Layout | None:
    if BEST.match(line):
        return Layout(NAME, (), parse=_mark)  # the next line repeats the best round
    m = ROUND.match(line)
    if m is None:
        return None
    for rx in (XGB, LGB):
        pairs = list(rx.finditer(line, m.end()))
        if pairs and pairs[-1].end() == len(line.rstrip()) and all(
                a.end() == b.start() for a, b in pairwise(pairs)) and pairs[0].start() == m.end():
            where = {m.start(1): "@step", **{p.start(2): p.group(1) for p in pairs}}
            if not all(s in {x.start() for x in nums} for s in where):
                return None
            return Layout(NAME, tuple(where.get(x.start()) for x in nums))
    return None
