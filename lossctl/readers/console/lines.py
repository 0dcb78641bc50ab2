"""The line scanner's first stage: the bytes of a console log, bounded and cleaned.

The file is read in chunks; a line longer than :data:`MAX_LINE` bytes (a dumped tensor, a
100 MB line of garbage) is skipped while it streams past, so it never sits in memory whole nor
reaches a regular expression; a long line rewritten with ``\\r`` (a progress bar redrawn
over a whole epoch) keeps only its last state as it streams. What a terminal would have shown
is then restored: of a line rewritten with ``\\r`` (tqdm, Keras' progress bar) only its final
state is kept, ``\\b`` backspaces delete, ANSI colour codes go, and the prefixes loggers and
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
    r"\[?" + LEVEL + r"\]?(?::[\w.<>]+(?=:))?:?|[-|] )[ \t]*)*")
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
            if len(carry) > MAX_LINE:  # a long line still streaming: keep its last \r state, or drop it
                tail = _last_state(carry)
                if tail is None or len(tail) > MAX_LINE:  # one state past the limit: garbage, dropped
                    carry, skipping = b"", True
                    self.long_lines += 1
                    self.first_long = self.first_long or self.lines + ends + 1
                else:
                    carry = tail
            if widest > MAX_LINE:
                kept = []
                for i, line in enumerate(body.split(b"\n")):
                    if len(line) > MAX_LINE:
                        line = _last_state(line)
                        if line is None or len(line) > MAX_LINE:
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


def _last_state(line: bytes) -> bytes | None:
    """A line rewritten in place with ``\\r`` (a progress bar redrawn for a whole epoch, 100 KB
    and more): from its last ``\\r`` on, what the terminal ends up showing of it (None without
    one). The bar's other states are not kept, as in :func:`clean`."""
    cut = line.rfind(b"\r", 0, len(line) - 1)  # a final \r\n-style \r is no rewrite
    return None if cut < 0 else line[cut:]


def read_bounded(stream) -> Loaded:
    """Read ``stream`` in chunks, dropping lines longer than MAX_LINE as they pass."""
    blocks = Blocks(stream)
    data = b"".join(blocks)
    return Loaded(data, blocks.long_lines, blocks.first_long, blocks.lines)


def clean(data: bytes) -> bytes:
    """What a terminal would show, minus colour codes (log prefixes go later, per line shape)."""
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n")
    if b"\r" in data or b"\x08" in data:
        data = b"\n".join(_final_state(line) if b"\r" in line or b"\x08" in line else line
                           for line in data.split(b"\n"))
    if b"\x1b" in data:
        data = ANSI.sub(b"", data)
    return data


def _final_state(line: bytes) -> bytes:
    """A line rewritten in place: its last non-blank ``\\r`` segment, backspaces applied."""
    segments = [s for s in line.split(b"\r") if s.strip()]
    line = segments[-1] if segments else b""
    if b"\x08" in line:
        out = bytearray()
        for c in line:
            if c == 8:
                if out:
                    out.pop()
            else:
                out.append(c)
        line = bytes(out)
    return line


def strip_prefix(line: str) -> int:
    """Length of the logger/launcher prefix of ``line`` (0 when none)."""
    m = PREFIX.match(line)
    return m.end() if m else 0
