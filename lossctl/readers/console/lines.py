"""The line scanner's first stage: the bytes of a console log, bounded and cleaned.

The file is read in chunks. A line rewritten in place with ``\\r`` (tqdm's bar, Keras' and
Lightning's, redrawn at every batch) is one line per state: each state is what the program
printed at that moment, a point in time (a captured Lightning bar holds every step's loss); the
families that want one line per epoch keep its last. A line longer than :data:`MAX_LINE` bytes
(a dumped tensor, a 100 MB line of garbage) is skipped while it streams past, so it never sits
in memory whole nor reaches a regular expression. Then ``\\b`` backspaces delete, ANSI colour
codes go, and the prefixes loggers and
launchers put before a message (``[rank0]:``, ``[1,0]<stdout>:``, timestamps, ``INFO``) are dropped;
after a timestamp, so are tab-separated ``host:rank`` and ``module:line`` fields (OLMo's
``%(asctime)s\\t%(hostname)s:%(local_rank)s\\t%(name)s:%(lineno)s\\t%(levelname)s\\t``), which
would otherwise read as metrics named after the host.
"""

from __future__ import annotations

import re

from lossctl.readers.console.fastpath import extent

MAX_LINE = 64 << 10  # bytes; longer lines are skipped with a warning
CHUNK = 8 << 20
ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Za-z0-9]|\x1b[=>]")
LEVEL = "(?:INFO|WARNING|WARN|ERROR|DEBUG|CRITICAL|NOTICE)"
PREFIX = re.compile(
    r"^[ \t]*(?:(?:\[rank\d+\]:|\[default\d+\]:|\[\d+,\d+\]<std(?:out|err)>:|"
    r"\[?\d{4}([-/])\d\d\1\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\]?"  # 2022-12-12, 2022/12/12
    r"(?:(?:\t[\w.\-<>]+:\d+)+(?=\t" + LEVEL + r"\b))?|"  # then host:rank, module:line (tabs)
    r"\[\d\d/\d\d \d\d:\d\d:\d\d\]|"  # [03/08 09:42:44] (PaddleDetection, detectron2: no year)
    r"\[\d\d\.\d\d\.\d\d\|\d\d:\d\d:\d\d\]|"  # [03.24.23|09:56:11] (mmskeleton's torchlight, ST-GCN)
    r"[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ [\w.\-]+:\d+\]|"  # glog (Caffe): I0712 22:28:04.844131 32223 solver.cpp:189]
    r"[\w.<>]+:[\w<>]+:\d+ - |"  # loguru's {name}:{function}:{line} - (YOLOX: yolox.core.trainer:after_iter:278 - )
    r"[\w\-]+\.py: *\d+: |"  # %(filename)s: %(lineno)4d: (PySlowFast: logging.py:   99: )
    r"\[[\w\-]+\.py:\d+:\w+\]|\[Rank \d+\]|"  # DeepSpeed's [logging.py:96:log_dist] [Rank 0]
    r"(?:[A-Za-z_][\w.]* (?=" + LEVEL + r":))?\[?" + LEVEL + r"\]?(?::[\w.<>]+(?=:))?:?|[-|] )[ \t]*)*")  # ppdet.engine INFO:
BARE_CR = re.compile(rb"\r(?!\n)")
NUL_RUN = re.compile(rb"\x00{8,}")
RANKS = (b"[rank", b"]<stdout>:", b"]<stderr>:", b"[default")


class Loaded:
    """The cleaned bytes of a log plus what the scanner noticed on the way."""

    def __init__(self, data: bytes, long_lines: int, first_long: int, lines: int):
        self.data = data
        self.long_lines = long_lines  # lines skipped for their length
        self.first_long = first_long  # 1-based line number of the first of them
        self.lines = lines


class Blocks:
    """The bytes of ``stream`` as blocks of whole lines of about CHUNK bytes, lines longer than
    MAX_LINE emptied as they pass (their line end kept, so line numbers stay those of the file);
    the last block may be an unterminated last line. Iterate once; the counts are final after."""

    def __init__(self, stream):
        self.stream = stream
        self.long_lines = 0  # lines skipped for their length
        self.first_long = 0  # 1-based line number of the first of them
        self.lines = 0

    def __iter__(self):
        carry = b""
        skipping = False
        while True:
            chunk = self.stream.read(CHUNK)
            if not chunk:
                break
            if b"\r" in chunk:  # each state of a redrawn line is a line (same length: byte offsets stay)
                chunk = BARE_CR.sub(b"\n", chunk)
            if skipping:
                nl = chunk.find(b"\n")
                if nl < 0:
                    continue
                chunk, skipping = chunk[nl:], False  # its line end stays: an empty line
            cut = chunk.rfind(b"\n") + 1
            if cut == len(chunk) and not carry:
                body, carry = chunk, b""
            elif cut:  # one copy: the carried start of a line and this chunk's whole lines
                body, carry = b"".join((carry, memoryview(chunk)[:cut])), chunk[cut:]
            else:
                body, carry = b"", carry + chunk
            widest, ends = extent(body)
            if len(carry) > MAX_LINE:  # a long line still streaming: dropped as it passes
                carry, skipping = b"", True
                self.long_lines += 1
                self.first_long = self.first_long or self.lines + ends + 1
            if widest > MAX_LINE:
                kept = []
                for i, line in enumerate(body.split(b"\n")):
                    if len(line) > MAX_LINE:
                        self.long_lines += 1
                        self.first_long = self.first_long or self.lines + i + 1
                        line = b""
                    kept.append(line)
                body = b"\n".join(kept)
            self.lines += ends
            if body:
                yield body
        if carry and not skipping:
            self.lines += 1
            yield carry  # an unterminated last line (the reader decides what to do)


def read_bounded(stream) -> Loaded:
    """Read ``stream`` in chunks, dropping lines longer than MAX_LINE as they pass."""
    blocks = Blocks(stream)
    data = b"".join(blocks)
    return Loaded(data, blocks.long_lines, blocks.first_long, blocks.lines)


def clean(data: bytes) -> bytes:
    """Each state of a line redrawn with ``\\r`` a line, backspaces applied, colour codes gone,
    runs of zero bytes dropped (the hole a log truncated under a running writer starts with; log
    prefixes go later, per line shape)."""
    if b"\x00" in data:
        data = NUL_RUN.sub(b"", data)
    if b"\r" in data:
        data = BARE_CR.sub(b"\n", data.replace(b"\r\n", b"\n"))
    if b"\x08" in data:
        data = b"\n".join(_backspaced(line) if b"\x08" in line else line for line in data.split(b"\n"))
    if b"\x1b" in data:
        data = ANSI.sub(b"", data)
    return data


def _backspaced(line: bytes) -> bytes:
    """A line with ``\\b`` backspaces applied (Keras' bar erases itself with them)."""
    out = bytearray()
    for c in line:
        if c == 8:
            if out:
                out.pop()
        else:
            out.append(c)
    return bytes(out)


def strip_prefix(line: str) -> int:
    """Length of the logger/launcher prefix of ``line`` (0 when none)."""
    m = PREFIX.match(line)
    return m.end() if m else 0
