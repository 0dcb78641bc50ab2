"""The console reader on every shape, written as each tool prints it (tests/console_shapes.py),
with progress-bar noise, warnings and tracebacks in between: the points are those the tool
printed, and the same run written as CSV gives the same findings."""

from __future__ import annotations

import math

import console_shapes as C
import numpy as np
import pytest
from twins import findings, points, read_twins

from lossctl.analysis import analyze_run
from lossctl.config import Config
from lossctl.readers.console import reader
from lossctl.runs import load_runs


def both(tmp_path, console: str, csv: str, name: str = "train.log"):
    """The console run and its CSV twin, each read by lossctl from its own directory."""
    a, b = read_twins(tmp_path, name, console, csv)
    assert a.format == "console"
    return a, b


def same_points(a, b, metrics):
    for m in metrics:
        pa, pb = points(a, m), points(b, m)
        assert len(pa) == len(pb) and pa, (m, len(pa), len(pb))
        sa, va = zip(*pa)
        sb, vb = zip(*pb)
        assert sa == sb, m
        np.testing.assert_allclose(va, vb, rtol=1e-12, equal_nan=True)


DIVERGING = C.curve(600, diverge_at=400)
SHAPES = {
    "hf_trainer": (lambda: C.hf_trainer(DIVERGING), ["loss", "eval_loss", "grad_norm", "learning_rate"]),
    "hf_trainer_g4": (lambda: C.hf_trainer(DIVERGING, g4=True), ["loss", "eval_loss", "grad_norm", "learning_rate"]),
    "keras_verbose1": (lambda: C.keras(C.curve(40, diverge_at=25)), ["loss", "val_loss", "accuracy"]),
    "keras_verbose2": (lambda: C.keras(C.curve(40, diverge_at=25), verbose=2), ["loss", "val_loss"]),
    "keras1_verbose2": (lambda: C.keras(C.curve(40, diverge_at=25), verbose="keras1"), ["loss", "val_loss", "acc"]),
    "keras2.0_verbose2": (lambda: C.keras(C.curve(40, diverge_at=25), verbose="keras2.0"), ["loss", "val_acc"]),
    "nanogpt": (lambda: C.nanogpt(DIVERGING), ["loss", "train loss", "val loss", "mfu"]),
    "llmc_console": (lambda: C.llmc_console(DIVERGING), ["loss", "val loss", "norm", "loss z", "% bf16 MFU", "tok/s"]),
    "llmc_console_no_mfu": (lambda: C.llmc_console(DIVERGING, mfu=False), ["loss", "val loss", "lr"]),
    "llmc_console_py": (lambda: C.llmc_console(DIVERGING, z=False), ["train loss", "val loss", "lr", "ms", "tok/s"]),
    "llmc_logfile": (lambda: C.llmc_logfile(DIVERGING), ["train loss", "val loss"]),
    "megatron": (lambda: C.megatron(DIVERGING), ["lm loss", "validation lm loss", "grad norm", "learning rate"]),
    "detectron2": (lambda: C.detectron2(DIVERGING), ["total_loss", "loss_box_reg", "lr"]),
    "generic_kv": (lambda: C.generic_kv(DIVERGING), ["loss", "lr"]),
    "generic_kv_pipes": (lambda: C.generic_kv(DIVERGING, sep=" | "), ["loss", "lr"]),
    "generic_kv_commas": (lambda: C.generic_kv(DIVERGING, sep=", "), ["loss", "lr"]),
    "epoch_counters": (lambda: C.epoch_counters([C.curve(300)[i * 100:] + [1.0] * 100 for i in range(3)], 100, 10), ["Loss"]),
    "long_lines": (lambda: C.long_lines(DIVERGING), ["train", "val"]),
    "epoch_summary": (lambda: C.epoch_summary(C.curve(40), C.curve(40, diverge_at=25)), ["Train Loss", "Val Loss"]),
    "logging_pipes": (lambda: C.logging_pipes([C.curve(300)[i * 100:] + [1.0] * 100 for i in range(3)], 100, 10),
                      ["Loss", "LR", "Avg Loss"]),
    "epoch_batch_lines": (lambda: C.epoch_batch_lines([C.curve(300)[i * 100:i * 100 + 60] for i in range(3)]),
                          ["Batch loss", "Average Train Loss"]),
    "iter_spaced": (lambda: C.iter_spaced(DIVERGING), ["loss", "eps", "buf", "vs-random"]),
    "modded_nanogpt": (lambda: C.modded_nanogpt(DIVERGING), ["train_loss", "val_loss"]),
    "imagenet_meter": (lambda: C.imagenet_meter([C.curve(3000)[i * 1000:] for i in range(3)], 1000, 50),
                       ["Loss", "Acc@1", "Time", "Test Acc@1", "Test Acc@5"]),
    "dino_metric_logger": (lambda: C.dino_metric_logger([C.curve(3000)[i * 1000:] for i in range(3)], 1000, 10),
                           ["loss", "lr", "wd", "test images"]),
    "dl4j_score": (lambda: C.dl4j_score(C.curve(3000)), ["Score"]),
    "arguments_then_epochs": (lambda: C.arguments_then_epochs(C.curve(40), C.curve(40, diverge_at=25)),
                              ["Train loss", "Test loss", "Train f1", "Epoch Time"]),
    "caffe_solver": (lambda: C.caffe_solver(C.curve(2400, diverge_at=1800)), ["loss", "Train loss", "lr", "Test loss"]),
    "paddleseg_train": (lambda: C.paddleseg_train(C.curve(600)), ["loss", "lr", "ips"]),
    "ppdet_train": (lambda: C.ppdet_train([C.curve(2181)[i * 727:(i + 1) * 727] for i in range(3)]),
                    ["loss", "loss_class", "learning_rate", "batch_cost"]),
    "yolox_trainer": (lambda: C.yolox_trainer([C.curve(3698)[i * 1849:(i + 1) * 1849] for i in range(2)]),
                      ["total_loss", "iou_loss", "lr", "mem"]),
    "fastai_v1": (lambda: C.fastai_table(C.curve(20), C.curve(20, diverge_at=12)), ["train_loss", "valid_loss", "accuracy"]),
    "fastai_v2": (lambda: C.fastai_table(C.curve(20), C.curve(20, diverge_at=12), v2=True),
                  ["train_loss", "valid_loss", "accuracy"]),
    "marian_1.6": (lambda: C.marian_train(C.curve(300), C.curve(60, diverge_at=40)), ["Cost", "lr", "valid cross-entropy"]),
    "marian": (lambda: C.marian_train(C.curve(300), C.curve(60, diverge_at=40), new=True),
               ["Cost", "gNorm", "lr", "valid cross-entropy"]),
    "pyslowfast": (lambda: C.pyslowfast([C.curve(1264)[i * 316:(i + 1) * 316] for i in range(4)]),
                   ["loss", "lr", "top1_err", "val/top1_err"]),
    "timm_train": (lambda: C.timm_train([C.curve(3000)[i * 1000:] for i in range(3)], 1000, 50), ["Loss", "LR"]),
    **{f"ultralytics_{task}{'_v5' * v5}": (
        lambda task=task, v5=v5: C.ultralytics([[v * k for k in (1.0, 1.4, 0.9, 1.1)[:4]] for v in C.curve(30, diverge_at=20)],
                                               [0.2 + 0.02 * e for e in range(30)], task, v5),
        ["train/box_loss" if task != "classify" else "train/loss"]
        + (["metrics/mAP50-95(M)", "metrics/precision(B)"] if task == "segment" else
           ["metrics/accuracy_top1"] if task == "classify" else ["metrics/recall"] if v5 else ["metrics/mAP50(B)"]))
      for task, v5 in (("detect", False), ("segment", False), ("classify", False), ("detect", True))},
    # a log written without a terminal: every state of the bar on a line of its own
    "ultralytics_bar_lines": (lambda: C.ultralytics([[v, v * 1.4, v * 0.9] for v in C.curve(30, diverge_at=20)],
                                                    [0.2 + 0.02 * e for e in range(30)], bar_lines=True),
                              ["train/box_loss", "metrics/mAP50-95(B)"]),
    "fairseq_json": (lambda: C.fairseq_json(C.curve(2000, diverge_at=1400)), ["loss", "valid_loss", "lr", "gnorm"]),
    "fairseq_json_hydra": (lambda: C.fairseq_json(C.curve(2000, diverge_at=1400), hydra=True), ["loss", "valid_ppl"]),
    "repeated_names": (lambda: C.repeated_names(C.curve(30), C.curve(30, diverge_at=20)),
                       ["Train Loss", "Val Loss", "Token Acc", "Val Token Acc"]),
    "transfer_tutorial": (lambda: C.transfer_tutorial(C.curve(30), C.curve(30, diverge_at=20)),
                          ["train Loss", "train Acc", "val Loss", "val Acc"]),
    "mnist_example": (lambda: C.mnist_example([C.curve(3000)[i * 938:] for i in range(3)], [0.09, 0.06, 0.05]),
                      ["Loss", "Test Average loss", "Test Accuracy"]),
    "maniskill_ppo": (lambda: C.maniskill_ppo([2.0 + 30 * (1 - math.exp(-i / 40)) for i in range(200)]),
                      ["eval_return_mean", "eval_success_once_mean"]),
    "mxnet_fit": (lambda: C.mxnet_fit([C.curve(2000)[i * 200:(i + 1) * 200] for i in range(10)],
                                      C.curve(10, diverge_at=6)),
                  ["cross-entropy", "accuracy", "Train-cross-entropy", "Validation-cross-entropy"]),
    "mxnet_fit_no_reset": (lambda: C.mxnet_fit([C.curve(2000)[i * 200:(i + 1) * 200] for i in range(10)],
                                               C.curve(10), auto_reset=False), ["cross-entropy"]),
    "darknet": (lambda: C.darknet(C.curve(600, diverge_at=400)), ["loss", "avg loss", "lr", "mAP@0.5"]),
    "darknet_pjreddie": (lambda: C.darknet(C.curve(600, diverge_at=400), pjreddie=True), ["loss", "avg loss"]),
    "text_recognition": (lambda: C.text_recognition(C.curve(40), C.curve(40, diverge_at=25)),
                         ["Train loss", "Valid loss"]),
    "step_in_brackets": (lambda: C.step_in_brackets(C.curve(40), C.curve(40, diverge_at=25)),
                         ["train Loss", "val Loss", "val accuracy"]),
    "epoch_heading_batches": (lambda: C.epoch_heading_batches([C.curve(300)[i * 100:i * 100 + 60] for i in range(3)]),
                              ["loss", "val_loss"]),
}


# the names these tools give their logs (glog's <program>.INFO, PaddlePaddle's launcher's workerlog.N)
LOG_NAMES = {"detectron2": "metrics.json", "caffe_solver": "caffe.INFO", "paddleseg_train": "workerlog.0"}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_shape_reads_as_its_csv_twin(tmp_path, shape):
    make, metrics = SHAPES[shape]
    console, csv = make()
    name = LOG_NAMES.get(shape, "train.log")
    a, b = both(tmp_path, console, csv, name)
    same_points(a, b, metrics)
    assert findings(a) == findings(b)
    assert [w for w in a.warnings if name in w] == []


def test_diverging_runs_are_found_diverging(tmp_path):
    console, csv = C.nanogpt(DIVERGING)
    a, _ = both(tmp_path, console, csv)
    assert ("divergence", "error", "loss") in {f[:3] for f in findings(a)}


def test_noise_between_metric_lines(tmp_path):
    """Warnings, a traceback, tqdm bars and ANSI colour between the lines change nothing."""
    console, csv = C.nanogpt(DIVERGING)
    lines = console.splitlines(keepends=True)
    noisy = []
    for i, line in enumerate(lines):
        noisy.append(line)
        if i % 50 == 7:
            noisy.append(C.WARNING)
        if i == 300:
            noisy.append(C.TRACEBACK)
        if i % 40 == 3:
            noisy.append(C.TQDM.format(p=40, bar="####", n=4, t=10) + "\r\x1b[32mvalidating\x1b[0m\n")
    a, b = both(tmp_path, "".join(noisy), csv)
    same_points(a, b, ["loss", "val loss"])
    assert findings(a) == findings(b)


def test_nan_spellings_are_values(tmp_path):
    body = ("{'loss': 2.3, 'epoch': 0.1}\n{'loss': nan, 'epoch': 0.2}\n{'loss': inf, 'epoch': 0.3}\n"
            "Epoch 1/2\n32/32 - 1s - loss: nan - val_loss: NaN\n")
    p = tmp_path / "hf.log"
    p.write_text(body[:body.index("Epoch")])
    vals = [v for _, v in points(load_runs(p).runs[0], "loss")]
    assert vals[0] == 2.3 and math.isnan(vals[1]) and vals[2] == math.inf
    q = tmp_path / "k.log"
    q.write_text(body[body.index("Epoch"):])
    assert math.isnan(points(load_runs(q).runs[0], "val_loss")[0][1])
    j = tmp_path / "metrics.json"
    j.write_text('{"iteration": 1, "total_loss": NaN}\n{"iteration": 2, "total_loss": Infinity}\n'
                 '{"iteration": 3, "total_loss": -Infinity}\n')
    assert [v for _, v in points(load_runs(j).runs[0], "total_loss")][1:] == [math.inf, -math.inf]
    m = tmp_path / "m.log"
    m.write_text(" iteration       10/     100 | lm loss: NAN | number of nan iterations:   1 |\n"
                 " iteration       20/     100 | lm loss: 2.000000E+00 | number of nan iterations:   0 |\n")
    run = load_runs(m).runs[0]
    assert math.isnan(points(run, "lm loss")[0][1]) and points(run, "number of nan iterations")[0] == (10, 1.0)
    kinds = {f[0] for f in findings(run)}
    assert "nonfinite" in kinds


def test_megatron_nan_iterations_counter_is_nonfinite_evidence(tmp_path):
    loss = C.curve(600)
    console, csv = C.megatron(loss, nan_iters={300: 2, 310: 1})
    a, b = both(tmp_path, console, csv)
    fa = analyze_run(a, Config()).findings
    (f,) = [f for f in fa if f.kind == "nonfinite"]
    assert f.metric == "lm loss" and f.evidence["nan_iterations"] == 3 and f.start_step == 300
    assert findings(a) == findings(b)


def test_restart_is_the_restart_rule(tmp_path):
    """nanoGPT resumed from its step-200 checkpoint: steps 200-299 printed again; the later win."""
    first, _ = C.nanogpt(C.curve(300))
    again, _ = C.nanogpt([v * 0.9 for v in C.curve(500)][200:])
    again = "".join(f"iter {int(x.split()[1][:-1]) + 200}:{x.split(':', 1)[1]}\n"
                    for x in again.splitlines() if x.startswith("iter "))
    p = tmp_path / "train.log"
    p.write_text(first + "Resuming training from out\n" + again)
    (run,) = load_runs(p).runs
    loss = points(run, "loss")
    assert [s for s, _ in loss] == list(range(500))
    assert loss[250][1] == pytest.approx(C.curve(500)[250] * 0.9, abs=1e-4)
    assert any("points replaced" in w for w in run.warnings)


def test_a_value_printed_on_two_lines_of_a_step_is_read_once_and_named(tmp_path):
    """modded-nanogpt prints train_time on a step's training line and again on its validation
    line: the first is kept, and the warning names the metric (not only a guess at ranks)."""
    lines = []
    for s in range(1, 61):
        lines.append(f"step:{s}/60 train_loss:{3 - s / 60:.4f} train_time:{74 * s}ms step_avg:74.00ms")
        if s % 20 == 0:
            lines.append(f"step:{s}/60 val_loss:{3.1 - s / 60:.4f} train_time:{74 * s + 2}ms step_avg:74.03ms")
    p = tmp_path / "train.log"
    p.write_text("\n".join(lines) + "\n")
    (run,) = load_runs(p).runs
    assert [v for s, v in points(run, "train_time") if s == 20] == [1480.0]
    (w,) = [w for w in run.warnings if "printed again" in w]
    assert "6 points of train_time, step_avg printed again for the same step" in w


def test_two_trainings_in_one_log_are_two_runs(tmp_path):
    one, _ = C.generic_kv(C.curve(100))
    two, _ = C.generic_kv(C.curve(80, diverge_at=50))
    p = tmp_path / "slurm-1234.out"
    p.write_text(one + "Starting run 2\n" + two)
    runs = load_runs(tmp_path).runs
    assert [r.name for r in runs] == ["slurm-1234.out:run1", "slurm-1234.out:run2"]
    assert [len(points(r, "loss")) for r in runs] == [100, 80]
    assert {f[0] for f in findings(runs[1])} >= {"divergence"} and findings(runs[0]) == []


def test_ranks_printing_the_same_lines_keep_one(tmp_path):
    console, _ = C.generic_kv(C.curve(50))
    lines = console.splitlines(keepends=True)
    p = tmp_path / "train.log"
    p.write_text("".join(f"[rank{r}]:{line}" for line in lines for r in range(4)))
    (run,) = load_runs(p).runs
    assert len(points(run, "loss")) == 50
    assert any("several ranks" in w and "300 points" in w for w in run.warnings)  # loss and lr, 3 extra ranks


def test_broken_metric_lines_are_counted_not_dropped(tmp_path):
    console, _ = C.hf_trainer(C.curve(300))
    console += "{'loss': tensor(2.3, device='cuda:0'), 'epoch': 1.3}\n" * 2
    p = tmp_path / "train.log"
    p.write_text(console)
    (run,) = load_runs(p).runs
    (w,) = [w for w in run.warnings if "could not be read" in w]
    assert "2 lines look like hf_trainer metric lines" in w and "tensor(2.3" in w


def test_hf_step_key_wins_over_the_count(tmp_path):
    p = tmp_path / "train.log"
    p.write_text("".join(str({"loss": 1 / s, "step": s * 50}) + "\n" for s in range(1, 40)))
    assert [s for s, _ in points(load_runs(p).runs[0], "loss")][:3] == [50, 100, 150]


def test_epoch_batch_counters_base(tmp_path):
    p = tmp_path / "train.log"
    p.write_text("".join(f"Epoch: {e} | Batch: {b}/1330 | Loss: {1 / (e * 1330 + b):.6f}\n"
                         for e in range(3) for b in range(10, 1331, 10)))
    steps = [s for s, _ in points(load_runs(p).runs[0], "Loss")]
    assert steps[:2] == [10, 20] and steps[133] == 1340  # epochs from 0: epoch * total + batch


def test_keys_in_any_language(tmp_path):
    p = tmp_path / "train.log"
    p.write_text("".join(f"шаг={s}, потеря={1 / (s + 1):.4f}\n" for s in range(30)))
    assert len(points(load_runs(p).runs[0], "потеря")) == 30


def test_not_a_log_names_the_shapes(tmp_path):
    from typer.testing import CliRunner

    from lossctl.cli import app

    p = tmp_path / "notes.txt"
    p.write_text("this is not a training log\nno numbers worth reading\n")
    r = CliRunner().invoke(app, ["analyze", str(p)])
    assert r.exit_code == 2
    assert "notes.txt" in r.stderr and "Hugging Face Trainer" in r.stderr and "Megatron" in r.stderr


def test_structured_log_beside_console_log(tmp_path):
    console, csv = C.nanogpt(C.curve(200))
    (tmp_path / "train.log").write_text(console)
    (tmp_path / "metrics.csv").write_text(csv)
    res = load_runs(tmp_path)
    (run,) = res.runs
    assert run.format == "csv" and run.files == [str(tmp_path / "metrics.csv")]
    assert any("train.log" in n and "not merged" in n for n in res.notes)


def test_yolov5_results_csv_is_csv(tmp_path):
    """Ultralytics' results.csv pads header and values with spaces (pandas to_csv of a frame whose
    keys are '%20s' formatted)."""
    keys = ["epoch", "train/box_loss", "train/obj_loss", "train/cls_loss", "metrics/precision",
            "metrics/recall", "metrics/mAP_0.5", "metrics/mAP_0.5:0.95", "val/box_loss", "val/obj_loss",
            "val/cls_loss", "x/lr0", "x/lr1", "x/lr2"]
    lines = [",".join(f"{k:>20s}" for k in keys)]
    for e in range(30):
        vals = [f"{e:>20d}"] + [f"{v:>20.5g}" for v in [0.1 / (e + 1)] * 3 + [0.5] * 4 + [0.12 / (e + 1)] * 3 + [0.01] * 3]
        lines.append(",".join(vals))
    (tmp_path / "results.csv").write_text("\n".join(lines) + "\n")
    (run,) = load_runs(tmp_path).runs
    assert run.format != "console"
    assert len(points(run, "train/box_loss")) == 30 and points(run, "val/box_loss")[0] == (0, 0.12)


def yolov7_results_row(epoch: int, epochs: int, mloss, labels: int, size: int, results) -> str:
    """A row of YOLOv7's (and YOLOv5 < v6's) results.txt, formatted as train.py does."""
    mem = "%.3gG" % 12.8  # noqa: UP031 - train.py's format strings, as they are
    s = ("%10s" * 2 + "%10.4g" * 6) % ("%g/%g" % (epoch, epochs - 1), mem, *mloss, labels, size)  # noqa: UP031
    return s + "%10.4g" * 7 % tuple(results) + "\n"


def test_yolov7_results_txt(tmp_path):
    rows = []
    for e in range(40):
        box, obj, cls = 0.04 / (1 + e / 5), 0.2 / (1 + e), 0.0
        vbox = 0.035 / (1 + e / 5) if e < 15 else 0.012 * (1 + (e - 15) / 10)  # overfits from epoch 15
        rows.append(yolov7_results_row(e, 40, (box, obj, cls, box + obj + cls), 19, 640,
                                       (0.3 + e / 100, 0.4, 0.3, 0.14, vbox, 0.003, 0.0)))
    (tmp_path / "exp").mkdir()
    (tmp_path / "exp" / "results.txt").write_text("".join(rows))
    (run,) = load_runs(tmp_path / "exp").runs
    assert points(run, "train/box_loss")[:2] == [(0, 0.04), (1, 0.03333)]
    assert points(run, "metrics/mAP_0.5:0.95")[0] == (0, 0.14) and len(points(run, "val/box_loss")) == 40
    report = analyze_run(run, Config())
    assert (report.view.roles["loss"], report.view.roles["val_loss"]) == ("train/box_loss", "val/box_loss")
    assert "overfitting" in {f.kind for f in report.findings}


def test_yolov5_before_v6_console(tmp_path):
    """YOLOv5 v4/v5's train.py and test.py: the header "Epoch gpu_mem box obj cls total labels
    img_size" ('%10s' * 8), each epoch's bar described by its row ('%10s' * 2 + '%10.4g' * 6), the
    validation bar's ('%20s' + '%12s' * 6) header with Labels, P, R, mAP@.5 and its 'all' row
    ('%20s' + '%12.3g' * 6). Rows are named as results.csv names them since v6."""
    out = []
    for e in range(30):
        box, obj, cls = 0.05 / (1 + e / 4), 0.01 / (1 + e / 8), 0.0
        out.append(("\n" + "%10s" * 8) % ("Epoch", "gpu_mem", "box", "obj", "cls", "total", "labels", "img_size") + "\n")
        row = ("%10s" * 2 + "%10.4g" * 6) % ("%g/%g" % (e, 29), "2.92G", box, obj, cls, box + obj + cls, 12, 640)  # noqa: UP031
        out.append("\r".join(f"{row}: {p:3d}%|{'#' * (p // 10):<10}| {n}/54 [01:25<00:01,  1.54s/it]"
                              for n, p in ((27, 50), (54, 100))) + "\n")
        out.append(("%20s" + "%12s" * 6) % ("Class", "Images", "Labels", "P", "R", "mAP@.5", "mAP@.5:.95")
                   + ": 100%|##########| 27/27 [00:09<00:00,  2.9it/s]\n")
        out.append(("%20s" + "%12.3g" * 6) % ("all", 857, 857, 0.9, 0.8, 0.5 + e / 100, 0.3 + e / 100) + "\n")
    p = tmp_path / "train.log"
    p.write_text("".join(out))
    (run,) = load_runs(p).runs
    assert points(run, "train/box_loss")[:2] == [(0, 0.05), (1, 0.04)]
    assert points(run, "metrics/mAP@.5")[1] == (1, 0.51)
    assert {"train/total_loss", "train/obj_loss", "train/cls_loss", "metrics/precision"} <= set(run.frame["metric"].unique())


def test_a_log_that_starts_with_a_hole_of_zeros_is_read(tmp_path):
    """A log truncated (`> train.log`) while its writer kept its offset starts with a run of zero
    bytes, the first line fused to it (a public run: 11,363 of them): text all the same."""
    lines = "".join(f"step {s:5d} | loss {4.5 - s / 1000:.4f} | lr 3.00e-04\n" for s in range(700, 3600, 100))
    p = tmp_path / "training.log"
    p.write_bytes(b"\x00" * 11363 + lines.encode())
    (run,) = load_runs(tmp_path).runs
    assert [s for s, _ in points(run, "loss")] == list(range(700, 3600, 100))
    from lossctl.readers.console import is_binary

    assert not is_binary(b"\x00" * 11363 + lines.encode())
    assert is_binary(b"step 1 loss 0.5\n" + bytes(range(8)) * 200)  # zeros scattered in data: binary


def test_reader_on_bytes_with_carriage_returns_and_backspaces():
    from lossctl.readers.console import read_bytes

    data = C.keras(C.curve(5))[0].encode()
    assert b"\x08" in data and b"\r" in data
    f = read_bytes(data, "x").frame
    assert sorted(set(f["metric"])) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert f[f["metric"] == "loss"]["step"].tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("preamble_kb", [10, 480])
def test_sniff_sees_past_a_long_preamble(tmp_path, preamble_kb):
    """A SLURM job's output opens with nvidia-smi, compilation logs and data-loading bars: a public
    openpi fine-tune printed its first step 475 KB into eval.out. Found by a directory walk."""
    console, _ = C.nanogpt(C.curve(100))
    p = tmp_path / "eval.out"
    filler = "".join(f"config key_{i} = value {i}\n" for i in range(400))
    bar = "\r".join(f"Loading shards: {i:3d}%|{'#' * (i // 10):<10}| {i}/100" for i in range(101)) + "\n"
    p.write_text(filler + bar * (preamble_kb * 1024 // len(bar)) + console)
    assert len(points(load_runs(tmp_path).runs[0], "loss")) == 100
    assert reader.format == "console"


def test_tqdm_bars_give_their_count_as_the_step(tmp_path):
    """Lines tqdm formats (tqdm.format_meter, each bar ended by a log line as a captured console
    shows it): diffusers' 'Steps:  10%|...| 500/5000 [..., loss=0.77, lr=2e-05]' is step 500; a
    percentage is progress, not a value; the prose of a download bar is no metric."""
    tqdm = pytest.importorskip("tqdm").tqdm

    lines = [tqdm.format_meter(2, 2, 0.1, prefix="Fetching 2 files") + " from 84 parquet files"]
    for step in range(10, 1001, 10):
        lines.append(tqdm.format_meter(step, 1000, step * 0.3, prefix="Steps", postfix=f"loss={1 / step:.4g}, lr=2e-05"))
    p = tmp_path / "train.log"
    p.write_text("\n".join(lines) + "\n")
    (run,) = load_runs(p).runs
    assert set(run.frame["metric"].unique()) == {"loss", "lr"}
    assert [s for s, _ in points(run, "loss")] == list(range(10, 1001, 10))


def test_lightning_bars_count_within_the_epoch(tmp_path):
    """Lightning's bar ('Epoch 3:  45%|...| 361/802 [..., loss=0.0431, v_num=0]'): the count runs
    within the epoch, so the step is epoch x 802 + count."""
    tqdm = pytest.importorskip("tqdm").tqdm

    lines = [tqdm.format_meter(b, 802, b * 0.4, prefix=f"Epoch {e}", postfix=f"loss={1 / (e * 802 + b):.4g}, v_num=0")
             for e in range(3) for b in (200, 400, 600, 802)]
    p = tmp_path / "nohup.out"
    p.write_text("\n".join(lines) + "\n")
    (run,) = load_runs(p).runs
    assert [s for s, _ in points(run, "loss")] == [e * 802 + b for e in range(3) for b in (200, 400, 600, 802)]


def paddleocr_log(launches: int, iters: int) -> str:
    """A PaddleOCR training log as ppocr's logger writes it (``[%(asctime)s] %(name)s
    %(levelname)s: %(message)s``, dates as ``%Y/%m/%d %H:%M:%S``; tools/program.py's iteration
    line): launches that died on missing images, each dumping its config (which names the loss),
    then one that trains."""
    import logging

    fmt = logging.Formatter("[%(asctime)s] %(name)s %(levelname)s: %(message)s", datefmt="%Y/%m/%d %H:%M:%S")

    def line(msg: str, level=logging.INFO) -> str:
        rec = logging.LogRecord("root", level, __file__, 0, msg, None, None)
        rec.created = 1_670_000_000.0
        return fmt.format(rec) + "\n"

    config = "".join(line(f"    {k} : {v}") for k, v in (("Loss", ""), ("name", "CTCLoss"), ("epoch_num", 500)))
    missing = "".join(line(f"When parsing line ./img/{i:06d}.jpg, error happened with msg: does not exist!",
                           logging.ERROR) for i in range(2600))
    out = "".join(config + missing for _ in range(launches)) + config
    for it in range(10, 10 * iters + 1, 10):
        logs = f"lr: 0.001000, loss: {250 / it:.6f}, acc: {min(1.0, it / 5000):.6f}, norm_edit_dis: 0.000000"
        out += line(f"epoch: [1/500], iter: {it}, {logs}, reader_cost: 2.98897 s, batch_cost: 5.33197 s, "
                    f"samples: 704, ips: 13.20337")
    return out


def test_a_job_relaunched_several_times_is_found_past_its_preambles(tmp_path):
    """A public PaddleOCR log's first iteration comes 876 KB in, after ten failed launches that
    each dumped a config naming the loss: the sniff tries a few places past the first 256 KB.
    Times printed in seconds (``batch_cost: 5.33 s``) are not losses."""
    p = tmp_path / "output" / "rec" / "train.log"
    p.parent.mkdir(parents=True)
    p.write_text(paddleocr_log(launches=4, iters=200))
    assert p.stat().st_size > 1_000_000
    (run,) = load_runs(tmp_path).runs
    assert [s for s, _ in points(run, "loss")][:3] == [10, 20, 30] and len(points(run, "loss")) == 200
    assert not {"reader_cost", "batch_cost"} & set(run.frame["metric"].unique())
    assert analyze_run(run, Config()).view.roles["loss"] == "loss"


@pytest.mark.parametrize("chunk", [None, 64 << 10])
def test_every_state_of_a_progress_bar_redrawn_over_a_whole_epoch_is_a_point(tmp_path, monkeypatch, chunk):
    """PyTorch Lightning's bar captured by nohup: one physical line per epoch, redrawn with \\r at
    every refresh (600 states, 120 KB: past the 64 KiB line limit). Each state is what the bar
    showed at that step: a point, read whole or streaming in chunks (before, only the last state
    of each line was kept: 4 points for 2,400 steps, and before that the line was skipped)."""
    from lossctl.readers.console import lines as L

    if chunk:
        monkeypatch.setattr(L, "CHUNK", chunk)
    out, want = [], {}
    for e in range(4):
        states = []
        for b in range(1, 601):
            v = 0.5 / (1 + e + b / 600)
            states.append(f"Epoch {e}:  {b * 100 // 600:3d}%|{'#' * (b // 60):<10}| {b}/600 [00:10<00:00, 3.3it/s, "
                          f"loss={v:.4g}, v_num=23, train/loss_step={v * 1.1:.4g}, global_step={e * 600 + b}.00]")
            want[e * 600 + b] = float(f"{v:.4g}")
        out.append("\r".join(states) + "\n")
    text = "".join(out)
    assert min(len(x) for x in text.split("\n") if x) > L.MAX_LINE
    (tmp_path / "nohup.out").write_text(text)
    (run,) = load_runs(tmp_path).runs
    assert dict(points(run, "loss")) == want and not run.warnings
    assert set(run.frame["metric"].unique()) == {"loss", "v_num", "train/loss_step"}


def test_a_long_line_after_a_redraw_is_dropped():
    """A \\r early in a 20 MB line of garbage ends a state; the garbage after it is one long line."""
    import io

    from lossctl.readers.console import lines as L

    blocks = L.Blocks(io.BytesIO(b"step=1 loss=0.5\n" + b"abc\r" + b"x" * (20 << 20) + b"\nstep=2 loss=0.4\n"))
    assert b"".join(blocks) == b"step=1 loss=0.5\nabc\n\nstep=2 loss=0.4\n" and blocks.long_lines == 1


def test_a_100_mb_line_keeps_memory_bounded(tmp_path):
    """Peak RSS of a whole process reading a log with a 100 MB line stays far below the line's size
    on top of what reading the normal lines costs."""
    import subprocess
    import sys

    p = tmp_path / "train.log"
    normal = "".join(f"step={s} loss={1 / (s + 1):.4f}\n" for s in range(200)).encode()
    with open(p, "wb") as f:
        f.write(normal)
        f.write(b"x" * (100 << 20) + b"\n")
        f.write(normal.replace(b"step=", b"step=1"))
    code = ("import sys; from lossctl.readers.console import reader; d = reader.read(sys.argv[1]);"
            "hwm = next(int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM:'));"
            "print(len(d.frame), hwm // 1024, d.warnings[0])")
    out = subprocess.run([sys.executable, "-c", code, str(p)], capture_output=True, text=True, timeout=120,
                         check=True).stdout.split(maxsplit=2)
    assert int(out[0]) == 400 and "longer than 64 KiB skipped" in out[2]
    assert int(out[1]) < 100 + 150, f"peak RSS {out[1]} MB"  # imports (pandas, numpy) ~100 MB


def test_sample_console_run_finds_what_its_csv_twin_finds(tmp_path):
    """sample_logs/nonfinite_console was printed by scripts/make_sample_logs.py's training loop;
    the same training written as CSV (the printed values) gives the same findings."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("make_sample_logs", root / "scripts" / "make_sample_logs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        steps, epochs = mod.nonfinite()
    val_at = {last: (train, val) for _, last, train, val in epochs}
    rows = []
    for i, (_, step, loss, _) in enumerate(steps):
        rows.append({"step": step, "loss": float(f"{loss:.4f}"), "time": 50.0, "mfu": -100.0 if i < 5 else 30.0})
        if step in val_at:
            rows.append({"step": step, "train loss": float(f"{val_at[step][0]:.4f}"),
                         "val loss": float(f"{val_at[step][1]:.4f}")})
    (tmp_path / "metrics.csv").write_text(C.csv_of(rows))
    (twin,) = load_runs(tmp_path).runs
    (sample,) = load_runs(root / "sample_logs" / "nonfinite_console").runs
    assert sample.format == "console"
    same_points(sample, twin, ["loss", "train loss", "val loss"])
    assert findings(sample) == findings(twin) and {f[0] for f in findings(sample)} == {"nonfinite"}


# --- a step within the epoch, and "name is value" ------------------------------------------------

PADDLE = __import__("pathlib").Path(__file__).parent / "data" / "console" / "paddle_prednet_excerpt.log"


def test_a_step_that_restarts_with_each_epoch_runs_on_and_is_pairs_are_read(tmp_path):
    """A PaddlePaddle script's ``Epoch 1, Step 25, ..., avg loss so far is 0.0396`` (a real
    excerpt): the step counts within the epoch (125 an epoch), so the run is one run at
    125 x epoch + step, not one run per epoch; ``val loss is ...`` after each epoch sits at its end."""
    (run,) = load_runs(PADDLE).runs
    train = points(run, "avg loss so far")
    assert [s for s, _ in train] == [125 * e + s for e in range(5) for s in (25, 50, 75, 100, 125)]
    assert train[5][1] == 0.039579056203365326
    assert points(run, "val loss")[:2] == [(125, 0.0477195605635643), (250, 0.04526732861995697)]
    assert points(run, "current lr")[0] == (0, 0.001)
    report = analyze_run(run, Config())
    assert report.view.roles == {"loss": "avg loss so far", "val_loss": "val loss", "lr": "current lr"}


def test_an_epoch_and_a_global_step_stay_global(tmp_path):
    p = tmp_path / "train.log"
    p.write_text("".join(f"epoch {s // 100} step {s} loss={1 / s:.4f}\n" for s in range(10, 1000, 10)))
    (run,) = load_runs(p).runs
    assert [s for s, _ in points(run, "loss")] == list(range(10, 1000, 10))


@pytest.mark.parametrize("shape", ["transfer_tutorial", "mnist_example", "maniskill_ppo", "epoch_heading_batches",
                                   "arguments_then_epochs"])
def test_lines_without_a_step_are_read_at_the_step_above_them_and_nothing_else_is(tmp_path, shape):
    """Lines without a counter take the step of the line above that has one (the heading
    ``Epoch 3/24``, a training line): the metrics are exactly the CSV twin's, so neither the
    arguments printed before the first step nor a remark printed once (``Best val Acc: ..``) is
    read as a curve."""
    console, csv = SHAPES[shape][0]()
    a, b = both(tmp_path, console, csv)
    assert set(a.frame["metric"].astype(str)) == set(b.frame["metric"].astype(str))
    assert len(a.frame) == len(b.frame)


def test_a_plain_line_without_a_step_is_read_only_under_a_heading(tmp_path):
    """``saved best model (val_loss=0.31)`` between lines that each print their epoch is a
    remark, not a second validation curve; ``Epoch 3`` alone on a line followed by such lines is
    a heading, and they are read under it."""
    remarks = "".join(f"Epoch {e + 1}/40 - Train Loss: {1 / (e + 1):.4f}\n  saved best model (val_loss={1 / (e + 1):.4f})\n"
                      for e in range(40))
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "train.log").write_text(remarks)
    (run,) = load_runs(tmp_path / "a").runs
    assert set(run.frame["metric"].astype(str)) == {"Train Loss"}
    headed = "".join(f"Epoch {e + 1}/40\nTrain Loss: {1 / (e + 1):.4f}\nsaved best model (val_loss={1 / (e + 1):.4f})\n"
                     for e in range(40))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "train.log").write_text(headed)
    (run,) = load_runs(tmp_path / "b").runs
    assert set(run.frame["metric"].astype(str)) == {"Train Loss", "val_loss"}
    assert run.frame.groupby("metric", observed=True)["step"].max().tolist() == [40, 40]


def test_a_log_without_line_breaks_is_not_called_empty(tmp_path):
    """VoxelNet's train.txt, written without a newline: 2.7 MB on one line, every record of it
    over the line limit. The message says so (it said "empty file")."""
    p = tmp_path / "train.txt"
    p.write_text("".join(f"train: {i} @ epoch:1/2 loss: {1 / i:.4f} reg_loss: 0.5 batch time: 0.1 "
                         for i in range(1, 4000)))
    with pytest.raises(Exception) as err:
        reader.read(p)
    assert "longer than 64 KiB" in str(err.value) and "empty" not in str(err.value)
    (tmp_path / "empty.log").write_text("\n\n")
    with pytest.raises(Exception, match="empty file"):
        reader.read(tmp_path / "empty.log")


@pytest.mark.parametrize("shape", ["dino_metric_logger", "caffe_solver", "paddleseg_train", "ppdet_train",
                                   "yolox_trainer", "fastai_v1", "fastai_v2", "marian_1.6", "marian", "pyslowfast"])
def test_nothing_but_the_twins_metrics(tmp_path, shape):
    """No metric the twin lacks: not ``the`` (DINO's ``Accuracy ... on the 10000 test images``),
    not glog's ``I0712`` or ``solver.cpp`` (Caffe), not an ``ETA`` of 24 (PaddleSeg's ``ETA
    24:15:14``) or an ``eta`` of 4 (PaddleDetection's ``eta: 4 days, 0:31:22``), not
    ``ppdet.engine INFO`` or the evaluation's progress ``Eval iter``, not loguru's ``after_iter``
    (YOLOX's ``yolox.core.trainer:after_iter:278 - ``) or its ``ETA: 1 day, 2:03:04``. (DINO's ``Epoch: [3/100]  [
    10/1562]`` is epoch 3 of 100 and batch 10 of 1562.)"""
    console, csv = SHAPES[shape][0]()
    a, b = both(tmp_path, console, csv, LOG_NAMES.get(shape, "train.log"))
    extra = {"time"} if shape == "dino_metric_logger" else set()  # a twin's "time" column is its wall time
    assert set(a.frame["metric"].astype(str)) == set(b.frame["metric"].astype(str)) | extra


@pytest.mark.parametrize("prefix", [
    "2022-12-12 13:25:40 INFO ",
    "[03/08 11:21:02] ppdet.engine INFO: ",  # PaddleDetection: a logger name before its level
    "I0712 22:28:04.844131 32223 solver.cpp:189] ",  # glog (Caffe)
    "2023-11-27 14:12:27.669 | INFO     | yolox.core.trainer:after_iter:278 - ",  # loguru (YOLOX)
    "[06/21 17:58:49][INFO] logging.py:   99: ",  # %(filename)s: %(lineno)4d: (PySlowFast)
    "[03.24.23|09:56:11] ",  # mmskeleton's torchlight (ST-GCN)
    "[2023-04-18 08:48:36,035] [INFO] [logging.py:96:log_dist] [Rank 0] ",  # DeepSpeed's log_dist
])
def test_logger_prefixes_hold_no_metric(tmp_path, prefix):
    """The loggers' prefixes are not read: their dates, thread ids, file names and line numbers
    are no metrics and no steps."""
    console, csv = C.generic_kv(DIVERGING)
    a, b = both(tmp_path, "".join(prefix + line for line in console.splitlines(keepends=True)), csv)
    same_points(a, b, ["loss", "lr"])
    assert set(a.frame["metric"].astype(str)) == set(b.frame["metric"].astype(str))
