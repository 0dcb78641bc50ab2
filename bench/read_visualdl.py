"""Reading a 1,000,000-record VisualDL file: lossctl's reader against VisualDL's own LogReader on
the same file, in the same process, best of 3.

The input is written by VisualDL's LogWriter (``add_scalar`` of ``train/loss`` per step, a
``test/loss`` every 100 steps; ~25 s once) and cached under bench/data/visualdl/.
"""

from __future__ import annotations

import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "visualdl"
STEPS = 1_000_000


def ensure_input() -> Path:
    from visualdl import LogWriter

    done = DATA / "done"
    if not done.exists():
        for old in DATA.glob("vdlrecords.*"):
            old.unlink()
        DATA.mkdir(parents=True, exist_ok=True)
        with LogWriter(logdir=str(DATA)) as w:
            for s in range(STEPS):
                w.add_scalar(tag="train/loss", step=s, value=2.0 / (1 + s / 1000) + 0.1)
                if s % 100 == 0:
                    w.add_scalar(tag="test/loss", step=s, value=2.2 / (1 + s / 1000) + 0.1)
        done.touch()
    (path,) = DATA.glob("vdlrecords.*.log")
    return path


def _best(fn, repeat: int) -> tuple[float, int]:
    best, n = float("inf"), 0
    for _ in range(repeat):
        t = time.perf_counter()
        n = fn()
        best = min(best, time.perf_counter() - t)
    return best, n


def main(repeat: int = 3) -> dict:
    from visualdl import LogReader

    from lossctl.readers.visualdl import reader

    path = ensure_input()

    def ours() -> int:
        return len(reader.read(path).frame)

    def theirs() -> int:
        r = LogReader(file_path=str(path))
        return sum(len(r.get_data("scalar", tag)) for tag in ("train/loss", "test/loss"))

    ours_s, ours_n = _best(ours, repeat)
    theirs_s, theirs_n = _best(theirs, repeat)
    return {"points": ours_n, "ref_points": theirs_n, "lossctl_s": ours_s, "visualdl_s": theirs_s,
            "mb": path.stat().st_size / 1e6}
