"""The console-log scanner: from cleaned bytes to points, without a Python loop per line.

Lines that differ only in their digits print the same thing (``iter 100: loss 2.3456, ...``
and ``iter 110: loss 2.3012, ...``), so the file's shapes are classified once per *skeleton*
(the line with its digits deleted, hashed in one pass by :mod:`.fastpath`): each family
module looks at one example line of a skeleton and says which number is the step and which
the metrics (a :class:`~lossctl.readers.console.base.Layout`). A log is fed as blocks of whole
lines (:class:`Scanner`; a skeleton is classified at its first line in the file), and a block's
lines of a skeleton are parsed together: every character that cannot be part of a number becomes a space and
:func:`.fastpath.numbers` reads the numbers at the layout's positions as float64 columns. Lines
whose tokens do not fit, small groups and shapes that need it (Python dicts with strings in them, JSON with nested objects) are read
line by line (``ast.literal_eval`` / ``json.loads``, never ``eval``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lossctl.readers.console import (
    boosting,
    darknet,
    fairseq,
    fastai,
    fastpath,
    generic,
    hf_trainer,
    jsonlines,
    keras,
    llmc,
    marian,
    megatron,
    mxnet,
    nanogpt,
    olmo,
    openmmlab,
    pix2pix,
    sb3,
    ultralytics,
)
from lossctl.readers.console.base import Layout, named_columns, numbers
from lossctl.readers.console.lines import strip_prefix

FAMILIES = [openmmlab, hf_trainer, keras, nanogpt, llmc, megatron, ultralytics, fairseq, olmo, sb3,
            pix2pix, boosting, mxnet, darknet, fastai, marian, jsonlines]  # a tool's own shapes
SHAPES = ("Hugging Face Trainer dicts, Keras fit, nanoGPT, llm.c, Megatron-LM, OpenMMLab text logs, "
          "Ultralytics YOLO tables, fairseq JSON logs, OLMo step records, stable-baselines3 tables, "
          "pix2pix/CycleGAN loss logs, XGBoost and LightGBM evaluation lines, MXNet Speedometer lines, Darknet iteration lines, fastai tables, Marian NMT lines, JSON lines, key=value lines with a step")
RESOLVE = [f for f in FAMILIES if hasattr(f, "resolve")]  # families that place their lines at the end
SHOWN = [f for f in FAMILIES if hasattr(f, "shown")]  # families whose lines tell the tool only together


def _table(keep: bytes) -> bytes:
    return bytes(c if c in set(keep + b"\n") else 32 for c in range(256))


# every byte that cannot be part of a number becomes a space; letters only when the shape
# needs them (exponents, nan/inf spellings), so words leave no stray tokens behind
TABLES = {(False, False): _table(b"0123456789.+-"), (True, False): _table(b"0123456789.+-eE"),
          (True, True): _table(b"0123456789.+-eEnNaAiIfFtTyY")}
TABLES[(False, True)] = TABLES[(True, True)]
FAST_MIN = 32  # groups smaller than this are read line by line
SPECIAL = ("@step", "@epoch", "@epochs", "@batch", "@batches", "@epoch_step", "@mark")  # @mark: the next line repeats


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
    run: np.ndarray | None = None  # run index per point when the log holds several trainings
    runs: int = 1
    families: list[str] = field(default_factory=list)
    failed: int = 0
    failed_example: tuple[int, str] | None = None
    failed_family: str = ""
    rank_duplicates: int = 0
    duplicated: list = field(default_factory=list)  # the metrics of those points
    bad_steps: int = 0


def _text(b: bytes) -> str:
    return b.decode("utf-8", errors="replace")


def classify(line: bytes, families) -> tuple[Layout | None, int, list]:
    text = _text(line)
    p = strip_prefix(text)
    body = text[p:]
    nums = numbers(body)
    for fam in families:
        # a family that tells its shapes by indentation also sees the prefix stripped before the body
        layout = fam.detect(body, nums, text[:p]) if getattr(fam, "SEES_PREFIX", False) else fam.detect(body, nums)
        if layout is not None:
            return layout, p, nums
    return None, p, nums


def looks_like_metric(line: bytes, families) -> str | None:
    text = _text(line)
    body = text[strip_prefix(text):]
    return next((f.NAME for f in families if f.MARKER.search(body)), None)


def scan(data: bytes) -> Scan:
    """The points of cleaned console-log bytes (all at once: :class:`Scanner` for blocks)."""
    scanner = Scanner()
    scanner.feed(data)
    return scanner.finish()


@dataclass
class Skeleton:
    """What is kept of a skeleton across blocks: its layout and, for the failure count, where it
    was first seen and which families' markers its first line shows."""

    layout: Layout | None  # a tool's shape (FAMILIES)
    generic: Layout | None  # the hand-written shapes (used only when no tool's shape is seen)
    first: int  # line number of its first line
    example: str  # the first line's start, for the warning
    markers: frozenset  # names of the families whose MARKER its first line shows
    count: int = 0


class Scanner:
    """Points of a log fed as consecutive blocks of cleaned lines, each ending at a line end, so
    that only one block of text is in memory at a time: a skeleton is classified once, at its
    first line in the file; each block's lines of a skeleton are parsed together."""

    def __init__(self):
        self.out = Scan()
        self.generic_out = Scan()  # failures among the hand-written shapes, counted if they are used
        self.skeletons: dict = {}
        self.groups: list[Group] = []
        self.generic: list[Group] = []  # read while no tool's shape was seen
        self.active: set[str] = set()
        self.lines = 0
        self.headers: dict[str, list[str]] = {}  # a table's columns, from its header seen last

    def feed(self, data: bytes) -> None:
        lines, codes = fastpath.index(data)
        if not len(lines):
            return
        base = self.lines
        self.lines += len(lines)
        first = np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0)  # codes number first sightings
        counts = np.bincount(codes, minlength=len(first))
        order = np.argsort(codes, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(counts)])
        for j, i in enumerate(first.tolist()):
            key = lines.keys[j]
            sk = self.skeletons.get(key)
            rep = None
            if sk is None:
                sk, rep = self._classify(lines[i], base + i)
                self.skeletons[key] = sk
            sk.count += int(counts[j])
            layout = sk.layout if sk.layout is not None else None if self.active else sk.generic
            if layout is None or layout.kind == "skip":
                continue
            if layout.kind == "mark":  # only where it stands is kept
                self.groups.append(Group(layout, order[bounds[j]:bounds[j + 1]] + base))
                continue
            if rep is None:  # seen in an earlier block: this block's first line shows where the numbers are
                rep = _rep(layout, lines[i])
            rows = order[bounds[j]:bounds[j + 1]]
            if sk.layout is not None:
                self.groups += _read_group(layout, rows, lines, rep, self.out, base)
                if sk.generic is not None and not self.active:  # a plain shape: also a hand-written one
                    self.generic += _read_group(sk.generic, rows, lines, _rep(sk.generic, lines[i]),
                                                self.generic_out, base)
            else:
                self.generic += _read_group(layout, rows, lines, rep, self.generic_out, base)
        if self.active:
            self.generic = []

    def _classify(self, line: bytes, line_no: int) -> tuple[Skeleton, tuple]:
        got = classify(line, FAMILIES)
        if got[0] is not None and "table" in got[0].names:  # a header names the rows printed under it
            if "columns" in got[0].names:
                self.headers[got[0].names["table"]] = got[0].names["columns"]
            else:
                got = (named_columns(got[0], self.headers.get(got[0].names["table"])), *got[1:])
        gen = (None,) if got[0] is not None and got[0].activates else classify(line, [generic])
        text = _text(line)
        body = text[strip_prefix(text):]
        markers = frozenset(f.NAME for f in FAMILIES + [generic] if f.MARKER.search(body))
        sk = Skeleton(got[0], gen[0], line_no, _text(line[:80]), markers)
        if got[0] is not None and got[0].kind != "skip" and got[0].activates:
            self.active.add(got[0].family)
        return sk, got if got[0] is not None else gen

    def finish(self) -> Scan:
        out = self.out
        active = self.active | {f.NAME for f in SHOWN if f.shown([g for g in self.groups if g.layout.family == f.NAME])}
        if active:  # a family's plain shapes (activates=False) count only beside its telling ones
            groups = [g for g in self.groups if g.layout.family in active]
            families = [f.NAME for f in FAMILIES if f.NAME in active]
            unread = [sk for sk in self.skeletons.values() if sk.layout is None]
        else:  # no tool's shape anywhere: the hand-written ones
            groups = generic.readable(self.generic)
            g = self.generic_out
            if g.failed:
                _fail(out, g.failed, *g.failed_example, g.failed_family)
            unread = [sk for sk in self.skeletons.values() if sk.layout is None and sk.generic is None]
            families = [generic.NAME] if len(unread) < len(self.skeletons) else []
        for sk in unread:  # lines that look like a metric line of a shape in the file, but are not
            fam = next((f for f in families if f in sk.markers), None)
            if fam:
                _fail(out, sk.count, sk.first, sk.example, fam)
        out.families = sorted(active) or (["generic"] if groups else [])
        return _finish(out, groups)


def _rep(layout: Layout, line: bytes) -> tuple | None:
    """A line's numbers as :func:`classify` gives them, for a skeleton classified earlier (None
    when they are not the layout's: the block's lines are then read one by one)."""
    text = _text(line)
    p = strip_prefix(text)
    nums = numbers(text[p:])
    return (layout, p, nums) if len(nums) == len(layout.slots) else None


def _fail(out: Scan, count: int, line_no: int, line: bytes | str, fam: str) -> None:
    out.failed += count
    if out.failed_example is None or line_no < out.failed_example[0]:
        out.failed_example = (line_no, line if isinstance(line, str) else _text(line[:80]))
        out.failed_family = fam


def _read_group(layout: Layout, rows: np.ndarray, lines, rep, out: Scan, base: int = 0) -> list[Group]:
    """The group's lines, their numbers parsed together; the lines that do not fit the shape's
    tokens (and small groups, and shapes read per line) line by line. ``rows`` index ``lines``;
    the groups returned hold line numbers in the file (``base`` + row)."""
    g = Group(layout, rows)
    if layout.parse is not None or len(rows) < FAST_MIN or rep is None:
        ok = None
    else:
        ok = _fast(g, lines, rep)
    if ok is None:
        got = [x for x in (_slow(g, lines, out, base),) if x is not None]
    elif ok.all():
        got = [g]
    else:
        rest = _slow(Group(layout, rows[~ok]), lines, out, base)
        g.rows = rows[ok]
        for d in (g.special, g.metrics):
            for k in d:
                d[k] = d[k][ok]
        got = [x for x in (g, rest) if x is not None and len(x.rows)]
    for x in got:
        x.rows = x.rows + base
    return got


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


def _slow(g: Group, lines, out: Scan, base: int = 0) -> Group | None:
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
            _fail(out, 1, base + i, lines[i], layout.family)
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


KINDS = ["record", "keras_epoch", "keras_progress", "carry_step", "head"]


def _resolve(groups: list[Group]) -> list[Group]:
    """Lines whose reading depends on the lines around them (a table's section and step), read by
    their family once all are in: its ``resolve`` takes its groups and gives plain records."""
    for fam in RESOLVE:
        own = [g for g in groups if g.layout.family == fam.NAME]
        if own:
            groups = [g for g in groups if g.layout.family != fam.NAME] + fam.resolve(own)
    return [g for g in groups if g.layout.kind != "mark"]


def _finish(out: Scan, groups: list[Group]) -> Scan:
    groups = _resolve(groups)
    if not groups:
        out.metric = np.zeros(0, dtype=object)
        out.step = np.zeros(0, dtype=np.int64)
        out.value = np.zeros(0)
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
    shapes = {}  # the line shapes (one layout may be read in several groups)
    layout_of = per_record([shapes.setdefault((g.layout.slots, g.layout.kind), len(shapes)) for g in groups], np.int32)
    for k, fam in enumerate(fams):
        idx = order[fam_of[order] == k] if len(fams) > 1 else order  # this family's records, in order
        _steps(fam, idx, spec, kind_of, train_of, layout_of, step, keep)
    code, rec, val, names = _points(groups, rec_line)
    if not names:
        return _finish(out, [])
    with np.errstate(invalid="ignore"):
        usable = np.isfinite(step) & (np.abs(step) < 2.0**62)
    if not (keep & usable).all():  # records dropped (Keras' progress lines) or without a usable step
        good = (keep & usable)[rec]
        bad = (keep & ~usable)[rec]
        out.bad_steps = int(len(np.unique(rec[bad]))) if bad.any() else 0
        code, rec, val = code[good], rec[good], val[good]
    out.metric = pd.Categorical.from_codes(code, categories=names)
    out.step, out.value = np.where(usable, step, 0).astype(np.int64)[rec], val
    out.run, out.runs = _split_runs(rec, order, step, keep)
    if out.runs > 1:
        _drop_stray(out, rec)
    _dedup(out)
    return out


STRAY_RECORDS = 2  # a "training" of this many lines or fewer beside a real one is a stray line


def _drop_stray(out: Scan, rec: np.ndarray) -> None:
    """Lines that happen to hold a step and a number (the training script's source echoed
    into the log: ``steps=10, eps=1e-7``) make a "training" of a line or two before the real
    one; beside a training of many lines such a run is dropped, not reported as a run."""
    runs = np.unique(out.run)
    pairs = np.unique(out.run.astype(np.int64) * (int(rec.max()) + 1) + rec)  # (run, line), once each
    lines = np.bincount(pairs // (int(rec.max()) + 1), minlength=int(runs.max()) + 1)[runs]
    stray = runs[(lines <= STRAY_RECORDS) & (lines.max() > 10 * STRAY_RECORDS)]
    if len(stray) == 0:
        return
    k = ~np.isin(out.run, stray)
    out.metric, out.step, out.value = out.metric[k].remove_unused_categories(), out.step[k], out.value[k]
    kept = np.setdiff1d(runs, stray)
    out.run = np.searchsorted(kept, out.run[k])
    out.runs = len(kept)
    if out.runs == 1:
        out.run = None


def _points(groups: list[Group], rec_line: np.ndarray):
    """Long points, metric by metric, within a metric in the order written: metric codes, the
    record of each point, values, metric names. Filled in place (no list of pieces to join)."""
    parts: dict[str, list] = {}
    off = 0
    for g in groups:
        for name, vals in g.metrics.items():
            mask = g.present.get(name)
            parts.setdefault(name, []).append((off, len(g.rows), vals, mask))
        off += len(g.rows)
    total = sum(n if mask is None else int(np.count_nonzero(mask)) for p in parts.values() for _, n, _, mask in p)
    code = np.empty(total, dtype=np.int8 if len(parts) < 128 else np.int16 if len(parts) < 2**15 else np.int32)
    rec = np.empty(total, dtype=np.int32 if len(rec_line) < 2**31 else np.int64)
    val = np.empty(total)
    pos = 0
    for k, pieces in enumerate(parts.values()):
        start = pos
        for off, n, vals, mask in pieces:
            if mask is None:
                rec[pos:pos + n] = np.arange(off, off + n)
                val[pos:pos + n] = vals
            else:
                at = np.flatnonzero(mask)
                n = len(at)
                rec[pos:pos + n] = at + off
                val[pos:pos + n] = vals[at]
            pos += n
        code[start:pos] = k
        if len(pieces) > 1:
            lines = rec_line[rec[start:pos]]
            if not (lines[1:] > lines[:-1]).all():
                o = np.argsort(lines, kind="stable")
                rec[start:pos] = rec[start:pos][o]
                val[start:pos] = val[start:pos][o]
    return code, rec, val, list(parts)


def _steps(fam, idx, spec, kind_of, train_of, layout_of, step, keep) -> None:
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
    if fam == ultralytics.NAME:
        _table_steps(st, kinds, idx, step, keep)
        return
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
    if spec["@epoch_step"] is not None:
        st = _epoch_steps(slot("@epoch_step"), st)
    if spec["@mark"] is not None:  # a heading whose next line repeats an earlier one (the best round)
        mark = ~np.isnan(slot("@mark"))
        keep[idx] &= ~(mark | np.append(False, mark[:-1]))
    carry = kinds == KINDS.index("carry_step")
    if fam == generic.NAME and carry.any():
        st = generic.carried_steps(st, carry, kinds == KINDS.index("head"), layout_of[idx])
        keep[idx] &= ~(carry & np.isnan(st))  # a preamble before the first step
        step[idx] = st
        return
    if carry.any():
        filled = pd.Series(np.where(carry, np.nan, st)).ffill().fillna(0).to_numpy()
        st = np.where(carry, filled, st)
    step[idx] = st


def _table_steps(st, kinds, idx, step, keep) -> None:
    """Ultralytics: a validation row belongs to the epoch printed above it, and only the first
    does (the final validation of best.pt repeats the table under the last epoch); of several
    progress lines printed for one epoch, the last is the epoch's result."""
    carry = kinds == KINDS.index("carry_step")
    filled = pd.Series(np.where(carry, np.nan, st)).ffill().to_numpy()
    last_of_epoch = np.append(st[1:] != st[:-1], True)  # a validation row next (NaN) ends it too
    val_of = pd.Series(np.where(carry, filled, np.nan))
    first_val = ~val_of.duplicated(keep="first").to_numpy()
    step[idx] = np.where(carry, filled, st)
    keep[idx] = np.where(carry, first_val & ~np.isnan(filled), last_of_epoch)


def _epoch_steps(ep: np.ndarray, st: np.ndarray) -> np.ndarray:
    """Lines that print only their epoch (``Epoch 3 - Average loss: ..``), in the order written.
    Beside lines with a global step (printed, or counted from epoch and batch counters), one
    sits at the last step before it: the end of its epoch. Alone, the epoch is the step, unless
    the same epoch is printed again and again (``Epoch 1 - Batch loss: ..`` every batch): then
    those are batches, counted in the order printed."""
    per = ~np.isnan(ep)
    known = ~per & ~np.isnan(st)
    if known.any():
        last = pd.Series(np.where(known, st, np.nan)).ffill().fillna(0).to_numpy()
        return np.where(per, last, st)
    e = ep[per]
    if len(e) > 1.5 * len(np.unique(e)):
        return np.where(per, np.cumsum(per) - 1, st)
    return np.where(per, ep, st)


def _split_runs(rec, order, step, keep):
    """A log holding several trainings: the step falls back to (or below) the first step of the
    training before it. A fall to a later step is a resumed run (the restart rule's business).
    ``order``: the records in the order written. The run of each point (None: one run)."""
    r_order = order[keep[order] & np.isfinite(step[order])]
    s = step[r_order]
    if len(s) < 2:
        return None, 1
    drops = np.flatnonzero(s[1:] < s[:-1]) + 1
    starts, first = [], s[0]
    for d in drops.tolist():
        if s[d] <= first:
            starts.append(d)
            first = s[d]
    if not starts:
        return None, 1
    labels = np.zeros(len(s), dtype=np.int64)
    labels[starts] = 1
    run_of = np.zeros(len(step), dtype=np.int64)
    run_of[r_order] = np.cumsum(labels)
    used = np.unique(run_of[rec])  # a "training" of step lines alone (OLMo's) holds no point: no run
    if len(used) < 2:
        return None, 1
    return np.searchsorted(used, run_of[rec]), len(used)


def _dedup(out: Scan) -> None:
    """Several ranks printing the same line: per run and metric, a point at the same step as the
    point just before it is printed again; the first is kept. Points are grouped by metric."""
    if len(out.step) < 2:
        return
    codes = out.metric.codes
    same = out.step[1:] == out.step[:-1]
    if not same.any():
        return
    same &= codes[1:] == codes[:-1]
    if out.run is not None:
        same &= out.run[1:] == out.run[:-1]
    if not same.any():
        return
    drop = np.append(False, same)
    out.rank_duplicates = int(drop.sum())
    out.duplicated = [str(m) for m in out.metric[drop].unique()]
    k = ~drop
    out.metric, out.step, out.value = out.metric[k], out.step[k], out.value[k]
    if out.run is not None:
        out.run = out.run[k]
