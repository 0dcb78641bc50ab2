"""Valid logs to mutate: each format and layout the readers support, written by real writers
where there is one (TensorBoard's EventFileWriter, tensorboardX, the csv and json modules)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import writers as W


def event_seeds(d: Path) -> dict[str, bytes]:
    d.mkdir(parents=True, exist_ok=True)
    out = {}
    pts = [(tag, s, 1.0 / (s + 1)) for s in range(12) for tag in ("train/loss", "lr")]
    out["simple_value"] = W.write_scalars(d / "a", pts).read_bytes()
    events = []
    for s in range(10):
        events.append(W.summary_event(s, W.BASE_WALL + s, [
            W.scalar_value("loss", 2.0 - s / 10, "tf2_metadata_first", first=s == 0),
            W.scalar_value("val", math.nan if s == 7 else 1.0, "double_val"),
            W.tf2_histogram_value("w", first=s == 0), W.image_value("img"),
        ]))
        if s == 6:
            events.append(W.session_start(4, W.BASE_WALL + s))
    out["tf2_mixed"] = W.write_events(d / "b", events).read_bytes()
    try:
        out["tensorboardx"] = W.write_tensorboardx(d / "c", [("Loss/train", s, 1.0 / (s + 1)) for s in range(15)],
                                                   purge_step=None).read_bytes()
    except ImportError:  # pragma: no cover - tensorboardX is a dev extra
        pass
    return out


CSV_SEEDS = {
    "keras.log": "epoch,loss,val_loss,lr\n" + "".join(f"{e},{1 / (e + 1)!r},{1.2 / (e + 1)!r},0.001\n" for e in range(12)),
    "metrics.csv": "epoch,step,train_loss,val_loss\n" + "".join(
        f"{s // 5},{s},{1 / (s + 1)!r},\n" + (f"{s // 5},{s},,{0.9 / (s + 1)!r}\n" if s % 5 == 4 else "")
        for s in range(15)),
    "long.csv": "step,metric,value\n" + "".join(f"{s},{m},{v!r}\n" for s in range(8) for m, v in
                                               (("loss", 1 / (s + 1)), ("val_loss", math.nan if s == 3 else 0.5))),
    "semi.csv": "\ufeffstep;wall_time;loss\n" + "".join(f"{s};{1.7e9 + s};{2 - s / 10}\n" for s in range(10)),
    "run-x-tag-loss.csv": "Wall time,Step,Value\n" + "".join(f"{1.7e9 + s},{s * 10},{1 / (s + 1)!r}\n" for s in range(10)),
}

JSON_SEEDS = {
    "history.json": json.dumps({"loss": [2.0, 1.5, math.nan, 1.0], "val_loss": [2.1, 1.6, 1.4, math.inf],
                                "lr": [0.1, 0.1, 0.05, 0.05]}),
    "epochs.json": json.dumps([{"epoch": e, "loss": 1 / (e + 1), "val_loss": None if e == 2 else 0.5} for e in range(6)]),
    "trainer_state.json": json.dumps({"global_step": 30, "log_history": [
        {"step": s, "loss": 1 / (s + 1), "learning_rate": 1e-4, "grad_norm": 2.0} for s in range(0, 30, 5)] + [
        {"step": 30, "eval_loss": 0.4}]}),
    "wrapped.json": json.dumps({"history": {"loss": [1.0, 0.5], "acc": [0.1, 0.6]}, "params": {"epochs": 2}}),
}


def console_seeds() -> dict[str, str]:
    """A short log of each console shape, as the tools print it (tests/console_shapes.py)."""
    import console_shapes as C

    loss = C.curve(60, nan_at=55)
    return {
        "hf.log": C.hf_trainer(loss, every=2, eval_every=20)[0],
        "keras.log": C.keras(loss[:6])[0],
        "nanogpt.log": C.nanogpt(loss, eval_interval=20)[0],
        "llmc.log": C.llmc_console(loss)[0],
        "main.log": C.llmc_logfile(loss)[0],
        "megatron.log": C.megatron(loss, every=2, eval_every=20)[0],
        "metrics.json": C.detectron2(loss, every=2)[0],
        "kv.log": C.generic_kv(loss)[0],
        "epochs.log": C.epoch_counters([loss[:20], loss[20:40]], 20, 2)[0],
        "long.txt": C.long_lines(loss)[0],
    }


CONSOLE_SEEDS = console_seeds()
