"""Directory trees and paths: many files, loops, special files, nothing there."""

from __future__ import annotations

import os

from .cases import Expect, case, write_good_csv


@case()
def directory_of_10000_files_of_which_3_are_logs(d):
    junk = d / "junk"
    junk.mkdir()
    png = b"\x89PNG\r\n\x1a\n" + bytes(64)
    for i in range(10_000):
        with open(junk / f"sample_{i:05d}{('.png', '.txt', '.npy', '.json')[i % 4]}", "wb") as f:
            f.write(png if i % 4 == 0 else b"")
    for r in ("r1", "r2", "deep/er/r3"):
        write_good_csv(d / r / "metrics.csv", 20)
    return Expect(d, 0, [], {"r1": {"loss": 20}, "r2": {"loss": 20}, "deep/er/r3": {"loss": 20}})


@case()
def symlink_loop(d):
    write_good_csv(d / "run" / "metrics.csv", 20)
    os.symlink("..", d / "run" / "up")  # run/up/run/up/... loops back to d
    os.symlink(".", d / "self")
    return Expect(d, 0, [], {"run": {"loss": 20}})


@case()
def fifo_and_dangling_link_named_like_logs(d):
    """Opening a FIFO would block forever; a dangling link cannot be opened at all."""
    write_good_csv(d / "metrics.csv", 20)
    os.mkfifo(d / "events.out.tfevents.1700000000.host.1.0")
    os.symlink("nowhere", d / "events.out.tfevents.1700000000.host.1.1")
    return Expect(d, 0, [], {".": {"loss": 20}})


@case()
def path_that_does_not_exist(d):
    return Expect(d / "no" / "such" / "run", 2, [("no/such/run", "no such file or directory")])
