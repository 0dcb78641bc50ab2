"""Reader registry: one line per supported format, in the order a file is offered to them; the
first whose ``sniff`` accepts a file reads it.

Each line names the module holding the reader, imported on first use (a CSV run never imports
protobuf, nor the console scanner), and the cheap test a file must pass before that reader is
asked: its name suffixes, a part of its name, its first bytes. The test is a necessary condition
of the reader's own ``sniff`` (tests/test_imports.py checks it on every sample log), so skipping
a reader whose test fails changes no verdict. A new reader is one file plus one line here.
"""

from __future__ import annotations

import importlib
import struct
from collections.abc import Callable

CSV_SUFFIXES = {".csv", ".tsv", ".log", ".txt"}  # what the CSV reader claims by content ("": a pipe)
CONSOLE_SUFFIXES = {"", ".log", ".out", ".txt", ".err", ".jsonl", ".ndjson", ".json", ".stdout", ".stderr"}


def console_name(path) -> bool:
    """A name a console log may have: the suffixes above; glog's ``<program>.INFO`` (Caffe's
    ``caffe.INFO``); a number (PaddlePaddle's per-worker ``workerlog.0``, a rotated ``train.log.1``,
    glog's ``caffe.host.user.log.INFO.20150712-222804.32223``)."""
    s = path.suffix.lower()
    return s in CONSOLE_SUFFIXES or s == ".info" or s[1:].isdigit()


class LazyReader:
    """A reader known by its module until a file passes ``may_claim``; then the module's
    ``reader``, to which every other attribute (``read``, ``scan``...) is handed on."""

    def __init__(self, format: str, module: str, may_claim: Callable[[object, bytes], bool]):
        self.format, self.module, self.may_claim = format, module, may_claim

    @property
    def reader(self):
        return importlib.import_module(self.module).reader  # a dict look-up once imported

    def sniff(self, path, head: bytes) -> bool:
        return self.may_claim(path, head) and self.reader.sniff(path, head)

    def __getattr__(self, name: str):
        if name.startswith("__"):  # (copy, pickle: not a reader's attributes)
            raise AttributeError(name)
        return getattr(self.reader, name)

    def __repr__(self) -> str:
        return f"<reader {self.format} ({self.module})>"


def _suffix(path) -> str:
    return path.suffix.lower()


def tfrecord_header(head: bytes) -> bool:
    """The first 12 bytes are a TFRecord header (the length's masked CRC-32C checks), computed
    here without the crc32c package: 8 bytes, bit by bit."""
    if len(head) < 12:
        return False
    crc = 0xFFFFFFFF
    for byte in head[:8]:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    crc ^= 0xFFFFFFFF
    masked = (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
    return masked == struct.unpack_from("<I", head, 8)[0]


JSONL_PEEK = 1 << 20  # how far to look for the end of a JSON-lines file's first line


def one_object_per_line(path, head: bytes) -> bool:
    """JSON lines: the first line is one whole object (``{...}`` and a line end). A first line
    longer than the head (mmcv's ``.log.json`` opens with an ``env_info`` record of 11 KB) is
    looked at further, up to 1 MiB."""
    body = head.lstrip()
    if b"\n" not in body and len(head) >= 4096:
        try:
            body = path.head(JSONL_PEEK).lstrip()
        except Exception:  # noqa: BLE001 - unreadable: reading it says why
            return False
    first, newline, _ = body.partition(b"\n")
    first = first.strip()
    return bool(newline) and first.startswith(b"{") and first.endswith(b"}")


READERS = [
    LazyReader("tensorboard", "lossctl.readers.tensorboard",
               lambda p, head: "tfevents" in p.name or tfrecord_header(head)),
    LazyReader("visualdl", "lossctl.readers.visualdl", lambda p, head: "vdlrecords" in p.name),
    # wandb_export before csv: a W&B chart export is a CSV whose columns name runs
    LazyReader("wandb_export", "lossctl.readers.wandb_export", lambda p, head: _suffix(p) in (".csv", "")),
    LazyReader("csv", "lossctl.readers.csv_reader",
               lambda p, head: _suffix(p) in CSV_SUFFIXES | {""} and b"\x00" not in head),
    LazyReader("console", "lossctl.readers.console",  # a .json file only when it is JSON lines
               lambda p, head: bool(head) and console_name(p)
               and (_suffix(p) != ".json" or one_object_per_line(p, head))),
    LazyReader("keras_json", "lossctl.readers.json_reader", lambda p, head: _suffix(p) in (".json", "")),
]
BY_FORMAT = {r.format: r for r in READERS}
