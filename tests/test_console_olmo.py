"""OLMo's and OLMo-core's console logs: a step line, then one indented ``name=value`` line per
metric, behind a tab-separated ``time  host:rank  module:line  LEVEL`` prefix. A real excerpt
(tests/data/console/PROVENANCE.md) and logs written with the trainers' own formatting code:
``logging.Formatter`` with OLMo's format string, ``format_float`` copied from ``olmo/train.py``
(``Trainer.log_metrics_to_console``) and ``olmo_core/utils.py``, and the step markers of
``log_metrics_to_console`` and ``ConsoleLoggerCallback._get_progress_marker``."""

from __future__ import annotations

import io
import logging
import math
import re
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from lossctl.cli import app
from lossctl.readers.console import read_bytes, reader
from lossctl.storage import as_blob

FIXTURE = Path(__file__).parent / "data" / "console" / "olmo_train_1B_excerpt.log"


def olmo_format_float(value: float) -> str:  # allenai/OLMo olmo/train.py
    if value < 0.0001:
        return str(value)  # scientific notation
    elif value > 1000:
        return f"{int(value):,d}"
    elif value > 100:
        return f"{value:.1f}"
    elif value > 10:
        return f"{value:.2f}"
    elif value > 1:
        return f"{value:.3f}"
    else:
        return f"{value:.4f}"


def core_format_float(value: float) -> str:  # allenai/OLMo-core src/olmo_core/utils.py
    if math.isnan(value):
        return "nan"
    elif math.isinf(value):
        return "inf" if value > 0 else "-inf"
    abs_value = abs(value)
    if abs_value == 0.0:
        return "0.0"
    elif abs_value >= 1e9:
        for suffix, factor in (("E", 1e18), ("P", 1e15), ("T", 1e12), ("B", 1e9)):
            if abs_value >= factor:
                scaled = value / factor
                abs_scaled = abs(scaled)
                if abs_scaled > 100:
                    decimals = 1
                elif abs_scaled > 10:
                    decimals = 2
                elif abs_scaled > 1:
                    decimals = 3
                else:
                    decimals = 4
                scaled_str = f"{scaled:,.{decimals}f}"
                return f"{scaled_str}{suffix}"
    if abs_value < 0.0001:
        return f"{value:.2E}"
    elif abs_value >= 1000:
        return f"{int(value):,d}"
    elif abs_value > 100:
        return f"{value:.1f}"
    elif abs_value > 10:
        return f"{value:.2f}"
    elif abs_value > 1:
        return f"{value:.3f}"
    else:
        return f"{value:.4f}"


def as_read(printed: str) -> float:
    """What a printed value stands for (the reference the reader must match)."""
    scale = {"B": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}.get(printed[-1:], 1.0)
    return float(printed.rstrip("BTPE").replace(",", "")) * scale


class Log:
    """A logger with the handler OLMo's and OLMo-core's ``prepare_cli_environment`` install when
    stdout is not a terminal (``olmo/util.py``, ``olmo_core/utils.py``)."""

    def __init__(self, name: str):
        self.buf = io.StringIO()
        handler = logging.StreamHandler(self.buf)
        formatter = logging.Formatter(
            "%(asctime)s\t%(hostname)s:%(local_rank)s\t%(name)s:%(lineno)s\t%(levelname)s\t%(message)s")
        formatter.default_time_format = "%Y-%m-%d %H:%M:%S"
        formatter.default_msec_format = "%s.%03d"
        handler.setFormatter(formatter)
        self.log = logging.Logger(name)  # noqa: LOG001 - its own handler, outside the logging tree
        self.log.addHandler(handler)

    def info(self, msg: str) -> None:
        self.log.info(msg, extra={"hostname": "jupiter-cs-aus-133", "local_rank": 0})


def olmo_metrics(log: Log, prefix: str, metrics: dict) -> None:  # Trainer.log_metrics_to_console
    log.info(f"{prefix}\n" + "\n".join(
        [f"    {name}={olmo_format_float(value)}" for name, value in metrics.items()
         if name == "optim/total_grad_norm" or not name.startswith("optim/")]))


def core_metrics(log: Log, step: int, max_steps, eta: str | None, metrics: dict) -> None:
    # ConsoleLoggerCallback.log_metrics and _get_progress_marker
    if eta is not None:
        prefix = f"[step={step}/{max_steps or '???'},epoch=0,eta={eta}]"
    else:
        prefix = f"[step={step}/{max_steps or '???'},epoch=0]"
    log.info(f"{prefix}\n" + "\n".join([f"    {name}={core_format_float(value)}" for name, value in metrics.items()]))


def points(frame, metric, run=None):
    f = frame[frame["metric"] == metric]
    if run is not None:
        f = f[f["run"] == run]
    return f["step"].tolist(), f["value"].tolist()


def test_real_olmo_log_reads_each_metric_line_at_the_step_above_it():
    data = reader.read(as_blob(FIXTURE))
    f = data.frame
    assert data.warnings == []
    assert set(f["metric"]) == {
        "System/Peak GPU Memory (MB)", "optim/total_grad_norm", "train/CrossEntropyLoss", "train/Perplexity",
        "throughput/total_tokens", "throughput/total_training_Gflops", "throughput/total_training_log_Gflops",
        "throughput/device/tokens_per_second", "throughput/device/batches_per_second",
        *(f"eval/downstream/{t}" for t in ("piqa_len_norm", "hellaswag_len_norm", "winogrande_acc",
                                            "openbook_qa_len_norm", "sciq_acc", "arc_easy_acc", "copa_acc"))}
    assert points(f, "train/CrossEntropyLoss") == ([1, 2, 3, 2000, 2001], [11.28, 10.74, 10.48, 4.028, 4.185])
    # thousands commas: 79,551 and 2,007,983,110 are numbers
    assert points(f, "train/Perplexity") == ([1, 2, 3, 2000, 2001], [79551.0, 46368.0, 35471.0, 56.14, 65.67])
    assert points(f, "throughput/total_training_Gflops")[1] == [1003991.0, 2007983.0, 3011974.0,
                                                                2007983110.0, 2008987101.0]
    # the pre-train system metrics at 0, as OLMo logs them to W&B
    assert points(f, "System/Peak GPU Memory (MB)") == ([0, 1, 2, 2000], [9418.0, 55073.0, 64486.0, 64486.0])
    # evaluations: the step printed above them, 2000; their [eval_step=1/5] progress is no step
    assert points(f, "eval/downstream/piqa_len_norm") == ([2000], [0.6])
    assert points(f, "eval/downstream/copa_acc") == ([2000], [0.55])
    assert len(f) == 49


def test_real_olmo_log_analyze_finds_the_loss(tmp_path):
    r = CliRunner().invoke(app, ["analyze", str(FIXTURE)])
    assert r.exit_code == 0, r.output
    assert "roles: loss=train/CrossEntropyLoss" in r.output
    assert "grad_norm=optim/total_grad_norm" in r.output
    assert "no loss series" not in r.output and "green-rain" not in r.output


def olmo_training(log: Log, rng, steps: int, run: int, want: dict) -> None:
    olmo_metrics(log, "Pre-train system metrics", {"System/Peak GPU Memory (MB)": 9418.4})
    want.setdefault("System/Peak GPU Memory (MB)", []).append((run, 0, 9418.0))
    for step in range(1, steps + 1):
        m = {"optim/total_grad_norm": float(rng.uniform(0.2, 90)), "optim/learning_rate_group0": 4e-4,
             "train/CrossEntropyLoss": 11.0 * math.exp(-step / 20) + 2,
             "train/Perplexity": math.exp(11.0 * math.exp(-step / 20) + 2),
             "throughput/total_tokens": 131072.0 * step, "throughput/total_training_Gflops": 1003991.7 * step,
             "train/ZLoss": 3e-6 / step, "train/neg": -float(rng.uniform(0, 5000))}
        olmo_metrics(log, f"[step={step}/{steps},epoch=0]", m)
        for k, v in m.items():
            if k == "optim/total_grad_norm" or not k.startswith("optim/"):
                want.setdefault(k, []).append((run, step, as_read(olmo_format_float(v))))
        if step % 30 == 0:
            log.info("Running evaluation for 'piqa'...")
            for i in range(5):
                log.info(f"[eval_step={i + 1}/5]")
            olmo_metrics(log, "piqa", {"eval/downstream/piqa_len_norm": 0.6})
            want.setdefault("eval/downstream/piqa_len_norm", []).append((run, step, 0.6))


def core_training(log: Log, rng, steps: int, run: int, want: dict) -> None:
    for step in range(1, steps + 1):
        m = {"train/CE loss": 3.0 - step / 50, "train/PPL": math.exp(3.0 - step / 50),
             "optim/total grad norm": float(rng.uniform(0.1, 2)), "optim/LR (group 0)": 3e-4,
             "throughput/total tokens": 1.311e9 * step, "throughput/device/TPS": float(rng.uniform(900, 90000)),
             "throughput/total flops": 1234.5e18 * step, "train/Z loss": -3e-6 * step,
             "train/masked labels (%)": float("nan"), "train/reward margin": -float(rng.uniform(1000, 99999))}
        core_metrics(log, step, None if step < 20 else steps, "1h2m3s" if step % 2 else None, m)
        for k, v in m.items():
            want.setdefault(k, []).append((run, step, as_read(core_format_float(v))))
        if step == 20:
            log.info("Running lm evals...")
            log.info("[eval=lm,step=5/10]")
            log.info("Finished lm evals in 12.3 seconds. Metrics:\n    c4_en-validation/CE loss=3.456\n"
                     "    c4_en-validation/PPL=31.69")
            log.info("Evaluation speed:\n    c4_en-validation/CE loss (+variants): 12.3 sec (10 batches)\n"
                     "    Total evaluation time: 12.3 seconds (10 batches)")
            want.setdefault("c4_en-validation/CE loss", []).append((run, 20, 3.456))
            want.setdefault("c4_en-validation/PPL", []).append((run, 20, 31.69))


def check(text: str, want: dict, runs: int) -> None:
    data = read_bytes(text.encode(), "train.log")
    f = data.frame
    assert set(f["metric"]) == set(want)
    labels = sorted(set(f["run"]), key=lambda r: int(r[3:]) if r != "." else 0)
    assert len(labels) == runs, data.warnings
    for name, pts in want.items():
        for run in range(1, runs + 1):
            exp = [(s, v) for r, s, v in pts if r == run]
            got = points(f, name, labels[run - 1])
            assert got[0] == [s for s, _ in exp], name
            np.testing.assert_allclose(got[1], [v for _, v in exp], rtol=1e-12, err_msg=name)
    assert not [w for w in data.warnings if "could not be read" in w or "printed again" in w]


def test_olmo_and_olmo_core_logs_as_their_code_prints_them():
    """Two trainings appended in each log, long enough that each shape is parsed column-wise;
    every printed value is read back, comma groups (``-4,321``) and scale letters included."""
    rng = np.random.default_rng(3)
    log, want = Log("olmo.train"), {}
    olmo_training(log, rng, 60, 1, want)
    olmo_training(log, rng, 45, 2, want)
    assert re.search(r"train/Perplexity=\d+,\d{3}\n", log.buf.getvalue())  # thousands commas
    check(log.buf.getvalue(), want, 2)
    log, want = Log("olmo_core.train.callbacks.console_logger"), {}
    core_training(log, rng, 40, 1, want)
    core_training(log, rng, 35, 2, want)
    assert "total tokens=1.311B" in log.buf.getvalue() and re.search(r"margin=-\d+,\d{3}\n", log.buf.getvalue())
    check(log.buf.getvalue(), want, 2)


def test_a_tab_separated_logging_prefix_is_no_metric():
    """``time\\thost:rank\\tmodule:line\\tLEVEL\\t`` before any line: the host and the module are
    not metrics (they were: ``jupiter-cs-aus-133``, ``train``). And an indented ``name=value``
    line in a log OLMo did not write (a config dump) stays out of it."""
    log = Log("train")
    for step in range(1, 40):
        log.info(f"step={step} loss={3 - step / 100:.4f}")
        if step == 1:
            log.info("Config:\n    lr=0.001\n    batch_size=32")
    data = read_bytes(log.buf.getvalue().encode(), "train.log")
    assert set(data.frame["metric"]) == {"loss"}
    assert points(data.frame, "loss")[0] == list(range(1, 40))
