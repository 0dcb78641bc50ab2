"""Settings: thresholds, severities and kind selection, from ``[tool.lossctl]`` in
``pyproject.toml`` or a ``lossctl.toml`` (found from the current directory upwards), then the
command line. Example::

    [tool.lossctl]
    ignore = ["noisy"]
    fail-on = "warning"

    [tool.lossctl.divergence]
    min_ratio = 3.0
    severity = "warning"
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from lossctl.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass
class Config:
    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    fail_on: str = "error"
    thresholds: dict[str, dict[str, float]] = field(default_factory=dict)
    severities: dict[str, str] = field(default_factory=dict)
    source: str | None = None

    def enabled(self, kind: str) -> bool:
        return (self.select is None or kind in self.select) and kind not in self.ignore


def find_config(start: Path | None = None) -> tuple[dict, str | None]:
    here = (start or Path.cwd()).resolve()
    for d in [here, *here.parents]:
        for name, key in (("lossctl.toml", None), ("pyproject.toml", "tool.lossctl")):
            p = d / name
            if not p.is_file():
                continue
            try:
                doc = tomllib.loads(p.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise InputError(p, f"cannot parse settings: {exc}") from None
            if key:
                doc = doc.get("tool", {}).get("lossctl")
                if doc is None:
                    continue
            return doc, str(p)
    return {}, None


def load_config(start: Path | None = None) -> Config:
    from lossctl.detectors import BY_KIND
    from lossctl.findings import SEVERITIES

    doc, source = find_config(start)
    cfg = Config(source=source)
    where = source or "settings"
    for key, val in doc.items():
        k = key.replace("-", "_")
        if k in ("select", "ignore"):
            bad = [x for x in val if x not in BY_KIND]
            if bad:
                raise InputError(where, f"unknown kind(s) in {key}: {', '.join(bad)}")
            setattr(cfg, k, list(val))
        elif k == "fail_on":
            if val not in (*SEVERITIES, "never"):
                raise InputError(where, f"fail-on must be one of error, warning, info, never (got {val!r})")
            cfg.fail_on = val
        elif k in BY_KIND and isinstance(val, dict):
            known = BY_KIND[k].thresholds
            for name, v in val.items():
                if name == "severity":
                    if v not in SEVERITIES:
                        raise InputError(where, f"{k}.severity must be error, warning or info")
                    cfg.severities[k] = v
                elif name in known:
                    cfg.thresholds.setdefault(k, {})[name] = float(v)
                else:
                    raise InputError(where, f"unknown setting {k}.{name} (known: {', '.join(known)})")
        else:
            raise InputError(where, f"unknown setting {key!r}")
    return cfg
