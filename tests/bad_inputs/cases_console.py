"""Broken and odd console logs (what training scripts print, captured by nohup, SLURM or CI)."""

from __future__ import annotations

import os

from .cases import Expect, case, healthy, write_good_csv


def nanogpt_lines(n: int, start: int = 0) -> bytes:
    return "".join(f"iter {i}: loss {v:.4f}, time 12.34ms, mfu 30.12%\n"
                   for i, v in enumerate(healthy(n).tolist()[start:], start)).encode()


@case()
def console_binary_file_named_train_log(d):
    p = d / "train.log"
    p.write_bytes(os.urandom(1 << 16) + b"\x00" * 100)
    return Expect(p, 2, [("train.log", "binary data, not a text log")])


@case()
def console_binary_train_log_beside_a_good_run(d):
    (d / "train.log").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(4000))
    write_good_csv(d / "metrics.csv")
    return Expect(d, 0, [], {".": {"loss": 50}})


@case()
def console_100_mb_line_among_normal_ones(d):
    """A dumped tensor on one line: skipped while it streams past, with a warning."""
    p = d / "train.log"
    with open(p, "wb") as f:
        f.write(nanogpt_lines(100)[: nanogpt_lines(100).index(b"iter 50:")])
        chunk = b"tensor([" + b"0.1234, " * (1 << 17)
        f.writelines(chunk for _ in range(100 * (1 << 20) // len(chunk)))
        f.write(b"])\n")
        f.write(nanogpt_lines(100, 50))
    return Expect(p, 0, [("train.log", "1 lines longer than 64 KiB skipped (first at line 51)")],
                  {".": {"loss": 100, "time": 100, "mfu": 100}})


@case()
def console_invalid_utf8(d):
    body = nanogpt_lines(60)
    body = body.replace(b"iter 10:", b"\xff\xfe garbage \xc3\x28\niter 10:").replace(b"iter 20: loss",
                                                                                    b"iter 20: loss\xff")
    p = d / "train.log"
    p.write_bytes(body)
    return Expect(p, 0, [("train.log", "invalid UTF-8 (first at byte"),
                         ("train.log", "1 lines look like nanogpt metric lines but could not be read")],
                  {".": {"loss": 59, "time": 59, "mfu": 59}})


@case()
def console_last_line_cut_off(d):
    p = d / "train.log"
    p.write_bytes(nanogpt_lines(40) + b"iter 40: loss 0.12")
    return Expect(p, 0, [("train.log", "last line has no line end")], {".": {"loss": 40, "time": 40, "mfu": 40}})


@case()
def console_text_without_metrics(d):
    p = d / "train.log"
    p.write_text("Loading checkpoint shards: 100%\nSaving model to out/\nDone.\n")
    return Expect(p, 2, [("train.log", "no training-log lines found (console shapes read: Hugging Face")])
