"""--scheduler: the per-run work on a real Dask cluster (distributed.LocalCluster with worker
processes); the report must be the one a local run gives, also when a worker dies mid-sweep."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from extras import need

from lossctl.config import Config
from lossctl.pipeline import analyze_refs, find_all

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_logs"


@pytest.fixture(scope="module")
def cluster():
    distributed = need("distributed", "dask")
    c = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                 dashboard_address=None, silence_logs=40)
    yield c
    c.close(timeout=30)


def _summary(outcomes):
    return [(r.run.name, r.run.points, [(f.kind, f.start_step, f.message) for f in r.findings])
            for o in outcomes for r in o.reports], [e for o in outcomes for e in o.errors]


def test_the_cli_on_a_cluster_gives_the_local_report(cluster):
    args = [sys.executable, "-m", "lossctl", "analyze", str(SAMPLES), "-f", "json"]
    local = subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=ROOT)
    remote = subprocess.run([*args, "--scheduler", cluster.scheduler_address], capture_output=True, text=True,
                            timeout=300, cwd=ROOT)
    assert remote.returncode == local.returncode == 1, remote.stderr
    assert json.loads(remote.stdout) == json.loads(local.stdout)


def test_a_worker_killed_mid_sweep_loses_no_run(cluster, tmp_path):
    runs = sorted(p for p in SAMPLES.iterdir() if p.is_dir() and p.name != "lr_sweep")
    for i in range(60):  # enough runs that the sweep is still going when a worker dies (copies:
        shutil.copytree(runs[i % len(runs)], tmp_path / f"r{i:02d}")  # links to one run are read once)
    refs = find_all([str(tmp_path)]).refs
    assert len(refs) == 60
    want = _summary(analyze_refs(refs, Config(), jobs=1))
    killed = threading.Event()

    def progress(done, total):
        if done == 3 and not killed.is_set():  # kill one worker's process while the rest still run
            killed.set()
            worker = next(iter(cluster.workers.values()))
            os.kill(worker.process.process.pid, 9)

    got = _summary(analyze_refs(refs, Config(), scheduler=cluster.scheduler_address, progress=progress))
    assert killed.is_set()
    assert got[1] == [] and len(got[0]) == 60
    assert got == want
