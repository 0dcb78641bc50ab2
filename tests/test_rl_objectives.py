"""Reinforcement-learning objectives are not losses that training drives down: a value loss grows
with the returns, a policy-gradient surrogate hovers around zero. lossctl judges them for NaN/Inf
only and says so; a preference-optimisation run (DPO's implicit rewards) keeps its loss judged.
Runs are written as CleanRL's ppo.py writes them (tensorboardX's SummaryWriter, its tags) and as
the Hugging Face Trainer writes trainer_state.json for TRL's DPO trainer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from writers import write_tensorboardx

from lossctl.analysis import analyze_run
from lossctl.compare import compare
from lossctl.config import Config
from lossctl.errors import InputError
from lossctl.renderers import RENDERERS
from lossctl.renderers.html import _main_metrics
from lossctl.roles import is_objective, logs_rewards
from lossctl.runs import load_runs
from lossctl.sweep import sweep_dict

pytest.importorskip("tensorboardX")


def analyze(path):
    (run,) = load_runs(str(path)).runs
    return analyze_run(run, Config())


def test_objectives_by_name():
    rl = ["actor_loss", "Critic loss", "train/value_loss", "train/policy_gradient_loss", "train/entropy_loss",
          "qf1_loss", "td_loss", "losses/policy_loss", "pg_loss", "ppo/loss/value", "SurrogateLoss"]  # rllab
    supervised = ["loss", "train_loss", "val_loss", "train/CrossEntropyLoss", "cross_entropy_loss", "vq_loss",
                  "loss_cls", "d_loss", "kl_loss", "loss_q0", "loss_q3"]  # improved-diffusion's quartiles
    assert [n for n in rl if not is_objective(n)] == []
    assert [n for n in supervised if is_objective(n)] == []


def test_rewards_make_a_reinforcement_learning_run_but_not_dpo():
    assert logs_rewards(["train/loss", "rollout/ep_rew_mean"])  # stable-baselines3
    assert logs_rewards(["losses/value_loss", "charts/episodic_return"])  # CleanRL
    assert logs_rewards(["Loss", "Avg Reward (100)"])
    assert logs_rewards(["SurrogateLoss", "RawAverageReturn"]) and logs_rewards(["EpRewMean"])  # rllab, baselines
    assert not logs_rewards(["loss", "rewards/chosen", "rewards/rejected", "rewards/accuracies"])  # TRL DPO
    assert not logs_rewards(["loss", "eval_accuracy"])


def cleanrl_ppo(logdir, updates=150, nan_from=None, seed=0, top=500.0):
    """CleanRL ppo.py's scalars: the agent improves, so the returns (to ``top``) and with them
    the value loss grow ~20x; the clipped surrogate wanders around zero."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, updates)
    ret = 20 + (top - 20) * t**1.5 + rng.normal(0, 15, updates)
    value_loss = (5 + 95 * t**1.5) * np.exp(rng.normal(0, 0.25, updates))
    if nan_from is not None:
        value_loss[nan_from:] = np.nan
    policy_loss = rng.normal(-0.01, 0.02, updates)
    points = []
    for i in range(updates):
        step = (i + 1) * 2048
        points += [("charts/learning_rate", step, 2.5e-4 * (1 - i / updates)),
                   ("losses/value_loss", step, float(value_loss[i])),
                   ("losses/policy_loss", step, float(policy_loss[i])),
                   ("losses/entropy", step, float(1.4 - 0.6 * t[i])),
                   ("losses/approx_kl", step, float(abs(rng.normal(0.01, 0.004)))),
                   ("charts/episodic_return", step, float(ret[i]))]
    write_tensorboardx(logdir, points)
    return logdir


def test_growing_value_loss_of_an_improving_agent_is_not_divergence(tmp_path):
    report = analyze(cleanrl_ppo(tmp_path / "runs" / "CartPole-v1__ppo__1"))
    assert report.findings == []
    (note,) = [w for w in report.run.warnings if "reinforcement-learning" in w]
    assert "losses/policy_loss, losses/value_loss are reinforcement-learning objectives, judged for NaN/Inf only" in note


def test_a_value_loss_growing_alike_in_a_supervised_run_is_divergence(tmp_path):
    # the same curve under a supervised name and without rewards: the rule is what changed it above
    run = cleanrl_ppo(tmp_path / "run")
    (run_dir,) = load_runs(str(run)).runs
    frame = run_dir.frame
    keep = frame["metric"].isin(["losses/value_loss"])
    frame = frame[keep].copy()
    frame["metric"] = frame["metric"].cat.rename_categories({"losses/value_loss": "train_loss"})
    frame["metric"] = frame["metric"].cat.remove_unused_categories()
    run_dir.frame = frame
    assert "divergence" in {f.kind for f in analyze_run(run_dir, Config()).findings}


def test_nan_in_an_objective_is_still_an_error(tmp_path):
    report = analyze(cleanrl_ppo(tmp_path / "run", nan_from=120))
    assert [(f.kind, f.severity, f.metric) for f in report.findings] == [("nonfinite", "error", "losses/value_loss")]


def test_actor_and_critic_losses_are_objectives_without_rewards(tmp_path):
    rng = np.random.default_rng(1)
    n = 120
    critic = np.linspace(0.1, 3.0, n) * np.exp(rng.normal(0, 0.1, n))  # grows as values grow
    actor = -0.2 + 0.1 * np.linspace(0, 1, n) + rng.normal(0, 0.02, n)
    points = [(tag, i, float(v)) for i in range(n) for tag, v in (("actor_loss", actor[i]), ("critic_loss", critic[i]))]
    report = analyze(write_tensorboardx(tmp_path / "sac", points).parent)
    assert report.findings == []


def test_dpo_loss_is_still_judged(tmp_path):
    # TRL's DPOTrainer logs implicit rewards beside its loss; the loss is a supervised one
    n = 60
    loss = np.concatenate([np.linspace(0.69, 0.3, 30), np.linspace(0.3, 4.0, 30)])
    history = [{"loss": round(float(loss[i]), 4), "grad_norm": 1.0, "learning_rate": 5e-7,
                "rewards/chosen": 0.1 * i, "rewards/rejected": -0.1 * i, "rewards/accuracies": 0.6,
                "rewards/margins": 0.2 * i, "logps/chosen": -120.0, "logps/rejected": -130.0,
                "epoch": i / n, "step": (i + 1) * 10} for i in range(n)]
    path = tmp_path / "checkpoint-600" / "trainer_state.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"global_step": 600, "epoch": 1.0, "log_history": history}, indent=2))
    report = analyze(path.parent)
    assert "divergence" in {f.kind for f in report.findings}
    assert not any("reinforcement-learning" in w for w in report.run.warnings)


def test_agents_are_compared_by_their_return(tmp_path):
    base = analyze(cleanrl_ppo(tmp_path / "a", seed=1, top=300))
    better = analyze(cleanrl_ppo(tmp_path / "b", seed=2, top=500))
    c = compare([base, better])
    (v,) = c.verdicts
    assert (v.metric, v.names, v.verdict) == ("reward", ("charts/episodic_return",) * 2, "better")
    shown = {m.key: m.direction for m in c.metrics}
    assert shown["reward"] == "higher"
    assert not {"loss", "losses/value_loss"} & set(shown)  # objectives have no better direction
    assert base.view.roles["reward"] == "charts/episodic_return"


def test_agents_without_a_return_cannot_be_compared(tmp_path):
    runs = []
    for name, seed in (("a", 1), ("b", 2)):
        rng = np.random.default_rng(seed)
        points = [(tag, i, float(v)) for i in range(50)
                  for tag, v in (("actor_loss", rng.normal(-0.2, 0.05)), ("critic_loss", 0.1 + 0.02 * i))]
        runs.append(analyze(write_tensorboardx(tmp_path / name, points).parent))
    with pytest.raises(InputError, match="reinforcement-learning objectives"):
        compare(runs)


def test_a_sweep_of_agents_ranks_the_highest_return_first(tmp_path):
    reports = [analyze(cleanrl_ppo(tmp_path / f"ppo_lr{lr}", seed=i, top=top))
               for i, (lr, top) in enumerate((("1e-4", 300), ("3e-4", 500), ("1e-3", 400)))]
    sweep = sweep_dict(reports)
    assert [row["run"][-10:] for row in sweep["table"]] == ["ppo_lr3e-4", "ppo_lr1e-3", "ppo_lr1e-4"]
    assert sweep["ranked_by"]["roles"] == ["reward"]
    assert sweep["best"]["metric"] == "charts/episodic_return"
    assert [row["vs_best"] for row in sweep["table"][1:]] == ["worse", "worse"]


def test_reports_draw_an_agents_return(tmp_path):
    report = analyze(cleanrl_ppo(tmp_path / "run"))
    assert _main_metrics(report) == [("charts/episodic_return", "reward")]
    text = RENDERERS["terminal"]([report], [], color=False, width=100)
    assert "⣿ charts/episodic_return" in text and "⣿ losses/policy_loss" not in text


# --- an agent's return that collapses is divergence ----------------------------------------------

FIGHTER = Path(__file__).parent / "data" / "rl" / "street_fighter_ppo.csv"


def sb3_tensorboard(logdir, rows: dict[str, np.ndarray], steps: np.ndarray):
    """A stable-baselines3 PPO run's scalars as its TensorBoard logger writes them (tensorboardX)."""
    points = [(tag, int(s), float(v)) for i, s in enumerate(steps) for tag, vals in rows.items() for v in (vals[i],)]
    write_tensorboardx(logdir, points)
    return logdir


def test_a_real_ppo_run_whose_return_collapses(tmp_path):
    """A public SB3 PPO run (tests/data/rl/PROVENANCE.md): ep_rew_mean falls from 15,000 to ~1,700
    after an update with approx_kl 24.3, and stays there for 5M steps."""
    data = np.genfromtxt(FIGHTER, delimiter=",", names=True)
    tags = ["rollout/ep_rew_mean", "train/approx_kl", "train/clip_fraction", "train/loss", "train/value_loss"]
    cols = dict(zip(tags, [data[n] for n in data.dtype.names[1:]]))
    report = analyze(sb3_tensorboard(tmp_path / "PPO_1", cols, data["step"].astype(int)))
    (f,) = report.findings
    assert (f.kind, f.severity, f.metric) == ("divergence", "error", "rollout/ep_rew_mean")
    assert f.evidence["approx_kl_max_after_best"] == pytest.approx(24.2676, rel=1e-4)
    assert f.evidence["last"] < 2000 and f.evidence["start_level"] > 9000
    assert "train/approx_kl reached 24.3" in f.suggestions[0]


def ppo_run(seed: int, collapse_at: float | None, n: int = 300, wander: bool = False):
    """rollout/ep_rew_mean of a PPO agent (a 100-episode moving average, so smooth) that learns to
    ~400, and after ``collapse_at`` (share of the run) falls back to ~30 after one oversized update."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, n)
    ret = 20 + 380 * (1 - np.exp(-6 * t))
    kl = np.abs(rng.normal(0.012, 0.004, n))
    if collapse_at is not None:
        i = int(collapse_at * n)
        ret[i:] = 30 + (ret[i] - 30) * np.exp(-np.arange(n - i) / 3.0)
        kl[i] = 0.6
    if wander:  # no learning: ep_rew_mean, the mean of the last 100 episodes (5 a rollout) of a
        # policy whose episode returns scatter around -6,300 (sd 1,500): it wanders slowly
        episodes = rng.normal(-6300, 1500, 5 * n)
        ret = np.array([episodes[max(0, 5 * j - 95): 5 * j + 5].mean() for j in range(n)])
    noise = np.convolve(rng.normal(0, 8, n + 9), np.ones(10) / 10, mode="valid")  # smoothed over episodes
    return {"rollout/ep_rew_mean": ret + noise, "train/approx_kl": kl,
            "train/value_loss": np.abs(rng.normal(50, 10, n)), "train/policy_gradient_loss": rng.normal(-0.01, 0.01, n)}


@pytest.mark.parametrize("seed", range(4))
def test_collapse_after_an_oversized_update(tmp_path, seed):
    rows = ppo_run(seed, collapse_at=0.7)
    report = analyze(sb3_tensorboard(tmp_path / "run", rows, np.arange(1, 301) * 2048))
    (f,) = report.findings
    assert f.metric == "rollout/ep_rew_mean" and f.evidence["progress_lost"] > 0.8
    assert f.evidence["approx_kl_max_after_best"] == pytest.approx(0.6)
    assert "collapses from step" in f.message and "gain since the start" in f.message


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("wander", [False, True])
def test_a_learning_or_wandering_return_is_not_a_collapse(tmp_path, seed, wander):
    rows = ppo_run(seed, collapse_at=None, wander=wander)
    report = analyze(sb3_tensorboard(tmp_path / "run", rows, np.arange(1, 301) * 2048))
    assert report.findings == []


def test_an_agent_that_logs_only_its_return_is_judged_by_it(tmp_path):
    """A script printing 'Episode N | Avg Reward: R | Epsilon: E' (no loss): the return is judged,
    and no 'no loss series' warning asks for a --loss."""
    rng = np.random.default_rng(0)
    lines = []
    for i in range(0, 3000, 10):
        r = (20 + 300 * min(1.0, i / 1500)) if i < 2000 else 25.0
        lines.append(f"INFO:root:Episode {i} | Avg Reward: {r + rng.normal(0, 3):.2f} | Epsilon: {max(0.05, 1 - i / 2000):.3f}")
    p = tmp_path / "training.log"
    p.write_text("\n".join(lines) + "\n")
    report = analyze(p)
    assert report.view.roles == {"reward": "Avg Reward"}
    assert [(f.kind, f.metric) for f in report.findings] == [("divergence", "Avg Reward")]
    assert not any("no loss series" in w for w in report.run.warnings)


def test_an_agent_is_not_judged_against_a_supervised_baseline(tmp_path):
    rows = ppo_run(0, collapse_at=None)
    agent = analyze(sb3_tensorboard(tmp_path / "agent", rows, np.arange(1, 301) * 2048))
    n = 200
    points = [(tag, i, float(v)) for i in range(n) for tag, v in (("train/loss", 2.0 / (1 + i / 20)),)]
    supervised = analyze(write_tensorboardx(tmp_path / "net", points).parent)
    with pytest.raises(InputError, match="reinforcement-learning objectives, not a training loss"):
        compare([supervised, agent])
