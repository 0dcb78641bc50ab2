"""An MLflow file-store run weighs what its metric files hold (from the directory listings): the
pipeline reads in parallel only when the runs' sizes add up to enough work."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("mlflow", reason="mlflow is a dev extra: pip install -e '.[dev]'")

import mlflow_writers as M

from lossctl.discovery import discover
from lossctl.storage import LOCAL


def metric_bytes(run_dir) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(os.path.join(run_dir, "metrics")) for f in fs)


def test_file_store_runs_carry_the_size_of_their_metric_files():
    store, ids = M.file_store()
    refs = [r for r in discover(store).refs if r.source == "mlflow_files"]
    assert len(refs) == sum(not deleted for _, _, deleted in ids.values())
    for ref in refs:
        assert ref.size == metric_bytes(ref.path) > 0, ref.name
    healthy = next(r for r in refs if r.name == "exp-a/healthy")  # 200 + 20 points, nested keys
    assert healthy.size > next(r for r in refs if r.name == "exp-b/with-nan").size


def test_sizes_come_from_the_listing_not_a_stat_per_file(monkeypatch):
    store, _ = M.file_store()
    asked = []
    monkeypatch.setattr(type(LOCAL), "size", lambda self, path: asked.append(path) or os.stat(path).st_size)
    refs = discover(store).refs
    assert refs and all(r.size > 0 for r in refs)
    assert asked == []


def test_a_named_run_directory_has_its_size_too():
    store, _ = M.file_store()
    run_dir = next(p for p in sorted(store.glob("*/*")) if (p / "metrics" / "loss").exists()
                   and "lifecycle_stage: deleted" not in (p / "meta.yaml").read_text())  # a deleted run is skipped
    (ref,) = discover(run_dir).refs
    assert ref.size == metric_bytes(run_dir) > 0
