"""Writing W&B runs with the real client, offline, touching neither the network nor the home
directory; and an independent look at a ``.wandb`` file through wandb's own protobuf classes
(a test-side framing loop + ``wandb_internal_pb2.Record``), the oracle the reader is checked
against."""

from __future__ import annotations

import os
import struct
import zlib
from contextlib import contextmanager
from pathlib import Path

import pytest


def need_wandb():
    """The wandb module, or a skip saying why (it is in the dev extras; CI installs it)."""
    return pytest.importorskip("wandb", reason="wandb is not installed (pip install -e '.[dev]')")


@contextmanager
def offline(root: Path):
    """Environment for the client: offline, silent, every directory below ``root``."""
    keys = {"WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_DIR": str(root),
            "WANDB_CONFIG_DIR": str(root / ".config"), "WANDB_CACHE_DIR": str(root / ".cache"),
            "WANDB_DATA_DIR": str(root / ".data"), "WANDB_ARTIFACT_DIR": str(root / ".artifacts"),
            "WANDB_DISABLE_GIT": "true", "WANDB_CONSOLE": "off", "WANDB_DISABLE_CODE": "true",
            "WANDB_ERROR_REPORTING": "false", "WANDB_API_KEY": ""}
    old = {k: os.environ.get(k) for k in keys}
    os.environ.update(keys)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def write_run(root: Path, steps, *, name=None, run_id=None, config=None, resume=None, **log) -> Path:
    """One offline run below ``root`` (``root/wandb/offline-run-*``): ``log`` maps a metric
    (or a top-level key whose value is a dict) to a function of the step; returns the run dir."""
    wandb = need_wandb()
    with offline(root):
        run = wandb.init(mode="offline", dir=str(root), project="lossctl-tests", name=name, id=run_id,
                         config=config or {}, resume=resume, settings=wandb.Settings(
                             console="off", disable_git=True, save_code=False, x_disable_stats=True))
        for s in steps:
            run.log({k: f(s) for k, f in log.items() if f(s) is not None}, step=s)
        run_dir = Path(run.dir).parent
        run.finish()
    return run_dir


def records(data: bytes, resync: bool = False):
    """Each record's bytes, by the format's rules (32 KiB blocks, FULL/FIRST/MIDDLE/LAST).
    At an incomplete or damaged chunk: stop, or with ``resync`` go on at the next block (the
    record being put together is lost, as are chunks continuing it)."""
    assert data[:4] == b":W&B"
    i, parts = 7, None
    while i + 7 <= len(data):
        left = 32768 - i % 32768
        if left < 7:
            i += left
            continue
        crc, n, kind = struct.unpack_from("<IHB", data, i)
        chunk = data[i + 7:i + 7 + n]
        if len(chunk) < n or n + 7 > left or zlib.crc32(bytes([kind]) + chunk) != crc:
            if not resync:
                return
            i += left
            parts = None
            continue
        i += 7 + n
        if kind == 1:
            yield chunk
        elif kind == 2:
            parts = [chunk]
        elif kind == 3 and parts is not None:
            parts.append(chunk)
        elif kind == 4 and parts is not None:
            yield b"".join([*parts, chunk])
            parts = None


def history_points(data: bytes, resync: bool = False) -> list[tuple[str, int, str]]:
    """``(metric, step, value_json)`` of every history item, decoded with wandb's protobuf."""
    from wandb.proto import wandb_internal_pb2 as pb

    out = []
    for raw in records(data, resync):
        rec = pb.Record()
        rec.ParseFromString(raw)
        if rec.WhichOneof("record_type") != "history":
            continue
        items = {(it.key or ".".join(it.nested_key)): it.value_json for it in rec.history.item}
        step = int(items.get("_step", rec.history.step.num))
        out += [(k, step, v) for k, v in items.items() if k not in ("_step", "_runtime", "_timestamp")]
    return out
