"""MLflow stores written by MLflow's own client (file store, SQLite store, tracking server), made
once per test session and copied where a test damages one. Imported only where mlflow is
installed (a dev extra)."""

from __future__ import annotations

import functools
import math
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # current MLflow writes file stores only so
os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")

T0 = 1_700_000_000_000  # ms


def curve(n: int, kind: str = "healthy") -> list[float]:
    s = np.arange(n)
    if kind == "healthy":
        return (2.0 * np.exp(-s / (n / 5)) + 0.1).tolist()
    if kind == "diverging":  # falls, then rises far above its best and stays there
        return np.where(s < n // 3, 2.0 * np.exp(-s / (n / 10)), 0.3 * np.exp((s - n // 3) / (n / 10))).tolist()
    raise ValueError(kind)


# (experiment, run name, {metric: values}, params, deleted)
RUNS = [
    ("exp-a", "healthy", {"train/loss": curve(200), "val/loss": curve(20)},
     {"lr": "1e-3", "batch_size": "32", "use_amp": "true", "optimizer": "adam", "dropout": "0.1"}, False),
    ("exp-a", "diverging", {"loss": curve(300, "diverging")}, {"lr": "1.0"}, False),
    ("exp-a", "gone", {"loss": curve(50)}, {}, True),
    ("exp-b", "twin", {"loss": curve(40)}, {}, False),
    ("exp-b", "twin", {"loss": curve(40)}, {}, False),
]
NAN_RUN = ("exp-b", "with-nan")  # logged point by point with log_metric: 0.5, NaN, +Inf, -Inf, 0.25


def log_store(uri: str) -> dict[str, str]:
    """Write :data:`RUNS` and the NaN run into the store at ``uri``; ``{run_id: (exp, name)}``."""
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    ids = {}
    exps = {}
    for exp, name, metrics, params, deleted in RUNS:
        if exp not in exps:
            exps[exp] = client.create_experiment(exp)
        run = client.create_run(exps[exp], run_name=name, start_time=T0 + len(ids))
        rid = run.info.run_id
        points = [Metric(k, v, T0 + 10 * s + i, s) for i, (k, vals) in enumerate(metrics.items())
                  for s, v in enumerate(vals)]
        for i in range(0, len(points), 1000):
            client.log_batch(rid, metrics=points[i:i + 1000],
                             params=[Param(k, v) for k, v in params.items()] if i == 0 else [])
        client.set_terminated(rid)
        if deleted:
            client.delete_run(rid)
        ids[rid] = (exp, name, deleted)
    run = client.create_run(exps["exp-b"], run_name=NAN_RUN[1], start_time=T0 + 99)
    for s, v in enumerate([0.5, math.nan, math.inf, -math.inf, 0.25]):
        client.log_metric(run.info.run_id, "loss", v, timestamp=T0 + s, step=s)
    client.log_param(run.info.run_id, "seed", "7")
    client.set_terminated(run.info.run_id)
    ids[run.info.run_id] = (*NAN_RUN, False)
    return ids


@functools.cache
def _workdir() -> Path:
    d = Path(tempfile.mkdtemp(prefix="lossctl-mlflow-"))
    import atexit

    atexit.register(shutil.rmtree, d, True)
    return d


@functools.cache
def sqlite_store() -> tuple[Path, dict]:
    """An ``mlflow.db`` written by the client (made once; copy it before changing it)."""
    path = _workdir() / "sqlite" / "mlflow.db"
    path.parent.mkdir()
    ids = log_store(f"sqlite:///{path}")
    _dispose_engines()
    return path, ids


@functools.cache
def file_store() -> tuple[Path, dict]:
    """An ``mlruns/`` tree written by the client (made once; copy it before changing it)."""
    path = _workdir() / "files" / "mlruns"
    ids = log_store(path.as_uri())
    return path, ids


def _dispose_engines() -> None:
    """Close the client's pooled SQLAlchemy connections so the database file is quiet."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    for engine in getattr(SqlAlchemyStore, "_engine_map", {}).values():
        engine.dispose()


def history(uri: str, run_id: str, key: str) -> list[tuple[int, int, float]]:
    """``(step, timestamp, value)`` of each point as MLflow's client returns it."""
    from mlflow.tracking import MlflowClient

    return [(m.step, m.timestamp, m.value) for m in MlflowClient(tracking_uri=uri).get_metric_history(run_id, key)]


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, dirs_exist_ok=True)
    return dst


def wait_for(pred, timeout: float = 60.0, every: float = 0.1) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(every)
    return False


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(workdir: Path):
    """Start a real ``mlflow server`` on 127.0.0.1 (SQLite backend in ``workdir``) and return
    ``(process, url)`` at once: it boots while other tests run; :func:`wait_server` waits."""
    import subprocess
    import sys

    port = free_port()
    log = open(workdir / "server.log", "wb")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{workdir / 'server.db'}",
         "--default-artifact-root", str(workdir / "artifacts"), "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"], stdout=log, stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True)
    proc.log_path = workdir / "server.log"
    return proc, f"http://127.0.0.1:{port}"


def wait_server(proc, url: str, timeout: float = 180) -> None:
    """Until the server answers /health (its log in the error otherwise)."""
    import urllib.request

    def up() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"mlflow server exited: {proc.log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5) as r:
                return r.status == 200
        except OSError:
            return False

    if not wait_for(up, timeout=timeout, every=0.25):
        raise RuntimeError(f"mlflow server did not answer /health in {timeout:g} s: {proc.log_path.read_text()[-2000:]}")


def stop_server(proc) -> None:
    """Stop the server and the workers it started (its own process group, made at start)."""
    import signal
    import subprocess

    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 15)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue
