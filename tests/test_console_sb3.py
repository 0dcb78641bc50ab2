"""stable-baselines3's ``verbose=1`` tables and OpenAI baselines': a real excerpt
(tests/data/console/PROVENANCE.md) and tables written by the loggers' own code, copied below from
``stable_baselines3/common/logger.py`` (``HumanOutputFormat.write``, ``_truncate``) and
``baselines/logger.py`` (``HumanOutputFormat.writekvs``, ``_truncate``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from lossctl.cli import app
from lossctl.readers.console import read_bytes, reader
from lossctl.storage import as_blob

FIXTURE = Path(__file__).parent / "data" / "console" / "sb3_train_ppo_excerpt.log"


def sb3_table(key_values: dict, max_length: int = 36) -> str:
    """``HumanOutputFormat.write`` (DLR-RM/stable-baselines3), writing to a string."""
    def _truncate(string: str) -> str:
        if len(string) > max_length:
            string = string[: max_length - 3] + "..."
        return string

    key2str = {}
    tag = ""
    for key, value in sorted(key_values.items()):
        if isinstance(value, float):
            value_str = f"{value:<8.3g}"
        else:
            value_str = str(value)
        if key.find("/") > 0:  # Find tag and add it to the dict
            tag = key[: key.find("/") + 1]
            key2str[(tag, _truncate(tag))] = ""
        if len(tag) > 0 and tag in key:
            key = f"{'':3}{key[len(tag) :]}"
        truncated_key = _truncate(key)
        key2str[(tag, truncated_key)] = _truncate(value_str)
    key_width = max(map(lambda x: len(x[1]), key2str.keys()))  # noqa: C417 - as the source has it
    val_width = max(map(len, key2str.values()))
    dashes = "-" * (key_width + val_width + 7)
    lines = [dashes]
    for (_, key), value in key2str.items():
        key_space = " " * (key_width - len(key))
        val_space = " " * (val_width - len(value))
        lines.append(f"| {key}{key_space} | {value}{val_space} |")
    lines.append(dashes)
    return "\n".join(lines) + "\n"


def baselines_table(kvs: dict) -> str:
    """``HumanOutputFormat.writekvs`` (openai/baselines), writing to a string."""
    def _truncate(s):
        maxlen = 30
        return s[:maxlen - 3] + '...' if len(s) > maxlen else s

    key2str = {}
    for (key, val) in sorted(kvs.items()):
        if hasattr(val, '__float__'):
            valstr = '%-8.3g' % val  # noqa: UP031 - as the source has it
        else:
            valstr = str(val)
        key2str[_truncate(key)] = _truncate(valstr)
    keywidth = max(map(len, key2str.keys()))
    valwidth = max(map(len, key2str.values()))
    dashes = '-' * (keywidth + valwidth + 7)
    lines = [dashes]
    for (key, val) in sorted(key2str.items(), key=lambda kv: kv[0].lower()):
        lines.append('| %s%s | %s%s |' % (key, ' ' * (keywidth - len(key)), val,  # noqa: UP031 - as the source
                                          ' ' * (valwidth - len(val))))
    lines.append(dashes)
    return '\n'.join(lines) + '\n'


def points(frame, metric, run=None):
    f = frame[frame["metric"] == metric]
    if run is not None:
        f = f[f["run"] == run]
    return f["step"].tolist(), f["value"].tolist()


def test_real_sb3_log_reads_each_table_at_its_timesteps():
    data = reader.read(as_blob(FIXTURE))
    f = data.frame
    assert data.warnings == [f"{FIXTURE}: holds 2 trainings (the step falls back to the start); each is a run"]
    run1, run2 = f"{FIXTURE.name}:run1", f"{FIXTURE.name}:run2"
    assert sorted(set(f["run"])) == [run1, run2]
    train = ["approx_kl", "clip_fraction", "clip_range", "entropy_loss", "explained_variance", "learning_rate",
             "loss", "n_updates", "policy_gradient_loss", "std", "value_loss"]
    assert set(f["metric"]) == ({f"train/{k}" for k in train} | {"time/fps", "time/iterations", "time/time_elapsed"}
                                | {"eval/mean_ep_length", "eval/mean_reward"})  # no "to reaching max kl"
    # the step is the table's time/total_timesteps, printed after the rows above it
    assert points(f, "train/loss", run1) == ([16384, 24576, 32768, 40000, 1679360],
                                             [-0.0104, -0.0173, -0.0151, -0.0201, 0.00905])
    assert points(f, "time/fps", run1) == ([8192, 16384, 24576, 32768, 40960, 1679360],
                                           [1835.0, 1199.0, 1159.0, 1181.0, 766.0, 1056.0])
    assert points(f, "eval/mean_reward", run1) == ([40000], [-0.339])
    assert points(f, "eval/mean_ep_length", run1) == ([40000], [2340.0])  # 2.34e+03
    assert points(f, "train/loss", run2) == ([16384], [-0.0675])
    assert points(f, "time/fps", run2) == ([8192, 16384], [2511.0, 2122.0])
    assert len(f[f["run"] == run1]) == 75 and len(f[f["run"] == run2]) == 17


def test_real_sb3_log_analyze(tmp_path):
    r = CliRunner().invoke(app, ["analyze", str(FIXTURE)])
    assert r.exit_code == 0, r.output
    assert r.output.count("roles: loss=train/loss  lr=train/learning_rate") == 2
    assert "max kl" not in r.output and "printed again" not in r.output


def printed(key: str) -> str:
    """The name a key is read under: its section and its row's key, truncated as SB3 prints it."""
    tag, rest = key.split("/", 1)
    row = f"{'':3}{rest}"
    return f"{tag}/{(row[:33] + '...' if len(row) > 36 else row)[3:]}"


def ppo_tables(rng, iterations: int, eval_every: int = 5) -> tuple[str, dict]:
    """What a PPO learning with an EvalCallback prints: per iteration a table (the first without
    train/), and now and then the callback's lines and its eval/ table (same success_rate key)."""
    text, want = "Using cpu device\nLogging to logs/PPO_1\n", {}

    def keep(kv, step):
        for k, v in kv.items():
            if k != "time/total_timesteps" and not isinstance(v, (str, bool)):
                want.setdefault(printed(k), []).append((step, float(f"{v:<8.3g}") if isinstance(v, float) else float(v)))

    for it in range(1, iterations + 1):
        step = 2048 * it
        kv = {"rollout/ep_len_mean": 200, "rollout/ep_rew_mean": float(-1200 + rng.normal(0, 50)),
              "rollout/success_rate": float(rng.uniform()),
              "time/fps": 1000 + it, "time/iterations": it, "time/time_elapsed": 2 * it, "time/total_timesteps": step}
        if it > 1:
            kv.update({"train/approx_kl": np.float32(rng.uniform(0, 0.02)), "train/clip_range": 0.2,
                       "train/clip_range_vf": "None", "train/loss": float(rng.normal(0, 0.05)),
                       "train/value_loss": float(rng.uniform(0, 1e-4)) if it % 7 else float("nan"),
                       "train/n_updates": 10 * (it - 1), "train/use_sde": False,
                       "train/policy_gradient_loss_with_a_long_name": float(-rng.uniform(0, 0.01))})
        text += sb3_table(kv)
        keep({k: v for k, v in kv.items() if not isinstance(v, np.float32)}, step)
        if "train/approx_kl" in kv:
            want.setdefault("train/approx_kl", []).append((step, float(str(kv["train/approx_kl"]))))
        if it % eval_every == 0:
            text += (f"Eval num_timesteps={step}, episode_reward=-1200.00 +/- 3.00\n"
                     "Episode length: 200.00 +/- 0.00\nNew best mean reward!\n")
            ev = {"eval/mean_ep_length": 200.0, "eval/mean_reward": -1200.0, "eval/success_rate": 0.25,
                  "time/total_timesteps": step}
            text += sb3_table(ev)
            keep(ev, step)
            text += "Early stopping at step 3 due to reaching max kl: 0.03\n"
    return text, want


def test_sb3_tables_as_its_logger_prints_them():
    """Sections, SB3's indent and its ``...`` truncation, ``%-8.3g``, values that are no number,
    one key under two sections, many tables (each row shape parsed column-wise), two
    trainings appended; and the same rows in a log SB3 did not write take nothing over."""
    rng = np.random.default_rng(7)
    first, want1 = ppo_tables(rng, 60)
    second, want2 = ppo_tables(rng, 12)
    text = first + second
    assert "|    policy_gradient_loss_with_a_lo... |" in text and "| nan " in text and "| None " in text
    data = read_bytes(text.encode(), "train.log")
    f = data.frame
    assert data.warnings == ["train.log: holds 2 trainings (the step falls back to the start); each is a run"]
    truncated = "train/policy_gradient_loss_with_a_lo..."
    assert set(f["metric"]) == set(want1) == set(want2)
    assert truncated in set(f["metric"]) and "rollout/success_rate" in set(f["metric"])
    for run, want in (("run1", want1), ("run2", want2)):
        for name, pts in want.items():
            got = points(f, name, run)
            assert got[0] == [s for s, _ in pts], (run, name)
            np.testing.assert_allclose(got[1], [v for _, v in pts], rtol=1e-12, err_msg=name)
    assert points(f, "eval/success_rate", "run1")[0] == [10240 * k for k in range(1, 13)]

    # detectron2's category table (tabulate's pipe format) in a log of key=value lines: no SB3 table
    other = "".join(f"step={i} loss={1 / i:.4f}\n" for i in range(1, 40))
    other += "|  category  | #instances   |\n|:----------:|:-------------|\n| component  | 147          |\n"
    other += sb3_table({"train/lr": 0.001})  # one table without a step (a config printed once)
    data = read_bytes(other.encode(), "train.log")
    assert set(data.frame["metric"]) == {"loss"}


def test_baselines_tables_flat_keys_and_their_step_keys():
    ppo2 = "".join(baselines_table({"misc/total_timesteps": 2048 * u, "misc/nupdates": u, "fps": 500 + u,
                                    "eprewmean": -100.0 + u, "loss/policy_loss": -0.01 * u,
                                    "misc/explained_variance_of_the_value_fn": 0.5})
                   for u in range(1, 41))
    f = read_bytes(ppo2.encode(), "log.txt").frame
    assert "misc/explained_variance_of_..." in set(f["metric"]) and "misc/total_timesteps" not in set(f["metric"])
    # '%-8.3g' of the step: 2048 is printed 2.05e+03
    assert points(f, "eprewmean")[0][:3] == [2050, 4100, 6140]
    assert points(f, "loss/policy_loss")[1][:2] == [-0.01, -0.02]

    deepq = "".join(baselines_table({"steps": 1000 * u, "episodes": 3 * u, "mean 100 episode reward": 10.0 * u,
                                     "% time spent exploring": 90 - u}) for u in range(1, 5))
    f = read_bytes(deepq.encode(), "log.txt").frame
    assert set(f["metric"]) == {"episodes", "mean 100 episode reward", "% time spent exploring"}
    assert points(f, "mean 100 episode reward") == ([1000, 2000, 3000, 4000], [10.0, 20.0, 30.0, 40.0])

    counted = "".join(baselines_table({"eprewmean": 1.0 * u, "loss": 2.0 / u}) for u in range(1, 4))
    f = read_bytes(counted.encode(), "log.txt").frame
    assert points(f, "loss")[0] == [1, 2, 3]  # no step key anywhere: the tables are counted
