"""How the sweep section writes values and kinds, shared by the table and the sentences so that
every number in a sentence reads exactly as in the table beside it."""

from __future__ import annotations

import math

import numpy as np

# finding kind -> (what the runs did, the auxiliary for "none of the 9 ... did")
DID = {
    "divergence": ("diverged", "did"),
    "nonfinite": ("went NaN/Inf", "did"),
    "oscillation": ("oscillated", "did"),
    "spike": ("spiked", "did"),
    "plateau": ("plateaued", "did"),
    "overfitting": ("overfit", "did"),
    "train_val_mismatch": ("had a train/validation mismatch", "did"),
    "noisy": ("were noisy", "were"),
    "epoch_periodic": ("showed an epoch saw-tooth", "did"),
}


def did(kinds) -> tuple[str, str]:
    """``("diverged and went NaN/Inf", "did")`` for a group of kinds found on the same runs."""
    phrases = [DID.get(k, (f"had {k}", "did")) for k in kinds]
    aux = "were" if all(a == "were" for _, a in phrases) else "did"
    words = [p for p, _ in phrases]
    text = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    return text, aux


def vs_best(row: dict, best: str | None) -> str:
    """The table's "vs best" cell: the verdict, naming the loss it was judged on when that is not
    the one the row's final value is of (a run ranked by its validation loss judged against a
    best run that logs none: "better (training loss)")."""
    if row["run"] == best:
        return "best"
    if row["vs_best"] is None:
        return "n/a"
    if "vs_best_role" not in row:
        return row["vs_best"]
    from lossctl.compare.align import JUDGED_ROLES

    label = {role: label for role, label, _ in JUDGED_ROLES}.get(row["vs_best_role"], row["vs_best_role"])
    return f"{row['vs_best']} ({label})"


def fmt_value(v) -> str:
    """A hyperparameter value, exactly enough to tell values apart: ``64``, ``0.03``, ``3e-3``,
    ``sgd``, ``true``. Numbers below 0.01 (learning rates, weight decays) are written
    ``3e-4`` as people write them in configs and directory names."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        x = float(v)
        if not math.isfinite(x):
            return str(x)
        if x == int(x) and abs(x) < 1e15:
            return str(int(x))
        if abs(x) < 0.01 or abs(x) >= 1e6:
            return np.format_float_scientific(x, trim="-", exp_digits=1)
        return np.format_float_positional(x, trim="-")
    return str(v)


def names(runs: list[str], limit: int = 5) -> str:
    shown = ", ".join(runs[:limit])
    return shown + (f" and {len(runs) - limit} more" if len(runs) > limit else "")
