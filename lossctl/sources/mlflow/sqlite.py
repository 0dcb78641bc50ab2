"""MLflow's SQLite tracking store (``mlflow.db``, MLflow's default store since 3.7).

Recognised by content: a file starting with SQLite's header whose tables include MLflow's
``experiments``, ``runs`` and ``metrics``. Opened read-only through a ``mode=ro`` URI (no write,
no write lock; a database in WAL mode being written by a live run still reads, as a snapshot).
Each run is one :class:`RunRef` (the database and the run's id), so runs read in parallel; a
run's points come from one query, in MLflow's own history order (timestamp, step, value) per
metric, and the restart rule keeps the later value of a step logged twice.
"""

from __future__ import annotations

import itertools
import os

import numpy as np

from lossctl.errors import InputError
from lossctl.readers.base import FileData
from lossctl.run import assemble_run
from lossctl.sources.base import Listing, ReadResult, RunRef
from lossctl.sources.mlflow.common import frame_from, parse_param, run_labels
from lossctl.storage import Blob

HEADER = b"SQLite format 3\x00"
TABLES = {"experiments", "runs", "metrics"}
BUSY_TIMEOUT_S = 3.0  # a writer's lock (rollback journal) is waited for this long, then a clear line
FORMAT = "mlflow_sqlite"
MAX_CASE_KEYS = 900  # metric names bound as SQL parameters (SQLite allows 999 in old builds)


def connect(path: str):
    """A read-only connection; raises InputError naming the file when SQLite cannot open it."""
    import sqlite3
    from urllib.parse import quote

    uri = f"file:{quote(os.path.abspath(path))}?mode=ro"
    try:
        con = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        raise InputError(path, _why(exc)) from None
    return con


def _why(exc: BaseException) -> str:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return (f"database is locked by another process (waited {BUSY_TIMEOUT_S:g} s for a write "
                "in progress); try again when it is done")
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return f"not a readable SQLite database ({text}): damaged or cut short"
    return f"cannot read SQLite database: {text}"


class MlflowSqliteSource:
    name = "mlflow_sqlite"

    def claim(self, listing: Listing) -> list[RunRef]:
        refs = []
        for blob in list(listing.files):
            if not blob.store.local:  # SQLite reads files, not URLs (and a bucket's head costs a request)
                if _named_like_mlflow(blob) and _is_sqlite(blob):
                    listing.files.remove(blob)
                    listing.notes.append(f"{blob}: an SQLite database is read from a local disk only; "
                                         "copy it here, or point lossctl at its tracking server")
                continue
            if not _is_sqlite(blob):
                continue
            try:
                found = self._runs(blob, listing)
            except InputError as exc:
                if not _named_like_mlflow(blob):
                    continue  # some other damaged SQLite file: not ours to judge
                listing.files.remove(blob)
                refs.append(RunRef(listing.run_name(blob.name), _shown(blob), self.name,
                                   (blob, None, str(exc)), 0))
                continue
            if found is None:
                continue  # a SQLite database, but not MLflow's
            listing.files.remove(blob)
            refs += found
        dbs = {ref.locator[0] for ref in refs if ref.locator[1] is not None}
        if len(dbs) > 1:  # several databases in one folder: their runs named below each file's name
            cut = 0 if listing.name == "." else len(listing.name) + 1
            for ref in refs:
                if ref.locator[1] is not None:
                    ref.name = listing.run_name(ref.locator[0].name, ref.name[cut:])
        return refs

    def _runs(self, blob: Blob, listing: Listing) -> list[RunRef] | None:
        con = connect(blob.path)
        try:
            import sqlite3

            try:
                tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
                if not TABLES <= tables:
                    return None
                rows = con.execute(
                    "SELECT r.run_uuid, r.name, e.name, r.lifecycle_stage, e.lifecycle_stage, "
                    "(SELECT value FROM tags t WHERE t.run_uuid = r.run_uuid AND t.key = 'mlflow.runName') "
                    "FROM runs r LEFT JOIN experiments e ON e.experiment_id = r.experiment_id "
                    "ORDER BY e.experiment_id, r.start_time, r.run_uuid").fetchall()
            except sqlite3.Error as exc:
                raise InputError(blob, _why(exc)) from None
        finally:
            con.close()
        labels = run_labels([(rid, exp if exp is not None else "?", name or tag)
                             for rid, name, exp, _, _, tag in rows])
        live = [r for r in rows if r[3] != "deleted" and r[4] != "deleted"]
        deleted = [listing.run_name(labels[r[0]]) for r in rows if r not in live]
        if deleted:
            shown = ", ".join(deleted[:5]) + (", ..." if len(deleted) > 5 else "")
            listing.notes.append(f"{blob}: {len(deleted)} deleted MLflow run(s) skipped ({shown})")
        size = max(1, (blob.listed_size or 0) // max(1, len(live)))
        return [RunRef(listing.run_name(labels[r[0]]), f"{_shown(blob)}#{r[0]}", self.name, (blob, r[0], None), size,
                       experiment=r[2] if r[2] is not None else "?") for r in live]

    def read(self, ref: RunRef, verify: bool) -> ReadResult:
        blob, run_id, error = ref.locator
        if error is not None:
            return ReadResult([assemble_run(ref.name, ref.path, [], [error])])
        try:
            frame, hparams = read_run(blob.path, run_id)
        except InputError as exc:
            return ReadResult([assemble_run(ref.name, ref.path, [], [str(exc)])])
        if frame.empty:  # a parent run of a sweep, say: nothing to analyse, not an error
            return ReadResult([], [f"{ref.path}: MLflow run {ref.name} has no metrics logged"])
        run = assemble_run(ref.name, ref.path, [(ref.path, FileData(frame, FORMAT))], [], hparams)
        return ReadResult([run])

    def signature(self, ref: RunRef):
        """Changes when the run gets a point: the highest rowid of its metrics (the database
        file's size and time, with its -wal, where that cannot be asked)."""
        blob, run_id, _ = ref.locator
        try:
            con = connect(blob.path)
            try:
                return tuple(con.execute("SELECT max(rowid), count(*) FROM metrics WHERE run_uuid = ?",
                                         (run_id,)).fetchone())
            finally:
                con.close()
        except Exception:  # noqa: BLE001 - a signature never fails; the read says what is wrong
            return blob.signature(), blob.sibling(blob.name + "-wal").signature()


def read_run(path: str, run_id: str):
    """``(frame, hparams)`` of one run, from one read snapshot: the run's metric names, then its
    points in the order they were inserted (each metric's history as written), the metric
    named by its index in SQL so that no string is made per point."""
    import sqlite3

    con = connect(path)
    try:
        con.execute("BEGIN")  # one snapshot for the queries below
        keys = [k for (k,) in con.execute(
            "SELECT DISTINCT key FROM metrics WHERE run_uuid = ? ORDER BY key", (run_id,))]
        if len(keys) <= MAX_CASE_KEYS:
            case = "CASE key " + " ".join(f"WHEN ? THEN {i}" for i in range(len(keys))) + " ELSE -1 END"
            cur = con.execute(f"SELECT {case if keys else '-1'}, timestamp, step, value, is_nan FROM metrics "
                              "WHERE run_uuid = ? ORDER BY rowid", (*keys, run_id))
            cols = np.fromiter(itertools.chain.from_iterable(cur), dtype=np.float64).reshape(-1, 5)
            codes = cols[:, 0].astype(np.int32)
        else:  # very many metrics: name each point, then factorize
            rows = con.execute("SELECT key, timestamp, step, value, is_nan FROM metrics "
                               "WHERE run_uuid = ? ORDER BY rowid", (run_id,)).fetchall()
            codes = np.searchsorted(np.array(keys, dtype=object), np.array([r[0] for r in rows], dtype=object))
            cols = np.array([r[1:] for r in rows], dtype=np.float64).reshape(-1, 4)
            cols = np.column_stack([codes, cols]) if len(rows) else np.empty((0, 5))
        params = con.execute("SELECT key, value FROM params WHERE run_uuid = ?", (run_id,)).fetchall()
        con.execute("COMMIT")
    except sqlite3.Error as exc:
        raise InputError(path, _why(exc)) from None
    finally:
        con.close()
    order = np.argsort(codes, kind="stable")  # grouped by metric, each in insertion order
    cols, codes = cols[order], codes[order]
    value = stored_value(cols[:, 3], cols[:, 4])
    frame = frame_from(keys, codes, cols[:, 2].astype(np.int64), cols[:, 1], value)
    return frame, {k: parse_param(v) for k, v in sorted(params)}


def stored_value(value: np.ndarray, is_nan: np.ndarray | None = None) -> np.ndarray:
    """Values as logged: NaN where MLflow set ``is_nan``, and +/-Inf where it stored the largest
    finite double in their place (MLflow clips infinities to +/-1.7976931348623157e308)."""
    value = np.array(value, dtype=np.float64)
    if is_nan is not None:
        value[np.asarray(is_nan) != 0] = np.nan
    big = np.finfo(np.float64).max
    value[value == big] = np.inf
    value[value == -big] = -np.inf
    return value


def _shown(blob: Blob) -> str:
    """The database as the user would type it (``./mlflow.db`` -> ``mlflow.db``)."""
    return os.path.normpath(blob.path) if blob.store.local else str(blob)


def _is_sqlite(blob: Blob) -> bool:
    try:
        return blob.head(len(HEADER)) == HEADER
    except (OSError, InputError):
        return False


def _named_like_mlflow(blob: Blob) -> bool:
    return "mlflow" in blob.name.lower() or blob.suffix.lower() in (".db", ".sqlite", ".sqlite3")


source = MlflowSqliteSource()
