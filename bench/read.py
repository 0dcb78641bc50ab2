"""Reading TensorBoard logs: lossctl.load against tbparse and TensorBoard's EventAccumulator.

Each reader runs as a whole fresh process on the same files (import and start-up included, as a
user would run it); the process reports its own peak RSS. Inputs come from
../shared/bench/make_event_files.py and are cached under bench/data/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
GENERATOR = HERE.parent.parent / "shared" / "bench" / "make_event_files.py"

READERS = {
    "lossctl": "import lossctl; df = lossctl.load(PATH); n = len(df)",
    "lossctl --no-verify": "import lossctl; df = lossctl.load(PATH, verify=False); n = len(df)",
    # tbparse and EventAccumulator file TF2 scalars under tensors: count both, keep every point
    "tbparse": "from tbparse import SummaryReader; r = SummaryReader(PATH); n = len(r.scalars) + len(r.tensors)",
    "EventAccumulator": (
        "from tensorboard.backend.event_processing.event_accumulator import EventAccumulator\n"
        "acc = EventAccumulator(PATH, size_guidance={'scalars': 0, 'tensors': 0}); acc.Reload()\n"
        "tags = acc.Tags()\n"
        "n = sum(len(acc.Scalars(t)) for t in tags['scalars'])"
        " + sum(len(acc.Tensors(t)) for t in tags['tensors'])"),
}
# Peak RSS from VmHWM: ru_maxrss survives fork + exec on Linux, so a child of a big parent
# (the pipeline benchmark) would report the parent's size.
WRAPPER = """
import resource, time, sys
PATH = sys.argv[1]
t0 = time.perf_counter()
{body}
try:
    hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
except OSError:
    hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(n, time.perf_counter() - t0, hwm)
"""


def _writer() -> list[str]:
    """PyTorch's SummaryWriter when torch is installed, else tensorboardX's (same bytes)."""
    try:
        import torch  # noqa: F401
        return ["--writer", "torch"]
    except ImportError:
        return ["--writer", "tbx"]


def ensure_inputs(medium_events: int, large_bytes: float) -> dict[str, Path]:
    want = {
        "1M simple_value": (DATA / "medium" / "scalars", ["--what", "medium", "--medium-events", str(medium_events)]),
        "1M TF2 tensor": (DATA / "medium" / "tf2", ["--what", "medium", "--medium-events", str(medium_events)]),
        "1 GB mixed": (DATA / "large" / "mixed", ["--what", "large", "--large-bytes", str(large_bytes)]),
    }
    for name, (path, args) in want.items():
        if not path.is_dir() or not any(path.iterdir()):
            print(f"generating {name} ...", file=sys.stderr)
            subprocess.run([sys.executable, str(GENERATOR), *args, *_writer(), "--out", str(DATA)],
                           check=True)
    return {name: path for name, (path, _) in want.items()}


def run_one(body: str, path: Path, timeout: float) -> dict:
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-c", WRAPPER.format(body=body), str(path)],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout {timeout:.0f}s"}
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1][:80]}
    n, inner, rss_kb = proc.stdout.split()[-3:]
    return {"points": int(n), "seconds": wall, "read_seconds": float(inner), "rss_mb": int(rss_kb) / 1024}


def main(readers=None, inputs=None, medium_events=1_000_000, large_bytes=1e9, timeout=900,
         progress=True) -> list[dict]:
    paths = ensure_inputs(medium_events, large_bytes)
    rows = []
    for name, path in paths.items():
        if inputs and name not in inputs:
            continue
        base = None
        for reader, body in READERS.items():
            if readers and reader not in readers:
                continue
            r = run_one(body, path, timeout)
            r.update({"input": name, "reader": reader})
            if reader == "lossctl":
                base = r
            if base and "seconds" in r and "seconds" in base:
                r["x_lossctl"] = r["seconds"] / base["seconds"]
            rows.append(r)
            if progress:
                print(json.dumps(r), file=sys.stderr)
    return rows


if __name__ == "__main__":
    for row in main(readers=os.environ.get("READERS", "").split(",") if os.environ.get("READERS") else None):
        print(row)
