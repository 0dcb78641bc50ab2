"""stable-baselines3's Monitor files, written as its ResultsWriter writes them
(stable_baselines3/common/monitor.py: a ``#`` + JSON header line, then csv.DictWriter rows of
r, l, t and the info keywords, r and t rounded to 6 digits): one agent per folder, however
many environments wrote a file, the step the timesteps so far (results_plotter's X_TIMESTEPS)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np

import lossctl
from lossctl.runs import load_runs


def write_monitor(path, episodes, t_start=1_783_772_504.674, env_id="CartPole-v1", info_keywords=()):
    """``episodes``: (return, length, seconds since t_start, {info keyword: value})."""
    with open(path, "w", newline="\n") as f:
        f.write(f"#{json.dumps({'t_start': t_start, 'env_id': env_id})}\n")
        writer = csv.DictWriter(f, fieldnames=("r", "l", "t", *info_keywords))
        writer.writeheader()
        for r, length, t, info in episodes:
            writer.writerow({"r": round(r, 6), "l": length, "t": round(t, 6), **info})


def cartpole(n=300, collapse_at=None, seed=0, offset=0.0):
    """Episode returns of a PPO agent on CartPole (length = return: +1 a step), learning to the
    500 cap; with ``collapse_at``, the policy falls apart and stays down."""
    rng = np.random.default_rng(seed)
    out, t = [], offset
    for e in range(n):
        level = 20 + 480 * min(1.0, e / (0.6 * n))
        if collapse_at is not None and e >= collapse_at:
            level = 40
        length = int(np.clip(level * rng.uniform(0.8, 1.0), 8, 500))
        t += length * 0.002
        out.append((float(length), length, t, {}))
    return out


def test_one_monitor_file_is_an_agent_judged_on_its_return(tmp_path):
    d = tmp_path / "logs"
    d.mkdir()
    episodes = cartpole(400, collapse_at=200)
    write_monitor(d / "monitor.csv", episodes)
    (run,) = load_runs(d).runs
    assert run.format == "sb3_monitor" and run.warnings == []
    f = run.frame
    r = f[f["metric"] == "episode_reward"]
    assert r["step"].tolist() == np.cumsum([e[1] for e in episodes]).tolist()  # timesteps so far
    assert r["value"].tolist() == [e[0] for e in episodes]
    assert abs(r["wall_time"].iloc[0] - (1_783_772_504.674 + episodes[0][2])) < 1e-6
    out = subprocess.run([sys.executable, "-m", "lossctl", "analyze", str(d), "--format", "json"],
                         capture_output=True, text=True)
    assert out.returncode == 1, out.stderr
    (found,) = json.loads(out.stdout)["runs"]
    assert found["roles"]["reward"] == "episode_reward"
    assert any(x["kind"] == "divergence" and x["metric"] == "episode_reward" for x in found["findings"])


def test_a_monitor_file_per_environment_is_one_agent_in_time_order(tmp_path):
    """make_vec_env(monitor_dir=...) writes 0.monitor.csv, 1.monitor.csv, ...: load_results
    concatenates them and sorts the episodes by their end time."""
    d = tmp_path / "ppo_1"
    d.mkdir()
    a, b = cartpole(120, seed=1), cartpole(120, seed=2, offset=0.001)
    write_monitor(d / "0.monitor.csv", a, info_keywords=("is_success",))
    write_monitor(d / "1.monitor.csv", b, t_start=1_783_772_504.674 + 0.0005)
    frame = lossctl.load(d)
    assert set(frame["run"].astype(str)) == {"."}
    r = frame[frame["metric"] == "episode_reward"]
    assert len(r) == 240 and r["step"].is_monotonic_increasing
    assert r["step"].iloc[-1] == sum(e[1] for e in a + b)
    assert np.all(np.diff(r["wall_time"].to_numpy()) >= 0)  # episodes by their end time


def test_info_keywords_are_curves_and_a_folder_with_other_logs_names_it_monitor(tmp_path):
    d = tmp_path / "run"
    d.mkdir()
    eps = [(e[0], e[1], e[2], {"is_success": float(e[0] >= 400)}) for e in cartpole(100)]
    write_monitor(d / "monitor.csv", eps, info_keywords=("is_success",))
    (d / "progress.csv").write_text("time/total_timesteps,train/loss\n" +
                                    "".join(f"{2048 * (i + 1)},{1.0 / (i + 1)}\n" for i in range(30)))
    runs = {r.name: r for r in load_runs(d).runs}
    assert set(runs) == {".", "monitor"}
    assert set(runs["monitor"].frame["metric"].astype(str)) == {"episode_reward", "episode_length", "is_success"}
    assert set(runs["."].frame["metric"].astype(str)) == {"train/loss"}


def test_a_plain_csv_called_monitor_and_a_broken_header(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "monitor.csv").write_text("step,loss\n" + "".join(f"{i},{1.0 / (i + 1)}\n" for i in range(20)))
    (run,) = load_runs(plain).runs
    assert run.format == "csv"  # no '#{' header line: not a Monitor's file
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "monitor.csv").write_text('#{"t_start": 17837725\nr,l,t\n10.0,10,0.5\n')
    out = subprocess.run([sys.executable, "-m", "lossctl", "analyze", str(broken)], capture_output=True, text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "monitor.csv" in out.stderr and "JSON header" in out.stderr
