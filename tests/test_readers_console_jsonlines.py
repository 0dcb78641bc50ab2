"""JSON-lines logs written as mmcv, mmengine and detectron2 write them (each writer below copies
the key order and ``json.dumps`` of the tool's source), read as the same run written as CSV.

- mmcv ``TextLoggerHook`` (``mmcv/runner/hooks/logger/text.py``, mmdetection 2's
  ``<timestamp>.log.json``): ``runner.meta`` first, then ``OrderedDict(mode, epoch, iter)`` + ``lr``
  + ``memory`` + the log buffer's averages (``data_time``, the losses, ``time``), floats
  ``round(v, 5)``, ``iter`` counted within the epoch; ``EvalHook`` results as ``"mode": "val"``
  lines whose ``iter`` is the validation loader's length (``eval_iter_num``).
- mmengine ``LocalVisBackend.add_scalars`` (``vis_data/scalars.json``): ``LogProcessor`` tags
  (``lr``, ``data_time``, ``loss`` first then the parts, ``time``, ``epoch``, ``iter``, ``memory``)
  plus ``step`` = the global iteration; ``LoggerHook.after_val_epoch`` lines: the metrics,
  ``data_time``, ``time``, and ``step`` = the epoch (epoch-based) or the iteration (iter-based).
- detectron2 ``JSONWriter``: ``json.dumps({..., "iteration": it}, sort_keys=True)``.
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict

import console_shapes as C
import numpy as np
import pytest
from twins import findings, points, read_twins

from lossctl.runs import load_runs
from lossctl.sources.files import reader_for
from lossctl.storage import as_blob

read_both = read_twins


def assert_same(a, b):
    """Same points and findings. The CSV twins leave out ``epoch`` and ``time`` (a CSV's ``time``
    column is its wall time; with ``epoch`` beside ``step`` it would be read as Lightning's)."""
    assert sorted(set(a.frame["metric"]) - {"time", "epoch"}) == sorted(set(b.frame["metric"]))
    for m in sorted(set(b.frame["metric"])):
        pa, pb = points(a, m), points(b, m)
        assert [s for s, _ in pa] == [s for s, _ in pb], m
        np.testing.assert_allclose([v for _, v in pa], [v for _, v in pb], rtol=1e-12, equal_nan=True)
    assert findings(a) == findings(b)
    assert not [w for w in a.warnings if "ranks" in w or "could not be read" in w or "trainings" in w]


# mmcv (mmdetection 2) ---------------------------------------------------------------------------

META = OrderedDict(env_info="sys.platform: linux\nPython: 3.8.13 (default, Mar 28 2022, 11:38:47) [GCC 7.5.0]\n"
                            "CUDA available: True\nGPU 0: NVIDIA A100-SXM4-40GB\nPyTorch: 1.12.1\nMMCV: 1.7.0",
                   config="model = dict(\n    type='FasterRCNN',\n    backbone=dict(\n        type='ResNet',\n"
                          "        depth=50,\n        num_stages=4))\noptimizer = dict(type='SGD', lr=0.02, "
                          "momentum=0.9, weight_decay=0.0001)\nrunner = dict(type='EpochBasedRunner', max_epochs=3)",
                   seed=0, exp_name="faster_rcnn_r50_fpn_1x_coco.py")


def _round_float(v):  # TextLoggerHook._round_float
    return round(v, 5) if isinstance(v, float) else v


def _mmcv_line(log_dict: dict) -> str:
    return json.dumps(OrderedDict((k, _round_float(v)) for k, v in log_dict.items())) + "\n"


def mmcv_log_json(loss, epochs: int, iters: int, interval: int = 50, val_loader: int = 125,
                  workflow_val: bool = False):
    """``loss``: per global iteration. An ``EvalHook`` line after each epoch; with ``workflow_val``
    (``workflow = [('train', 1), ('val', 1)]``) a validation-loss line instead."""
    out, rows = [_mmcv_line(META)], []
    for e in range(1, epochs + 1):
        lr = 0.02 * 0.1 ** (e - 1)
        for i in range(interval, iters + 1, interval):
            v = loss[(e - 1) * iters + i - 1]
            d = OrderedDict(mode="train", epoch=e, iter=i, lr=lr, memory=3843, data_time=0.05123,
                            loss_rpn_cls=v / 8, loss_rpn_bbox=v / 16, loss_cls=v / 2, acc=97.1234,
                            loss_bbox=v * 5 / 16, loss=v, time=0.51234)
            out.append(_mmcv_line(d))
            r = {k: _round_float(x) for k, x in d.items() if k not in ("mode", "epoch", "iter")}
            rows.append({"step": (e - 1) * iters + i, **{k: x for k, x in r.items() if k != "time"}})
        step = e * iters
        if workflow_val:
            v = loss[e * iters - 1] * 1.2
            d = OrderedDict(mode="val", epoch=e, iter=val_loader, lr=lr, memory=3843, data_time=0.02,
                            loss_rpn_cls=v / 8, loss=v, time=0.2)
            rows.append({"step": step, **{f"val/{k}": _round_float(d[k])
                                          for k in ("memory", "data_time", "loss_rpn_cls", "loss", "time")}})
        else:
            ap = [0.2 + 0.05 * e, 0.38, 0.215, 0.118, 0.238, 0.277]
            d = OrderedDict(mode="val", epoch=e, iter=val_loader, lr=lr)
            for k, a in zip(["mAP", "mAP_50", "mAP_75", "mAP_s", "mAP_m", "mAP_l"], ap):
                d[f"bbox_{k}"] = float(f"{a:.3f}")
            d["bbox_mAP_copypaste"] = " ".join(f"{a:.3f}" for a in ap)
            rows.append({"step": step, **{f"val/{k}": v for k, v in d.items() if k.startswith("bbox_mAP")
                                          and not k.endswith("copypaste")}})
        out.append(_mmcv_line(d))
    return "".join(out), C.csv_of(rows)


def test_mmcv_log_json_three_epochs_with_val_lines(tmp_path):
    """``iter`` restarts each epoch: the global step is (epoch - 1) * iters + iter, never a
    restart; the val lines sit at the epoch's last logged step as ``val/bbox_mAP``."""
    text, csv = mmcv_log_json(C.curve(1200), epochs=3, iters=400)
    a, b = read_both(tmp_path, "20221101_120000.log.json", text, csv)
    assert_same(a, b)
    assert points(a, "loss")[8][0] == 450 and points(a, "val/bbox_mAP") == [(400, 0.25), (800, 0.3), (1200, 0.35)]
    assert "lr" in set(a.frame["metric"]) and len(points(a, "lr")) == 24  # training lines only


def test_mmcv_workflow_val_losses_pair_with_training_losses(tmp_path):
    from lossctl.roles import assign_roles

    text, csv = mmcv_log_json(C.curve(1200), epochs=3, iters=400, workflow_val=True)
    a, b = read_both(tmp_path, "20221101_120000.log.json", text, csv)
    assert_same(a, b)
    counts = a.frame["metric"].value_counts().to_dict()
    roles = assign_roles({str(k): int(v) for k, v in counts.items()})
    assert (roles["loss"], roles["val_loss"]) == ("loss", "val/loss")


def test_mmcv_log_json_whose_meta_line_is_longer_than_the_sniffed_head(tmp_path):
    """mmcv's first record is ``runner.meta``: ``env_info`` holds PyTorch's whole build
    configuration and ``config`` the whole config file, 11 KB on one line in a public mmdetection
    2 work_dir; the file is JSON lines all the same (it was read as one JSON document: "Extra data")."""
    long_meta = OrderedDict(META, env_info=META["env_info"] + "\nPyTorch compiling details: " + "  - CPU capability" * 600)
    text, csv = mmcv_log_json(C.curve(1200), epochs=3, iters=400)
    text = _mmcv_line(long_meta) + text.split("\n", 1)[1]
    assert len(text.split("\n", 1)[0]) > 8192
    a, b = read_both(tmp_path, "20210312_100204.log.json", text, csv)
    assert_same(a, b)


def test_a_structured_log_that_holds_no_curve_leaves_the_console_logs_to_read(tmp_path):
    """An aborted start leaves a ``.log.json`` of its meta record alone (a JSON document, not a
    history) beside the real run's ``.log.json`` and text ``.log``: the run is read from a log that
    holds it, the other noted as not merged, and nothing is unreadable."""
    text, _ = mmcv_log_json(C.curve(1200), epochs=3, iters=400)
    work = tmp_path / "work_dirs" / "faster_rcnn"
    work.mkdir(parents=True)
    (work / "20210311_174958.log.json").write_text(_mmcv_line(META))
    (work / "20210312_100204.log.json").write_text(text)
    (work / "20210312_100204.log").write_text("2021-03-12 10:02:04,000 - mmdet - INFO - Environment info:\n")
    res = load_runs(tmp_path / "work_dirs")
    (run,) = res.runs
    assert run.files == [str(work / "20210312_100204.log.json")] and len(points(run, "loss")) == 24
    assert res.errors == []


# mmengine ---------------------------------------------------------------------------------------

def _mmengine_dump(tag: dict, step: int) -> str:
    """LocalVisBackend.add_scalars: ``scalar_dict.setdefault('step', step)``, json.dump."""
    tag = dict(tag)
    tag.setdefault("step", step)
    return json.dumps(tag) + "\n"


def mmengine_scalars(loss, by_epoch: bool, iters: int, epochs: int = 1, interval: int = 50,
                     val_interval: int = 400, nan_at: int | None = None):
    """``scalars.json`` of a run of ``len(loss)`` iterations; evaluation each epoch (epoch-based)
    or every ``val_interval`` iterations (iter-based)."""
    out, rows = [], []
    total = len(loss)
    for it in range(1, total + 1):
        e = (it - 1) // iters + 1
        if it % interval == 0 or (by_epoch and it % iters == 0):
            v = math.nan if nan_at is not None and it >= nan_at else loss[it - 1]
            tag = {"lr": 0.0025 * 0.1 ** (e - 1), "data_time": 0.006211280822753906, "loss": v,
                   "loss_rpn_cls": v / 8, "loss_cls": v / 2, "acc": 97.65625, "time": 0.3217461109161377}
            if by_epoch:
                tag["epoch"] = e
            tag["iter"] = it
            tag["memory"] = 3349
            out.append(_mmengine_dump(tag, it))
            rows.append({"step": it, **{k: x for k, x in tag.items() if k not in ("iter", "epoch", "time")}})
        val_now = it % iters == 0 if by_epoch else it % val_interval == 0
        if val_now:
            m = 0.1 + 0.02 * it / iters
            tag = {"coco/bbox_mAP": round(m, 3), "coco/bbox_mAP_50": round(m * 1.7, 3),
                   "data_time": 0.003935337066650391, "time": 0.06134986877441406}
            out.append(_mmengine_dump(tag, e if by_epoch else it))
            last = max(s for s in range(interval, it + 1, interval))
            rows.append({"step": last, **{f"val/{k}": x for k, x in tag.items()}})
    return "".join(out), C.csv_of(rows)


def test_mmengine_epoch_based_val_steps_are_epochs_not_a_restart(tmp_path):
    text, csv = mmengine_scalars(C.curve(1200), by_epoch=True, iters=400, epochs=3)
    assert '"epoch": 1, "iter": 50, "memory": 3349, "step": 50}' in text
    assert '"data_time": 0.003935337066650391, "time": 0.06134986877441406, "step": 2}' in text
    a, b = read_both(tmp_path, "scalars.json", text, csv)
    assert_same(a, b)
    assert [s for s, _ in points(a, "val/coco/bbox_mAP")] == [400, 800, 1200]
    assert len(points(a, "val/time")) == 3 and len(points(a, "time")) == 24


def test_mmengine_iter_based(tmp_path):
    text, csv = mmengine_scalars(C.curve(2000, diverge_at=1400), by_epoch=False, iters=10**9, val_interval=500)
    a, b = read_both(tmp_path, "scalars.json", text, csv)
    assert_same(a, b)
    assert [s for s, _ in points(a, "val/coco/bbox_mAP")] == [500, 1000, 1500, 2000]
    assert "divergence" in {f[0] for f in findings(a)}


def test_mmengine_hierarchy_names_are_kept(tmp_path):
    """``log_with_hierarchy=True``: keys already say ``train/``/``val/``; nothing is added."""
    lines = [_mmengine_dump({"train/lr": 0.01, "train/data_time": 0.01, "train/loss": 1 / s,
                             "train/time": 0.3, "epoch": 1 + s // 40, "iter": s * 10, "memory": 100}, s * 10)
             for s in range(1, 121)]
    for e in (1, 2, 3):
        lines.insert(40 * e + e - 1, _mmengine_dump({"val/accuracy/top1": 50.0 + e, "val/data_time": 0.01,
                                                     "val/time": 0.1}, e))
    p = tmp_path / "scalars.json"
    p.write_text("".join(lines))
    (run,) = load_runs(p).runs
    assert points(run, "val/accuracy/top1") == [(400, 51.0), (800, 52.0), (1200, 53.0)]
    assert "val/val/time" not in set(run.frame["metric"])


def test_mmengine_nan_loss_is_nonfinite(tmp_path):
    text, csv = mmengine_scalars(C.curve(1200), by_epoch=True, iters=400, epochs=3, nan_at=900)
    assert '"loss": NaN' in text
    a, b = read_both(tmp_path, "scalars.json", text, csv)
    assert_same(a, b)
    assert "nonfinite" in {f[0] for f in findings(a)}


def mmengine_console_log(text: str, iters: int) -> str:
    """What MMLogger wrote to ``<timestamp>.log`` for the same iterations: MMFormatter's
    ``%(asctime)s - %(name)s - INFO - %(message)s`` around LogProcessor.get_log_after_iter."""
    out = []
    for line in text.splitlines():
        d = json.loads(line)
        if "iter" in d:
            out.append(f"2023/03/01 12:00:{d['iter'] % 60:02d} - mmengine - INFO - Epoch(train) [{d['epoch']}]"
                       f"[{d['iter'] - iters * (d['epoch'] - 1):3d}/{iters}]  lr: {d['lr']:.4e}  eta: 0:10:00  "
                       f"time: {d['time']:.4f}  data_time: {d['data_time']:.4f}  memory: {d['memory']}  "
                       f"loss: {d['loss']:.4f}  loss_rpn_cls: {d['loss_rpn_cls']:.4f}  "
                       f"loss_cls: {d['loss_cls']:.4f}  acc: {d['acc']:.4f}\n")
    return "".join(out)


@pytest.mark.parametrize("console", ["mmengine", "stdout"])
def test_mmengine_work_dir_is_one_run_from_scalars_json(tmp_path, console):
    """``<work_dir>/<timestamp>/``: the console ``<timestamp>.log`` and ``vis_data/`` with
    ``scalars.json``, its copy ``<timestamp>.json`` and ``config.py``: one run, from scalars.json.
    The console log read there (mmengine's own lines, or ``stdout``: a loop's ``key=value`` lines)
    is noted as not merged."""
    text, _ = mmengine_scalars(C.curve(1200), by_epoch=True, iters=400, epochs=3)
    ts = "20230301_120000"
    run_dir = tmp_path / "work_dirs" / "rtmdet" / ts
    (run_dir / "vis_data").mkdir(parents=True)
    (run_dir / "vis_data" / "scalars.json").write_text(text)
    (run_dir / "vis_data" / f"{ts}.json").write_text(text)
    (run_dir / "vis_data" / "config.py").write_text("default_scope = 'mmdet'\nmax_epochs = 3\n")
    log = run_dir / f"{ts}.log"
    log.write_text(mmengine_console_log(text, 400) if console == "mmengine" else C.generic_kv(C.curve(1200))[0])
    res = load_runs(tmp_path / "work_dirs")
    (run,) = res.runs
    assert run.name == f"rtmdet/{ts}" and run.files == [str(run_dir / "vis_data" / "scalars.json")]
    assert len(points(run, "loss")) == 24 and not [w for w in run.warnings if "replaced" in w]
    read = reader_for(as_blob(log)) is not None
    assert read or console == "mmengine"
    assert [n for n in res.notes if log.name in n and "not merged" in n] == (res.notes if read else [])
    (only,) = load_runs(run_dir / "vis_data").runs  # the folder named itself: the copy is not read
    assert only.files == [str(run_dir / "vis_data" / "scalars.json")]


# detectron2 -------------------------------------------------------------------------------------

def detectron2_metrics(loss, start: int, stop: int, every: int = 20, eval_at: tuple = ()):
    """JSONWriter.write at each ``every``-th iteration, EvalHook's ``bbox/AP`` in the same line."""
    out, rows = [], []
    for it in range(start + every - 1, stop, every):
        d = {"data_time": 0.0021, "eta_seconds": 1234.5, "fast_rcnn/cls_accuracy": 0.9375,
             "loss_box_reg": loss[it] / 3, "loss_cls": loss[it] / 2, "lr": 0.02, "time": 0.2512,
             "total_loss": loss[it]}
        if it + 1 in eval_at:
            d.update({"bbox/AP": 12.5, "bbox/AP50": 25.1})
        d["iteration"] = it
        out.append(json.dumps(d, sort_keys=True) + "\n")
        rows.append({"step": it, **{k: v for k, v in d.items() if k != "iteration"}})
    return out, rows


def test_detectron2_resume_and_nan(tmp_path):
    """Resumed from the iteration-999 checkpoint after a crash at 1299: JSONWriter appends, the
    iterations 1000-1299 are written again; the later points win (the restart rule). A NaN loss
    is written ``NaN`` by json.dumps."""
    first = C.curve(3000)
    again = [v * 0.95 for v in C.curve(3000)]
    again[2500:] = [math.nan] * 500
    one, rows1 = detectron2_metrics(first, 0, 1300)
    two, rows2 = detectron2_metrics(again, 1000, 3000, eval_at=(2000,))
    text = "".join(one + two)
    assert '"total_loss": NaN' in text
    kept = [r for r in rows1 if r["step"] < 1000] + rows2
    a, b = read_both(tmp_path, "metrics.json", text, C.csv_of(kept))
    assert_same(a, b)
    assert points(a, "bbox/AP") == [(1999, 12.5)]
    assert any("points replaced" in w for w in a.warnings)
    assert "nonfinite" in {f[0] for f in findings(a)}


def test_a_jsonl_of_losses_with_timings_is_training_lines(tmp_path):
    """mmengine's evaluation shape needs no loss: ``loss, data_time, time, step`` lines written
    by hand are a training log."""
    p = tmp_path / "train.jsonl"
    p.write_text("".join(json.dumps({"loss": 1 / s, "data_time": 0.01, "time": 0.2, "step": s}) + "\n"
                         for s in range(1, 101)))
    (run,) = load_runs(p).runs
    assert [s for s, _ in points(run, "loss")] == list(range(1, 101))


@pytest.mark.parametrize("line", ['{"mode": "val", "epoch": 1, "iter": 125, "lr": 0.02}\n',
                                  '{"coco/bbox_mAP": 0.5, "data_time": 0.01, "time": 0.1, "step": 1}\n'])
def test_evaluation_lines_alone_do_not_fail(tmp_path, line):
    p = tmp_path / "x.log.json"
    p.write_text(json.dumps(META) + "\n" + line * 3)
    load_runs(tmp_path)  # readable or not a run; never a traceback


def llamafactory_log(losses, eval_every=100, total=None):
    """LLaMA-Factory's trainer_log.jsonl as ``LogCallback.on_log`` writes it (``json.dumps`` of
    its dict with the None values dropped): a training line every 10 steps, an evaluation line
    beside every ``eval_every``-th."""
    total = total or 10 * len(losses)
    out = []
    for i, loss in enumerate(losses, 1):
        step = 10 * i
        row = {"current_steps": step, "total_steps": total, "loss": loss, "lr": 5e-5 * (1 - step / total),
               "epoch": round(step / total * 3, 2), "percentage": round(step / total * 100, 2),
               "elapsed_time": "0:00:38", "remaining_time": "12:38:11"}
        out.append(json.dumps(row) + "\n")
        if step % eval_every == 0:
            out.append(json.dumps({"current_steps": step, "total_steps": total, "eval_loss": 1.5 * loss,
                                   "epoch": row["epoch"], "percentage": row["percentage"],
                                   "elapsed_time": "0:01:00", "remaining_time": "12:00:00"}) + "\n")
    return "".join(out)


def test_llamafactory_trainer_log(tmp_path):
    p = tmp_path / "saves" / "qwen-sft" / "trainer_log.jsonl"
    p.parent.mkdir(parents=True)
    p.write_text(llamafactory_log([2.0 / (1 + 0.05 * i) for i in range(200)]))
    (run,) = load_runs(tmp_path).runs
    got = points(run, "loss")
    assert [s for s, _ in got] == list(range(10, 2001, 10)) and got[0][1] == 2.0
    assert [s for s, _ in points(run, "eval_loss")] == list(range(100, 2001, 100))
    assert set(run.frame["metric"].unique()) == {"loss", "eval_loss", "lr", "epoch"}  # no progress counters
    assert not run.warnings
