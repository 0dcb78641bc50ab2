"""Console logs: what a training script printed (``train.log``, ``nohup.out``, ``slurm-1234.out``,
a CI job's log, a pipe). One small module per family of line shapes:

- :mod:`.hf_trainer` Hugging Face ``Trainer`` dicts, :mod:`.keras` Keras ``fit`` output,
  :mod:`.nanogpt`, :mod:`.llmc` (console and ``-o`` log file), :mod:`.megatron`,
  :mod:`.openmmlab` (mmengine and mmcv text logs), :mod:`.ultralytics`, :mod:`.fairseq`,
  :mod:`.olmo` (OLMo and OLMo-core step records), :mod:`.sb3` (stable-baselines3 and OpenAI
  baselines tables), :mod:`.jsonlines` (detectron2, mmdetection, mmengine's ``scalars.json``,
  any JSONL with a step key), and
  :mod:`.generic` (``key=value`` lines with a step, epoch/batch counters, ``STEP NAME VALUE``);
- :mod:`.lines` reads the bytes (bounded: over-long lines are skipped as they stream past) and
  restores what a terminal showed (``\\r`` rewrites, backspaces, ANSI colours);
- :mod:`.scanner` classifies each line shape once and parses the lines of a shape together; a
  family whose lines are read by what surrounds them (an SB3 table's section and step) places
  them at the end, in its ``resolve``.

Several trainings in one log (the step falling back to the start) are labelled in the frame's
``run`` column (``train.log:run1``, ...), which the files source turns into one run each.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd

from lossctl.errors import InputError, NotALog
from lossctl.frame import make_frame
from lossctl.readers import console_name, one_object_per_line
from lossctl.readers.base import FileData
from lossctl.readers.console import lines as L
from lossctl.readers.console.scanner import SHAPES, Scan, Scanner, scan
from lossctl.storage import as_blob, cannot_read

SNIFF_MAX = 256 << 10  # scanned for metric lines
SNIFF_FAR = 4 << 20  # a job's preamble (nvidia-smi, compilation, pip, data bars) can pass 256 KB
FAR_WINDOWS = 4  # places past it tried (each a 256 KB scan)
LOSS = re.compile(rb"(?i)loss")
HEAD = 65536  # bytes looked at to tell a text log from binary data


def is_binary(head: bytes) -> bool:
    if b"\x00" in head:  # zeros in runs are a hole (a log truncated while its writer went on), not data
        head = L.NUL_RUN.sub(b"", head)
        if b"\x00" in head:
            return True
    sample = head[:4096]
    ctrl = sum(sample.count(bytes([c])) for c in range(32) if c not in (9, 10, 13, 8, 27, 12))
    return ctrl > max(8, len(sample) // 50)


def read_bytes(data: bytes, where: str, partial_ok: bool = False) -> FileData:
    """Points of a console log's bytes (cleaned by :func:`lines.clean`), labelled by run."""
    return read_blocks([data] if data else [], where, partial_ok)


def read_blocks(blocks, where: str, partial_ok: bool = False) -> FileData:
    """Points of a console log given as consecutive blocks of whole lines (the last one may be
    unterminated), scanned block by block so that only one block of text is held at a time."""
    warnings: list[str] = []
    scanner = Scanner()
    offset, bad_utf8 = 0, None
    for data in blocks:
        if not data.endswith(b"\n") and not partial_ok:  # the last block only
            cut = data.rfind(b"\n") + 1
            tail = data[cut:]
            data = data[:cut]
            if tail.strip():
                warnings.append(f"{where}: last line has no line end (file still being written?); "
                                f"skipped: {tail[:40].decode('utf-8', 'replace')!r}")
        if bad_utf8 is None and not data.isascii():
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad_utf8 = offset + exc.start
        offset += len(data)
        scanner.feed(L.clean(data))
    if bad_utf8 is not None:
        warnings.append(f"{where}: invalid UTF-8 (first at byte {bad_utf8:,}); undecodable bytes replaced")
    return to_filedata(scanner.finish(), where, warnings)


def to_filedata(res: Scan, where: str, warnings: list[str], run_prefix: str = "") -> FileData:
    if res.failed:
        line_no, text = res.failed_example
        warnings.append(f"{where}: {res.failed:,} lines look like {res.failed_family} metric lines "
                        f"but could not be read (first at line {line_no + 1:,}: {text!r}); skipped")
    if res.bad_steps:
        warnings.append(f"{where}: {res.bad_steps:,} metric lines without a usable step "
                        "(non-finite or beyond int64); skipped")
    if res.rank_duplicates:
        names = ", ".join(res.duplicated[:3]) + (", ..." if len(res.duplicated) > 3 else "")
        warnings.append(f"{where}: {res.rank_duplicates:,} points of {names} printed again for the same step "
                        "(a progress bar redrawn, several ranks printing the same lines, or two lines of one step "
                        "both printing it); "
                        "the first of each was kept")
    if not len(res.step):
        raise NotALog(where, f"no training-log lines found (console shapes read: {SHAPES})")
    frame = make_frame(res.metric, res.step, None, res.value, copy=False)
    if res.runs > 1:
        labels = [f"{run_prefix}run{k + 1}" for k in range(res.runs)]
        frame["run"] = pd.Categorical.from_codes(res.run.astype(np.int32), categories=labels)
        warnings.append(f"{where}: holds {res.runs} trainings (the step falls back to the start); "
                        "each is a run")
    return FileData(frame, "console", warnings)


class ConsoleReader:
    format = "console"

    def sniff(self, path, head: bytes) -> bool:
        if not console_name(path) or not head or is_binary(head):
            return False
        if path.suffix.lower() == ".json" and not one_object_per_line(path, head):
            return False  # a JSON document (history, trainer_state.json): the JSON reader's
        try:
            if len(head) >= 4096:
                head = path.head(SNIFF_MAX)
            if _has_points(head):
                return True
            if len(head) < SNIFF_MAX:
                return False
            # past a long preamble: 256 KB from the line of a "loss" within 4 MiB, for the first few
            # such places (a job relaunched several times dumps its config, naming the loss, each time)
            far = path.head(SNIFF_FAR)
            at = SNIFF_MAX - 1024
            for _ in range(FAR_WINDOWS):
                m = LOSS.search(far, at)
                if m is None:
                    return False
                start = far.rfind(b"\n", 0, m.start()) + 1
                if _has_points(far[start:start + SNIFF_MAX]):
                    return True
                at = start + SNIFF_MAX - 1024
            return False
        except (OSError, InputError):
            return False

    def read(self, path) -> FileData:
        path = as_blob(path)
        where = str(path)
        blank = True

        def watched(blocks):  # notes whether anything but white space went past
            nonlocal blank
            for b in blocks:
                blank = blank and b.isspace()
                yield b

        try:
            with path.open() as f:
                blocks = L.Blocks(f)
                rest = iter(blocks)
                head = []  # the blocks holding the first HEAD bytes decide whether this is text
                for b in rest:
                    head.append(b)
                    if sum(map(len, head)) >= HEAD:
                        break
                start = head[0][:HEAD] if head and len(head[0]) >= HEAD else b"".join(head)[:HEAD]
                if not start or is_binary(start):
                    if all(b.isspace() for b in itertools.chain(head, rest)):
                        raise NotALog(where, _nothing(blocks))
                    raise NotALog(where, "binary data, not a text log")
                try:
                    data = read_blocks(watched(itertools.chain(head, rest)), where)
                except NotALog:
                    if blank:
                        raise NotALog(where, _nothing(blocks)) from None
                    raise
        except OSError as exc:
            raise cannot_read(path, exc) from None
        if blocks.long_lines:
            data.warnings.insert(0, f"{where}: {blocks.long_lines:,} lines longer than "
                                    f"{L.MAX_LINE // 1024} KiB skipped (first at line {blocks.first_long:,})")
        if data.frame["run"].cat.categories.tolist() != ["."]:
            name = path.name
            data.frame["run"] = data.frame["run"].cat.rename_categories(lambda c: f"{name}:{c}")
        return data


def _nothing(blocks: L.Blocks) -> str:
    """Why a file gave no line to read: it is empty, or every line was too long to be one."""
    if not blocks.long_lines:
        return "empty file"
    return (f"no line to read: {blocks.long_lines:,} line{'s' * (blocks.long_lines > 1)} longer than "
            f"{L.MAX_LINE // 1024} KiB skipped, and nothing else (a log of records not separated by line "
            "breaks is not read)")


def _has_points(data: bytes) -> bool:
    cut = data.rfind(b"\n") + 1
    try:
        return len(scan(L.clean(data[:cut] if cut else data)).step) > 0
    except Exception:  # noqa: BLE001 - sniffing must never fail a walk
        return False


reader = ConsoleReader()
