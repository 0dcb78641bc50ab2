"""``hf://`` URLs through huggingface_hub's HfFileSystem, against a local directory served on
127.0.0.1 as a Hub dataset repository (``HF_ENDPOINT`` points the client at it).

The server implements exactly the Hub endpoints HfFileSystem calls to list and read (from
huggingface_hub's ``hf_api.py`` / ``hf_file_system.py``): the repo info
(``/api/datasets/{repo}[/revision/{rev}]``), the tree listing
(``/api/datasets/{repo}/tree/{rev}/{path}``, paged with a ``Link: <...>; rel="next"`` header
as the Hub pages), ``paths-info`` (POST), and the file itself (``/datasets/{repo}/resolve/{rev}/{path}``)
with Range requests. Unknown repos answer 404 with ``X-Error-Code: RepoNotFound`` as the Hub does.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import re
import threading
import urllib.parse
from pathlib import Path

import pytest
from extras import need
from test_storage_remote import SAMPLES, SUBSET, _essentials, _run, local_reports  # noqa: F401 - fixture

REPO = "lossctl-test/runs"
SHA = "0" * 40
PAGE = 3  # entries per tree page: small, so listing follows the Link header


def _entry(root: Path, p: Path) -> dict:
    rel = p.relative_to(root).as_posix()
    if p.is_dir():
        return {"type": "directory", "oid": hashlib.sha1(rel.encode()).hexdigest(), "path": rel}
    return {"type": "file", "oid": hashlib.sha1(p.read_bytes()).hexdigest(), "size": p.stat().st_size,
            "path": rel}


def hub_handler(root: Path):
    """A request handler serving ``root`` as the dataset repository ``REPO`` at revision main."""

    class Hub(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _send(self, status: int, body: bytes, headers: dict | None = None):
            self.send_response(status)
            for k, v in {"Content-Length": str(len(body)), **(headers or {})}.items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, obj, headers: dict | None = None):
            self._send(200, json.dumps(obj).encode(), {"Content-Type": "application/json", **(headers or {})})

        def _missing(self, code: str):
            self._send(404, json.dumps({"error": code}).encode(),
                       {"Content-Type": "application/json", "X-Error-Code": code, "X-Error-Message": code})

        def _repo(self, path: str):
            """``(rest, None)`` for a path under our repo, else answers 404 and gives None."""
            for prefix in (f"/api/datasets/{REPO}", f"/datasets/{REPO}"):
                if path == prefix or path.startswith(prefix + "/"):
                    return path[len(prefix):]
            self._missing("RepoNotFound")
            return None

        def _target(self, rel: str) -> Path | None:
            p = (root / rel).resolve() if rel else root
            return p if p == root or (root in p.parents and p.exists()) else None

        def do_HEAD(self):
            self.do_GET()

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            path = urllib.parse.unquote(url.path)
            rest = self._repo(path)
            if rest is None:
                return
            if path.startswith("/api/") and rest in ("", "/revision/main"):
                return self._json({"id": REPO, "sha": SHA, "private": False, "siblings": []})
            if m := re.fullmatch(r"/tree/main(?:/(.*))?", rest):
                return self._tree(m.group(1) or "", urllib.parse.parse_qs(url.query))
            if m := re.fullmatch(r"/resolve/main/(.+)", rest):
                return self._file(m.group(1))
            self._missing("EntryNotFound")

        def do_POST(self):
            rest = self._repo(urllib.parse.unquote(urllib.parse.urlsplit(self.path).path))
            if rest is None:
                return
            if rest != "/paths-info/main":
                return self._missing("EntryNotFound")
            form = urllib.parse.parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
            found = [self._target(p.strip("/")) for p in form.get("paths", [])]
            self._json([_entry(root, p) for p in found if p is not None and p != root])

        def _tree(self, rel: str, query: dict):
            d = self._target(rel)
            if d is None or not d.is_dir():
                return self._missing("EntryNotFound")
            recursive = query.get("recursive", ["false"])[0].lower() == "true"
            items = sorted(d.rglob("*") if recursive else d.iterdir())
            start = int(query.get("cursor", ["0"])[0])
            page = [_entry(root, p) for p in items[start:start + PAGE]]
            headers = {}
            if start + PAGE < len(items):
                q = urllib.parse.urlencode({**{k: v[0] for k, v in query.items()}, "cursor": start + PAGE})
                headers["Link"] = f'<http://{self.headers["Host"]}{urllib.parse.urlsplit(self.path).path}?{q}>; rel="next"'
            self._json(page, headers)

        def _file(self, rel: str):
            p = self._target(rel)
            if p is None or not p.is_file():
                return self._missing("EntryNotFound")
            data = p.read_bytes()
            headers = {"ETag": f'"{hashlib.sha1(data).hexdigest()}"', "X-Repo-Commit": SHA,
                       "Accept-Ranges": "bytes"}
            rng = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
            if not rng:
                return self._send(200, data, headers)
            lo = int(rng.group(1))
            hi = min(int(rng.group(2)) if rng.group(2) else len(data) - 1, len(data) - 1)
            headers["Content-Range"] = f"bytes {lo}-{hi}/{len(data)}"
            self._send(206, data[lo:hi + 1], headers)

    return Hub


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    need("huggingface_hub", "hf")
    root = tmp_path_factory.mktemp("hub")
    for name in SUBSET:  # a real copy: the server lists what is on disk, as a repo holds files
        for p in sorted((SAMPLES / name).rglob("*")):
            if p.is_file():
                dst = root / "runs" / name / p.relative_to(SAMPLES / name)
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.write_bytes(p.read_bytes())
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), hub_handler(root.resolve()))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    env = dict(os.environ, HF_ENDPOINT=f"http://127.0.0.1:{server.server_port}", HF_HUB_OFFLINE="0",
               HF_HUB_DISABLE_TELEMETRY="1", HF_HOME=str(tmp_path_factory.mktemp("hf_home")))
    env.pop("HF_TOKEN", None)
    yield env
    server.shutdown()
    thread.join(10)


def test_runs_in_a_hub_dataset_repo_are_the_same_runs_as_on_disk(hub, local_reports):  # noqa: F811
    res = _run(["analyze", f"hf://datasets/{REPO}/runs", "-f", "json"], env=hub)
    assert res.returncode == 1, res.stderr
    doc = json.loads(res.stdout)
    assert _essentials(doc) == _essentials(local_reports)
    assert [r["path"] for r in doc["runs"]] == [f"hf://datasets/{REPO}/runs/{n}" for n in sorted(SUBSET)]


@pytest.mark.parametrize("url,problem", [
    ("hf://datasets/lossctl-test/no-such-repo/runs",
     "no such Hugging Face Hub repository 'datasets/lossctl-test/no-such-repo'"),
    (f"hf://datasets/{REPO}/missing", "no such file or directory")])
def test_a_missing_hub_repo_or_path_is_one_line_and_exit_2(hub, url, problem):
    res = _run(["analyze", url], env=hub)
    assert res.returncode == 2
    assert res.stderr.strip() == f"lossctl: {url}: {problem}"
