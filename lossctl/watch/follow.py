"""Following one log file that is still being written: each poll reads only what was appended.

An event file resumes at the byte after its last complete record (a partial last record is not
complete yet, so it is not an error); TF2 plugin metadata seen so far carries over. A CSV keeps
its header and the byte offset after its last complete line. A JSON history, and any other
format (VisualDL's records), is re-read whole when its size or modification time changes. A file that shrank, or whose
first line changed, was rewritten: it is read again from the start.

``poll()`` returns True when new points arrived; ``data()`` is everything read so far as one
:class:`~lossctl.readers.base.FileData`; ``warnings`` lists input problems (damage, bad cells).
Files are only ever opened for reading.
"""

from __future__ import annotations

import os
from pathlib import Path

from lossctl.errors import InputError, NotALog
from lossctl.frame import concat
from lossctl.readers.base import FileData
from lossctl.readers.console import read_bytes as console_read_bytes
from lossctl.readers.console.lines import MAX_LINE
from lossctl.readers.csv_reader import reader as csv_reader
from lossctl.readers.json_reader import reader as json_reader
from lossctl.readers.tensorboard import reader as tb_reader


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


class Follower:
    """What every follower shares: the points so far (as chunks merged on demand), warnings."""

    format = "unknown"

    def __init__(self, path: Path):
        self.path = Path(path)
        self.ignored: str | None = None  # set when the file turned out not to be a log
        self.warnings: list[str] = []
        self._reset()

    def _reset(self) -> None:
        self.sig: tuple[int, int] | None = None
        self.chunks: list[FileData] = []
        self.rows = 0

    def _warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def _add(self, data: FileData) -> bool:
        for w in data.warnings:
            self._warn(w)
        if not len(data.frame) and not data.purges:
            return False
        data.purges = [(self.rows + pos, step) for pos, step in data.purges]
        self.rows += len(data.frame)
        self.chunks.append(data)
        return len(data.frame) > 0

    def data(self) -> FileData:
        if len(self.chunks) > 1:  # merge once, so each poll concatenates only the new chunk
            merged = FileData(concat([c.frame for c in self.chunks]), self.chunks[-1].format,
                              [], [p for c in self.chunks for p in c.purges])
            self.chunks = [merged]
        if not self.chunks:
            return FileData(concat([]), self.format)
        c = self.chunks[0]
        return FileData(c.frame, c.format, list(self.warnings), list(c.purges))

    def poll(self) -> bool:
        sig = _signature(self.path)
        if sig is None or sig == self.sig:
            return False
        try:
            new = self._read(sig)
            self.ignored = None
            return new
        except NotALog as exc:
            self.ignored = str(exc)
        except InputError as exc:
            self._warn(str(exc))
        self.sig = sig  # tried again when the file changes
        return False

    def _read(self, sig: tuple[int, int]) -> bool:
        """Read what is new; set ``self.sig = sig`` unless the same state should be read again."""
        raise NotImplementedError


class EventFollower(Follower):
    format = "tensorboard"

    def __init__(self, path: Path, verify: bool = True):
        self.verify = verify
        super().__init__(path)

    def _reset(self) -> None:
        super()._reset()
        self.end = 0
        self.plugins: dict[str, str] = {}

    def _read(self, sig) -> bool:
        if sig[0] < self.end:  # truncated or replaced: start over
            self._reset()
        self.sig = sig
        res = tb_reader.scan(self.path, self.verify, self.end, self.plugins)
        self.end = res.end
        warnings = res.warnings(self.path, tail=False)  # an incomplete last record is expected here
        return self._add(FileData(res.frame, self.format, warnings, res.purges))


class CsvFollower(Follower):
    format = "csv"

    def _reset(self) -> None:
        super()._reset()
        self.header = b""  # the first line, with its line end
        self.offset = 0  # after the last complete line read
        self.lines = 0  # data lines read (row numbers continue from here)

    def _read(self, sig) -> bool:
        with open(self.path, "rb") as f:
            if self.header and (sig[0] < self.offset or f.read(len(self.header)) != self.header):
                self._reset()  # rewritten (Lightning rewrites the file when a new metric appears)
            self.sig = sig
            f.seek(self.offset)
            chunk = f.read(max(0, sig[0] - self.offset))
        cut = chunk.rfind(b"\n") + 1  # only complete lines: the last may still be written
        if not cut:
            return False
        chunk, self.offset = chunk[:cut], self.offset + cut
        if not self.header:
            end = chunk.index(b"\n") + 1
            self.header, chunk = chunk[:end], chunk[end:]
        n = sum(1 for line in chunk.splitlines() if line.strip())
        if not n:
            return False
        text = (self.header + chunk).decode("utf-8-sig", errors="replace")
        text = text.replace("\r\n", "\n").replace("\r", "\n")  # universal newlines, as read_text
        first, self.lines = self.lines, self.lines + n
        return self._add(csv_reader.parse(text, self.path, first_row=first))


class RereadFollower(Follower):
    """A file read again whole when it changes: a JSON history (writers rewrite it), a format
    with no follower of its own (VisualDL's records)."""

    def __init__(self, path: Path, reader=json_reader):
        self.reader = reader
        self.format = reader.format
        super().__init__(path)

    def _reset(self) -> None:
        super()._reset()
        self.failed: tuple[int, int] | None = None

    def _read(self, sig) -> bool:
        try:
            data = self.reader.read(self.path)
        except NotALog:
            raise
        except InputError:
            if sig != self.failed:  # perhaps caught mid-rewrite: keep what was read, retry once
                self.failed = sig
                return False
            raise
        self.sig = sig
        self.chunks, self.rows = [], 0
        self.warnings = []
        return self._add(data)


class ConsoleFollower(Follower):
    """A console log: appended complete lines are kept (long ones dropped as they pass) and the
    whole text read so far is parsed again when lines arrive, since a line's step can depend on
    the lines before it (Hugging Face's running count, Keras' epoch header, a new training)."""

    format = "console"

    def _reset(self) -> None:
        super()._reset()
        self.buf = bytearray()  # complete lines read so far
        self.offset = 0  # in the file, after the last complete line
        self.skipping = False  # inside a line longer than MAX_LINE
        self.head = b""

    def _read(self, sig) -> bool:
        with open(self.path, "rb") as f:
            if sig[0] < self.offset or (self.head and f.read(len(self.head)) != self.head):
                self._reset()  # truncated or rewritten: read again from the start
            self.sig = sig
            f.seek(self.offset)
            chunk = f.read(max(0, sig[0] - self.offset))
        if self.skipping:  # the rest of an over-long line
            nl = chunk.find(b"\n")
            if nl < 0:
                self.offset += len(chunk)
                return False
            self.offset += nl + 1
            chunk, self.skipping = chunk[nl + 1:], False
        cut = chunk.rfind(b"\n") + 1  # only complete lines: the last may still be written
        if not cut:
            if len(chunk) > MAX_LINE:
                self.offset += len(chunk)
                self.skipping = True
                self._warn(f"{self.path}: a line longer than {MAX_LINE // 1024} KiB skipped")
            return False
        self.offset += cut
        return self.feed(chunk[:cut])

    def feed(self, lines: bytes) -> bool:
        """Take appended complete lines; parse everything read so far again."""
        if not lines:
            return False
        if any(len(x) > MAX_LINE for x in lines.split(b"\n")):
            self._warn(f"{self.path}: lines longer than {MAX_LINE // 1024} KiB skipped")
            lines = b"\n".join(b"" if len(x) > MAX_LINE else x for x in lines.split(b"\n"))
        if not self.head:
            self.head = lines[:min(len(lines), 256)]
        self.buf += lines
        try:
            data = console_read_bytes(bytes(self.buf), str(self.path), partial_ok=True)
        except NotALog as exc:
            self.ignored = str(exc)
            return False
        self.ignored = None
        before = self.rows
        self.chunks, self.rows = [], 0
        self.warnings = [w for w in self.warnings if "longer than" in w]
        self._add(data)
        return self.rows > before


class StreamFollower(ConsoleFollower):
    """Standard input as a growing console log. A thread reads the pipe as lines arrive (and,
    with ``tee``, writes each one through to standard output); polls take what it read."""

    def __init__(self, stream, tee=None):
        import threading

        self.stream, self.tee = stream, tee
        self.pending: list[bytes] = []
        self.lock = threading.Lock()
        self.arrived = threading.Event()
        self.closed = False
        super().__init__(Path("<stdin>"))
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _chunks(self):
        """What the pipe delivers, as it arrives. A file descriptor is read raw (``os.read``):
        a thread blocked in a buffered reader would hold its lock at interpreter exit."""
        try:
            fd = self.stream.fileno()
        except (AttributeError, OSError, ValueError):
            yield from iter(self.stream.readline, b"")
            return
        while chunk := os.read(fd, 1 << 16):
            yield chunk

    def _pump(self) -> None:
        try:
            for line in self._chunks():
                if self.tee is not None:
                    try:
                        self.tee.write(line)
                        self.tee.flush()
                    except (OSError, ValueError):
                        self.tee = None  # the reader of our output went away: keep analysing
                with self.lock:
                    self.pending.append(line)
                self.arrived.set()
        except (OSError, ValueError):
            pass
        finally:
            self.closed = True
            self.arrived.set()

    def wait(self, timeout: float) -> None:
        """Sleep until lines arrive, the pipe closes, or ``timeout`` passes."""
        self.arrived.wait(timeout)
        self.arrived.clear()

    @property
    def finished(self) -> bool:
        return self.closed and not self.pending

    def poll(self) -> bool:
        closed = self.closed  # read before taking the lines: nothing arrives after it is set
        with self.lock:
            chunk, self.pending = b"".join(self.pending), []
        if not chunk and not closed:
            return False
        held = getattr(self, "_held", b"")
        chunk = held + chunk
        cut = len(chunk) if closed else chunk.rfind(b"\n") + 1
        self._held = chunk[cut:]
        return self.feed(chunk[:cut]) if cut else False


JsonFollower = RereadFollower  # its reader by default


def follower_for(path: Path, fmt: str, verify: bool = True) -> Follower:
    if fmt == "tensorboard":
        return EventFollower(path, verify)
    if fmt in ("csv", "console"):
        return {"csv": CsvFollower, "console": ConsoleFollower}[fmt](path)
    from lossctl.readers import BY_FORMAT

    return RereadFollower(path, BY_FORMAT[fmt])
