"""Reading a 1,000,000-point MLflow run: lossctl against MLflow's own client
(``MlflowClient.get_metric_history``) on the same run, in a SQLite store and in a file store.

The stores are made once under bench/data/mlflow/: MLflow's client creates the experiment and
the run (so the schema is MLflow's own), the points are then written directly in MLflow's
format (a million ``log_batch`` calls' worth would take minutes), and the client reads them back
before anything is timed. Each reader is timed in this process (import excluded) and as a whole
fresh process (``python -c``: import and start-up included, as a user would run it).
(Not named bench/mlflow.py: bench/ is on sys.path, where that name would hide the mlflow package.)

Last run (2 shared vCPUs, MLflow 3.17.2; seconds, points/s, client time / lossctl time):
  SQLite store  lossctl       in-process     3.05 s    327,863/s
  SQLite store  lossctl       whole process  2.63 s    380,180/s
  SQLite store  MlflowClient  in-process    46.24 s     21,625/s   15.2x
  SQLite store  MlflowClient  whole process 48.96 s     20,423/s   18.6x
  file store    lossctl       in-process     0.54 s  1,842,843/s
  file store    lossctl       whole process  1.24 s    806,255/s
  file store    MlflowClient  in-process   236.61 s      4,226/s  436.0x
  file store    MlflowClient  whole process 167.81 s     5,959/s  135.3x
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "mlflow"
N = 1_000_000
KEY = "train/loss"
T0 = 1_700_000_000_000

LOSSCTL = "import lossctl; n = len(lossctl.load(PATH))"
CLIENT = ("import os; os.environ['MLFLOW_ALLOW_FILE_STORE'] = 'true'\n"
          "from mlflow.tracking import MlflowClient\n"
          "n = len(MlflowClient(tracking_uri=URI).get_metric_history(RUN, KEY))")


def curve() -> tuple[np.ndarray, np.ndarray]:
    s = np.arange(N)
    rng = np.random.default_rng(0)
    return s, 2.0 * np.exp(-s / (N / 5)) + 0.1 + 0.01 * rng.standard_normal(N)


os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # current MLflow opens file stores only so


def make_run(uri: str) -> str:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment("bench")
    run = client.create_run(exp, run_name="million")
    client.log_param(run.info.run_id, "lr", "1e-3")
    client.set_terminated(run.info.run_id)
    return run.info.run_id


def sqlite_store() -> tuple[str, str, str]:
    """(path for lossctl, tracking URI, run id); the 1M points inserted as MLflow does."""
    db = DATA / "sqlite" / "mlflow.db"
    uri = f"sqlite:///{db}"
    if not (DATA / "sqlite" / "run_id").exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        db.unlink(missing_ok=True)
        rid = make_run(uri)
        steps, values = curve()
        con = sqlite3.connect(db)
        con.executemany("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, 0)",
                        ((KEY, v, T0 + s, rid, s) for s, v in zip(steps.tolist(), values.tolist())))
        con.execute("INSERT OR REPLACE INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
                    "VALUES (?, ?, ?, ?, 0, ?)", (KEY, float(values[-1]), T0 + N - 1, N - 1, rid))
        con.commit()
        con.close()
        (DATA / "sqlite" / "run_id").write_text(rid)
    return str(db.parent), uri, (DATA / "sqlite" / "run_id").read_text()


def file_store() -> tuple[str, str, str]:
    root = DATA / "files" / "mlruns"
    if not (DATA / "files" / "run_id").exists():
        root.parent.mkdir(parents=True, exist_ok=True)
        rid = make_run(root.as_uri())
        steps, values = curve()
        run_dir = next(root.glob(f"*/{rid}"))
        path = run_dir / "metrics" / KEY
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w") as f:  # MLflow's own line format: "%d %s %d\n" % (timestamp, value, step)
            f.writelines(f"{T0 + s} {v} {s}\n" for s, v in zip(steps.tolist(), values.tolist()))
        (DATA / "files" / "run_id").write_text(rid)
    return str(root.parent), root.as_uri(), (DATA / "files" / "run_id").read_text()


def whole_process(body: str, names: dict) -> tuple[float, int]:
    setup = "".join(f"{k} = {v!r}\n" for k, v in names.items())
    code = f"import time\nt0 = time.perf_counter()\n{setup}{body}\nprint(n, time.perf_counter() - t0)"
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=1800, check=True)
    wall = time.perf_counter() - t
    n, _ = out.stdout.split()[-2:]
    return wall, int(n)


def in_process_lossctl(path: str) -> tuple[float, int]:
    import lossctl

    t = time.perf_counter()
    n = len(lossctl.load(path))
    return time.perf_counter() - t, n


def in_process_client(uri: str, rid: str) -> tuple[float, int]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    client.get_run(rid)  # the store opened (engine, schema check) before timing
    t = time.perf_counter()
    n = len(client.get_metric_history(rid, KEY))
    return time.perf_counter() - t, n


def main() -> list[dict]:
    rows = []
    for store, make in (("SQLite store", sqlite_store), ("file store", file_store)):
        path, uri, rid = make()
        got = {}
        for reader, how, fn, args in (
            ("lossctl", "in-process", in_process_lossctl, (path,)),
            ("lossctl", "whole process", whole_process, (LOSSCTL, {"PATH": path})),
            ("MlflowClient", "in-process", in_process_client, (uri, rid)),
            ("MlflowClient", "whole process", whole_process, (CLIENT, {"URI": uri, "RUN": rid, "KEY": KEY})),
        ):
            seconds, n = fn(*args)
            got[(reader, how)] = seconds
            rows.append({"store": store, "reader": reader, "how": how, "points": n, "seconds": seconds})
        for r in rows[-4:]:
            r["x_lossctl"] = r["seconds"] / got[("lossctl", r["how"])]
    return rows


def table(rows: list[dict]) -> str:
    lines = [f"  {'store':13s} {'reader':13s} {'how':14s} {'points':>10s} {'seconds':>8s} {'points/s':>11s} {'x lossctl':>9s}"]
    for r in rows:
        lines.append(f"  {r['store']:13s} {r['reader']:13s} {r['how']:14s} {r['points']:>10,d} {r['seconds']:>8.2f} "
                     f"{r['points'] / r['seconds']:>11,.0f} {r['x_lossctl']:>8.1f}x")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(main()))
