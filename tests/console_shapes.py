# ruff: noqa: UP031, UP032, SIM113 - the format strings are copied as the tools write them
"""Console output written as each tool prints it (format strings copied from the tools' source),
plus the same points as the CSV a logger would have written, for the console reader's tests.

Each printer takes a run (``steps``: per-step training loss, ``evals``: (step, val loss)) and
returns ``(console text, csv text)``; the CSV names every metric as the console reader does.
"""

from __future__ import annotations

import json
import math

TQDM = "\r{p:3d}%|{bar:<10}| {n}/{t} [00:01<00:09, 9.80it/s]"
WARNING = "/usr/lib/python3/site-packages/torch/utils/data/dataloader.py:558: UserWarning: This DataLoader will create 8 worker processes\n  warnings.warn(_create_warning_msg(\n"
TRACEBACK = ("Traceback (most recent call last):\n  File \"train.py\", line 12, in <module>\n"
             "    import wandb\nModuleNotFoundError: No module named 'wandb'\n")


def curve(n: int, diverge_at: int | None = None, nan_at: int | None = None) -> list[float]:
    out = []
    for s in range(n):
        v = 2.0 * math.exp(-s / (n / 6)) + 0.3 + 0.02 * math.sin(s * 1.7)
        if diverge_at is not None and s > diverge_at:
            v = (2.0 * math.exp(-diverge_at / (n / 6)) + 0.3) * math.exp((s - diverge_at) / (n / 20))
        if nan_at is not None and s >= nan_at:
            v = math.nan
        out.append(v)
    return out


def csv_of(rows: list[dict], step_key: str = "step") -> str:
    keys = [step_key] + sorted({k for r in rows for k in r} - {step_key})
    lines = [",".join(keys)]
    for r in rows:
        lines.append(",".join("" if k not in r else _cell(r[k]) for k in keys))
    return "\n".join(lines) + "\n"


def _cell(v) -> str:
    return "nan" if isinstance(v, float) and math.isnan(v) else repr(v)


def hf_trainer(loss: list[float], every: int = 10, eval_every: int = 100, g4: bool = False):
    """transformers: ``self.training_bar.write(str(logs))`` with logs rounded as in
    ``_maybe_log_save_evaluate`` (loss to 4 places; epoch to 2), tqdm's bar around it. With
    ``g4``, as current versions' ``ProgressCallback.on_log`` prints them: every float as
    ``f"{v:.4g}"``, a string."""
    if g4:
        def shown(logs):
            return {k: f"{v:.4g}" if isinstance(v, float) else v for k, v in logs.items()}

        def value(v):
            return float(f"{v:.4g}") if isinstance(v, float) else v
    else:
        def shown(logs):
            return logs

        def value(v):
            return v
    out, rows = ["***** Running training *****\n  Num examples = 1,000\n"], []
    count = 0
    steps = len(loss)
    for s in range(every, steps + 1, every):
        out.append(TQDM.format(p=100 * s // steps, bar="#" * (10 * s // steps), n=s, t=steps))
        count += 1
        logs = {"loss": round(loss[s - 1], 4), "grad_norm": 1.25 + 0.01 * (s % 7),
                "learning_rate": 5e-05 * (1 - s / steps), "epoch": round(s / 250, 2)}
        out.append("\r" + " " * 60 + "\r" + str(shown(logs)) + "\n")  # tqdm.write clears the bar first
        rows.append({"step": count, **{k: value(logs[k]) for k in ("loss", "grad_norm", "learning_rate", "epoch")}})
        if s % eval_every == 0:
            ev = {"eval_loss": round(loss[s - 1] * 1.1, 4), "eval_runtime": 1.23,
                  "eval_samples_per_second": 81.3, "eval_steps_per_second": 10.2, "epoch": round(s / 250, 2)}
            out.append(str(shown(ev)) + "\n")
            rows.append({"step": count, **{k: value(ev[k]) for k in
                                           ("eval_loss", "eval_runtime", "eval_samples_per_second",
                                            "eval_steps_per_second")}})
        if s == 5 * every:
            out.append(WARNING)
    out.append(str(shown({"train_runtime": 120.5, "train_samples_per_second": 8.3, "train_steps_per_second": 1.0,
                    "train_loss": 1.23, "epoch": 4.0})) + "\n")
    return "".join(out), csv_of(rows)


def keras(loss: list[float], epochs: int | None = None, verbose: int = 1, batches: int = 32):
    """keras/src/utils/progbar.py: verbose=1 rewrites the bar in place (``\\b`` * width then
    ``\\r``) and ends the epoch with the validation metrics; verbose=2 prints one line per epoch.
    ``verbose="keras1"`` / ``"keras2.0"``: Keras 1's and Keras 2.0-2.2's verbose=2 line
    (``keras/utils/generic_utils.py`` Progbar: ``'%ds'``, then ``' - %.0fs'``, each metric as
    ``' - %s:' % k`` and ``' %.4f'``, or ``' %.4e'`` at or below 1e-3)."""
    epochs = epochs or len(loss)
    out, rows = [], []
    width = 0
    for e in range(epochs):
        out.append(f"Epoch {e + 1}/{epochs}\n")
        val = loss[e] * 1.15
        if verbose == 1:
            for b in (1, 8, 16, 24, batches):
                final = b == batches
                bar = f"\x1b[1m{b:2d}/{batches}\x1b[0m \x1b[32m{'━' * (20 * b // batches)}\x1b[0m\x1b[37m{'━' * (20 - 20 * b // batches)}\x1b[0m"
                info = f" \x1b[1m{'1s' if final else '0s'}\x1b[0m 5ms/step - accuracy: {0.5 + e / (2 * epochs):.4f} - loss: {loss[e] if final else loss[e] * 1.01:.4f}"
                if final:
                    info += f" - val_accuracy: {0.5 + e / (3 * epochs):.4f} - val_loss: {val:.4f}"
                out.append("\b" * width + "\r" + bar + info + ("\n" if final else ""))
                width = len(bar) + len(info) - 34
        elif verbose == 2:
            out.append(f"{batches}/{batches} - 1s - 5ms/step - accuracy: {0.5 + e / (2 * epochs):.4f} - "
                       f"loss: {loss[e]:.4f} - val_accuracy: {0.5 + e / (3 * epochs):.4f} - val_loss: {val:.4f}\n")
        else:  # Keras 1 (info = '%ds' % ...) and Keras 2.0-2.2 (info = ' - %.0fs' % ...), verbose=2
            info = "65s" if verbose == "keras1" else " - 65s"
            for k, v in (("loss", loss[e]), ("acc", 0.5 + e / (2 * epochs)), ("val_loss", val),
                         ("val_acc", 0.5 + e / (3 * epochs))):
                info += " - %s:" % k + (" %.4f" % v if v > 1e-3 else " %.4e" % v)
            out.append(info + "\n")
        acc = "acc" if verbose in ("keras1", "keras2.0") else "accuracy"
        rows.append({"epoch": e, acc: float(f"{0.5 + e / (2 * epochs):.4f}"), "loss": float(f"{loss[e]:.4f}"),
                     f"val_{acc}": float(f"{0.5 + e / (3 * epochs):.4f}"), "val_loss": float(f"{val:.4f}")})
    return "".join(out), csv_of(rows, "epoch")


def nanogpt(loss: list[float], eval_interval: int = 100, log_interval: int = 1):
    """nanoGPT train.py: ``print(f"iter {iter_num}: loss {lossf:.4f}, time {dt*1000:.2f}ms, mfu
    {running_mfu*100:.2f}%")`` and ``print(f"step {iter_num}: train loss {losses['train']:.4f}, val
    loss {losses['val']:.4f}")``."""
    out, rows = ["tokens per iteration will be: 16,384\nInitializing a new model from scratch\nnumber of parameters: 10.65M\n"], []
    for it, v in enumerate(loss):
        if it % eval_interval == 0:
            tl, vl = v * 0.98, v * 1.05
            out.append(f"step {it}: train loss {tl:.4f}, val loss {vl:.4f}\n")
            rows.append({"step": it, "train loss": float(f"{tl:.4f}"), "val loss": float(f"{vl:.4f}")})
        if it % log_interval == 0:
            mfu = -100.0 if it < 5 else 30.12
            out.append(f"iter {it}: loss {v:.4f}, time {12.34 + it % 3:.2f}ms, mfu {mfu:.2f}%\n")
            rows.append({"step": it, "loss": float(f"{v:.4f}"), "time": float(f"{12.34 + it % 3:.2f}"), "mfu": mfu})
    return "".join(out), csv_of(rows)


def llmc_console(loss: list[float], z: bool = True, mfu: bool = True, val_every: int = 20):
    """llm.c train_gpt2.cu: ``printf0("step %4d/%d | loss %7.6f (%+.2fz)| norm %6.4f (%+.2fz)| lr
    %.2e | %.2f ms | %.1f%% bf16 MFU | %.0f tok/s\\n", ...)``, and ``printf0("val loss %f\\n",
    val_loss)`` before the step's line. ``z=False``: train_gpt2.py's ``print0(f"step {step+1:4d}/
    {args.num_iterations} | train loss {lossf:.6f} | norm {norm:.4f} | lr {lr:.2e} |
    ({(t1-t0)*1000:.2f} ms | {tokens_per_second:.0f} tok/s)")``; ``mfu=False`` drops the MFU field."""
    n = len(loss)
    out, rows = [], []
    for step, v in enumerate(loss):
        if step % val_every == 0:
            out.append("val loss %f\n" % (v * 1.05))
            rows.append({"step": step, "val loss": float("%f" % (v * 1.05))})
        if z:
            fmt = "step %4d/%d | loss %7.6f (%+.2fz)| norm %6.4f (%+.2fz)| lr %.2e | %.2f ms | "
            line = fmt % (step + 1, n, v, 0.12, 1.2345, -0.3, 3e-4, 120.33)
            line += ("%.1f%% bf16 MFU | " % 45.2 if mfu else "") + "%.0f tok/s\n" % 123456.0
            row = {"step": step + 1, "loss": float("%7.6f" % v), "loss z": 0.12, "norm": 1.2345,
                   "norm z": -0.3, "lr": 3e-4, "ms": 120.33, "tok/s": 123456.0}
            if mfu:
                row["% bf16 MFU"] = 45.2
        else:
            line = (f"step {step + 1:4d}/{n} | train loss {v:.6f} | norm {1.2345:.4f} | lr {3e-4:.2e} | "
                    f"({120.33:.2f} ms | {123456.0:.0f} tok/s)\n")
            row = {"step": step + 1, "train loss": float(f"{v:.6f}"), "norm": 1.2345, "lr": 3e-4,
                   "ms": 120.33, "tok/s": 123456.0}
        out.append(line)
        rows.append(row)
    return "".join(out), csv_of(rows)


def llmc_logfile(loss: list[float], val_every: int = 20):
    """llm.c train_gpt2.py's -o main.log: ``f.write("s:%d trl:%f\\n" % (step, lossf))`` and
    ``f.write("s:%d tel:%f\\n" % (step, val_loss))``."""
    out, rows = [], []
    for step, v in enumerate(loss):
        if step % val_every == 0:
            out.append("s:%d tel:%f\n" % (step, v * 1.05))
            rows.append({"step": step, "val loss": float("%f" % (v * 1.05))})
        out.append("s:%d trl:%f\n" % (step, v))
        rows.append({"step": step, "train loss": float("%f" % v)})
    return "".join(out), csv_of(rows)


def megatron(loss: list[float], every: int = 10, eval_every: int = 100, nan_iters: dict | None = None):
    """Megatron-LM training_log: the fields and format specs of megatron/training/training.py."""
    n = len(loss)
    out, rows = [], []
    for it in range(every, n + 1, every):
        v = loss[it - 1]
        nans = (nan_iters or {}).get(it, 0)
        s = f" [2026-11-30 12:{it // 60 % 60:02d}:{it % 60:02d}.123456]"
        s += " iteration {:8d}/{:8d} |".format(it, n)
        s += " consumed samples: {:12d} |".format(it * 128)
        s += " elapsed time per iteration (ms): {:.1f} |".format(1234.5)
        s += f" learning rate: {3e-4:.6E} |"
        s += f" global batch size: {128:5d} |"
        s += " {}: {:.6E} |".format("lm loss", v)
        s += f" loss scale: {1.0:.1f} |"
        s += f" grad norm: {1.234:.3f} |"
        s += " number of skipped iterations: {:3d} |".format(nans)
        s += " number of nan iterations: {:3d} |".format(nans)
        out.append("[rank0]:" + s + "\n")
        rows.append({"step": it, "elapsed time per iteration (ms)": 1234.5, "learning rate": float(f"{3e-4:.6E}"),
                     "lm loss": float(f"{v:.6E}"), "grad norm": 1.234, "number of skipped iterations": nans,
                     "number of nan iterations": nans})
        if it % eval_every == 0:
            val = v * 1.1
            out.append("-" * 100 + "\n")
            out.append(f" validation loss at iteration {it} | " + "{} value: {:.6E} | ".format("lm loss", val)
                       + "{} PPL: {:.6E} | ".format("lm loss", math.exp(min(20, val))) + "\n")
            out.append("-" * 100 + "\n")
            rows.append({"step": it, "validation lm loss": float(f"{val:.6E}"),
                         "validation lm loss PPL": float("{:.6E}".format(math.exp(min(20, val))))})
    return "".join(out), csv_of(rows)


def detectron2(loss: list[float], every: int = 20):
    """detectron2 JSONWriter: ``json.dumps(to_save, sort_keys=True)`` per line of metrics.json."""
    import json

    out, rows = [], []
    for it in range(every - 1, len(loss), every):
        d = {"data_time": 0.0123, "eta_seconds": 100.0, "iteration": it, "loss_box_reg": loss[it] / 3,
             "lr": 0.0004, "time": 0.25, "total_loss": loss[it]}
        out.append(json.dumps(d, sort_keys=True) + "\n")
        rows.append({"step": it, **{k: v for k, v in d.items() if k != "iteration"}})
    return "".join(out), csv_of(rows)


def generic_kv(loss: list[float], sep: str = " "):
    """A hand-written loop: ``logger.info(f"step={step} loss={loss:.4f} lr={lr:.1e}")``."""
    out, rows = [], []
    for step, v in enumerate(loss):
        out.append(f"INFO 2026-11-30 12:00:{step % 60:02d},123 - step={step}{sep}loss={v:.4f}{sep}lr={1e-4:.1e}\n")
        rows.append({"step": step, "loss": float(f"{v:.4f}"), "lr": 1e-4})
    return "".join(out), csv_of(rows)


def epoch_counters(loss_per_epoch: list[list[float]], total: int, every: int):
    """The PyTorch tutorial loop: ``print(f"Epoch [{epoch+1}/{num_epochs}], Step [{i+1}/{total_step}],
    Loss: {loss.item():.4f}")``; the global step is (epoch - 1) * total + batch."""
    epochs = len(loss_per_epoch)
    out, rows = [], []
    for e, losses in enumerate(loss_per_epoch):
        for b in range(every, total + 1, every):
            v = losses[b - 1]
            out.append(f"Epoch [{e + 1}/{epochs}], Step [{b}/{total}], Loss: {v:.4f}\n")
            rows.append({"step": e * total + b, "Loss": float(f"{v:.4f}")})
    return "".join(out), csv_of(rows)


def long_lines(loss: list[float], val_every: int = 10):
    """``STEP NAME VALUE`` written by hand: ``print(step, "train", loss)``."""
    out, rows = [], []
    for s, v in enumerate(loss):
        out.append(f"{s} train {v:.4f}\n")
        rows.append({"step": s, "train": float(f"{v:.4f}")})
        if s % val_every == 0:
            out.append(f"{s} val {v * 1.1:.4f}\n")
            rows.append({"step": s, "val": float(f"{v * 1.1:.4f}")})
    return "".join(out), csv_of(rows)


def epoch_summary(train: list[float], val: list[float]):
    """``print(f"Epoch {epoch + 1}/{epochs} - Train Loss: {tl:.4f}, Val Loss: {vl:.4f}")``: the
    epoch counter written without a separator, the epoch as printed is the step."""
    out, rows = [], []
    for e, (t, v) in enumerate(zip(train, val)):
        out.append(f"Epoch {e + 1}/{len(train)} - Train Loss: {t:.4f}, Val Loss: {v:.4f}\n")
        if e % 5 == 0:
            out.append(f"  saved best model (val_loss={v:.4f})\n")
        rows.append({"step": e + 1, "Train Loss": float(f"{t:.4f}"), "Val Loss": float(f"{v:.4f}")})
    return "".join(out), csv_of(rows)


def logging_pipes(loss_per_epoch: list[list[float]], total: int, every: int):
    """``logging.basicConfig(level=logging.INFO)`` (``INFO:__main__:`` before each message) and
    ``logger.info(f"Epoch {epoch} | Step {i:4d}/{total} | Loss: {loss:.4f} | LR: {lr:.2e}")``, then
    ``logger.info(f"Epoch {epoch} completed in {t:.2f}s | Avg Loss: {avg:.4f}")``: the global step
    is epoch * total + step (epochs from 0); the epoch's summary sits at its last step."""
    out, rows = [], []
    for e, losses in enumerate(loss_per_epoch):
        for i in range(0, total, every):
            v = losses[i]
            out.append(f"INFO:__main__:Epoch {e} | Step {i:4d}/{total} | Loss: {v:.4f} | LR: {3e-4:.2e}\n")
            rows.append({"step": e * total + i, "Loss": float(f"{v:.4f}"), "LR": 3e-4})
        avg = sum(losses[:total]) / total
        out.append(f"INFO:__main__:Epoch {e} completed in {4729.23 + e:.2f}s | Avg Loss: {avg:.4f}\n")
        rows.append({"step": e * total + (total - 1) // every * every, "Avg Loss": float(f"{avg:.4f}")})
    return "".join(out), csv_of(rows)


def epoch_batch_lines(loss_per_epoch: list[list[float]]):
    """``logging.basicConfig(format="%(asctime)s - %(levelname)s - %(message)s")`` and, every
    batch, ``logger.info(f"Epoch {epoch} - Batch loss: {loss:.4f}")`` (no batch counter), then
    ``logger.info(f"Epoch {epoch} - Average Train Loss: {avg:.4f}")``: the epoch is printed again
    and again, so the lines are counted in the order printed."""
    out, rows = [], []
    n = 0
    for e, losses in enumerate(loss_per_epoch, start=1):
        for k, v in enumerate(losses):
            out.append(f"2025-03-02 05:{16 + e:02d}:{k % 60:02d},962 - INFO - Epoch {e} - Batch loss: {v:.4f}\n")
            rows.append({"step": n, "Batch loss": float(f"{v:.4f}")})
            n += 1
        avg = sum(losses) / len(losses)
        out.append(f"2025-03-02 05:{16 + e:02d}:59,001 - INFO - Epoch {e} - Average Train Loss: {avg:.4f}\n")
        rows.append({"step": n, "Average Train Loss": float(f"{avg:.4f}")})
        n += 1
    return "".join(out), csv_of(rows)


def iter_spaced(loss: list[float], every: int = 20):
    """A self-play loop: ``print(f"iter {it}/{n} eps {eps:.2f} buf {size} loss {loss:.4f}
    vs-random {a:.3f} ({t:.0f}s)")``: ``name value`` pairs after a counter written the same way."""
    out, rows = [], []
    n = len(loss)
    for it in range(every, n + 1, every):
        v = loss[it - 1]
        eps = round(0.9 - 0.8 * it / n, 2)
        out.append(f"iter {it}/{n} eps {eps:.2f} buf {min(400000, 5000 * it)} loss {v:.4f} vs-random 0.667 ({3 * it}s)\n")
        rows.append({"step": it, "eps": eps, "buf": float(min(400000, 5000 * it)), "loss": float(f"{v:.4f}"),
                     "vs-random": 0.667})
    return "".join(out), csv_of(rows)


def repeated_names(train: list[float], val: list[float]):
    """``print(f"Epoch {e} | Train Loss: {tl:.4f} | Token Acc: {ta:.4f} | Val Loss: {vl:.4f} |
    Token Acc: {va:.4f}")``: the second ``Token Acc`` is the validation one."""
    out, rows = [], []
    for e, (t, v) in enumerate(zip(train, val)):
        ta, va = 0.05 + e / 1000, 0.06 + e / 1000
        out.append(f"Epoch {e} |             Train Loss: {t:.4f} | Token Acc: {ta:.4f} |             "
                   f"Val Loss: {v:.4f} | Token Acc: {va:.4f}\n")
        rows.append({"step": e, "Train Loss": float(f"{t:.4f}"), "Token Acc": float(f"{ta:.4f}"),
                     "Val Loss": float(f"{v:.4f}"), "Val Token Acc": float(f"{va:.4f}")})
    return "".join(out), csv_of(rows)


def modded_nanogpt(loss: list[float], val_every: int = 25):
    """modded-nanogpt's log file: the training script's own source first (``print0(code)``,
    whose ``def zeropower_via_newtonschulz5(G, steps=10, eps=1e-7):`` holds a step and a
    number), then ``step:{step}/{n} val_loss:{v:.4f} train_time:..ms step_avg:..ms`` and
    ``step:{step}/{n} train_loss:{t:.4f} train_time:..ms step_avg:..ms`` (the validation lines'
    timings are left out here: printed at the step of a training line, they are read once)."""
    n = len(loss)
    out = ["import os\n", "import torch\n", "def zeropower_via_newtonschulz5(G, steps=10, eps=1e-7):\n",
           "    a, b, c = (3.4445, -4.7750,  2.0315)\n", "=" * 100 + "\n"]
    rows = []
    for s in range(n + 1):
        if s % val_every == 0:
            v = loss[min(s, n - 1)] * 1.05
            out.append(f"step:{s}/{n} val_loss:{v:.4f}\n")
            rows.append({"step": s, "val_loss": float(f"{v:.4f}")})
        if s < n:
            t = loss[s]
            out.append(f"step:{s + 1}/{n} train_loss:{t:.4f} train_time:{(s + 1) * 74}ms step_avg:74.00ms\n")
            rows.append({"step": s + 1, "train_loss": float(f"{t:.4f}"), "train_time": float((s + 1) * 74)})
    return "".join(out), csv_of(rows)


def imagenet_meter(loss_per_epoch: list[list[float]], total: int, every: int):
    """pytorch/examples imagenet/main.py's ProgressMeter (copied into many repositories):
    ``'\\t'.join([prefix + '[' + fmt + '/' + fmt.format(num_batches) + ']'] + [str(meter) ...])``
    with prefix ``"Epoch: [{}]".format(epoch)``, meters ``'{name} {val:fmt} ({avg:fmt})'`` (Time
    ``:6.3f``, Loss ``:.4e``, Acc@1 ``:6.2f``) and ``progress.display(i + 1)``; validate() then
    prints its own progress (prefix ``'Test: '``) and ``' * Acc@1 {top1.avg:.3f} Acc@5
    {top5.avg:.3f}'``, read as ``Test Acc@1`` and ``Test Acc@5`` at the last training step."""
    w = len(str(total))
    out, rows = [], []
    for e, losses in enumerate(loss_per_epoch):
        for i in range(every - 1, total, every):
            v, acc = losses[i], 10.0 + e + i / total
            out.append(f"Epoch: [{e}][{i + 1:{w}d}/{total}]\tTime {0.123:6.3f} ({0.456:6.3f})\tData {0.001:6.3f} "
                       f"({0.01:6.3f})\tLoss {v:.4e} ({v * 1.01:.4e})\tAcc@1 {acc:6.2f} ({acc - 1:6.2f})\n")
            rows.append({"step": e * total + i + 1, "Time": 0.123, "Data": 0.001, "Loss": float(f"{v:.4e}"),
                         "Acc@1": float(f"{acc:6.2f}")})
        out += ["Test: [ 0/196]\tTime  1.234 ( 1.234)\tLoss 9.0000e-01 (9.0000e-01)\tAcc@1  75.00 ( 75.00)\n",
                f" * Acc@1 {12.5 + e:.3f} Acc@5 {30.0 + e:.3f}\n"]  # validate(): the evaluation's result
        rows.append({"step": rows[-1]["step"], "Test Acc@1": float(f"{12.5 + e:.3f}"),
                     "Test Acc@5": float(f"{30.0 + e:.3f}")})
    return "".join(out), csv_of(rows)


def dino_metric_logger(loss_per_epoch: list[list[float]], total: int, every: int):
    """DINO's main_dino.py (facebookresearch/dino): ``header = 'Epoch: [{}/{}]'.format(epoch,
    args.epochs)`` and utils.MetricLogger.log_every, which prints every ``every`` iterations
    ``'  '.join([header, '[{0:4d}/{1}]', 'eta: {eta}', '{meters}', 'time: {time}', 'data: {data}',
    'max mem: {memory:.0f}'])`` with meters ``'{name}: {median:.6f} ({global_avg:.6f})'`` (loss,
    lr, wd), then ``'{} Total time: {} ({:.6f} s / it)'`` and ``print("Averaged stats:",
    metric_logger)``; after the run, eval_linear.py's ``"Accuracy at epoch {epoch} of the network
    on the {len(dataset_val)} test images: {acc1:.1f}%"`` is prose, not a metric ``the``."""
    w = len(str(total))
    epochs = len(loss_per_epoch)
    out, rows = [], []
    for e, losses in enumerate(loss_per_epoch):
        header = f"Epoch: [{e}/{epochs}]"
        for i in [*range(0, total, every), total - 1]:
            v, lr, wd = losses[i], 1e-4 * (e * total + i) / (epochs * total), 0.04 + 0.001 * e
            out.append(f"{header}  [{i:{w}d}/{total}]  eta: 0:{(total - i) // 60:02d}:{(total - i) % 60:02d}  "
                       f"loss: {v:.6f} ({v * 1.1:.6f})  lr: {lr:.6f} ({lr / 2:.6f})  wd: {wd:.6f} ({wd:.6f})  "
                       f"time: {0.472772:.6f}  data: {0.000176:.6f}  max mem: 11482\n")
            rows.append({"step": e * total + i, "loss": float(f"{v:.6f}"), "lr": float(f"{lr:.6f}"),
                         "wd": float(f"{wd:.6f}"), "time": 0.472772, "data": 0.000176, "max mem": 11482.0})
        out.append(f"{header} Total time: 0:13:11 (0.506737 s / it)\n")
        out.append(f"Averaged stats: loss: {losses[-1]:.6f} ({sum(losses) / total:.6f})  lr: 0.000012 (0.000006)\n")
        out.append(f"Accuracy at epoch {e} of the network on the 10000 test images: {0.7 + e:.1f}%\n")
        rows.append({"step": rows[-1]["step"], "test images": float(f"{0.7 + e:.1f}")})
    return "".join(out), csv_of(rows)


def dl4j_score(loss: list[float], every: int = 100):
    """Deeplearning4j's ScoreIterationListener through SLF4J/logback: ``log.info("Score at
    iteration {} is {}", iterationCount, score)`` every ``every`` iterations, the score (the
    loss) printed as Java prints a double; logback's ``HH:mm:ss.SSS [thread] LEVEL logger - ``
    before it, and the network's other INFO lines between."""
    out = ["06:36:51.403 [main] INFO org.nd4j.linalg.factory.Nd4jBackend - Loaded [CpuBackend] backend\n",
           ("06:38:13.026 [main] INFO org.deeplearning4j.nn.multilayer.MultiLayerNetwork - Starting MultiLayerNetwork "
            "with WorkspaceModes set to [training: ENABLED; inference: ENABLED], cacheMode set to [NONE]\n")]
    rows = []
    for i in range(0, len(loss), every):
        t = 6 * 3600 + 38 * 60 + 16 + i
        out.append(f"{t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}.402 [main] INFO "
                   f"org.deeplearning4j.optimize.listeners.ScoreIterationListener - Score at iteration {i} is {loss[i]!r}\n")
        rows.append({"step": i, "Score": loss[i]})
    return "".join(out), csv_of(rows)


def arguments_then_epochs(train: list[float], test: list[float]):
    """A research script's logging (Ranked-List-Truncation run.py, ``logging.basicConfig(level=INFO)``):
    ``logging.info('{}'.format(vars(args)))`` first (a dict of text, flags and numbers: no log
    line), then per epoch a dashed rule, tqdm's ``Training for epoch_{}`` bar on stderr (``\\r``
    states), ``'\\nEpoch: {} | Epoch Time: {:.2f} s'``, ``'\\tTrain: loss = {} | f1 = {:.6f} | dcg =
    {:.6f}\\n'``, the test bar and ``'\\tTest: loss = {} | ...'``; the best metrics once at the end."""
    args = {"dataset_name": "drmm_tks", "batch_size": 63, "workers": 4, "model_name": "mtattncut",
            "criterion": "f1", "ft": False, "epochs": len(train), "lr": 3e-05, "dropout": 0.0, "cuda": False,
            "eval_interval": 5}
    out = [f"INFO:root:{args}\n", "INFO:root:\nTrain the mtattncut model: \n\n"]
    rows = []
    for e, (tr, te) in enumerate(zip(train, test)):
        out.append("INFO:root:" + "-" * 100 + "\n")
        out.append("".join(f"\rTraining for epoch_{e}: {25 * k:3d}%|{'#' * (k * 2):10s}| {k}/4 [00:0{k}<00:1{k}, "
                           f" 5.{k}4s/it]" for k in range(5)) + "\n")
        f1, dcg = 0.4 + e / 1000, 4.0 + e / 100
        out.append(f"INFO:root:\nEpoch: {e} | Epoch Time: {16.82 - e / 100:.2f} s\n")
        out.append(f"INFO:root:\tTrain: loss = {tr} | f1 = {f1:.6f} | dcg = {dcg:.6f}\n\n")
        out.append(f"\rTest after epoch_{e}:   0%|          | 0/1 [00:00<?, ?it/s]"
                   f"\rTest after epoch_{e}: 100%|##########| 1/1 [00:01<00:00,  1.02s/it]\n")
        out.append(f"INFO:root:\tTest: loss = {te} | f1 = {f1 + 0.2:.6f} | dcg = {dcg + 4:.6f}\n\n")
        rows.append({"step": e, "Epoch Time": float(f"{16.82 - e / 100:.2f}"), "Train loss": tr,
                     "Train f1": float(f"{f1:.6f}"), "Train dcg": float(f"{dcg:.6f}"), "Test loss": te,
                     "Test f1": float(f"{f1 + 0.2:.6f}"), "Test dcg": float(f"{dcg + 4:.6f}")})
    out.append("INFO:root:the best metric of this model: f1: 0.71 | dcg: 9.12\n")
    return "".join(out), csv_of(rows)


def caffe_solver(loss: list[float], display: int = 40, test_interval: int = 240):
    """BVLC Caffe's solver through glog (``I0712 22:28:04.844131 32223 solver.cpp:189] ``), as
    ``caffe train`` writes ``caffe.INFO``: every ``display`` iterations ``LOG(INFO) << "Iteration "
    << iter_ << ", loss = " << smoothed_loss`` and each output ``"    Train net output #" << k <<
    ": " << name << " = " << value`` (a loss output adds ``" (* " << weight << " = " << weight * value
    << " loss)"``), then sgd_solver's ``"Iteration " << iter_ << ", lr = " << rate``; every
    ``test_interval`` iterations, before that iteration's display, ``"Iteration " << iter_ << ",
    Testing net (#0)"`` and ``"    Test net output #" << i << ": " << name << " = " << mean``.
    Numbers as a C++ stream prints them (6 significant digits). A test result sits at the step
    of the training line before it (its ``Testing net`` line has no value)."""
    def g(v: float) -> str:
        return f"{v:.6g}"

    out = ["Log file created at: 2015/07/12 22:28:04\n", "Running on machine: gpu01\n",
           "I0712 22:28:04.000001 32223 caffe.cpp:113] Use GPU with device ID 0\n"]
    rows, last = [], None
    for it in range(0, len(loss), display):
        head = f"I0712 22:{28 + it // 1000 % 30:02d}:04.{it:06d} 32223 solver.cpp:"
        if it % test_interval == 0 and last is not None:
            acc = min(0.99, 0.1 + it / len(loss))
            out += [head + f"294] Iteration {it}, Testing net (#0)\n",
                    head + f"343]     Test net output #0: accuracy = {g(acc)}\n",
                    head + f"343]     Test net output #1: loss = {g(loss[it] * 1.1)} (* 1 = {g(loss[it] * 1.1)} loss)\n"]
            rows.append({"step": last, "Test accuracy": float(g(acc)), "Test loss": float(g(loss[it] * 1.1))})
        lr = 0.01 * 0.96 ** (it // 1000)
        out += [head + f"189] Iteration {it}, loss = {g(loss[it])}\n",
                head + f"204]     Train net output #0: loss = {g(loss[it])} (* 1 = {g(loss[it])} loss)\n",
                head.replace("solver.cpp:", "sgd_solver.cpp:") + f"106] Iteration {it}, lr = {g(lr)}\n"]
        rows.append({"step": it, "loss": float(g(loss[it])), "Train loss": float(g(loss[it])), "lr": float(g(lr))})
        last = it
    return "".join(out), csv_of(rows)


def paddleseg_train(loss: list[float], iters: int = 80000, log_iters: int = 10):
    """PaddleSeg's paddleseg/core/train.py: ``logger.info("[TRAIN] epoch: {}, iter: {}/{}, loss:
    {:.4f}, lr: {:.6f}, batch_cost: {:.4f}, reader_cost: {:.5f}, ips: {:.4f} samples/sec | ETA
    {}".format(...))`` with PaddleSeg's logger prefix ``2021-11-23 20:45:58 [INFO]\\t``, written
    to the launcher's ``log/workerlog.0``; ``ETA 24:15:14`` is a duration, not a value."""
    out, rows = [], []
    for k, v in enumerate(loss):
        it = (k + 1) * log_iters
        lr = 0.01 * (1 - it / iters) ** 0.9
        eta = (iters - it) * 1.09
        out.append(f"2021-11-23 20:{45 + k // 60 % 14:02d}:{k % 60:02d} [INFO]\t[TRAIN] epoch: {it // 2975 + 1}, "
                   f"iter: {it}/{iters}, loss: {v:.4f}, lr: {lr:.6f}, batch_cost: 1.0917, reader_cost: 0.00013, "
                   f"ips: 1.8320 samples/sec | ETA {int(eta) // 3600:02d}:{int(eta) // 60 % 60:02d}:{int(eta) % 60:02d}\n")
        rows.append({"step": it, "loss": float(f"{v:.4f}"), "lr": float(f"{lr:.6f}"), "batch_cost": 1.0917,
                     "reader_cost": 0.00013, "ips": 1.832})
    return "".join(out), csv_of(rows)


def ppdet_train(loss_per_epoch: list[list[float]], steps_per_epoch: int = 727, every: int = 50):
    """PaddleDetection's LogPrinter (ppdet/engine/callbacks.py): ``'Epoch: [{}] [{' + space_fmt +
    '}/{}]'``, ``'learning_rate: {lr:.6f}'``, the losses (``{:.6f}``), ``'eta: {eta}'``
    (str(timedelta): ``4 days, 0:31:22``), ``batch_cost``, ``data_cost``, ``ips: .. images/s``,
    behind ppdet's logger prefix ``[03/08 11:21:02] ppdet.engine INFO: ``; its evaluation prints
    ``Eval iter: 100`` (progress, not a curve)."""
    out, rows = [], []
    w = len(str(steps_per_epoch))
    for e, losses in enumerate(loss_per_epoch):
        for i in range(0, steps_per_epoch, every):
            v = losses[i]
            lr = 1e-4 * min(1.0, (e * steps_per_epoch + i + 1) / 2000)
            eta = (len(loss_per_epoch) - e) * 93_000 - i * 120
            out.append(f"[03/08 {11 + e:02d}:{i // 60 % 60:02d}:02] ppdet.engine INFO: Epoch: [{e}] "
                       f"[{i:>{w}}/{steps_per_epoch}] learning_rate: {lr:.6f} loss_class: {v * 0.4:.6f} "
                       f"loss_bbox: {v * 0.6:.6f} loss: {v:.6f} eta: {eta // 86400} day{'s' if eta // 86400 != 1 else ''}, "
                       f"{eta % 86400 // 3600}:{eta % 3600 // 60:02d}:{eta % 60:02d} batch_cost: 2.5055 data_cost: 0.0018 "
                       f"ips: 1.5965 images/s\n")
            rows.append({"step": e * steps_per_epoch + i, "learning_rate": float(f"{lr:.6f}"),
                         "loss_class": float(f"{v * 0.4:.6f}"), "loss_bbox": float(f"{v * 0.6:.6f}"),
                         "loss": float(f"{v:.6f}"), "batch_cost": 2.5055, "data_cost": 0.0018, "ips": 1.5965})
        out += [f"[03/08 {11 + e:02d}:59:00] ppdet.engine INFO: Eval iter: {k}\n" for k in (0, 100, 200)]
    return "".join(out), csv_of(rows)


def yolox_trainer(loss_per_epoch: list[list[float]], max_iter: int = 1849, every: int = 10):
    """YOLOX's Trainer.after_iter (yolox/core/trainer.py) through loguru
    (``{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <8} | {name}:{function}:{line} - {message}``):
    ``"{}, mem: {:.0f}Mb, {}, {}, lr: {:.3e}".format(progress_str, mem, time_str, loss_str, lr) +
    ", size: {:d}, {}".format(size, eta_str)`` with ``progress_str = "epoch: {}/{}, iter: {}/{}"``,
    the time meters ``"{}: {:.3f}s"``, the losses ``"{}: {:.1f}"`` and ``eta_str = "ETA: {}"`` of a
    timedelta (``1 day, 2:03:04``)."""
    out, rows = [], []
    epochs = len(loss_per_epoch)
    for e, losses in enumerate(loss_per_epoch, start=1):
        for i in range(every, max_iter + 1, every):
            v = losses[i - 1]
            parts = {"iou_loss": v * 0.3, "l1_loss": 0.0, "conf_loss": v * 0.5, "cls_loss": v * 0.2}
            lr = 1e-2 * min(1.0, ((e - 1) * max_iter + i) / 5000)
            eta = (epochs - e + 1) * max_iter * 2 - i * 2
            eta_str = (f"{eta // 86400} day{'s' if eta // 86400 != 1 else ''}, " if eta >= 86400 else "") + \
                f"{eta % 86400 // 3600}:{eta % 3600 // 60:02d}:{eta % 60:02d}"
            loss_str = ", ".join(f"{k}: {x:.1f}" for k, x in {"total_loss": v, **parts}.items())
            out.append(f"2023-11-27 14:{12 + i // 600:02d}:27.669 | INFO     | yolox.core.trainer:after_iter:278 - "
                       f"epoch: {e}/{epochs}, iter: {i}/{max_iter}, mem: 2783Mb, iter_time: 0.512s, data_time: 0.003s, "
                       f"{loss_str}, lr: {lr:.3e}, size: 640, ETA: {eta_str}\n")
            rows.append({"step": (e - 1) * max_iter + i, "mem": 2783.0, "iter_time": 0.512, "data_time": 0.003,
                         **{k: float(f"{x:.1f}") for k, x in {"total_loss": v, **parts}.items()},
                         "lr": float(f"{lr:.3e}"), "size": 640.0})
    return "".join(out), csv_of(rows)


def fastai_table(train: list[float], valid: list[float], v2: bool = False):
    """fastai's table through fastprogress's ConsoleProgressBar.write(line, table=True): the names
    padded to 8 characters (``name + ' ' * (8 - len(name))``) joined by two spaces, then each row's
    values padded to their name's width plus two (``t + ' ' * (2 + len(name) - len(t))``); values
    ``str()`` of the int epoch and ``f'{v:.6f}'``; fastai v1's Recorder counts epochs from 1 and
    ends with ``Total time: 02:25``, v2 from 0 with a ``time`` column (``format_time``: ``00:12``)."""
    names = ["epoch", "train_loss", "valid_loss", "accuracy"] + (["time"] if v2 else [])
    padded = [n + " " * (8 - len(n)) if len(n) < 8 else n for n in names]
    out, rows = ["  ".join(padded) + "\n"], []
    for k, (t, v) in enumerate(zip(train, valid)):
        e = k if v2 else k + 1
        acc = 0.5 + k / (2 * len(train))
        vals = [str(e), f"{t:.6f}", f"{v:.6f}", f"{acc:.6f}"] + ([f"00:{12 + k % 40:02d}"] if v2 else [])
        out.append("".join(x + " " * (2 + len(n) - len(x)) for x, n in zip(vals, padded)) + "\n")
        rows.append({"step": e, "train_loss": float(f"{t:.6f}"), "valid_loss": float(f"{v:.6f}"),
                     "accuracy": float(f"{acc:.6f}")})
    if not v2:
        out.append("Total time: 1:11:26\n")
    return "".join(out), csv_of(rows)


def marian_train(cost: list[float], valid: list[float], new: bool = False, disp: int = 1000, valid_freq: int = 5000):
    """Marian NMT (src/training/scheduler.h) behind spdlog's ``[2018-11-28 03:23:11] ``: ``"Ep. {} :
    Up. {} : Sen. {} : {} : Time {:.2f}s : {:.2f} words/s : L.r. {:.4e}"`` (1.6: ``Cost {:.2f}``;
    later ``formatLoss``'s 8 decimals, with ``--disp-label-counts`` ``* {labels} @ {batch} after
    {total}``, a logical epoch ``1.234`` and ``gNorm {:.4f}``), thousands in commas; each
    validation ``[valid] Ep. {} : Up. {} : {type} : {value} : new best`` or ``: stalled {} times
    (last best: {})``."""
    out = [f"[2018-11-28 03:16:41] [config] {k}: {v}\n" for k, v in
           (("after-batches", 0), ("after-epochs", 0), ("allow-unk", "false"), ("disp-freq", disp),
            ("learn-rate", 0.0003), ("valid-freq", valid_freq), ("valid-metrics", ""), ("  - cross-entropy", ""))]
    out += ["[2018-11-28 03:16:45] [data] Loading vocabulary from JSON/Yaml file model/vocab.cs.yml\n",
            "[2018-11-28 03:17:02] Training started\n"]
    rows, best = [], None
    for k, c in enumerate(cost):
        up = (k + 1) * disp
        ep = f"{1 + up / 40000:.3f}" if new else str(1 + up // 40000)
        sen = f"{up * 70:,}"
        lr = 3e-4 * min(1.0, up / 16000)
        loss = (f"Cost {c:.8f} * {up * 31:,} @ {2200 + k % 7:,} after {up * 31 * 50:,}" if new else f"Cost {c:.2f}")
        out.append(f"[2018-11-28 0{3 + k // 60 % 6}:{k % 60:02d}:11] Ep. {ep} : Up. {up} : Sen. {sen} : {loss} : "
                   f"Time 186.64s : 11087.31 words/s" + (" : gNorm 0.8123" if new else "") + f" : L.r. {lr:.4e}\n")
        rows.append({"step": up, "Cost": float(f"{c:.8f}" if new else f"{c:.2f}"), "words/s": 11087.31, "lr": float(f"{lr:.4e}"),
                     **({"gNorm": 0.8123} if new else {})})
        if up % valid_freq == 0:
            v = valid[up // valid_freq - 1]
            tail = "new best" if best is None or v < best else f"stalled 1 times (last best: {best:g})"
            best = v if best is None else min(best, v)
            out.append(f"[2018-11-28 0{3 + k // 60 % 6}:{k % 60:02d}:45] [valid] Ep. {ep} : Up. {up} : cross-entropy : "
                       f"{v:g} : {tail}\n")
            rows.append({"step": up, "valid cross-entropy": float(f"{v:g}")})
    return "".join(out), csv_of(rows)


def pyslowfast(loss_per_epoch: list[list[float]], iters: int = 316, every: int = 10, eval_period: int = 2):
    """PySlowFast (slowfast/utils/logging.py ``log_json_stats``: ``logger.info("json_stats:
    {:s}".format(simplejson.dumps(stats, sort_keys=True, use_decimal=True)))`` with floats as
    ``Decimal("{:.5f}")``) behind its ``[06/21 17:58:49][INFO] logging.py:   99: `` prefix: the
    train meter's ``train_iter_`` stats every ``every`` iterations, ``"epoch": "{}/{}"`` and
    ``"iter": "{}/{}"`` as strings; ``train_epoch`` means, and every ``eval_period`` epochs
    ``val_iter`` progress and the ``val_epoch`` result."""
    def dumps(d: dict) -> str:
        return "{" + ", ".join(f'"{k}": ' + (f'"{v}"' if isinstance(v, str) else f"{v:.5f}")
                               for k, v in sorted(d.items())) + "}"

    pre = "[06/21 17:58:49][INFO] logging.py:   99: json_stats: "
    epochs = len(loss_per_epoch)
    last = iters // every * every
    out, rows = [], []
    for e, losses in enumerate(loss_per_epoch, start=1):
        for i in range(every, iters + 1, every):
            v = losses[i - 1]
            d = {"_type": "train_iter_", "dt": 1.21416, "dt_data": 0.00076, "dt_net": 1.21341, "epoch": f"{e}/{epochs}",
                 "eta": "0:12:10", "gpu_mem": "19.35G", "grad_norm": 6.5 + v, "iter": f"{i}/{iters}", "loss": v,
                 "lr": 0.01 * (1 - ((e - 1) * iters + i) / (epochs * iters)), "top1_err": 80.0 - e, "top5_err": 59.375}
            out.append(pre + dumps(d) + "\n")
            rows.append({"step": (e - 1) * last + i, **{k: float(f"{x:.5f}") for k, x in d.items()
                                                      if not isinstance(x, str)}})
        out.append(pre + dumps({"_type": "train_epoch", "epoch": f"{e}/{epochs}", "dt": 1.2, "loss": 3.0,
                                "lr": 0.009, "top1_err": 70.0, "gpu_mem": "19.35G", "RAM": "12.3/125.8G"}) + "\n")
        if e % eval_period == 0:
            out.append(pre + dumps({"_type": "val_iter", "cur_iter": 5, "epoch": f"{e}/{epochs}", "eta": "0:00:10",
                                    "iter": "5/40", "time_diff": 0.4, "top1_err": 75.0, "top5_err": 50.0}) + "\n")
            val = {"min_top1_err": 76.5 - e / 10, "min_top5_err": 50.1, "time_diff": 12.3, "top1_err": 76.5 - e / 10,
                   "top5_err": 50.1}
            out.append(pre + dumps({"_type": "val_epoch", "epoch": f"{e}/{epochs}", "gpu_mem": "19.35G",
                                    "RAM": "12.3/125.8G", **val}) + "\n")
            rows.append({"step": (e - 1) * last + last, **{f"val/{k}": float(f"{x:.5f}") for k, x in val.items()}})
    return "".join(out), csv_of(rows)


def timm_train(loss_per_epoch: list[list[float]], total: int, every: int):
    """timm's train.py: ``f'Train: {epoch} [{update_idx:>4d}/{updates_per_epoch} ({pct:>3.0f}%)]
    Loss: {loss_now:#.3g} ({loss_avg:#.3g})  Time: {t:.3f}s, {rate:>7.2f}/s  ({t_avg:.3f}s,
    {rate_avg:>7.2f}/s)  LR: {lr:.3e}  Data: {d:.3f} ({d_avg:.3f})'``, epochs and updates from 0."""
    out, rows = [], []
    for e, losses in enumerate(loss_per_epoch):
        for i in range(0, total, every):
            v = losses[i]
            out.append(f"Train: {e} [{i:>4d}/{total} ({100. * (i + 1) / total:>3.0f}%)]  Loss: {v:#.3g} ({v * 1.02:#.3g})  "
                       f"Time: {0.312:.3f}s, {3282.05:>7.2f}/s  ({0.33:.3f}s, {3103.0:>7.2f}/s)  LR: {1e-3:.3e}  "
                       f"Data: {0.012:.3f} ({0.02:.3f})\n")
            rows.append({"step": e * total + i, "Loss": float(f"{v:#.3g}"), "Time": 0.312, "LR": 1e-3, "Data": 0.012})
    return "".join(out), csv_of(rows)


def ultralytics(losses: list[list[float]], maps: list[float], task: str = "detect", v5: bool = False,
                bar_lines: bool = False):
    """Ultralytics YOLO as it prints a training (``engine/trainer.py``): per epoch the header
    ``("\\n" + "%11s" * (4 + len(loss_names))) % ("Epoch", "GPU_mem", *loss_names, "Instances",
    "Size")``, the progress bar whose description is ``("%11s" * 2 + "%11.4g" * (2 + n)) %
    (f"{epoch + 1}/{epochs}", f"{mem:.3g}G", *losses, instances, size)`` (rewritten with
    ``\\r``), the validator's bar with ``get_desc()`` (``("%22s" + "%11s" * 6) % ("Class",
    "Images", "Instances", "Box(P", "R", "mAP50", "mAP50-95)")``) and ``print_results``'
    ``("%22s" + "%11i" * 2 + "%11.3g" * len(keys)) % ("all", seen, instances, *mean_results)``;
    after the last epoch, best.pt validated again with a row per class. ``task="classify"``: one
    loss, ``("%22s" + "%11s" * 2) % ("classes", "top1_acc", "top5_acc")``. ``v5``: YOLOv5's
    train.py and val.py (epochs from 0, ``f"{epoch}/{epochs - 1}"``, box/obj/cls losses, ``P``).
    ``bar_lines``: written without a terminal, every state of the bar on a line of its own."""
    names = {"detect": ["box_loss", "cls_loss", "dfl_loss"], "segment": ["box_loss", "seg_loss", "cls_loss", "dfl_loss"],
             "classify": ["loss"]}[task] if not v5 else ["box_loss", "obj_loss", "cls_loss"]
    groups = {"detect": ["B"], "segment": ["B", "M"], "classify": []}[task]
    if task == "classify":
        desc = ("%22s" + "%11s" * 2) % ("classes", "top1_acc", "top5_acc")
        keys = ["metrics/accuracy_top1", "metrics/accuracy_top5"]
    elif v5:
        desc = ("%22s" + "%11s" * 6) % ("Class", "Images", "Instances", "P", "R", "mAP50", "mAP50-95")
        keys = ["metrics/precision", "metrics/recall", "metrics/mAP50", "metrics/mAP50-95"]
    else:
        cols = [c for g in groups for c in ({"B": "Box", "M": "Mask"}[g] + "(P", "R", "mAP50", "mAP50-95)")]
        desc = ("%22s" + "%11s" * (2 + len(cols))) % ("Class", "Images", "Instances", *cols)
        keys = [f"metrics/{k}({g})" for g in groups for k in ("precision", "recall", "mAP50", "mAP50-95")]
    epochs, out, rows = len(maps), [], []

    def bar(p, n, t):
        return f": {p:3d}%|{'█' * (p // 10):<10}| {n}/{t} [00:10<00:00,  3.65it/s]" if v5 else \
            f": {p}% {'━' * (p * 12 // 100)}{'─' * (12 - p * 12 // 100)} {n}/{t} 3.6it/s 0:10"

    def results(m):
        vals = [min(1.0, m * k) for k in (1.3, 1.1, 1.2, 1.0)] * max(1, len(groups))
        return vals[:len(keys)]

    for e, (epoch_losses, m) in enumerate(zip(losses, maps)):
        epoch_losses = epoch_losses[:len(names)]
        out.append(("\n" + "%11s" * (4 + len(names))) % ("Epoch", "GPU_mem", *names, "Instances", "Size") + "\n")
        shown = f"{e}/{epochs - 1}" if v5 else f"{e + 1}/{epochs}"
        parts = []
        for i in (1, 19, 38):  # the bar rewritten in place as batches go by
            mean = [v * (1 + 0.2 * (38 - i) / 38) for v in epoch_losses]  # the last: the epoch's mean
            parts.append(("%11s" * 2 + "%11.4g" * (2 + len(names))) % (shown, f"{2.13:.3g}G", *mean, 12, 640)
                         + bar(i * 100 // 38, i, 38))
        out.append(("\n" if bar_lines else "\r").join(parts) + "\n")
        vals = results(m)
        out.append(desc + bar(100, 3, 3) + "\n")
        pf = "%22s" + ("%11.3g" * len(keys) if task == "classify" else "%11i" * 2 + "%11.3g" * len(keys))
        out.append((pf % ("all", *vals) if task == "classify" else pf % ("all", 50, 123, *vals)) + "\n")
        row = {"step": e if v5 else e + 1, **{f"train/{n}": float("%.4g" % v) for n, v in zip(names, epoch_losses)},
               **{k: float("%.3g" % v) for k, v in zip(keys, vals)}}
        rows.append(row)
    out.append(f"\n{epochs} epochs completed in 0.101 hours.\nValidating runs/{task}/train/weights/best.pt...\n")
    best = results(max(maps))
    out.append(desc + bar(100, 3, 3) + "\n")
    if task == "classify":
        out.append(("%22s" + "%11.3g" * len(keys)) % ("all", *best) + "\n")
    else:
        out.append(("%22s" + "%11i" * 2 + "%11.3g" * len(keys)) % ("all", 50, 123, *best) + "\n")
        for c in ("person", "car"):
            out.append(("%22s" + "%11i" * 2 + "%11.3g" * len(keys)) % (c, 50, 61, *best) + "\n")
    out.append("Speed: 0.2ms preprocess, 1.8ms inference, 0.0ms loss, 0.9ms postprocess per image\n")
    return "".join(out), csv_of(rows)


def fairseq_json(loss: list[float], every: int = 100, per_epoch: int = 400, hydra: bool = False):
    """fairseq with ``--log-format json``: ``JsonProgressBar.log`` writes ``json.dumps`` of
    ``_format_stats`` (``epoch``, ``update`` = ``round(epoch - 1 + (i + 1) / size, 3)``, then every
    stat through ``format_stat``: a string, meters rounded as fairseq's metrics round them) through
    a logger renamed to the tag (``train_inner``; ``valid`` from ``print`` with keys prefixed by the
    tag), under fairseq_cli's ``%(asctime)s | %(levelname)s | %(name)s | %(message)s`` or Hydra's
    ``[%(asctime)s][%(name)s][%(levelname)s] - %(message)s``."""
    def line(tag, stats):
        when = "2022-06-06 09:24:34"
        head = f"[{when},604][{tag}][INFO] - " if hydra else f"{when} | INFO | {tag} | "
        return head + json.dumps(stats) + "\n"

    def g(v, nd=3):
        return "{:g}".format(round(v, nd))

    out, rows = [], []
    for n in range(every, len(loss) + 1, every):
        v = loss[n - 1]
        epoch = (n - 1) // per_epoch + 1
        out.append(line("train_inner", {"epoch": epoch, "update": round(epoch - 1 + ((n - 1) % per_epoch + 1) / per_epoch, 3),
                                        "loss": g(v), "nll_loss": g(v * 0.9), "ppl": g(2 ** (v * 0.9), 2), "wps": "218.2",
                                        "ups": "6.83", "wpb": "32", "bsz": "32", "num_updates": str(n),
                                        "lr": "{:g}".format(1e-4 * n / len(loss)), "gnorm": g(0.5 + v / 10),
                                        "train_wall": "29", "gb_free": "22.8", "wall": str(n // 7)}))
        rows.append({"step": n, "loss": float(g(v)), "nll_loss": float(g(v * 0.9)), "ppl": float(g(2 ** (v * 0.9), 2)),
                     "lr": float("{:g}".format(1e-4 * n / len(loss))), "gnorm": float(g(0.5 + v / 10))})
        if n % per_epoch == 0:
            val = v * 1.1
            out.append(line("valid", {"epoch": epoch, "valid_loss": g(val), "valid_nll_loss": g(val * 0.9),
                                      "valid_ppl": g(2 ** (val * 0.9), 2), "valid_wps": "636.6", "valid_wpb": "31.4",
                                      "valid_bsz": "31.4", "valid_num_updates": str(n)}))
            rows.append({"step": n, "valid_loss": float(g(val)), "valid_nll_loss": float(g(val * 0.9)),
                         "valid_ppl": float(g(2 ** (val * 0.9), 2))})
    return "2022-06-06 09:18:00 | INFO | fairseq_cli.train | task: TranslationTask\n" + "".join(out), csv_of(rows)


def transfer_tutorial(train: list[float], val: list[float]):
    """PyTorch's transfer-learning tutorial (``train_model``, copied into many repositories):
    ``print(f'Epoch {epoch}/{num_epochs - 1}')``, ``print('-' * 10)``, then per phase
    ``print(f'{phase} Loss: {epoch_loss:.4f} Acc: {epoch_acc:.4f}')`` and ``print()``; at the end
    ``Training complete in ..`` and ``Best val Acc: {best_acc:4f}``. The heading's epoch is the step
    of the lines under it, and ``Acc`` is the accuracy of the phase the line starts with."""
    out, rows = [], []
    n = len(train)
    for e, (t, v) in enumerate(zip(train, val)):
        out += [f"Epoch {e}/{n - 1}\n", "-" * 10 + "\n"]
        for phase, loss in (("train", t), ("val", v)):
            acc = 0.5 + 0.4 * e / n + (0.01 if phase == "val" else 0.0)
            out.append(f"{phase} Loss: {loss:.4f} Acc: {acc:.4f}\n")
            rows.append({"step": e, f"{phase} Loss": float(f"{loss:.4f}"), f"{phase} Acc": float(f"{acc:.4f}")})
        out.append("\n")
    out += [f"Training complete in {1:.0f}m {37:.0f}s\n", f"Best val Acc: {0.93:4f}\n"]
    return "".join(out), csv_of(rows)


def mnist_example(loss_per_epoch: list[list[float]], test: list[float], n: int = 60000, batch: int = 64,
                  log_interval: int = 10):
    """pytorch/examples mnist/main.py: ``print('Train Epoch: {} [{}/{} ({:.0f}%)]\\tLoss: {:.6f}'
    .format(epoch, batch_idx * len(data), len(train_loader.dataset), 100. * batch_idx /
    len(train_loader), loss.item()))`` every ``log_interval`` batches (epochs from 1), then
    ``print('\\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\\n'.format(...))``: the
    step is the examples seen, the test line sits at the last training line before it."""
    batches = -(-n // batch)
    out, rows = [], []
    for e, (losses, t) in enumerate(zip(loss_per_epoch, test), start=1):
        for b in range(0, batches, log_interval):
            v = losses[b]
            out.append("Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}\n".format(e, b * batch, n, 100. * b / batches, v))
            rows.append({"step": (e - 1) * n + b * batch, "Loss": float(f"{v:.6f}")})
        correct = 9000 + 100 * e
        out.append("\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n\n".format(
            t, correct, 10000, 100. * correct / 10000))
        rows.append({"step": rows[-1]["step"], "Test Average loss": float(f"{t:.4f}"), "Test Accuracy": float(correct)})
    return "".join(out), csv_of(rows)


def maniskill_ppo(returns: list[float], num_envs: int = 512, num_steps: int = 50, eval_freq: int = 5):
    """ManiSkill's examples/baselines/ppo/ppo.py: ``print(f"Epoch: {iteration}, global_step={global_step}")``
    at each iteration, every ``eval_freq`` iterations ``Evaluating``, ``Evaluated {n} steps
    resulting in {k} episodes`` and ``print(f"eval_{k}_mean={mean}")`` per episode statistic (a
    0-d tensor formats as its float), and ``model saved to ..``; the arguments are printed first
    (``args.num_iterations=.. args.num_envs=..``, read as no curve: nothing has a step yet)."""
    out = ["####\n", f"args.num_iterations={len(returns)} args.num_envs={num_envs} args.num_eval_envs=8\n",
           f"args.minibatch_size=800 args.batch_size={num_envs * num_steps} args.update_epochs=4\n", "####\n"]
    rows = []
    global_step = 0
    for it, r in enumerate(returns, start=1):
        out.append(f"Epoch: {it}, global_step={global_step}\n")
        if it % eval_freq == 1:
            out += ["Evaluating\n", "Evaluated 400 steps resulting in 8 episodes\n"]
            stats = {"success_once": min(1.0, r / 40), "return": r, "episode_len": 50.0, "reward": r / 50}
            for k, v in stats.items():
                out.append(f"eval_{k}_mean={v}\n")
            rows.append({"step": global_step, **{f"eval_{k}_mean": v for k, v in stats.items()}})
            out.append(f"model saved to runs/PushCube-v1__ppo__1__1744899549/ckpt_{it}.pt\n")
        global_step += num_envs * num_steps
    return "".join(out), csv_of(rows)


def epoch_heading_batches(loss_per_epoch: list[list[float]]):
    """``print(f"Epoch {epoch}")`` and then ``print(f"loss: {loss.item():.4f}")`` at every batch,
    ``print(f"val_loss: {val:.4f}")`` after each epoch: the loss lines have no counter and many
    sit under one heading, so the lines are counted in the order printed."""
    out, rows = [], []
    n = 0
    for e, losses in enumerate(loss_per_epoch, start=1):
        out.append(f"Epoch {e}\n")
        for v in losses:
            out.append(f"loss: {v:.4f}\n")
            rows.append({"step": n, "loss": float(f"{v:.4f}")})
            n += 1
        val = losses[-1] * 1.1
        out.append(f"val_loss: {val:.4f}\n")
        rows.append({"step": n, "val_loss": float(f"{val:.4f}")})
        n += 1
    return "".join(out), csv_of(rows)


def mxnet_fit(loss_per_epoch: list[list[float]], val: list[float], frequent: int = 20, auto_reset: bool = True):
    """MXNet ``Module.fit`` under ``logging.basicConfig(level=logging.INFO)``: the Speedometer's
    ``'Epoch[%d] Batch [%d-%d]\\tSpeed: %.2f samples/sec' + '\\t%s=%f' * len(name_value)`` every
    ``frequent`` batches (``[0-%d]`` without ``auto_reset``), then ``'Epoch[%d] Train-%s=%f'``,
    ``'Epoch[%d] Time cost=%.3f'`` and ``'Epoch[%d] Validation-%s=%f'``; epochs from 0, the global
    step epoch x batches + batch."""
    out, rows = [], []
    total = len(loss_per_epoch[0])
    for e, losses in enumerate(loss_per_epoch):
        for count in range(frequent, total + 1, frequent):
            v = losses[count - 1]
            window = "Batch [%d-%d]" % (count - frequent, count) if auto_reset else "Batch [0-%d]" % count
            out.append("INFO:root:" + ("Epoch[%d] " % e) + window + "\tSpeed: %.2f samples/sec" % 412.05
                       + "\t%s=%f\t%s=%f" % ("accuracy", 0.5 + 0.01 * e, "cross-entropy", v) + "\n")
            rows.append({"step": e * total + count, "accuracy": float("%f" % (0.5 + 0.01 * e)),
                         "cross-entropy": float("%f" % v)})
        out.append("INFO:root:Epoch[%d] Train-%s=%f\n" % (e, "cross-entropy", losses[-1]))
        out.append("INFO:root:Epoch[%d] Time cost=%.3f\n" % (e, 21.352))
        out.append("INFO:root:Epoch[%d] Validation-%s=%f\n" % (e, "cross-entropy", val[e]))
        rows.append({"step": e * total + total // frequent * frequent, "Train-cross-entropy": float("%f" % losses[-1]),
                     "Validation-cross-entropy": float("%f" % val[e])})
    return "".join(out), csv_of(rows)


def darknet(loss: list[float], map_every: int = 100, pjreddie: bool = False):
    """Darknet's train_detector: AlexeyAB's ``printf("\\n %d: %f, %f avg loss, %f rate, %lf
    seconds, %d images, %f hours left\\n", ...)`` (pjreddie's ``"%ld: %f, %f avg, %f rate, %lf
    seconds, %ld images\\n"``), with ``-map`` ``"\\n (next mAP calculation at %d iterations) "``
    and, once one was computed, ``"\\n Last accuracy mAP@0.5 = %2.2f %%, best = %2.2f %% "`` before
    each iteration line."""
    out, rows = [], []
    avg, m, best = -1.0, 0.0, 0.0
    for i, v in enumerate(loss, start=1):
        avg = v if avg < 0 else avg * .9 + v * .1
        if pjreddie:
            out.append("%d: %f, %f avg, %f rate, %lf seconds, %d images\n" % (i, v, avg, 0.001, 2.97, i * 64))
        else:
            out.append("\n (next mAP calculation at %d iterations) " % ((i // map_every + 1) * map_every))
            if m > 0:
                out.append("\n Last accuracy mAP@0.5 = %2.2f %%, best = %2.2f %% " % (m * 100, best * 100))
                rows.append({"step": i - 1, "mAP@0.5": float("%2.2f" % (m * 100))})
            out.append("\n %d: %f, %f avg loss, %f rate, %lf seconds, %d images, %f hours left\n"
                       % (i, v, avg, 0.001, 3.123, i * 64, -1.0 if i == 1 else 2.5))
            if i % map_every == 0:
                m = min(0.9, i / len(loss))
                best = max(best, m)
        rows.append({"step": i, "loss": float("%f" % v), "avg loss": float("%f" % avg), "lr": 0.001})
    return "".join(out), csv_of(rows)


def text_recognition(train: list[float], valid: list[float], every: int = 100):
    """clovaai/deep-text-recognition-benchmark's train.py at each validation:
    ``f'[{iteration+1}/{opt.num_iter}] Train loss: {loss_avg.val():0.5f}, Valid loss: {valid_loss:0.5f},
    Elapsed_time: {elapsed_time:0.5f}'`` then ``f'{"Current_accuracy":17s}: {current_accuracy:0.3f},
    {"Current_norm_ED":17s}: {current_norm_ED:0.2f}'`` and a table of predictions: the count of the
    total opening the line is the step."""
    out, rows = [], []
    n = len(train) * every
    for k, (t, v) in enumerate(zip(train, valid)):
        it = 1 if k == 0 else k * every
        out.append(f"[{it}/{n}] Train loss: {t:0.5f}, Valid loss: {v:0.5f}, Elapsed_time: {3.5 + 6.6 * it:0.5f}\n")
        out.append(f'{"Current_accuracy":17s}: {96.0 + k / 100:0.3f}, {"Current_norm_ED":17s}: {0.39:0.2f}\n')
        out.append("-" * 80 + "\n" + f'{"Ground Truth":25s} | {"Prediction":25s} | Confidence Score & T/F\n')
        rows.append({"step": it, "Train loss": float(f"{t:0.5f}"), "Valid loss": float(f"{v:0.5f}"),
                     "Elapsed_time": float(f"{3.5 + 6.6 * it:0.5f}")})
    return "".join(out), csv_of(rows)


def step_in_brackets(train: list[float], val: list[float], every: int = 100):
    """``print(f"{datetime.now()}: Step [{step}]  train Loss : {loss:.6f}, training accuracy :  {acc}")``
    (a counter in brackets without its total, a space before each colon), the validation line
    every other time."""
    out, rows = [], []
    for k, (t, v) in enumerate(zip(train, val)):
        s = k * every
        out.append(f"2019-08-19 14:{k % 60:02d}:47.783573: Step [{s}]  train Loss : {t:.6f}, training accuracy :  0.3125\n")
        rows.append({"step": s, "train Loss": float(f"{t:.6f}"), "training accuracy": 0.3125})
        if k % 2 == 0:
            out.append(f"2019-08-19 14:{k % 60:02d}:54.571753: Step [{s}]  val Loss : {v:.6f}, val accuracy :  0.199597\n")
            rows.append({"step": s, "val Loss": float(f"{v:.6f}"), "val accuracy": 0.199597})
    return "".join(out), csv_of(rows)
