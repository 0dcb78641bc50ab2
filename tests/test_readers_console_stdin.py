"""Console logs through a pipe: a real writer process (printing Hugging Face Trainer dicts with
flush and short pauses, as a training script does) piped into `lossctl watch -` and
`lossctl analyze -`. Every subprocess has a timeout; nothing polls on a fixed sleep."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

LOSSCTL = Path(sys.executable).with_name("lossctl")
WRITER = r"""
import math, sys, time
diverge = sys.argv[1] == "diverge"
steps = int(sys.argv[2])
print("***** Running training *****", flush=True)
for i in range(1, steps + 1):
    loss = 2.0 * math.exp(-i / 40) + 0.3
    if diverge and i > 150:
        loss = (2.0 * math.exp(-150 / 40) + 0.3) * math.exp((i - 150) / 10)
    print({'loss': round(loss, 4), 'grad_norm': 1.0, 'learning_rate': 5e-05, 'epoch': round(i / 100, 2)}, flush=True)
    if i % 25 == 0:
        time.sleep(0.02)
"""


def pipe(args: list[str], diverge: bool, steps: int, timeout: float = 60):
    """``python writer | lossctl ARGS``; returns (writer exit, lossctl exit, lossctl stdout, stderr)."""
    writer = subprocess.Popen([sys.executable, "-c", WRITER, "diverge" if diverge else "healthy", str(steps)],
                              stdout=subprocess.PIPE)
    try:
        reader = subprocess.run([str(LOSSCTL), *args], stdin=writer.stdout, capture_output=True, text=True,
                                timeout=timeout, check=False)
    finally:
        writer.stdout.close()  # lossctl may stop first: the writer then gets SIGPIPE, as under pipefail
        writer_code = writer.wait(timeout=timeout)
    return writer_code, reader.returncode, reader.stdout, reader.stderr


def test_watch_stdin_stops_a_diverging_job():
    """`python train.py | lossctl watch - --exit-on error`: exit 1 at the divergence, which ends
    the pipe, so the writer dies of SIGPIPE instead of training on."""
    writer, code, out, err = pipe(["watch", "-", "--exit-on", "error", "--interval", "0.05"], True, 5000)
    assert code == 1, (out, err)
    assert "ERROR divergence" in out and "stopping" in out
    assert writer != 0  # killed by the closed pipe long before its 5000 steps


def test_watch_stdin_ends_with_the_input_and_tees():
    writer, code, out, err = pipe(["watch", "-", "--tee", "--interval", "0.05"], False, 300)
    assert (writer, code) == (0, 0), err
    assert out.splitlines()[0] == "***** Running training *****" and len(out.splitlines()) == 301
    assert out.splitlines()[1].startswith("{'loss': ")
    assert "input ended (exit 0)" in err and "watching -" in err


def test_analyze_stdin_reads_the_finished_log():
    writer, code, out, err = pipe(["analyze", "-", "--format", "json"], True, 300)
    assert writer == 0 and code == 1, err
    import json

    (run,) = json.loads(out)["runs"]
    assert run["format"] == "console" and run["metrics"]["loss"]["points"] == 300
    assert {f["kind"] for f in run["findings"]} >= {"divergence"}


FILE_WRITER = r"""
import math, sys, time
with open(sys.argv[1], "a") as f:
    print("number of parameters: 10.65M", file=f, flush=True)
    for i in range(5000):
        loss = 2.0 * math.exp(-i / 40) + 0.3 if i <= 150 else (2.0 * math.exp(-150 / 40) + 0.3) * math.exp((i - 150) / 10)
        print(f"iter {i}: loss {loss:.4f}, time 12.34ms, mfu 30.12%", file=f, flush=i % 10 == 0)
        if i % 25 == 0:
            time.sleep(0.02)
"""


def test_watch_follows_a_growing_console_log(tmp_path):
    """`lossctl watch train.log` while a real process appends nanoGPT lines to it."""
    log = tmp_path / "train.log"
    log.write_text("")
    writer = subprocess.Popen([sys.executable, "-c", FILE_WRITER, str(log)])
    try:
        r = subprocess.run([str(LOSSCTL), "watch", str(log), "--exit-on", "error", "--interval", "0.05",
                            "--timeout", "60"], capture_output=True, text=True, timeout=90, check=False)
    finally:
        writer.kill()
        writer.wait(timeout=30)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "following" in r.stdout and "ERROR divergence" in r.stdout and "loss" in r.stdout
