"""Which logged metric plays which role (training loss, validation loss, learning rate,
gradient norm), decided from the names people use and overridable by the user."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

ROLES = ("loss", "val_loss", "lr", "grad_norm", "reward")
VAL_WORDS = {"val", "valid", "validation", "eval", "evaluation", "dev", "test", "holdout"}
TRAIN_WORDS = {"train", "training", "tr", "learn"}  # learn: CatBoost's training set
LOSS_WORDS = {"loss", "nll", "cost", "objective", "xent", "crossentropy"}
# how a loss was aggregated or smoothed for logging: the same loss under another name
AGGREGATE_WORDS = {"step", "epoch", "avg", "mean", "batch", "iter", "ema", "smooth", "smoothed", "running",
                   "vs", "iterations"}  # Keras: evaluation_loss_vs_iterations, the val loss per iteration
# the words of an overall loss, of which the run's other training losses are parts
OVERALL_WORDS = {"total", "overall", "combined", "sum"}
# settings named after the loss, not losses (fp16 loss scale, a loss's weight in a sum)
# lower-is-better error metrics (XGBoost's and LightGBM's names among them)
ERROR_WORDS = {"rmse", "mse", "mae", "rmsle", "mape", "error", "merror", "l1", "l2", "nloglik", "huber", "mphe"}
SETTING_WORDS = {"scale", "scaler", "weight", "weights", "coef", "coeff", "lambda"}
_SPLIT = re.compile(r"[/\s_.:\-()\[\]]+")
# objectives that training does not simply drive down: reinforcement learning's policy-gradient
# surrogate and entropy bonus (their level is set by the advantages' normalisation and the
# bonus' weight), its value, Q and TD losses (they scale with the returns, which grow as the agent
# improves), and an adversarial critic's estimate (WGAN); actor_loss, pg_loss, vf_loss, qf1_loss
OBJECTIVE_WORDS = {"actor", "critic", "policy", "pg", "vf", "value", "q", "qf", "td", "entropy", "surrogate"}
REWARD_WORDS = {"reward", "rewards", "rew", "return", "returns"}
# DPO's implicit rewards (rewards/chosen, rewards/margins): preference optimisation, whose loss
# is a supervised loss
PREFERENCE_WORDS = {"chosen", "rejected", "margin", "margins"}


def words(name: str) -> list[str]:
    return list(_words(name))


# a capitalised word glued to the one before it (TrainLoss, ValLoss, learningRate), not an
# acronym (mAP50, AUC): split there
_CAMEL_WORD = re.compile(r"(?<=[a-z])(?=[A-Z][a-z])")


@lru_cache(maxsize=4096)
def _words(name: str) -> tuple[str, ...]:
    """Cached: a sweep's runs share their metric names, and each name is looked at many times.
    ``cross_entropy`` is one word, ``crossentropy``, as Keras spells it."""
    ws = [w for w in _SPLIT.split(_CAMEL_WORD.sub(" ", name).lower()) if w]
    for i in range(len(ws) - 1, 0, -1):
        if ws[i - 1] == "cross" and ws[i] == "entropy":
            ws[i - 1:i + 1] = ["crossentropy"]
    return tuple(ws)


def _is_lr(ws: list[str], name: str) -> bool:
    return "lr" in ws or ("learning" in ws and "rate" in ws) or name.lower().startswith("lr-")


def _is_grad_norm(ws: list[str]) -> bool:
    joined = "".join(ws)
    return ("grad" in joined or "gradient" in joined) and "norm" in joined


# YOLOv10's terms, named without "loss": box_om, cls_oo, dfl_om (one-to-many, one-to-one heads)
YOLO_TERMS, YOLO_HEADS = {"box", "cls", "dfl"}, {"om", "oo"}


# a name ending in one of these times something ("cal loss time": computing the loss), it is no loss
TIMING_WORDS = {"time", "times", "duration", "sec", "secs", "seconds", "ms"}


def is_loss_like(name: str) -> bool:
    ws = words(name)
    if ws and ws[-1] in TIMING_WORDS:
        return False
    return (bool(LOSS_WORDS & set(ws)) or any(w.endswith("loss") for w in ws)
            or bool(YOLO_TERMS & set(ws) and YOLO_HEADS & set(ws)))


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def _rl_words(name: str) -> list[str]:
    """The words of a name, CamelCase split too (rllab's and baselines' ``SurrogateLoss``,
    ``RawAverageReturn``, ``EpRewMean``): for the reinforcement-learning checks only."""
    return words(_CAMEL.sub(" ", name))


def is_objective(name: str) -> bool:
    """A loss-like series that is a reinforcement-learning (or adversarial critic) objective by
    its name: ``actor_loss``, ``train/value_loss``, ``qf1_loss``, ``policy_gradient_loss``."""
    ws = _rl_words(name)  # qf1, qf2: the critics of SAC and TD3 (not q0..q3: a diffusion loss by quartile)
    return is_loss_like(name) and bool(OBJECTIVE_WORDS & {*ws, *(w.rstrip("0123456789") for w in ws if w[:2] == "qf")})


def _reward_words(name: str) -> set[str]:
    """The reward words of an agent's return's name (not a preference model's reward, nor a loss
    of predicting rewards: a world model's reward_loss)."""
    ws = set(_rl_words(name))
    return set() if ws & PREFERENCE_WORDS or is_loss_like(name) else ws & REWARD_WORDS


def objective_names(names) -> list[str]:
    """The loss-like series among ``names`` that are reinforcement-learning objectives: all of
    them in a run that logs rewards, else those named as such (:func:`is_objective`)."""
    rl = logs_rewards(names)
    return [n for n in names if is_loss_like(n) and (rl or is_objective(n))]


def shown_roles(roles: dict[str, str], names) -> tuple[str, ...]:
    """The roles whose curves a report draws: the loss pair, or an agent's return when its
    losses are objectives (they say little about how training goes)."""
    if "reward" in roles and roles.get("loss") in objective_names(names):
        return ("reward",)
    return ("loss", "val_loss")


def logs_rewards(names) -> bool:
    """The run logs an agent's rewards or returns (``rollout/ep_rew_mean``, ``episode_reward``,
    ``env/reward_mean``): a reinforcement-learning run, whose losses are objectives. Not when the
    rewards are a preference model's (DPO's ``rewards/chosen``)."""
    found = False
    for n in names:
        if PREFERENCE_WORDS & set(words(n)):
            return False
        found = found or bool(_reward_words(n))
    return found


HIGHER_WORDS = {"acc", "accuracy", "top1", "top5", "auc", "auroc", "f1", "precision", "recall",
                "iou", "miou", "map", "ap", "bleu", "rouge", "psnr", "ssim", "r2"}
LOWER_WORDS = {"ppl", "perplexity", "wer", "cer"}  # quality metrics where lower is better


def direction(name: str) -> str | None:
    """'lower' or 'higher' is better, from the name; None when unknown (lr, grad norm, time)."""
    if is_loss_like(name):
        return "lower"
    ws = set(words(name))
    ws |= {w.rstrip("0123456789@") for w in ws}  # mAP50, AP75, mAP@0.5, rouge1: the metric at a threshold
    if ws & LOWER_WORDS:
        return "lower"
    if _reward_words(name):
        return "higher"
    if ws & HIGHER_WORDS or any(w.endswith(("acc", "accuracy")) for w in ws):
        return "higher"
    return None


def is_error_like(name: str) -> bool:
    """An error metric that stands in for the loss of a run that logs none: what gradient
    boosting prints per round (XGBoost's ``train-rmse``, ``eval-merror``, LightGBM's ``valid_0's l2``)."""
    return bool(ERROR_WORDS & set(words(name)))


def _loss_rank(name: str, points: int, want_val: bool, like=is_loss_like):
    """Sort key for loss candidates (smaller is better), or None when not a candidate."""
    ws = words(name)
    if not like(name) or _is_lr(ws, name) or _is_grad_norm(ws):
        return None
    is_val = bool(VAL_WORDS & set(ws))
    if is_val != want_val:
        return None
    prefer = 0 if (TRAIN_WORDS & set(ws) or ws == ["loss"]) and not want_val else 1
    if want_val:
        prefer = 0 if {"val", "validation", "valid"} & set(ws) else 1  # test sets come second
    # an overall loss (total_loss) is the loss its parts (loss_cls, loss_box_reg) add up to
    extra = len([w for w in ws if w not in LOSS_WORDS | VAL_WORDS | TRAIN_WORDS | OVERALL_WORDS | {"step", "epoch", "avg"}])
    return (prefer, extra, -points, name)


def assign_roles(points: dict[str, int], overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Map role -> metric name for the metrics of one run (``points``: name -> point count)."""
    roles: dict[str, str] = {}
    for like in (is_loss_like, is_error_like):  # error metrics only where no loss is logged
        for role, want_val in (("loss", False), ("val_loss", True)):
            ranked = sorted((k, n) for n, c in points.items() if (k := _loss_rank(n, c, want_val, like)))
            if ranked:
                roles[role] = ranked[0][1]
        if roles:
            break
    lrs = sorted(n for n in points if _is_lr(words(n), n))
    if lrs:
        roles["lr"] = lrs[0]
    norms = sorted((len(n), n) for n in points if _is_grad_norm(words(n)))
    if norms:
        roles["grad_norm"] = norms[0][1]
    if logs_rewards(points):  # the agent's return: an evaluation's first, then a smoothed one
        roles["reward"] = min((n for n in points if _reward_words(n)), key=lambda n: (
            not VAL_WORDS & set(words(n)), not {"mean", "avg"} & set(words(n)), -points[n], n))
    for role, name in (overrides or {}).items():
        if name:
            roles[role] = name
    return roles


class LossPair(NamedTuple):
    """A loss as detectors judge it: its training and validation series (either may be None),
    and the overall training loss it is a part of, if any."""

    loss: str | None
    val_loss: str | None
    part_of: str | None = None

    def roles(self) -> dict[str, str]:
        return {r: m for r, m in (("loss", self.loss), ("val_loss", self.val_loss)) if m}


def _pair_key(name: str) -> tuple[str, ...]:
    """What a loss is once its split and aggregation words are removed: ``val_reg_loss``,
    ``reg_val_loss`` and ``train/reg_loss_epoch`` are all the loss ``reg_loss``."""
    return tuple(sorted(w for w in words(name) if w not in VAL_WORDS | TRAIN_WORDS | AGGREGATE_WORDS))


def _is_overall(name: str | None) -> bool:
    return name is not None and set(_pair_key(name)) <= LOSS_WORDS | OVERALL_WORDS


def loss_pairs(points: dict[str, int], roles: dict[str, str]) -> tuple[list[LossPair], dict[str, int]]:
    """Every loss the run logs as pairs, the roles' pair first (the primary, as chosen today),
    then one pair per other loss name in order of appearance, each side its best-ranked series.
    A validation loss without a training counterpart (a second evaluation set) is paired with
    the primary training loss; a training loss without one is judged alone. When the run logs an
    overall training loss (``loss``, ``total_loss``), the other training losses are its parts.
    Also returns the pair each loss series belongs to (another aggregation of a judged loss
    belongs to its pair and is not judged again)."""
    primary = (roles.get("loss"), roles.get("val_loss"))
    taken = {m for m in (*primary, roles.get("lr"), roles.get("grad_norm")) if m}
    groups: dict[tuple, tuple[list, list]] = {}
    for name in points:
        ws = words(name)
        if name in taken or not is_loss_like(name) or _is_lr(ws, name) or _is_grad_norm(ws) or SETTING_WORDS & set(ws):
            continue
        groups.setdefault(_pair_key(name), ([], []))[bool(VAL_WORDS & set(ws))].append(name)
    keys = [None if m is None else _pair_key(m) for m in primary]
    found, member = [], {m: 0 for m in primary if m}
    for key, sides in groups.items():
        pair = []
        for i, names in enumerate(sides):
            if key == keys[i]:  # another aggregation of the primary's series
                member.update((n, 0) for n in names)
                names = []
            pair.append(min(names, key=lambda n: _loss_rank(n, points[n], bool(i))) if names else None)
        if pair != [None, None]:
            member.update((n, len(found) + 1) for names in sides for n in names if n not in member)
            found.append(pair)
    overall = next((m for m in (primary[0], *(t for t, _ in found)) if _is_overall(m)), None)
    pairs = [LossPair(*primary)] + [
        LossPair(t or primary[0], v, overall if t and t != overall else None) for t, v in found]
    return pairs, member
