"""A run's hyperparameters: what its tracker logged, else what its directory name says.

``run.hparams`` (filled by the sources from MLflow params, W&B config, Lightning's
``hparams.yaml``, ...) is used as it is whenever it is not empty. Otherwise the run's name is
read, one path segment at a time (``sweep/lr=3e-4,bs=64/seed_1``: deeper segments win), by
two rules:

1. **Explicit pairs.** A segment holding ``=`` is read as ``key=value`` pairs separated by
   ``,`` ``;`` ``&``, whitespace, ``_`` or ``-`` before the next ``key=``
   (``lr=3e-4,bs=64``, ``lr=3e-4_batch_size=64``, ``optimizer=sgd``). Any key is accepted,
   and the value may be a string (``sgd``) since the ``=`` says it is a setting.
2. **Name-number pairs.** Without ``=``, only a *known hyperparameter name* followed by a
   number counts (``lr_3e-4-bs_64``, ``lr3e-4``, ``batch_size-32``, ``wd0.01``, ``seed_1``):
   the name must start the segment or follow a separator (``_ - . ,`` or space), and the
   number must end the segment or be followed by one. The names are listed in
   :data:`KNOWN` (with their usual spellings, e.g. ``bs`` and ``batch-size``), so ordinary
   names invent nothing: ``version_0``, ``run-20241001_1200``, ``epoch_10``, ``resnet50``,
   ``checkpoint-500``, ``lr_sweep`` and ``gpt2`` give no hyperparameter.

Values: integers (``64``) stay int, other numbers (``3e-4``, ``0.001``, ``1e-3``, ``.5``)
become float, ``true``/``false`` become bool, anything else (explicit pairs only) stays a
string. Keys are kept as written (``bs`` is not renamed to ``batch_size``).
"""

from __future__ import annotations

import os
import re

# names read without "=" (rule 2); longest first so "lr_decay" is not read as "lr"
KNOWN = sorted({
    "lr", "learning_rate", "learning-rate", "learningrate", "bs", "batch_size", "batch-size",
    "batchsize", "batch", "wd", "weight_decay", "weight-decay", "momentum", "mom", "dropout",
    "drop", "warmup", "warmup_steps", "warmup-steps", "seed", "beta1", "beta2", "eps",
    "epsilon", "hidden", "hidden_size", "width", "depth", "layers", "n_layers", "heads",
    "gamma", "lr_gamma", "clip", "grad_clip", "max_grad_norm", "alpha", "lambda", "l2",
    "temperature", "temp", "label_smoothing", "ls", "decay", "lr_decay",
}, key=len, reverse=True)

NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_SEP = r"[,;&\s_\-]"
_PAIR = re.compile(rf"(?:^|{_SEP}+)([A-Za-z][A-Za-z0-9_.\-]*?)=(.*?)(?={_SEP}+[A-Za-z][A-Za-z0-9_.\-]*=|[,;&\s]*$)")
_NAMED = re.compile(
    rf"(?:^|(?<=[_\-.,\s]))({'|'.join(re.escape(k) for k in KNOWN)})[_\-=]?"
    rf"((?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?=$|[_\-,\s]|\.(?!\d))", re.IGNORECASE)


def value_of(text: str):
    """``"64"`` -> 64, ``"3e-4"`` -> 0.0003, ``"true"`` -> True, else the string (stripped)."""
    t = text.strip()
    if re.fullmatch(r"[-+]?\d+", t):
        return int(t)
    if re.fullmatch(NUMBER, t):
        return float(t)
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    return t


def parse_segment(segment: str) -> dict:
    """The hyperparameters one path segment names (rules 1 and 2 of the module docstring)."""
    if "=" in segment:
        out = {}
        for m in _PAIR.finditer(segment):
            key, raw = m.group(1), m.group(2).strip()
            if raw and "=" not in raw:
                out[key] = value_of(raw)
        return out
    return {m.group(1): value_of(m.group(2)) for m in _NAMED.finditer(segment)}


def parse_name(name: str) -> dict:
    """Hyperparameters from every segment of a run name or path, deeper segments winning."""
    out: dict = {}
    for seg in re.split(r"[/\\]", name):
        if seg and seg not in (".", ".."):
            out.update(parse_segment(seg))
    return out


def hparams_of(run) -> tuple[dict, str]:
    """``(hparams, source)``: ``run.hparams`` ("logged") when not empty, else the ones its name
    (or, for a run given as its own directory, its path's last segment) spells ("name"), else
    ``({}, "none")``."""
    if run.hparams:
        return dict(run.hparams), "logged"
    name = run.name if run.name not in ("", ".") else os.path.basename(os.path.normpath(run.path))
    found = parse_name(name)
    return (found, "name") if found else ({}, "none")
