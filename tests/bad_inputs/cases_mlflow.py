"""Damaged MLflow stores: databases and run folders written by MLflow's own client (once per
session, see tests/mlflow_writers.py), copied and then broken. Registered only where mlflow is
installed (a dev extra); test_source_mlflow.py says so with a skip where it is not."""

from __future__ import annotations

import importlib.util
import random
import shutil
import sqlite3
import threading

from .cases import Expect, case

if importlib.util.find_spec("mlflow") is not None:
    import mlflow_writers as M

    FINDINGS = {"divergence", "nonfinite"}  # the store's diverging run and its run logging NaN/Inf

    def points(ids, prefix: str = "") -> dict:
        out = {}
        for rid, (exp, name, deleted) in ids.items():
            if deleted:
                continue
            spec = next((m for e, n, m, _, _ in M.RUNS if (e, n) == (exp, name)), {"loss": [0] * 5})
            out[f"{prefix}{exp}/{rid if name == 'twin' else name}"] = {k: len(v) for k, v in spec.items()}
        return out

    def sqlite_copy(d):
        db, ids = M.sqlite_store()
        shutil.copy(db, d / "mlflow.db")
        return d / "mlflow.db", ids

    def files_copy(d):
        root, ids = M.file_store()
        M.copy_tree(root, d / "mlruns")
        rid = next(r for r, (_, name, _) in ids.items() if name == "healthy")
        return next((d / "mlruns").glob(f"*/{rid}")), ids

    @case()
    def mlflow_db_with_garbage_after_the_header(d):
        p, _ = sqlite_copy(d)
        data = bytearray(p.read_bytes())
        data[16:] = random.Random(9).randbytes(len(data) - 16)
        p.write_bytes(bytes(data))
        return Expect(d, 2, [("mlflow.db", "not a readable SQLite database")])

    @case()
    def mlflow_db_truncated(d):
        p, _ = sqlite_copy(d)
        p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
        return Expect(d, 2, [("mlflow.db", "damaged or cut short")])

    @case()
    def mlflow_db_locked_by_a_writer(d):
        """Another process holds an exclusive lock (rollback journal, MLflow's default): lossctl
        waits a few seconds, then says so in one line, never hangs."""
        p, _ = sqlite_copy(d)
        holder = sqlite3.connect(p, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN EXCLUSIVE")
        threading.Timer(30, holder.close).start()  # released long after the case has run
        return Expect(d, 2, [("mlflow.db", "database is locked by another process")])

    @case()
    def mlflow_db_beside_a_corrupt_one(d):
        p, ids = sqlite_copy(d)
        (d / "old").mkdir()
        (d / "old" / "mlflow.db").write_bytes(p.read_bytes()[:4096])
        return Expect(d, 1, [("mlflow.db", "damaged or cut short")], points(ids), FINDINGS)

    @case()
    def mlflow_run_folder_with_a_half_written_metric_line(d):
        run, ids = files_copy(d)
        with open(run / "metrics" / "train" / "loss", "ab") as f:
            f.write(b"1700000099999 0.0")
        return Expect(d, 1, [("loss", "last line cut short")], points(ids, "mlruns/"), FINDINGS)

    @case()
    def mlflow_meta_yaml_that_is_not_yaml(d):
        run, ids = files_copy(d)
        (run / "meta.yaml").write_text("run_id: [unclosed\nlifecycle_stage: : active\n\t- tab\n")
        return Expect(d, 1, [("meta.yaml", "not valid YAML")], points(ids, "mlruns/"), FINDINGS)

    @case()
    def mlflow_experiment_meta_yaml_that_is_a_list(d):
        run, ids = files_copy(d)
        (run.parent / "meta.yaml").write_text("- just\n- a list\n")
        exp_id = run.parent.name
        pts = {k.replace("mlruns/exp-a/", f"mlruns/{exp_id}/"): v for k, v in points(ids, "mlruns/").items()}
        return Expect(d, 1, [("meta.yaml", "not an MLflow meta.yaml")], pts, FINDINGS)
