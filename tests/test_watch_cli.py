"""`lossctl watch` end to end: writers append to a run in a background thread (tensorboardX's
SummaryWriter, VisualDL's LogWriter, a Keras-style CSV) while watch follows it. A divergence is reported shortly after
the diverging points are flushed, with exit 1 under --exit-on error; a healthy run exits 0 at
--timeout or --idle; a restart's new event file is picked up; Ctrl-C exits 130 cleanly; the
logs are never opened for writing."""

from __future__ import annotations

import math
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from bad_inputs.guard import guarded
from extras import need
from impls import impl_params
from typer.testing import CliRunner

from lossctl.cli import app

runner = CliRunner()
HEALTHY = 200  # steps of healthy descent before a divergence


def loss_at(step: int, diverge: bool) -> float:
    best = 2.0 * math.exp(-min(step, HEALTHY) / 40) + 0.1
    return best * math.exp((step - HEALTHY) / 8) if diverge and step > HEALTHY else best


class Writer(threading.Thread):
    """Logs one point every ``pause`` seconds, flushing every ``every`` points, until stopped."""

    def __init__(self, kind, d, diverge, steps=400, pause=0.002, every=5, restart_at=None):
        super().__init__(daemon=True)
        self.kind, self.d, self.diverge, self.steps = kind, Path(d), diverge, steps
        self.pause, self.every, self.restart_at = pause, every, restart_at
        self.stop = threading.Event()
        self.diverged_at: float | None = None  # when the 30th diverging point was flushed

    def _open(self, n):
        if self.kind == "tensorboardx":
            from tensorboardX import SummaryWriter

            w = SummaryWriter(logdir=str(self.d), flush_secs=0.01, filename_suffix=f".{n}")
            return (lambda s, v: w.add_scalar("train/loss", v, s)), w.flush, w.close
        if self.kind == "visualdl":
            from visualdl import LogWriter

            w = LogWriter(logdir=str(self.d), flush_secs=0.01, max_queue=1)
            return (lambda s, v: w.add_scalar(tag="train/loss", value=v, step=s)), w.flush, w.close
        f = open(self.d / "training.log", "a" if n else "w")  # noqa: SIM115 - closed by the caller
        if not n:
            f.write("epoch,loss\n")
        return (lambda s, v: f.write(f"{s},{v!r}\n")), f.flush, f.close

    def run(self):
        add, flush, close = self._open(0)
        s = 0
        while s < self.steps and not self.stop.is_set():
            if s == self.restart_at:  # a preempted job resumes from an older checkpoint
                self.restart_at = None
                close()  # no pause: the new file's suffix (.1) orders it after the first (.0)
                add, flush, close = self._open(1)
                s -= 20
            add(s, loss_at(s, self.diverge))
            s += 1
            if s % self.every == 0:
                flush()
                if self.diverge and s == HEALTHY + 30 and self.diverged_at is None:
                    self.diverged_at = time.monotonic()
            time.sleep(self.pause)
        close()


def watch(d, *args, impl="c"):
    with guarded(d) as writes:
        r = runner.invoke(app, ["watch", str(d), "--interval", "0.05", *map(str, args)],
                          env={"LOSSCTL_PURE_PYTHON": "1" if impl == "python" else "0"})
    assert writes == []
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exc_info
    assert "Traceback" not in r.output
    return r


@pytest.mark.parametrize("kind,impl", impl_params(("tensorboardx",)) + [("csv", "python"), ("visualdl", "python")])
def test_divergence_reported_shortly_after_it_is_written(tmp_path, kind, impl):
    if kind in ("tensorboardx", "visualdl"):
        need(kind if kind == "visualdl" else "tensorboardX", "dev")
    w = Writer(kind, tmp_path, diverge=True, steps=10**6)
    w.start()
    try:
        r = watch(tmp_path, "--exit-on", "error", "--timeout", 60, impl=impl)
        done = time.monotonic()
    finally:
        w.stop.set()
        w.join()
    assert r.exit_code == 1, r.output
    assert "ERROR divergence" in r.output and "stopping: a finding at or above error (exit 1)" in r.output
    assert w.diverged_at is not None and done - w.diverged_at < 5.0, done - (w.diverged_at or 0)


def test_healthy_run_exits_0_at_timeout(tmp_path):
    pytest.importorskip("tensorboardX")
    w = Writer("tensorboardx", tmp_path, diverge=False, steps=10**6)
    w.start()
    try:
        t = time.monotonic()
        r = watch(tmp_path, "--timeout", 2)
        took = time.monotonic() - t
    finally:
        w.stop.set()
        w.join()
    assert r.exit_code == 0, r.output
    assert "following" in r.output and "ERROR" not in r.output and "2 s passed without a finding at or above error" in r.output
    assert 2 <= took < 10


def test_idle_exits_0_when_writing_stopped_and_restart_file_is_followed(tmp_path):
    pytest.importorskip("tensorboardX")
    w = Writer("tensorboardx", tmp_path, diverge=False, steps=300, restart_at=150)
    w.start()
    r = watch(tmp_path, "--idle", 3, "--timeout", 60)
    w.join()
    assert r.exit_code == 0, r.output
    assert r.output.count("following") == 2  # the restart's new event file was picked up
    assert "no new data for 3 s" in r.output


def test_exit_on_never_reports_but_does_not_stop(tmp_path):
    (tmp_path / "training.log").write_text("epoch,loss\n" + "".join(
        f"{s},{loss_at(s, True)!r}\n" for s in range(HEALTHY + 60)))
    r = watch(tmp_path, "--exit-on", "never", "--timeout", 0.5)
    assert r.exit_code == 0 and "ERROR divergence" in r.output


def test_warning_level_and_missing_path(tmp_path):
    r = watch(tmp_path / "nope")
    assert r.exit_code == 2 and "no such file or directory" in r.output
    r = runner.invoke(app, ["watch", str(tmp_path), "--exit-on", "bogus"])
    assert r.exit_code == 2


def iter_queue(q: queue.Queue):
    while True:
        try:
            yield q.get_nowait()
        except queue.Empty:
            return


# exec the command with SIGINT handled by default and unblocked, as a terminal starts it (the
# process keeps its pid across exec, so the test's signals reach lossctl itself)
TERMINAL_SIGINT = ("import os, signal, sys; signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT}); "
                   "signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])")


def test_ctrl_c_exits_130_without_traceback(tmp_path):
    (tmp_path / "training.log").write_text("epoch,loss\n0,1.0\n1,0.9\n")
    lossctl = Path(sys.executable).with_name("lossctl")
    # started as from a terminal: SIGINT handled by default and not blocked (an earlier test's
    # library may leave it ignored or masked in this process, and a child inherits both);
    # faulthandler: a child that does not exit is made to print where each thread stands
    p = subprocess.Popen([sys.executable, "-c", TERMINAL_SIGINT, str(lossctl), "watch", str(tmp_path),
                          "--interval", "0.1", "--timeout", "120"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, "PYTHONFAULTHANDLER": "1"})
    lines: queue.Queue = queue.Queue()  # read by a thread, so a silent child cannot block the test
    reader = threading.Thread(target=lambda: [lines.put(x) for x in iter(p.stdout.readline, "")], daemon=True)
    reader.start()
    seen = []
    try:
        deadline = time.monotonic() + 30
        while not any("following" in x for x in seen):  # watching ..., then following ...: the loop runs
            seen.append(lines.get(timeout=max(deadline - time.monotonic(), 0.001)))
    except queue.Empty:
        p.kill()
        pytest.fail(f"no 'following' line within 30 s: {seen} {p.communicate(timeout=30)}")
    assert "watching" in seen[0]
    p.send_signal(signal.SIGINT)
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGABRT)
        pytest.fail(f"still running 30 s after SIGINT; its threads: {p.communicate(timeout=30)[1][-4000:]}")
    reader.join(timeout=30)
    out, err = "".join(seen) + "".join(iter_queue(lines)), p.stderr.read()
    assert p.returncode == 130, (out, err)
    assert "Traceback" not in out + err and "interrupted (exit 130)" in out


def test_watch_reads_nothing_it_cannot_and_keeps_going(tmp_path):
    """Junk beside the log: a warning line, and the run is still followed."""
    (tmp_path / "events.out.tfevents.1.junk").write_bytes(os.urandom(2048))
    (tmp_path / "training.log").write_text("epoch,loss\n" + "".join(
        f"{s},{loss_at(s, False)!r}\n" for s in range(50)))
    r = watch(tmp_path, "--timeout", 0.3)
    assert r.exit_code == 0
    assert "input problem:" in r.output and "events.out.tfevents.1.junk" in r.output


def test_timeout_cuts_a_long_interval_short(tmp_path):
    t = time.monotonic()
    r = runner.invoke(app, ["watch", str(tmp_path), "--interval", "30", "--timeout", "0.3"])
    assert r.exit_code == 0 and time.monotonic() - t < 10, r.output
