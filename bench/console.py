# ruff: noqa: UP031 - the printf-style format strings are the tools' own (llm.c, transformers str(dict))
"""Reading console logs: 1,000,000 printed lines of each common shape (nanoGPT, Hugging Face
Trainer dicts, llm.c, Megatron-LM, a Lightning bar's states redrawn with \\r), read by lossctl in a fresh process, beside ``wc -l`` on the
same file. Inputs are generated under bench/data/console/ on first use (not committed).

Figures: ``read`` is the console reader alone (after imports, as lossctl.load spends it);
``process`` the whole ``lossctl analyze --format json`` (start-up, reading, every detector);
peak RSS of each (the file is read in blocks: what grows with it is the frame of its points).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "console"
LINES = 1_000_000
TARGET_S = 2.0

SHAPES = {
    "nanogpt": lambda i: f"iter {i}: loss {2.3 / (1 + i * 1e-5):.4f}, time {12.34 + math.sin(i):.2f}ms, mfu {30.12:.2f}%\n",
    "hf_trainer": lambda i: ("{'loss': %.4f, 'grad_norm': %.6f, 'learning_rate': %.3e, 'epoch': %.2f}\n"
                             % (2.3 / (1 + i * 1e-5), 1.9 + math.sin(i), 4.9e-5 * (1 - i / 2e6), i / 1e4)),
    "llmc": lambda i: ("step %4d/%d | loss %7.6f (%+.2fz)| norm %6.4f (%+.2fz)| lr %.2e | %.2f ms | %.1f%% bf16 MFU | %.0f tok/s\n"
                       % (i + 1, LINES, 2.3 / (1 + i * 1e-5), math.sin(i), 1.2345, -0.3, 3e-4, 120.33, 45.2, 123456)),
    "megatron": lambda i: (f" [2026-11-30 12:00:00.123456] iteration {i + 1:8d}/{LINES:8d} | consumed samples: {i * 128:12d} |"
                           f" elapsed time per iteration (ms): 1234.5 | learning rate: {3e-4:.6E} | global batch size:   128 |"
                           f" lm loss: {2.3 / (1 + i * 1e-5):.6E} | loss scale: 1.0 | grad norm: 1.234 |"
                           " number of skipped iterations:   0 | number of nan iterations:   0 |\n"),
    # Lightning's bar captured by nohup: 1,000 states redrawn with \r on each epoch's line
    "lightning_bar": lambda i: (f"Epoch {i // 1000}:  {(i % 1000 + 1) // 10:3d}%|{'#' * ((i % 1000 + 1) // 100):<10}| "
                                f"{i % 1000 + 1}/1000 [00:10<00:00, 95.3it/s, loss={2.3 / (1 + i * 1e-5):.4g}, v_num=0]"
                                + ("\n" if i % 1000 == 999 else "\r")),
}
READ = """
import sys, time
from lossctl.readers.console import reader
t = time.perf_counter()
d = reader.read(sys.argv[1])
print(len(d.frame), time.perf_counter() - t)
"""
MIB = 1 << 20


def ensure(shape: str) -> Path:
    path = DATA / f"{shape}.log"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        make = SHAPES[shape]
        with open(path, "w") as f:
            f.writelines("".join(make(i) for i in range(start, start + 100_000)) for start in range(0, LINES, 100_000))
    return path


def timed(cmd: list[str]) -> tuple[float, str, float]:
    """Wall seconds, standard output and peak RSS (MiB) of a process."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - t, out, usage.ru_maxrss * 1024 / MIB


def main() -> list[dict]:
    rows = []
    lossctl = str(Path(sys.executable).with_name("lossctl"))
    for shape in SHAPES:
        path = ensure(shape)
        wc, _, _ = timed(["wc", "-l", str(path)])
        lines = LINES  # printed lines, a bar's redrawn states among them
        _, out, read_rss = timed([sys.executable, "-c", READ, str(path)])
        points, read = out.split()
        proc, _, proc_rss = timed([lossctl, "analyze", str(path), "--format", "json"])
        rows.append({"shape": shape, "lines": lines, "mb": path.stat().st_size / 1e6, "points": int(points),
                     "read": float(read), "process": proc, "wc": wc, "read_rss": read_rss, "proc_rss": proc_rss})
    return rows


def report(rows) -> bool:
    print(f"== reading console logs, 1,000,000 lines each (target: read < {TARGET_S:g} s)")
    print(f"  {'shape':13s} {'MB':>5s} {'points':>10s} {'read s':>7s} {'lines/s':>11s} {'process s':>9s} "
          f"{'read MiB':>8s} {'proc MiB':>8s} {'wc -l s':>8s}")
    ok = True
    for r in rows:
        good = r["read"] < TARGET_S
        ok &= good
        print(f"  {r['shape']:13s} {r['mb']:5.0f} {r['points']:>10,d} {r['read']:7.2f} {r['lines'] / r['read']:>11,.0f} "
              f"{r['process']:9.2f} {r['read_rss']:8.0f} {r['proc_rss']:8.0f} {r['wc']:8.3f}  [{'ok' if good else 'SLOW'}]")
    return ok


if __name__ == "__main__":
    sys.exit(0 if report(main()) else 1)
