"""The console-log scanner: from cleaned bytes to points, without a Python loop per line.

Lines that differ only in their digits print the same thing (``iter 100: loss 2.3456, ...``
and ``iter 110: loss 2.3012, ...``), so the file's shapes are classified once per *skeleton*
(the line with its digits deleted, hashed in one pass by :mod:`.fastpath`): each family
module looks at one example line of a skeleton and says which number is the step and which
the metrics (a :class:`~lossctl.readers.console.base.Layout`). The lines of a skeleton are then
parsed together: every character that cannot be part of a number becomes a space and
:func:`.fastpath.numbers` reads the numbers at the layout's positions as float64 columns. Lines
whose tokens do not fit, small groups and shapes that need it (Python dicts with strings in them, JSON with nested objects) are read
line by line (``ast.literal_eval`` / ``json.loads``, never ``eval``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lossctl.readers.console import fastpath, generic, hf_trainer, jsonlines, keras, llmc, megatron, nanogpt, openmmlab
from lossctl.readers.console.base import Layout, numbers
from lossctl.readers.console.lines import strip_prefix

FAMILIES = [openmmlab, hf_trainer, keras, nanogpt, llmc, megatron, jsonlines]  # a tool's own shapes
SHAPES = "Hugging Face Trainer dicts, Keras fit, nanoGPT, llm.c, Megatron-LM, OpenMMLab text logs, JSON lines, key=value lines with a step"


def _table(keep: bytes) -> bytes:
    return bytes(c if c in set(keep + b"\n") else 32 for c in range(256))


# every byte that cannot be part of a number becomes a space; letters only when the shape
# needs them (exponents, nan/inf spellings), so words leave no stray tokens behind
TABLES = {(False, False): _table(b"0123456789.+-"), (True, False): _table(b"0123456789.+-eE"),
          (True, True): _table(b"0123456789.+-eEnNaAiIfFtTyY")}
TABLES[(False, True)] = TABLES[(True, True)]
FAST_MIN = 32  # groups smaller than this are read line by line
SPECIAL = ("@step", "@epoch", "@epochs", "@batch", "@batches")


@dataclass
class Group:
    """The lines of one skeleton that a family reads, and what they hold."""

    layout: Layout
    rows: np.ndarray  # line indices
    special: dict[str, np.ndarray] = field(default_factory=dict)  # "@step" ... -> per row
    metrics: dict[str, np.ndarray] = field(default_factory=dict)  # name -> per row (NaN: absent)
    present: dict[str, np.ndarray] = field(default_factory=dict)  # name -> mask (per-line groups)


@dataclass
class Scan:
    metric: list = field(default_factory=list)
    step: np.ndarray = None
    value: np.ndarray = None
    line: np.ndarray = None
    run: np.ndarray = None  # run index per point (0 unless the log holds several trainings)
    runs: int = 1
    families: list[str] = field(default_factory=list)
    failed: int = 0
    failed_example: tuple[int, str] | None = None
    failed_family: str = ""
    rank_duplicates: int = 0
    bad_steps: int = 0


def _text(b: bytes) -> str:
    return b.decode("utf-8", errors="replace")


def classify(line: bytes, families) -> tuple[Layout | None, int, list]:
    text = _text(line)
    p = strip_prefix(text)
    body = text[p:]
    nums = numbers(body)
    for fam in families:
        layout = fam.detect(body, nums)
        if layout is not None:
            return layout, p, nums
    return None, p, nums


def looks_like_metric(line: bytes, families) -> str | None:
    text = _text(line)
    body = text[strip_prefix(text):]
    return next((f.NAME for f in families if f.MARKER.search(body)), None)


def scan(data: bytes) -> Scan:
    out = Scan()
    lines, codes = fastpath.index(data)
    if not len(lines):
        return _finish(out, [], lines)
    first = np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0)  # codes number first sightings
    counts = np.bincount(codes, minlength=len(first))
    layouts: dict[int, tuple[Layout, int, list]] = {}
    unread: list[int] = []
    for j, i in enumerate(first):
        got = classify(lines[i], FAMILIES)
        if got[0] is not None:
            layouts[j] = got
        else:
            unread.append(j)
    active = {lay.family for lay, _, _ in layouts.values() if lay.kind != "skip"}
    families = [f for f in FAMILIES if f.NAME in active]
    if not active:  # no tool's shape anywhere: the hand-written ones
        still = []
        for j in unread:
            got = classify(lines[first[j]], [generic])
            if got[0] is not None:
                layouts[j] = got
            else:
                still.append(j)
        unread = still
        families = [generic] if layouts else []
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(counts)])
    groups = []
    for j, (layout, _, _) in layouts.items():
        if layout.kind == "skip":
            continue
        rows = order[bounds[j]:bounds[j + 1]]
        groups += _read_group(layout, rows, lines, layouts[j], out)
    for j in unread:  # lines that look like a metric line of a shape in the file, but are not
        fam = looks_like_metric(lines[first[j]], families)
        if fam:
            _fail(out, int(counts[j]), int(first[j]), lines[first[j]], fam)
    out.families = sorted(active) or (["generic"] if groups else [])
    return _finish(out, groups, lines)


def _fail(out: Scan, count: int, line_no: int, line: bytes, fam: str) -> None:
    out.failed += count
    if out.failed_example is None or line_no < out.failed_example[0]:
        out.failed_example = (line_no, _text(line[:80]))
        out.failed_family = fam


def _read_group(layout: Layout, rows: np.ndarray, lines, rep, out: Scan) -> list[Group]:
    """The group's lines, their numbers parsed together; the lines that do not fit the shape's
    tokens (and small groups, and shapes read per line) line by line."""
    g = Group(layout, rows)
    if layout.parse is not None or len(rows) < FAST_MIN:
        ok = None
    else:
        ok = _fast(g, lines, rep)
    if ok is None:
        return [x for x in (_slow(g, lines, out),) if x is not None]
    if ok.all():
        return [g]
    rest = _slow(Group(layout, rows[~ok]), lines, out)
    g.rows = rows[ok]
    for d in (g.special, g.metrics):
        for k in d:
            d[k] = d[k][ok]
    return [x for x in (g, rest) if x is not None and len(x.rows)]


def _fast(g: Group, lines, rep) -> np.ndarray | None:
    """Read the group's numbers at the positions the representative line shows (a mask of the
    rows read); None when the shape does not allow it."""
    layout, prefix, nums = rep
    line = lines[g.rows[0]]
    text = _text(line)
    spans = []
    for x in nums:
        a = len(text[:prefix + x.start()].encode())
        spans.append((a, a + len(x.group().encode())))
    texts = [x.group() for x in nums]
    table_ = TABLES[(any(c in "eE" for t in texts for c in t),
                     any(c.isalpha() and c not in "eE" for t in texts for c in t))]
    masked = line.translate(table_)
    tokens = masked.split()
    starts, pos = [], 0
    for t in tokens:
        k = masked.index(t, pos)
        starts.append((k, k + len(t)))
        pos = k + len(t)
    where = {s: i for i, s in enumerate(starts)}
    cols = {}
    for (a, b), slot in zip(spans, layout.slots):
        if slot is None:
            continue
        if (a, b) not in where:
            return None
        cols[where[(a, b)]] = slot
    if not cols:
        return None
    values, ok = fastpath.numbers(lines, g.rows, table_, len(tokens), list(cols))
    for k, c in enumerate(sorted(cols)):
        _put(g, cols[c], values[:, k])
    return ok


def _put(g: Group, slot: str, values: np.ndarray) -> None:
    if slot in SPECIAL:
        g.special[slot] = values
    else:
        g.metrics[slot] = values


def _slow(g: Group, lines, out: Scan) -> Group | None:
    layout = g.layout
    n = len(g.rows)
    table: dict[str, np.ndarray] = {}
    present: dict[str, np.ndarray] = {}
    ok = np.zeros(n, dtype=bool)
    for r, i in enumerate(g.rows.tolist()):
        text = _text(lines[i])
        body = text[strip_prefix(text):]
        if layout.parse is not None:
            got = layout.parse(body)
        else:
            nums = numbers(body)
            got = None
            if len(nums) == len(layout.slots):
                try:
                    got = {s: float(x.group()) for s, x in zip(layout.slots, nums) if s is not None}
                except ValueError:
                    got = None
        if not got:
            _fail(out, 1, i, lines[i], layout.family)
            continue
        ok[r] = True
        for k, v in got.items():
            if k not in table:
                table[k] = np.full(n, np.nan)
                present[k] = np.zeros(n, dtype=bool)
            table[k][r] = v
            present[k][r] = True
    if not ok.any():
        return None
    g.rows = g.rows[ok]
    for k, v in table.items():
        _put(g, k, v[ok])
        if k not in SPECIAL:
            g.present[k] = present[k][ok]
        elif not present[k][ok].all():
            g.special[k] = np.where(present[k][ok], v[ok], np.nan)
    return g


KINDS = ["record", "keras_epoch", "keras_progress", "carry_step"]


def _finish(out: Scan, groups: list[Group], lines) -> Scan:
    if not groups:
        out.metric = np.zeros(0, dtype=object)
        out.step = np.zeros(0, dtype=np.int64)
        out.value = np.zeros(0)
        out.line = np.zeros(0, dtype=np.int64)
        out.run = np.zeros(0, dtype=np.int64)
        return out
    # one record per line read; records in the order written
    sizes = [len(g.rows) for g in groups]
    rec_line = np.concatenate([g.rows for g in groups]) if len(groups) > 1 else groups[0].rows
    R = len(rec_line)
    used = {s for g in groups for s in g.special}
    spec = {s: np.full(R, np.nan) if s in used else None for s in SPECIAL}
    off = 0
    for g in groups:
        for s, v in g.special.items():
            spec[s][off:off + len(g.rows)] = v
        off += len(g.rows)
    ordered = R < 2 or bool((rec_line[1:] > rec_line[:-1]).all())
    order = np.arange(R) if ordered else np.argsort(rec_line, kind="stable")

    def per_record(values, dtype):  # a per-group property, per record
        values = np.asarray(values, dtype=dtype)
        return np.full(R, values[0]) if len(set(values.tolist())) == 1 else np.repeat(values, sizes)

    step = np.full(R, np.nan)
    keep = np.ones(R, dtype=bool)
    fams = sorted({g.layout.family for g in groups})
    fam_of = per_record([fams.index(g.layout.family) for g in groups], np.int8)
    kind_of = per_record([KINDS.index(g.layout.kind) for g in groups], np.int8)
    train_of = per_record([g.layout.train for g in groups], bool)
    for k, fam in enumerate(fams):
        idx = order[fam_of[order] == k] if len(fams) > 1 else order  # this family's records, in order
        _steps(fam, idx, spec, kind_of, train_of, step, keep)
    # long points, metric by metric; within a metric in the order written
    pieces: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    off = 0
    for g in groups:
        rec = np.arange(off, off + len(g.rows))
        for name, vals in g.metrics.items():
            mask = g.present.get(name)
            pieces.setdefault(name, []).append((rec, vals) if mask is None else (rec[mask], vals[mask]))
        off += len(g.rows)
    if not pieces:
        return _finish(out, [], lines)
    m_code, m_rec, m_val = [], [], []
    for k, parts in enumerate(pieces.values()):
        rec = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
        val = np.concatenate([p[1] for p in parts]) if len(parts) > 1 else parts[0][1]
        if len(parts) > 1:
            o = np.argsort(rec_line[rec], kind="stable")
            rec, val = rec[o], val[o]
        m_code.append(np.full(len(rec), k, dtype=np.int32))
        m_rec.append(rec)
        m_val.append(val)
    code, rec, val = np.concatenate(m_code), np.concatenate(m_rec), np.concatenate(m_val)
    s = step[rec]
    with np.errstate(invalid="ignore"):
        good = keep[rec] & np.isfinite(s) & (np.abs(s) < 2.0**62)
    if not good.all():
        out.bad_steps = int(len(np.unique(rec[keep[rec] & ~good])))
        code, rec, val, s = code[good], rec[good], val[good], s[good]
    out.metric = pd.Categorical.from_codes(code, categories=list(pieces))
    out.step, out.value, out.line = s.astype(np.int64), val, rec_line[rec]
    out.run, out.runs = _split_runs(rec, order, step, keep)
    _dedup(out)
    return out


def _steps(fam, idx, spec, kind_of, train_of, step, keep) -> None:
    kinds = kind_of[idx]
    nan = np.full(len(idx), np.nan) if any(spec[s] is None for s in SPECIAL) else None

    def slot(name):
        return nan if spec[name] is None else spec[name][idx]

    if fam == keras.NAME:
        ep = slot("@epoch")
        is_head = kinds == KINDS.index("keras_epoch")
        ep = pd.Series(np.where(is_head, ep, np.nan)).ffill().to_numpy()
        step[idx] = np.where(np.isnan(ep), 0, ep - 1)
        prog = ~is_head
        # of the lines printed during an epoch, the last is its result
        nxt = np.append(prog[1:], False)
        last = prog & ~(nxt & np.append(ep[1:] == ep[:-1], False))
        keep[idx] = last
        return
    st = slot("@step")
    if fam == hf_trainer.NAME and np.isnan(st).all():
        step[idx] = np.cumsum(train_of[idx])
        return
    if spec["@epoch"] is not None and spec["@batch"] is not None:
        e, b, bt = slot("@epoch"), slot("@batch"), slot("@batches")
        counted = ~np.isnan(e) & ~np.isnan(b)
        rise = np.diff(e[counted]) > 0
        if rise.any() and (np.diff(b[counted])[rise] > 0).all():  # never restarts with the epoch:
            st = np.where(counted, b, st)  # already global (mmcv's IterBasedRunner)
        elif counted.any():
            total = np.where(np.isnan(bt), np.nanmax(np.where(counted, b, np.nan)), bt)
            base = 0 if np.nanmin(e[counted]) == 0 else 1
            st = np.where(counted, (e - base) * total + b, st)
    carry = kinds == KINDS.index("carry_step")
    if carry.any():
        filled = pd.Series(np.where(carry, np.nan, st)).ffill().fillna(0).to_numpy()
        st = np.where(carry, filled, st)
    step[idx] = st


def _split_runs(rec, order, step, keep):
    """A log holding several trainings: the step falls back to (or below) the first step of the
    training before it. A fall to a later step is a resumed run (the restart rule's business).
    ``order``: the records in the order written."""
    r_order = order[keep[order] & np.isfinite(step[order])]
    s = step[r_order]
    run_of = np.zeros(len(step), dtype=np.int64)
    if len(s) < 2:
        return run_of[rec], 1
    drops = np.flatnonzero(s[1:] < s[:-1]) + 1
    starts, first = [], s[0]
    for d in drops.tolist():
        if s[d] <= first:
            starts.append(d)
            first = s[d]
    if not starts:
        return run_of[rec], 1
    labels = np.zeros(len(s), dtype=np.int64)
    labels[starts] = 1
    run_of[r_order] = np.cumsum(labels)
    return run_of[rec], len(starts) + 1


def _dedup(out: Scan) -> None:
    """Several ranks printing the same line: per run and metric, a point at the same step as the
    point just before it is printed again; the first is kept. Points are grouped by metric."""
    if len(out.step) < 2:
        return
    codes = out.metric.codes
    same = (np.diff(out.step) == 0) & (np.diff(codes) == 0) & (np.diff(out.run) == 0)
    if not same.any():
        return
    drop = np.append(False, same)
    out.rank_duplicates = int(drop.sum())
    k = ~drop
    out.metric, out.step, out.value = out.metric[k], out.step[k], out.value[k]
    out.line, out.run = out.line[k], out.run[k]
