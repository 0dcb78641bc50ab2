"""W&B run folders with a damaged transaction log or config. The run is written once per session
by the real client (offline) and copied; the points that must survive are counted by an
independent decoding (tests/wandb_runs.py: its own framing loop and wandb's protobuf classes)."""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path

import numpy as np
from wandb_runs import history_points, need_wandb, write_run

from .cases import Expect, case

STEPS = 400
_template: dict[str, Path] = {}


def _good_run(d: Path) -> tuple[Path, Path]:
    """A copy of a healthy 400-step run below ``d/wandb``: (run directory, its .wandb file)."""
    need_wandb()
    if "run" not in _template:
        root = Path(tempfile.mkdtemp(prefix="lossctl-wandb-bad-"))
        _template["run"] = write_run(root, range(STEPS), name="good", run_id="good0001",
                                     config={"lr": 0.01},
                                     **{"train/loss": lambda s: 2.0 * math.exp(-s / (STEPS / 5)) + 0.1})
    src = _template["run"]
    dst = d / "wandb" / src.name
    shutil.copytree(src, dst)
    return dst, next(dst.glob("run-*.wandb"))


def _points(log: Path, resync: bool = False) -> int:
    return sum(1 for m, _, _ in history_points(log.read_bytes(), resync) if m == "train/loss")


@case()
def wandb_log_cut_mid_record(d):
    _, log = _good_run(d)
    data = log.read_bytes()
    cut = len(data) * 6 // 10
    log.write_bytes(data[:cut])
    n = _points(log)
    assert 0 < n < STEPS
    return Expect(d, 0, [(log.name, "last record incomplete")], {"wandb/good": {"train/loss": n}})


@case()
def wandb_log_with_garbage_appended(d):
    _, log = _good_run(d)
    with open(log, "ab") as f:
        f.write(np.random.default_rng(9).integers(1, 256, 3000, dtype=np.uint8).tobytes())
    return Expect(d, 0, [(log.name, "at byte")], {"wandb/good": {"train/loss": STEPS}})


@case()
def wandb_log_padded_with_zeros(d):
    _, log = _good_run(d)
    with open(log, "ab") as f:
        f.write(bytes(5000))
    return Expect(d, 0, [(log.name, "zero bytes from byte")], {"wandb/good": {"train/loss": STEPS}})


@case()
def wandb_log_with_a_bad_crc(d):
    _, log = _good_run(d)
    data = bytearray(log.read_bytes())
    assert len(data) > 2 * 32768
    length = int.from_bytes(data[32768 + 4:32768 + 6], "little")
    assert length > 0
    data[32768 + 7] ^= 0xFF  # the first payload byte of the second block's first chunk (its length
    # depends on what W&B wrote before: a byte further in may fall in the next chunk)
    log.write_bytes(bytes(data))
    n = _points(log, resync=True)
    assert n < STEPS
    return Expect(d, 0, [(log.name, "CRC mismatch at byte 32,768")], {"wandb/good": {"train/loss": n}})


@case()
def wandb_config_yaml_that_is_not_yaml(d):
    run, _ = _good_run(d)
    p = run / "files" / "config.yaml"
    p.write_text("lr:\n  value: [0.1, 0.2\n  desc: : :\n")
    return Expect(d, 0, [(p.name, "not YAML")], {"wandb/good": {"train/loss": STEPS}})


@case()
def wandb_log_that_is_only_half_a_header(d):
    run = d / "wandb" / "offline-run-20240101_120000-half0001"
    run.mkdir(parents=True)
    (run / "run-half0001.wandb").write_bytes(b":W&")
    return Expect(d, 2, [("run-half0001.wandb", "last record incomplete at byte 0")])


@case()
def wandb_log_that_is_not_a_wandb_log(d):
    run = d / "wandb" / "run-20240101_120000-text0001"
    run.mkdir(parents=True)
    (run / "run-text0001.wandb").write_text("step,loss\n0,1.0\n")
    return Expect(d, 2, [("run-text0001.wandb", "not a W&B transaction log")])
