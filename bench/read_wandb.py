"""Reading a 1,000,000-step W&B run: lossctl's points per second, whole process and in-process,
against the same file decoded with wandb's own protobuf classes.

The input: the real client (``wandb.init(mode="offline")`` + ``wandb.log``) writes about 500
steps a second here, so 1,000,000 steps would take over half an hour. Instead a short run is
written with the real client, and the 1M-step file is built from it: its leading records (header,
run, environment, ...) as written, then per step the two records the client writes for each
``wandb.log`` (a HistoryRecord, then a SummaryRecord, items as ``nested_key`` like the client's),
serialised by wandb's own ``wandb_internal_pb2`` classes and framed in the LevelDB log format
(32 KiB blocks, CRC-32 of type + data). It is checked to read back with wandb's classes.
wandb 0.31 has no Python reader of ``.wandb`` files any more (``wandb/sdk/internal/datastore.py``
is gone from the package; its Go core reads them), so "wandb" below is the framing loop here plus
``Record.ParseFromString`` (the C protobuf runtime, upb): a fair floor for any Python reader.
Cached under bench/data/wandb/.
"""

from __future__ import annotations

import math
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "wandb"
STEPS = 1_000_000
BLOCK = 32768


def _frame(records) -> bytes:
    """The LevelDB log framing W&B uses, written here for the benchmark input."""
    out = bytearray(b":W&B\xe1\xbe\x00")
    for data in records:
        first = True
        while True:
            left = BLOCK - len(out) % BLOCK
            if left < 7:
                out += bytes(left)
                left = BLOCK
            room = left - 7
            piece, data = data[:room], data[room:]
            kind = (1 if not data else 2) if first else (4 if not data else 3)
            out += struct.pack("<IHB", zlib.crc32(bytes([kind]) + piece), len(piece), kind) + piece
            first = False
            if not data:
                break
    return bytes(out)


def _records(data: bytes):
    i, parts = 7, []
    while i + 7 <= len(data):
        left = BLOCK - i % BLOCK
        if left < 7:
            i += left
            continue
        crc, n, kind = struct.unpack_from("<IHB", data, i)
        chunk = data[i + 7:i + 7 + n]
        if len(chunk) < n or zlib.crc32(bytes([kind]) + chunk) != crc:
            return
        i += 7 + n
        if kind == 1:
            yield chunk
        elif kind == 2:
            parts = [chunk]
        elif kind == 3:
            parts.append(chunk)
        else:
            yield b"".join([*parts, chunk])


def wandb_points(path: Path) -> int:
    """History points (metrics other than _step/_runtime/_timestamp) via wandb's protobuf."""
    from wandb.proto import wandb_internal_pb2 as pb

    n = 0
    rec = pb.Record()
    skip = {"_step", "_runtime", "_timestamp"}
    for raw in _records(path.read_bytes()):
        rec.ParseFromString(raw)
        if rec.WhichOneof("record_type") == "history":
            for it in rec.history.item:
                key = it.key or ".".join(it.nested_key)
                if key not in skip:
                    float(it.value_json)
                    n += 1
    return n


def ensure_input(steps: int = STEPS) -> Path:
    """bench/data/wandb/<steps>/wandb/offline-run-*/run-bench001.wandb (built once)."""
    root = DATA / str(steps)
    done = root / ".complete"
    run_dir = root / "wandb" / "offline-run-20240101_000000-bench001"
    log = run_dir / "run-bench001.wandb"
    if done.exists():
        return log
    sys.path.insert(0, str(HERE.parent / "tests"))
    from wandb.proto import wandb_internal_pb2 as pb
    from wandb_runs import records, write_run

    with tempfile.TemporaryDirectory() as tmp:
        seed = write_run(Path(tmp), range(3), name="bench-1M", run_id="bench001", config={"lr": 3e-4},
                         **{"train/loss": lambda s: 1.0})
        seed_log = next(seed.glob("run-*.wandb")).read_bytes()
    lead = []
    for raw in records(seed_log):
        rec = pb.Record()
        rec.ParseFromString(raw)
        if rec.WhichOneof("record_type") in ("history", "summary", "exit", "final", "footer"):
            break
        lead.append(raw)
    t0 = 1.7e9

    def steps_records():
        yield from lead
        num = len(lead)
        hist, summ = pb.Record(), pb.Record()
        for s in range(steps):
            loss = 2.0 * math.exp(-s / (steps / 5)) + 0.1 + 0.01 * math.sin(s)
            ts, rt = t0 + s * 0.01, s * 0.01
            values = (("train/loss", repr(loss)), ("_timestamp", repr(ts)), ("_runtime", repr(rt)),
                      ("_step", str(s)))
            for rec, field in ((hist, "history"), (summ, "summary")):
                rec.Clear()
                num += 1
                rec.num = num
                msg = getattr(rec, field)
                for key, value in values:
                    item = msg.item.add() if field == "history" else msg.update.add()
                    item.nested_key.append(key)
                    item.value_json = value
                if field == "history":
                    msg.step.num = s
                yield rec.SerializeToString()

    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "files").mkdir(exist_ok=True)
    log.write_bytes(_frame(steps_records()))
    got = wandb_points(log)
    assert got == steps, f"the benchmark input reads back {got:,} points with wandb's classes, not {steps:,}"
    done.touch()
    return log


def _whole_process(run_dir: Path) -> tuple[int, float, float]:
    """``lossctl.load`` in a fresh interpreter (imports included): points, wall and CPU seconds."""
    code = "import sys, lossctl; print(len(lossctl.load(sys.argv[1])))"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, str(run_dir)], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": str(HERE.parent)})
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return int(out.stdout.split()[0]), wall, cpu


def _timed(fn):
    t, c = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - t, time.process_time() - c


def main(steps: int = STEPS) -> list[dict]:
    log = ensure_input(steps)
    size = log.stat().st_size
    rows = []
    from lossctl.sources.wandb_log import read_log

    n, t, c = _whole_process(log.parent)
    rows.append({"reader": "lossctl (whole process)", "points": n, "seconds": t, "cpu": c})
    for verify in (True, False):
        def read(verify=verify):
            with open(log, "rb") as f:
                return read_log(f, verify)
        h, t, c = _timed(read)
        rows.append({"reader": f"lossctl in-process{'' if verify else ' (no CRC)'}", "points": len(h.value),
                     "seconds": t, "cpu": c})
    try:
        n, t, c = _timed(lambda: wandb_points(log))
        rows.append({"reader": "wandb protobuf (upb)", "points": n, "seconds": t, "cpu": c})
    except ImportError:
        rows.append({"reader": "wandb protobuf (upb)", "error": "wandb not installed"})
    for r in rows:
        r["bytes"] = size
    return rows


if __name__ == "__main__":
    for r in main(int(sys.argv[1]) if len(sys.argv) > 1 else STEPS):
        if "error" in r:
            print(f"{r['reader']:28s} {r['error']}")
        else:
            print(f"{r['reader']:28s} {r['points']:>10,d} points {r['seconds']:8.2f} s "
                  f"{r['points'] / r['seconds']:>12,.0f} points/s  (CPU {r['cpu']:.2f} s: "
                  f"{r['points'] / r['cpu']:,.0f} points/CPU-s)")
