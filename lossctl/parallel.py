"""One ordered map over worker processes or a Dask cluster, results streamed as they finish.

Runs of a sweep are independent, so each is read and analysed where the work is sent; results
come back in the order given (the report reads the same however the work was spread), one by
one, so a caller that renders and drops them holds little. No cluster code of our own: local
work uses :class:`concurrent.futures.ProcessPoolExecutor`, remote work an existing Dask
``distributed`` scheduler (``--scheduler ADDRESS``), which retries a task whose worker died.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from lossctl.errors import InputError

DASK_RETRIES = 2  # a task whose worker died is sent again this many times before it is reported


def ordered_map(fn: Callable, items: list, *, jobs: int | None = None, parallel: bool = True,
                scheduler: str | None = None, progress=None,
                on_error: Callable[[Any, BaseException], Any] | None = None) -> Iterator:
    """``fn(item)`` for each item, in order. ``on_error(item, exc)`` turns a task that failed
    on a cluster (worker lost for good) into a result, so no run is dropped silently."""
    total = len(items)
    if scheduler:
        yield from _dask(fn, items, scheduler, progress, on_error)
        return
    workers = min(jobs or os.cpu_count() or 1, total)
    if workers < 2 or not parallel:
        for i, item in enumerate(items, 1):
            yield fn(item)
            if progress:
                progress(i, total)
        return
    ctx = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        chunk = max(1, min(16, total // (workers * 8)))
        for i, result in enumerate(pool.map(fn, items, chunksize=chunk), 1):
            yield result
            if progress:
                progress(i, total)


def _dask(fn, items, scheduler: str, progress, on_error):
    try:
        from distributed import Client
    except ImportError:
        raise InputError(scheduler, "--scheduler needs Dask: pip install 'lossctl[dask]'") from None
    try:
        client = Client(scheduler, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise InputError(scheduler, f"cannot reach the Dask scheduler ({exc})") from None
    try:
        futures = client.map(fn, items, pure=False, retries=DASK_RETRIES)
        for i, (item, fut) in enumerate(zip(items, futures), 1):
            try:
                result = fut.result()
            except Exception as exc:
                if on_error is None:
                    raise
                result = on_error(item, exc)
            fut.release()
            yield result
            if progress:
                progress(i, len(items))
    finally:
        client.close()
