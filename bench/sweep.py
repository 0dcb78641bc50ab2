"""Sweep scale: 1,000 runs (copies of the dev corpus, ~1,000 points each) analysed to JSON by a
whole `lossctl analyze` process on every core, and 10,000 runs for peak memory.

Yardstick, measured in the same run: one process that reads every byte of the same tree and
parses nothing (the I/O and start-up no analysis of these files can avoid). Inputs are made
under bench/data/ once (hard links to one copy of each run, ~4 MB on disk).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEV = HERE.parent.parent / "shared" / "corpus" / "dev"
DATA = HERE / "data"
LOSSCTL = [sys.executable, "-m", "lossctl"]


def tree(n: int) -> Path:
    """``n`` run directories cycling through the dev corpus (files hard-linked: distinct runs)."""
    root = DATA / f"sweep{n}"
    if (root / ".done").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    runs = sorted(p for p in DEV.iterdir() if p.is_dir())
    for i in range(n):
        src = runs[i % len(runs)]
        dst = root / f"{i:05d}-{src.name}"
        dst.mkdir(parents=True)
        for f in src.iterdir():
            if f.is_file():
                os.link(f, dst / f.name)
    (root / ".done").touch()
    return root


def timed(args: list[str]) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MB, the largest of the process and its children) and CPU seconds
    (user + system, the process and its workers: what a loaded shared machine inflates least)."""
    t = time.perf_counter()
    proc = subprocess.Popen(["/usr/bin/time", "-f", "%M %U %S", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    _, err = proc.communicate(timeout=3600)
    wall = time.perf_counter() - t
    kb, user, system = err.strip().splitlines()[-1].split()  # GNU time's %M: KB, max over the waited children
    return wall, int(kb) / 1024, float(user) + float(system)


YARDSTICK = ("import os, sys\nn = 0\nfor d, _, fs in os.walk(sys.argv[1]):\n    for f in fs:\n"
             "        with open(os.path.join(d, f), 'rb') as h:\n            n += len(h.read())\nprint(n)")


def main() -> list[dict]:
    """1,000 runs: the median of three timings (one is at the mercy of whatever else the machine
    runs); 10,000 runs: one, for its peak memory."""
    rows = []
    for n, repeat in ((1000, 3), (10000, 1)):
        root = tree(n)
        ref, _, _ = timed([sys.executable, "-c", YARDSTICK, str(root)])
        runs = sorted(timed([*LOSSCTL, "analyze", str(root), "--format", "json"]) for _ in range(repeat))
        wall, rss, cpu = runs[len(runs) // 2]
        rows.append({"runs": n, "seconds": wall, "rss_mb": rss, "ref_s": ref, "cpu_s": cpu})
    return rows
