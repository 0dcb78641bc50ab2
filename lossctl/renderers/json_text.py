"""JSON text of the machine-readable reports: msgspec's encoder (a 1,000-run sweep's report in
~0.01 s against json's ~0.09 s), indented two spaces as ``json.dumps(indent=2)`` does, keys in
insertion order, non-ASCII characters escaped as json escapes them (the text stays 7-bit
whatever the terminal's encoding). Numbers are the same values, though written in msgspec's
shortest form (``0.00001`` where json writes ``1e-05``). A value msgspec cannot encode goes
through the json module, which names what is wrong."""

from __future__ import annotations

import json
import re

try:
    import msgspec
except ImportError:  # a dependency, but the readers run without it too (bench: "no msgspec")
    msgspec = None

_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def dumps(obj) -> str:
    if msgspec is None:
        return json.dumps(obj, indent=2, allow_nan=False)
    try:
        text = msgspec.json.format(msgspec.json.encode(obj), indent=2).decode()
    except (TypeError, ValueError, OverflowError):
        return json.dumps(obj, indent=2, allow_nan=False)
    return text if text.isascii() else _NON_ASCII.sub(_escape, text)


def _escape(m: re.Match) -> str:
    return json.dumps(m.group())[1:-1]  # \uXXXX, a surrogate pair beyond the BMP
