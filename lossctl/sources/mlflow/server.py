"""An MLflow tracking server, through its REST API 2.0: ``lossctl analyze mlflow+http://host:5000``
(or ``https``; ``--tracking-uri`` / ``MLFLOW_TRACKING_URI`` name one too).

Only the standard library (``urllib``): experiments and runs are listed with
``experiments/search`` and ``runs/search`` (pages followed), each run's metrics read with
``metrics/get-history`` (all points, not the sampled ``get-history-bulk-interval``), pages
followed. ``MLFLOW_TRACKING_TOKEN`` (bearer) or ``MLFLOW_TRACKING_USERNAME`` and
``MLFLOW_TRACKING_PASSWORD`` (basic) authenticate, as they do for MLflow's own client. Any
failure (connection refused, an HTTP error, a body that is not JSON) is one line naming the URL.
"""

from __future__ import annotations

import os

import numpy as np

from lossctl.errors import InputError
from lossctl.readers.base import FileData
from lossctl.run import assemble_run
from lossctl.sources.base import Discovered, Listing, ReadResult, RunRef
from lossctl.sources.mlflow.common import frame_from, parse_param, run_labels
from lossctl.sources.mlflow.sqlite import stored_value

FORMAT = "mlflow_server"
PREFIXES = ("mlflow+http://", "mlflow+https://")
TIMEOUT_S = float(os.environ.get("LOSSCTL_HTTP_TIMEOUT", "30"))
PAGE = 1000  # runs and experiments per page (the API's maximum for runs/search is 50,000)
HISTORY_PAGE = 100_000  # points per get-history page


def server_url(target: str) -> str | None:
    """``http(s)://host:port`` for an ``mlflow+http(s)://`` target, else None."""
    low = target.lower()
    return target[len("mlflow+"):].rstrip("/") if low.startswith(PREFIXES) else None


def tracking_target(uri: str) -> str:
    """What lossctl reads for an MLflow tracking URI: ``http(s)://`` -> ``mlflow+http(s)://``
    (the server), ``sqlite:///path`` -> the database file, ``file:///path`` or a plain path ->
    that file store. Other backends (PostgreSQL, MySQL, Databricks) only through their server."""
    low = uri.lower()
    if low.startswith(PREFIXES):
        return uri
    if low.startswith(("http://", "https://")):
        return "mlflow+" + uri
    if low.startswith("sqlite:///"):
        return uri[len("sqlite:///"):]  # sqlite:///rel.db -> rel.db; sqlite:////abs.db -> /abs.db
    if low.startswith("file:"):
        from urllib.parse import unquote, urlparse

        return unquote(urlparse(uri).path) or "."
    if "://" in uri or low in ("databricks", "databricks-uc"):
        raise InputError(uri, "lossctl reads MLflow's SQLite and file stores and its tracking server; "
                         "for this backend, point it at the server (mlflow+http://host:port)")
    return uri


class MlflowServerSource:
    name = "mlflow_server"

    def claim(self, listing: Listing) -> list[RunRef]:
        return []

    def runs_at(self, target: str) -> Discovered | None:
        base = server_url(target)
        if base is None:
            return None
        experiments = {e["experiment_id"]: e for e in _pages(base, "experiments/search", "experiments",
                                                               {"max_results": PAGE, "view_type": "ALL"})}
        active = [i for i, e in experiments.items() if e.get("lifecycle_stage") != "deleted"]
        runs = []
        for i in range(0, len(active), 100):
            runs += _pages(base, "runs/search", "runs", {"experiment_ids": active[i:i + 100], "max_results": PAGE,
                                                         "run_view_type": "ALL", "order_by": ["attributes.start_time ASC"]})
        rows = []
        for r in runs:
            info, data = r.get("info", {}), r.get("data", {})
            tags = {t.get("key"): t.get("value") for t in data.get("tags", [])}
            exp = experiments.get(info.get("experiment_id"), {}).get("name") or str(info.get("experiment_id"))
            rows.append((info.get("run_id") or info.get("run_uuid"), exp, info.get("run_name") or tags.get("mlflow.runName"),
                         info.get("lifecycle_stage") == "deleted", data, info.get("experiment_id")))
        labels = run_labels([(rid, exp, name) for rid, exp, name, _, _, _ in rows])
        refs, deleted = [], []
        for rid, exp, _, gone, data, exp_id in rows:
            if gone:
                deleted.append(labels[rid])
                continue
            keys = sorted({m["key"] for m in data.get("metrics", [])})
            params = {p["key"]: p.get("value", "") for p in data.get("params", [])}
            refs.append(RunRef(labels[rid], f"{base}/#/experiments/{exp_id}/runs/{rid}", self.name,
                               (base, rid, keys, params), experiment=exp))
        notes = []
        if deleted:
            shown = ", ".join(deleted[:5]) + (", ..." if len(deleted) > 5 else "")
            notes.append(f"{base}: {len(deleted)} deleted MLflow run(s) skipped ({shown})")
        if not refs and not deleted:
            notes.append(f"{base}: the MLflow server holds no runs")
        return Discovered(refs, notes)

    def read(self, ref: RunRef, verify: bool) -> ReadResult:
        base, rid, keys, params = ref.locator
        parts, warnings = [], []
        for key in keys:
            try:
                points = _pages(base, "metrics/get-history", "metrics",
                                {"run_id": rid, "metric_key": key, "max_results": HISTORY_PAGE}, get=True)
            except InputError as exc:
                warnings.append(f"{exc} (metric {key!r} of run {ref.name})")
                continue
            parts.append((key, points))
        kept = [(k, p) for k, p in parts if p]
        codes = np.repeat(np.arange(len(kept), dtype=np.int32), [len(p) for _, p in kept])
        flat = [m for _, p in kept for m in p]
        ts = np.array([int(m.get("timestamp", 0)) for m in flat], dtype=np.int64)
        step = np.array([int(m.get("step", 0)) for m in flat], dtype=np.int64)
        value = stored_value(np.array([float(m.get("value", "NaN")) for m in flat], dtype=np.float64))
        frame = frame_from([k for k, _ in kept], codes, step, ts, value)
        hparams = {k: parse_param(v) for k, v in sorted(params.items())}
        if not keys:  # a parent run of a sweep, say: nothing to analyse, not an error
            return ReadResult([], [f"{ref.path}: MLflow run {ref.name} has no metrics logged"])
        run = assemble_run(ref.name, ref.path, [(ref.path, FileData(frame, FORMAT))] if kept else [],
                           warnings, hparams)
        run.format = FORMAT
        return ReadResult([run])

    def signature(self, ref: RunRef):
        """Changes when the run's latest metrics do (one runs/get request)."""
        base, rid, _, _ = ref.locator
        try:
            run = _call(base, "runs/get", {"run_id": rid}, get=True).get("run", {})
        except InputError:
            return None
        return tuple(sorted((m.get("key"), m.get("step"), m.get("timestamp"))
                            for m in run.get("data", {}).get("metrics", [])))


def _pages(base: str, endpoint: str, field: str, body: dict, get: bool = False) -> list:
    out, token = [], None
    while True:
        doc = _call(base, endpoint, {**body, **({"page_token": token} if token else {})}, get=get)
        out += doc.get(field, [])
        token = doc.get("next_page_token")
        if not token:
            return out


def _call(base: str, endpoint: str, body: dict, get: bool = False) -> dict:
    """One REST call; any failure becomes an InputError naming the URL."""
    import base64
    import json
    import urllib.error
    import urllib.parse
    import urllib.request

    url = f"{base}/api/2.0/mlflow/{endpoint}"
    headers = {"Accept": "application/json", "User-Agent": "lossctl"}
    if os.environ.get("MLFLOW_TRACKING_TOKEN"):
        headers["Authorization"] = f"Bearer {os.environ['MLFLOW_TRACKING_TOKEN']}"
    elif os.environ.get("MLFLOW_TRACKING_USERNAME"):
        cred = f"{os.environ['MLFLOW_TRACKING_USERNAME']}:{os.environ.get('MLFLOW_TRACKING_PASSWORD', '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(cred.encode()).decode()
    if get:
        req = urllib.request.Request(f"{url}?{urllib.parse.urlencode(body, doseq=True)}", headers=headers)
    else:
        req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={**headers, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
            raw = resp.read()
    except urllib.error.HTTPError as exc:
        raise InputError(url, f"MLflow server answered HTTP {exc.code} {exc.reason}{_detail(exc)}") from None
    except urllib.error.URLError as exc:
        raise InputError(url, f"cannot reach the MLflow server ({_reason(exc.reason)})") from None
    except (TimeoutError, OSError) as exc:
        raise InputError(url, f"cannot reach the MLflow server ({_reason(exc)})") from None
    try:
        doc = json.loads(raw)
    except ValueError:
        head = raw[:60].decode("utf-8", "replace").replace("\n", " ")
        raise InputError(url, f"not an MLflow server: the answer is not JSON ({head!r})") from None
    if not isinstance(doc, dict):
        raise InputError(url, f"not an MLflow server: unexpected answer ({type(doc).__name__})")
    return doc


def _detail(exc) -> str:
    try:
        import json

        msg = json.loads(exc.read()).get("message", "")
    except Exception:  # noqa: BLE001 - the status line says enough
        return ""
    return f": {str(msg).splitlines()[0][:200]}" if msg else ""


def _reason(reason) -> str:
    text = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
    return text.splitlines()[0][:200]


source = MlflowServerSource()
