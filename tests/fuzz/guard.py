"""Bounded time per fuzz input: SIGALRM raises :class:`Hang` in Python code; C code that never
returns to Python is stopped by faulthandler (the process exits with every thread's stack)."""

from __future__ import annotations

import contextlib
import faulthandler
import signal
import time

TRIED: dict[str, int] = {}  # inputs tried per reader, printed by `make fuzz`


class Hang(BaseException):  # not an Exception: no reader's except clause may swallow it
    pass


@contextlib.contextmanager
def deadline(seconds: float, name: str):
    """Fail with :class:`Hang` after ``seconds``; kill the process after 5x that."""

    def on_alarm(signum, frame):
        raise Hang(f"{name}: no result after {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    faulthandler.dump_traceback_later(seconds * 5, exit=True)
    t = time.perf_counter()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        faulthandler.cancel_dump_traceback_later()
        TRIED[name] = TRIED.get(name, 0) + 1
    assert time.perf_counter() - t < seconds
