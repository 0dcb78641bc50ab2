"""Reading large CSV and JSON logs: `lossctl analyze --format json` against the plain parse.

Each measurement is a whole fresh process on the same file (interpreter start and imports
included, as a user would run it); each process reports its own peak RSS (VmHWM). Per input:

- ``lossctl analyze``: ``python -m lossctl analyze --format json DIR``;
- ``plain parse``: ``pandas.read_csv(FILE)`` (CSV) or ``json.load`` (JSON) and nothing else;
- ``analysis alone``: the points of that parse made into the common frame outside the timer,
  then lossctl's analysis and JSON report timed alone (no reading, no imports).

The target is ``lossctl analyze <= 1.5 x (plain parse + analysis alone)``, peak RSS <= 2 x the
plain parse's. Inputs are generated under bench/data/ (gitignored) on first use.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "readers"
CSV_ROWS = 1_000_000
HF_ENTRIES = 300_000
EVAL_EVERY = 50  # one eval entry after every 50 training log entries

# Peak RSS from VmHWM (ru_maxrss survives fork + exec on Linux, so a child of a big parent
# would report the parent's size). Reported at exit, so `lossctl analyze`'s SystemExit is fine.
HWM = """
import atexit, sys
def _hwm():
    try:
        kb = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    except (OSError, StopIteration):
        import resource
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sys.stderr.write(f"\\nBENCH-HWM {kb}\\n")
atexit.register(_hwm)
"""
CLI = HWM + """
import runpy
{block}
sys.argv = ["lossctl", "analyze", "--format", "json", sys.argv[1]]
runpy.run_module("lossctl", run_name="__main__")
"""
# lossctl as installed (msgspec, the optional parser, when present), and without msgspec
VARIANTS = {"lossctl": CLI.replace("{block}", ""),
            "lossctl, no msgspec": CLI.replace("{block}", 'sys.modules["msgspec"] = None  # import fails')}
PARSE = {
    "csv": HWM + "import pandas as pd\ndf = pd.read_csv(sys.argv[1])\nprint(len(df))\n",
    "json": HWM + "import json\nwith open(sys.argv[1]) as f:\n    doc = json.load(f)\nprint(len(doc['log_history']))\n",
}
PARSE_NAMES = "pandas.read_csv(file) / json.load(file), a fresh process each"
# The points of the plain parse as the common frame (not timed), then analysis + JSON report.
ANALYSIS = HWM + """
import time
import numpy as np, pandas as pd
from lossctl.analysis import analyze_run
from lossctl.config import Config
from lossctl.frame import make_frame
from lossctl.renderers import RENDERERS
from lossctl.runs import Run
kind, path = sys.argv[2], sys.argv[1]
if kind == "csv":
    df = pd.read_csv(path)
    names = [c for c in df.columns if c not in ("epoch", "step")]
    cols = {c: df[c].to_numpy(np.float64) for c in names}
    steps = df["step"].to_numpy(np.int64)
else:
    import json
    with open(path) as f:
        rows = json.load(f)["log_history"]
    names = list(dict.fromkeys(k for r in rows for k in r if k not in ("step", "epoch")))
    steps = np.array([r["step"] for r in rows], dtype=np.int64)
    cols = {c: np.array([r.get(c, np.nan) for r in rows], dtype=np.float64) for c in names}
codes, st, vals = [], [], []
for i, c in enumerate(names):
    keep = ~np.isnan(cols[c])
    codes.append(np.full(int(keep.sum()), i, dtype=np.int32))
    st.append(steps[keep])
    vals.append(cols[c][keep])
metric = pd.Categorical.from_codes(np.concatenate(codes), categories=names)
frame = make_frame(metric, np.concatenate(st), None, np.concatenate(vals), run=".")
run = Run(".", str(path), kind, frame, [str(path)])
t0 = time.perf_counter()
out = RENDERERS["json"]([analyze_run(run, Config())], [], color=False, width=100)
print(len(frame), time.perf_counter() - t0)
"""


# Where lossctl's time goes: its reading alone (files to the common frame, in-process, after the
# imports) next to the plain parse in the same process, and the imports of `lossctl analyze`.
READ = HWM + """
{block}
import json, time
from pathlib import Path
import pandas as pd
from lossctl.runs import load_runs
kind, path = sys.argv[2], Path(sys.argv[1])
t0 = time.perf_counter()
points = sum(len(r.frame) for r in load_runs(path.parent).runs)
t_read = time.perf_counter() - t0
t0 = time.perf_counter()
if kind == "csv":
    pd.read_csv(path)
else:
    with open(path) as f:
        json.load(f)
print(points, t_read, time.perf_counter() - t0)
"""
STARTUP = HWM + "import lossctl.cli, lossctl.analysis, lossctl.renderers, lossctl.runs\n"


def make_csv(path: Path, rows: int = CSV_ROWS, seed: int = 0) -> None:
    """A Lightning ``CSVLogger`` metrics.csv logged every step: ``epoch,step,train_loss`` with
    float32 losses written as Python floats (``0.6931471824645996``), as Lightning writes them."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, rows)
    loss = ((0.2 + 2.1 * np.exp(-6 * t)) * np.exp(rng.normal(0, 0.1, rows))).astype(np.float32)
    steps = np.arange(rows)
    epochs = steps // 10_000
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w") as f:
        f.write("epoch,step,train_loss\n")
        chunk = 100_000
        f.writelines("".join(f"{e},{s},{v!r}\n" for e, s, v in
                            zip(epochs[a:a + chunk].tolist(), steps[a:a + chunk].tolist(),
                                loss[a:a + chunk].astype(np.float64).tolist())) for a in range(0, rows, chunk))
    tmp.replace(path)


def make_trainer_state(path: Path, entries: int = HF_ENTRIES, seed: int = 0) -> None:
    """A Hugging Face ``trainer_state.json`` (``json.dumps(..., indent=2, sort_keys=True)`` as
    the Trainer writes it) whose ``log_history`` holds ``entries`` entries: training entries
    (loss, grad_norm, learning_rate, epoch, step) and an eval entry after every EVAL_EVERY."""
    rng = np.random.default_rng(seed)
    n_eval = entries // (EVAL_EVERY + 1)
    n_train = entries - n_eval
    total = n_train * 10
    history, step = [], 0
    peak = 5e-5
    for i in range(n_train):
        step += 10
        frac = step / total
        loss = (0.3 + 2.0 * math.exp(-5 * frac)) * math.exp(rng.normal(0, 0.05))
        history.append({
            "epoch": step / (total / 3),
            "grad_norm": float(abs(rng.normal(1.5, 0.4))),
            "learning_rate": peak * min(1.0, frac * 50) * (1 - frac),
            "loss": round(loss, 4),
            "step": step,
        })
        if (i + 1) % EVAL_EVERY == 0 and len(history) < entries:
            history.append({
                "epoch": step / (total / 3),
                "eval_loss": (0.35 + 2.0 * math.exp(-5 * frac)) * math.exp(rng.normal(0, 0.01)),
                "eval_runtime": round(float(rng.uniform(20, 30)), 4),
                "eval_samples_per_second": round(float(rng.uniform(300, 400)), 3),
                "eval_steps_per_second": round(float(rng.uniform(9, 13)), 3),
                "step": step,
            })
    state = {
        "best_metric": None, "best_model_checkpoint": None, "epoch": 3.0, "eval_steps": 500,
        "global_step": step, "is_hyper_param_search": False, "is_local_process_zero": True,
        "is_world_process_zero": True, "log_history": history, "logging_steps": 10,
        "max_steps": total, "num_input_tokens_seen": 0, "num_train_epochs": 3, "save_steps": 500,
        "total_flos": 1.2e18, "train_batch_size": 8, "trial_name": None, "trial_params": None,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def ensure_inputs() -> dict[str, tuple[str, Path]]:
    """``{label: (kind, file)}``; each file alone in its run directory."""
    csv_path = DATA / "lightning_1m" / "metrics.csv"
    hf_path = DATA / "hf_300k" / "trainer_state.json"
    if not csv_path.exists():
        print("generating 1M-row metrics.csv ...", file=sys.stderr)
        make_csv(csv_path)
    if not hf_path.exists():
        print("generating 300k-entry trainer_state.json ...", file=sys.stderr)
        make_trainer_state(hf_path)
    return {"metrics.csv 1M x 3": ("csv", csv_path), "trainer_state 300k": ("json", hf_path)}


def _run(code: str, args: list[str], timeout: float) -> dict:
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout {timeout:.0f}s"}
    wall = time.perf_counter() - t0
    hwm = [ln for ln in proc.stderr.splitlines() if ln.startswith("BENCH-HWM ")]
    if proc.returncode not in (0, 1) or not hwm:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1][:100]}
    return {"seconds": wall, "rss_mb": int(hwm[-1].split()[1]) / 1024, "stdout": proc.stdout}


def measure(kind: str, path: Path, variant: str = "lossctl", repeat: int = 3, timeout: float = 600) -> dict:
    """Best of ``repeat`` for each of the three processes, run in turn (so that a busy moment of
    the machine hits all three); ratios of lossctl to the reference."""
    best: dict[str, dict] = {}
    for _ in range(repeat):
        for name, code, args in (("lossctl", VARIANTS[variant], [str(path.parent)]),
                                 ("parse", PARSE[kind], [str(path)]),
                                 ("analysis", ANALYSIS, [str(path), kind])):
            r = _run(code, args, timeout)
            if "error" in r:
                return {"error": f"{name}: {r['error']}"}
            if name == "analysis":
                points, inner = r["stdout"].split()[-2:]
                r["seconds"], r["points"] = float(inner), int(points)
            if name not in best or r["seconds"] < best[name]["seconds"]:
                best[name] = r
    split = {}
    for _ in range(repeat):
        block = 'sys.modules["msgspec"] = None' if "no msgspec" in variant else ""
        r = _run(READ.replace("{block}", block), [str(path), kind], timeout)
        if "error" not in r:
            _, t_read, t_parse = r["stdout"].split()[-3:]
            split = {k: min(v, split.get(k, v)) for k, v in (("read_s", float(t_read)), ("parse_in_s", float(t_parse)))}
        s = _run(STARTUP, [], timeout)
        if "error" not in s:
            split["startup_s"] = min(s["seconds"], split.get("startup_s", s["seconds"]))
    report = json.loads(best["lossctl"]["stdout"])
    points = sum(m["points"] for run in report["runs"] for m in run["metrics"].values())
    ref = best["parse"]["seconds"] + best["analysis"]["seconds"]
    return {
        "lossctl_s": best["lossctl"]["seconds"], "lossctl_rss": best["lossctl"]["rss_mb"],
        "parse_s": best["parse"]["seconds"], "parse_rss": best["parse"]["rss_mb"],
        "analysis_s": best["analysis"]["seconds"], "ref_s": ref,
        "x_ref": best["lossctl"]["seconds"] / ref,
        "x_rss": best["lossctl"]["rss_mb"] / best["parse"]["rss_mb"],
        "points": points, "ref_points": best["analysis"]["points"], **split,
    }


def has_msgspec() -> bool:
    return subprocess.run([sys.executable, "-c", "import msgspec"], capture_output=True).returncode == 0


def main(repeat: int = 3) -> list[dict]:
    rows = []
    for label, (kind, path) in ensure_inputs().items():
        variants = ["lossctl"] + (["lossctl, no msgspec"] if kind == "json" and has_msgspec() else [])
        for variant in variants:
            r = measure(kind, path, variant, repeat)
            r.update({"input": label, "variant": variant, "kind": kind, "mb": path.stat().st_size / 1e6})
            rows.append(r)
    return rows


if __name__ == "__main__":
    for row in main(repeat=int(sys.argv[1]) if len(sys.argv) > 1 else 1):
        print({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()})
