"""Which logged metric plays which role (training loss, validation loss, learning rate,
gradient norm), decided from the names people use and overridable by the user."""

from __future__ import annotations

import re

ROLES = ("loss", "val_loss", "lr", "grad_norm")
VAL_WORDS = {"val", "valid", "validation", "eval", "evaluation", "dev", "test", "holdout"}
TRAIN_WORDS = {"train", "training", "tr"}
LOSS_WORDS = {"loss", "nll", "cost", "objective", "xent", "crossentropy"}
_SPLIT = re.compile(r"[/\s_.:\-()\[\]]+")


def words(name: str) -> list[str]:
    return [w for w in _SPLIT.split(name.lower()) if w]


def _is_lr(ws: list[str], name: str) -> bool:
    return "lr" in ws or ("learning" in ws and "rate" in ws) or name.lower().startswith("lr-")


def _is_grad_norm(ws: list[str]) -> bool:
    joined = "".join(ws)
    return ("grad" in joined or "gradient" in joined) and "norm" in joined


def is_loss_like(name: str) -> bool:
    ws = words(name)
    return bool(LOSS_WORDS & set(ws)) or any(w.endswith("loss") for w in ws)


def _loss_rank(name: str, points: int, want_val: bool):
    """Sort key for loss candidates (smaller is better), or None when not a candidate."""
    ws = words(name)
    if not is_loss_like(name) or _is_lr(ws, name) or _is_grad_norm(ws):
        return None
    is_val = bool(VAL_WORDS & set(ws))
    if is_val != want_val:
        return None
    prefer = 0 if (TRAIN_WORDS & set(ws) or ws == ["loss"]) and not want_val else 1
    if want_val:
        prefer = 0 if {"val", "validation", "valid"} & set(ws) else 1  # test sets come second
    extra = len([w for w in ws if w not in LOSS_WORDS | VAL_WORDS | TRAIN_WORDS | {"step", "epoch", "avg"}])
    return (prefer, extra, -points, name)


def assign_roles(points: dict[str, int], overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Map role -> metric name for the metrics of one run (``points``: name -> point count)."""
    roles: dict[str, str] = {}
    for role, want_val in (("loss", False), ("val_loss", True)):
        ranked = sorted((k, n) for n, c in points.items() if (k := _loss_rank(n, c, want_val)))
        if ranked:
            roles[role] = ranked[0][1]
    lrs = sorted(n for n in points if _is_lr(words(n), n))
    if lrs:
        roles["lr"] = lrs[0]
    norms = sorted((len(n), n) for n in points if _is_grad_norm(words(n)))
    if norms:
        roles["grad_norm"] = norms[0][1]
    for role, name in (overrides or {}).items():
        if name:
            roles[role] = name
    return roles
