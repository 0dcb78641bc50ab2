"""Runs in object storage and behind plain HTTP, read through fsspec with real servers on
127.0.0.1: moto's S3 server (ThreadedMotoServer) and Python's http.server. Each test runs the real
CLI and compares its JSON with the same runs analysed from local disk."""

from __future__ import annotations

import functools
import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from extras import need

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_logs"
SUBSET = ["diverging_lightning", "healthy_tensorboard", "overfitting_keras_json", "nonfinite_tensorboard"]


def _run(args, env=None, timeout=180):
    return subprocess.run([sys.executable, "-m", "lossctl", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT)


def _essentials(doc):
    """What must not depend on where the bytes came from (paths do)."""
    return [(r["run"], r["format"], r["metrics"], r["roles"],
             [(f["kind"], f["severity"], f["start_step"], f["end_step"], f["message"]) for f in r["findings"]])
            for r in doc["runs"]]


@pytest.fixture(scope="module")
def local_reports(tmp_path_factory):
    tree = tmp_path_factory.mktemp("local")
    for name in SUBSET:
        os.symlink(SAMPLES / name, tree / name)
    res = _run(["analyze", str(tree), "-f", "json"])
    assert res.returncode == 1, res.stderr
    return json.loads(res.stdout)


@pytest.fixture(scope="module")
def s3():
    need("s3fs", "s3")
    server_mod = need("moto.server", "s3")
    boto3 = need("boto3", "s3")
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = dict(os.environ, AWS_ENDPOINT_URL=f"http://{host}:{port}", AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    client = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], aws_access_key_id="testing",
                          aws_secret_access_key="testing", region_name="us-east-1")
    client.create_bucket(Bucket="runs")
    for name in SUBSET:
        for p in sorted((SAMPLES / name).rglob("*")):
            if p.is_file():
                client.upload_file(str(p), "runs", f"team/{name}/{p.relative_to(SAMPLES / name)}")
    yield env
    server.stop()


def test_a_bucket_of_runs_is_analysed_as_the_same_runs_on_disk(s3, local_reports):
    res = _run(["analyze", "s3://runs/team", "-f", "json"], env=s3)
    assert res.returncode == 1, res.stderr
    doc = json.loads(res.stdout)
    assert _essentials(doc) == _essentials(local_reports)
    assert [r["path"] for r in doc["runs"]] == [f"s3://runs/team/{n}" for n in sorted(SUBSET)]


def test_one_event_file_in_a_bucket_streams_through_the_python_reader(s3):
    event = next((SAMPLES / "healthy_tensorboard").glob("events.out.tfevents*"))
    remote = _run(["analyze", f"s3://runs/team/healthy_tensorboard/{event.name}", "-f", "json"], env=s3)
    local = _run(["analyze", str(event), "-f", "json"])
    assert remote.returncode == local.returncode == 0, remote.stderr
    assert _essentials(json.loads(remote.stdout)) == _essentials(json.loads(local.stdout))


@pytest.mark.parametrize("url,problem", [("s3://no-such-bucket/runs", "no such bucket 'no-such-bucket'"),
                                         ("s3://runs/team/missing", "no such file or directory")])
def test_a_missing_bucket_or_prefix_is_one_line_naming_the_url(s3, url, problem):
    res = _run(["analyze", url], env=s3)
    assert res.returncode == 2
    assert res.stderr.strip() == f"lossctl: {url}: {problem}"


def test_an_unreachable_endpoint_is_one_line_and_exit_2(s3):
    env = dict(s3, AWS_ENDPOINT_URL="http://127.0.0.1:9", AWS_MAX_ATTEMPTS="1")  # nothing listens on 9
    res = _run(["analyze", "s3://runs/team"], env=env)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lossctl: s3://runs/team: cannot read:"), res.stderr


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    need("aiohttp", "http")
    tree = tmp_path_factory.mktemp("web")
    for name in SUBSET:
        os.symlink(SAMPLES / name, tree / name)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(tree)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    thread.join(10)


def test_runs_behind_plain_http_are_listed_from_the_index_page(web, local_reports):
    res = _run(["analyze", web, "-f", "json"])
    assert res.returncode == 1, res.stderr
    assert _essentials(json.loads(res.stdout)) == _essentials(local_reports)


def test_a_missing_http_path_is_one_line(web):
    res = _run(["analyze", web + "nope/"])
    assert res.returncode == 2 and res.stderr.startswith(f"lossctl: {web}nope/: ") and "Traceback" not in res.stderr
