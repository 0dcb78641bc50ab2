"""Hyperparameters as a run reports them (``Run.hparams``): a flat dict of name -> number, string
or bool, from whatever config a tracker or trainer wrote beside the logs."""

from __future__ import annotations

import json
import re


def flat(d: dict, prefix: str = ""):
    """Nested dicts as ``a.b`` names (W&B media dicts, which carry ``_type``, left out)."""
    for k, v in d.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            if "_type" not in v:
                yield from flat(v, name + ".")
        else:
            yield name, v


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|nan|inf|infinity)$", re.IGNORECASE)


def typed_hparams(config: dict) -> dict:
    """A config as hparams: W&B's ``_wandb`` left out, nested dicts joined with ``.``, numbers in
    strings parsed, lists as JSON text, other objects as their text."""
    out = {}
    for k, v in flat({k: v for k, v in config.items() if k != "_wandb" and not str(k).startswith("_wandb")}):
        if v is None:
            continue
        if isinstance(v, str) and _NUMBER.match(v.strip()):
            v = float(v) if not re.match(r"^[+-]?\d+$", v.strip()) else int(v)
        elif isinstance(v, (list, tuple)):
            v = json.dumps(v, default=str)
        elif not isinstance(v, (bool, int, float, str)):
            v = str(v)
        out[str(k)] = v
    return out


def safe_yaml(text: str):
    """YAML through the safe loader only (libyaml's C build of it when PyYAML has one: about
    10x faster on a Lightning ``hparams.yaml``, which a sweep reads once per run); Python-object
    tags are refused, never constructed."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def read_hparams_yaml(blob) -> tuple[dict, list[str]]:
    """Lightning's ``hparams.yaml`` (``save_hyperparameters``) as hparams, and a warning when it is
    not a YAML mapping (the run is read all the same). A safe loader only: Lightning may
    write Python-object tags, which are refused, never executed."""
    import yaml

    from lossctl.storage import cannot_read

    try:
        doc = safe_yaml(blob.read_text(errors="replace"))
    except OSError as exc:
        return {}, [str(cannot_read(blob, exc))]
    except (yaml.YAMLError, RecursionError) as exc:
        why = (str(exc).splitlines() or [type(exc).__name__])[0]
        return {}, [f"{blob}: not plain YAML ({why}); the run's hyperparameters are left out"]
    if doc is None:
        return {}, []
    if not isinstance(doc, dict):
        return {}, [f"{blob}: not a mapping of hyperparameters (a {type(doc).__name__}); left out"]
    return typed_hparams({str(k): v for k, v in doc.items()}), []
