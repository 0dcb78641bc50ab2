"""URLs (``s3://``, ``gs://``, ``az://``, ``hf://``, ``https://`` ...) through fsspec.

fsspec and each backend's package (s3fs, gcsfs, adlfs, huggingface_hub, aiohttp) are optional
extras, imported only when a URL is given. Credentials and endpoints come from each backend's
own environment and config files (``AWS_ENDPOINT_URL``, ``~/.aws``, ``GOOGLE_APPLICATION_CREDENTIALS``,
``HF_TOKEN`` ...). Files are opened with fsspec's read-ahead cache, so an event file streams in
blocks instead of being downloaded whole.
"""

from __future__ import annotations

import contextlib
from typing import BinaryIO

from lossctl.errors import InputError
from lossctl.storage.base import Store

EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs", "az": "azure", "abfs": "azure",
          "abfss": "azure", "hf": "hf", "http": "http", "https": "http"}
BLOCK = 8 << 20  # read-ahead block: few requests per event file, bounded memory


class FsspecStore(Store):
    def __init__(self, protocol: str, url: str):
        self.protocol = protocol
        try:
            import fsspec
        except ImportError:
            raise InputError(url, f"reading {protocol}:// URLs needs fsspec: "
                             f"pip install 'lossctl[{EXTRAS.get(protocol, 'remote')}]'") from None
        try:
            self.fs = fsspec.filesystem(protocol)
        except (ImportError, ValueError) as exc:
            raise InputError(url, f"reading {protocol}:// URLs needs its backend ({exc}): "
                             f"pip install 'lossctl[{EXTRAS.get(protocol, 'remote')}]'") from None

    def display(self, path: str) -> str:
        return path if "://" in path else f"{self.protocol}://{path}"

    def _call(self, path: str, fn, *args, **kw):
        """Run a filesystem call; any failure becomes one line naming the URL."""
        try:
            return fn(*args, **kw)
        except FileNotFoundError:
            raise InputError(self.display(path), self.missing(path)) from None
        except PermissionError as exc:
            raise InputError(self.display(path), f"access denied ({_short(exc)})") from None
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 - every backend raises its own types
            raise InputError(self.display(path), f"cannot read: {_short(exc)}") from None

    def kind(self, path: str) -> str | None:
        if self.protocol in ("http", "https"):
            return "dir" if path.endswith("/") else "file"
        info = self._call(path, self._info, path)
        return None if info is None else ("dir" if info.get("type") == "directory" else "file")

    def _info(self, path: str):
        try:
            return self.fs.info(path)
        except FileNotFoundError:
            return None

    def listdir(self, path: str):
        entries = self._call(path, self.fs.ls, path, detail=True)
        files, dirs = [], []
        for e in sorted(entries, key=lambda e: e["name"]):
            name = e["name"].rstrip("/")
            if name == path.rstrip("/"):
                continue
            if e.get("type") == "directory":
                dirs.append(name)
            else:
                files.append((name, int(e.get("size") or 0)))
        return files, dirs

    def open(self, path: str, size: int | None = None) -> BinaryIO:
        known = {"size": size} if size else {}
        return self._call(path, self.fs.open, path, "rb", block_size=BLOCK, cache_type="readahead", **known)

    def missing(self, path: str) -> str:
        bucket = path.split("/", 1)[0]
        if self.protocol in ("s3", "s3a", "gs", "gcs", "az", "abfs", "abfss") and bucket and "/" in path:
            with contextlib.suppress(Exception):  # cannot tell: the plain message is still true
                if not self.fs.exists(bucket):
                    return f"no such bucket {bucket!r}"
        if self.protocol == "hf":  # hf://[datasets/|spaces/]org/name/...: say when the repo is missing
            segs = path.split("/")
            repo = "/".join(segs[:3] if segs[0] in ("datasets", "spaces") else segs[:2])
            with contextlib.suppress(Exception):
                if repo != path and not self.fs.exists(repo):
                    return f"no such Hugging Face Hub repository {repo!r}"
        return "no such file or directory"

    def size(self, path: str) -> int:
        return int(self._call(path, self.fs.size, path) or 0)

    def signature(self, path: str):
        try:
            info = self.fs.info(path)
        except Exception:  # noqa: BLE001
            return None
        return info.get("size"), info.get("LastModified") or info.get("mtime") or info.get("ETag")

    def __reduce__(self):
        return (_reopen, (self.protocol,))


def _reopen(protocol: str) -> FsspecStore:
    return FsspecStore(protocol, f"{protocol}://")


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
