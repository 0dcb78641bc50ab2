"""OpenMMLab text logs written as the tools print them: mmengine's ``LogProcessor``
(``mmengine/runner/log_processor.py``: ``get_log_after_iter``, ``get_log_after_epoch``, num_digits
4) behind ``MMFormatter``'s ``%(asctime)s - %(name)s - INFO - %(message)s`` prefix, and mmcv 1.x's
``TextLoggerHook._log_info`` (``mmcv/runner/hooks/logger/text.py``) behind mmcv's ``get_logger``
prefix. Each run is read as its CSV twin is."""

from __future__ import annotations

import datetime
import json
import logging
import math
from collections import OrderedDict

import console_shapes as C
import numpy as np
import pytest
from twins import findings, points, read_twins

from lossctl.runs import load_runs


def both(tmp_path, text: str, csv: str, name: str):
    a, b = read_twins(tmp_path, name, text, csv)
    assert a.format == "console"
    return a, b


def assert_same(a, b):
    metrics = sorted(set(b.frame["metric"]))
    assert sorted(set(a.frame["metric"])) == metrics
    for m in metrics:
        pa, pb = points(a, m), points(b, m)
        assert [s for s, _ in pa] == [s for s, _ in pb], m
        np.testing.assert_allclose([v for _, v in pa], [v for _, v in pb], rtol=1e-12, equal_nan=True)
    assert findings(a) == findings(b)
    assert not [w for w in a.warnings if "could not be read" in w or "ranks" in w or "trainings" in w]


class Logger:
    """The logger prefix: a real ``logging.Formatter`` with the tool's format and date format."""

    def __init__(self, name: str, datefmt: str | None):
        self.name = name
        self.fmt = logging.Formatter("%(asctime)s - %(name)s - %(levelname)s - %(message)s", datefmt=datefmt)
        self.t = datetime.datetime(2023, 3, 1, 12, 0, 0).timestamp()

    def __call__(self, msg: str, seconds: float = 12.8) -> str:
        self.t += seconds
        rec = logging.LogRecord(self.name, logging.INFO, __file__, 1, msg, None, None)
        rec.created, rec.msecs = self.t, (self.t % 1) * 1000
        return self.fmt.format(rec) + "\n"


def _eta(seconds: float) -> str:
    return str(datetime.timedelta(seconds=int(seconds)))


def _f4(v: float) -> float:
    return float(f"{v:.4f}")


# mmengine (mmdetection 3.x, mmpretrain, mmsegmentation 1.x) --------------------------------------

NOISE = ["Config:", "model = dict(type='RetinaNet', data_preprocessor=dict(type='DetDataPreprocessor'))",
         "train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=1)",
         "Checkpoints will be saved to /work_dirs/retinanet.", "Saving checkpoint at 1 epochs"]


def mmengine_epochs(loss, epochs: int, iters: int, interval: int = 50, max_epochs: int = 12,
                    val_len: int = 625, start_epoch: int = 1):
    """EpochBasedTrainLoop: train lines ``Epoch(train)  [e][i/n]``, then the val loop's progress
    lines and its summary ``Epoch(val) [e][n/n]``."""
    log = Logger("mmengine", "%Y/%m/%d %H:%M:%S")
    out = [log(x) for x in NOISE[:3]]
    rows = []
    for e in range(start_epoch, epochs + 1):
        for i in range(interval, iters + 1, interval):
            step = (e - 1) * iters + i
            v = loss[step - 1]
            lr = 1e-4 * min(1.0, step / 500)
            epoch_str = f"[{e}]".rjust(len(str(max_epochs)) + 3, " ")
            s = f"Epoch(train){epoch_str}[{str(i).rjust(len(str(iters)))}/{iters}]  "
            s += f"base_lr: {1e-4:.4e} lr: {lr:.4e}  "
            s += f"eta: {_eta((max_epochs * iters - step) * 0.2557)}  "
            s += f"time: {0.2557:.4f}  data_time: {0.0086:.4f}  "
            s += f"memory: {3218}  "
            tag = OrderedDict(grad_norm=81.8436 / (1 + step), loss=v, loss_cls=v * 0.6, loss_bbox=v * 0.4)
            s += "  ".join(f"{k}: {x:.4f}" for k, x in tag.items())
            out.append(log(s))
            rows.append({"step": step, "lr": float(f"{lr:.4e}"), **{k: _f4(x) for k, x in tag.items()}})
        out.append(log(NOISE[4].replace("1", str(e))))
        for i in range(50, val_len, 50):  # val progress lines: eta, time, data_time, memory only
            s = f"Epoch(val){f'[{e}]'.rjust(len(str(max_epochs)) + 3, ' ')}[{str(i).rjust(len(str(val_len)))}/{val_len}]  "
            s += "  " + f"eta: {_eta((val_len - i) * 0.0461)}  time: {0.0461:.4f}  data_time: {0.0017:.4f}  memory: {512}  "
            out.append(log(s, 2.3))
        ap = OrderedDict((f"coco/bbox_{k}", 0.2 + 0.05 * e + 0.01 * j)
                         for j, k in enumerate(["mAP", "mAP_50", "mAP_75", "mAP_s", "mAP_m", "mAP_l"]))
        tag = OrderedDict(list(ap.items()) + [("data_time", 0.0017), ("time", 0.0461)])
        s = f"Epoch(val) [{e}][{val_len}/{val_len}]  " + "  " + "  ".join(f"{k}: {x:.4f}" for k, x in tag.items())
        out.append(log(s))
        rows.append({"step": e * iters, **{f"val/{k}": _f4(x) for k, x in ap.items()}})
    return "".join(out), C.csv_of(rows)


def mmengine_iters(loss, max_iters: int, interval: int = 50, val_interval: int = 1000, val_len: int = 500):
    """IterBasedTrainLoop (mmsegmentation 1.x): ``Iter(train) [i/n]`` and ``Iter(val) [n/n]``."""
    log = Logger("mmengine", "%m/%d %H:%M:%S")  # the console's (stdout) date format
    out, rows = [], []
    for it in range(interval, max_iters + 1, interval):
        v = loss[it - 1]
        lr = 0.01 * (1 - it / max_iters) ** 0.9
        s = f"Iter(train) [{str(it).rjust(len(str(max_iters)))}/{max_iters}]  lr: {lr:.4e}  "
        s += f"eta: {_eta((max_iters - it) * 0.413)}  time: {0.4130:.4f}  data_time: {0.0063:.4f}  memory: {3000}  "
        tag = OrderedDict(loss=v, **{"decode.loss_ce": v * 0.7, "decode.acc_seg": 60 + 30 * (1 - v / 3),
                                     "aux.loss_ce": v * 0.3, "aux.acc_seg": 55.0})
        s += "  ".join(f"{k}: {x:.4f}" for k, x in tag.items())
        # the console's colour codes (termcolor's underlined white INFO)
        out.append(log(s).replace(" - INFO - ", " - \x1b[4m\x1b[97mINFO\x1b[0m - "))
        rows.append({"step": it, "lr": float(f"{lr:.4e}"), **{k: _f4(x) for k, x in tag.items()}})
        if it % val_interval == 0:
            for i in range(100, val_len, 100):
                out.append(log(f"Iter(val) [{str(i).rjust(len(str(val_len)))}/{val_len}]    "
                               f"eta: {_eta((val_len - i) * 0.1)}  time: {0.1:.4f}  data_time: {0.005:.4f}  memory: {900}  "))
            out.append("+---------------+-------+-------+\n|     Class     |  IoU  |  Acc  |\n"
                       "+---------------+-------+-------+\n|      road     | 97.49 | 98.81 |\n")
            m = OrderedDict(aAcc=95.5, mIoU=60 + it / 1000, mAcc=70.25, data_time=0.005, time=0.1234)
            out.append(log(f"Iter(val) [{val_len}/{val_len}]    " + "  ".join(f"{k}: {x:.4f}" for k, x in m.items())))
            rows.append({"step": it, **{f"val/{k}": _f4(m[k]) for k in ("aAcc", "mIoU", "mAcc")}})
    return "".join(out), C.csv_of(rows)


# mmcv 1.x (mmdetection 2.x, mmsegmentation 0.x) --------------------------------------------------

def mmcv_text(loss, epochs: int, iters: int, interval: int = 50, val_len: int = 625):
    """EpochBasedRunner's ``TextLoggerHook``: ``Epoch [e][i/n]\\t...`` and ``Epoch(val) [e][n]\\t...``."""
    log = Logger("mmdet", None)  # mmcv get_logger: logging's default date format (",123" ms)
    out = [log("Exp name: retinanet_r50_fpn_1x_coco.py")]
    rows = []
    total = epochs * iters
    for e in range(1, epochs + 1):
        lr = 0.01 * 0.1 ** (e - 1)
        for i in range(interval, iters + 1, interval):
            step = (e - 1) * iters + i
            v = loss[step - 1]
            s = f"Epoch [{e}][{i}/{iters}]\t" + f"lr: {lr:.3e}, "
            s += f"eta: {_eta((total - step) * 0.5)}, " + f"time: {0.5:.3f}, data_time: {0.05:.3f}, "
            s += f"memory: {3000}, "
            tag = OrderedDict(loss_cls=v * 0.6, loss_bbox=v * 0.4, loss=v, grad_norm=10.1 + step / 100)
            s += ", ".join(f"{k}: {x:.4f}" for k, x in tag.items())
            out.append(log(s))
            rows.append({"step": step, "lr": float(f"{lr:.3e}"), **{k: _f4(x) for k, x in tag.items()}})
        out.append(log(f"Saving checkpoint at {e} epochs"))
        out.append(f"[>>>>>>>>>>>>>>>>>>>>>>] {val_len}/{val_len}, 20.5 task/s, elapsed: 30s, ETA:     0s\n")
        ap = [0.2 + 0.05 * e, 0.38, 0.215, 0.118, 0.238, 0.277]
        d = OrderedDict((f"bbox_{k}", float(f"{a:.3f}")) for k, a in zip(["mAP", "mAP_50", "mAP_75", "mAP_s", "mAP_m", "mAP_l"], ap))
        d["bbox_mAP_copypaste"] = " ".join(f"{a:.3f}" for a in ap)
        items = ", ".join(f"{k}: {x:.4f}" if isinstance(x, float) else f"{k}: {x}" for k, x in d.items())
        out.append(log(f"Epoch(val) [{e}][{val_len}]\t" + items))
        rows.append({"step": e * iters, **{f"val/{k}": x for k, x in d.items() if isinstance(x, float)}})
    return "".join(out), C.csv_of(rows)


def test_mmengine_epoch_based_with_val_summaries(tmp_path):
    """``[e][i/n]`` gives the step (e-1)*n+i; the val summary sits at the epoch's last training
    step as ``val/coco/bbox_mAP``; val progress lines, eta, time, memory and base_lr are not read."""
    text, csv = mmengine_epochs(C.curve(1600, diverge_at=1100), epochs=4, iters=400)
    a, b = both(tmp_path, text, csv, "20230301_120000.log")
    assert_same(a, b)
    assert points(a, "loss")[8][0] == 450
    assert [s for s, _ in points(a, "val/coco/bbox_mAP")] == [400, 800, 1200, 1600]
    assert not {"eta", "time", "memory", "base_lr", "data_time", "val/data_time"} & set(a.frame["metric"])


def test_mmengine_nan_loss_is_nonfinite(tmp_path):
    text, csv = mmengine_epochs(C.curve(1600, nan_at=1000), epochs=4, iters=400)
    assert "loss: nan  loss_cls: nan" in text
    a, b = both(tmp_path, text, csv, "20230301_120000.log")
    assert_same(a, b)
    assert "nonfinite" in {f[0] for f in findings(a)}


def test_mmengine_iter_based_console(tmp_path):
    """``Iter(train) [i/n]`` is the global step; the stdout form (``03/01 12:00:12`` dates, coloured
    INFO) with mmseg's per-class table between; ``Iter(val) [n/n]`` metrics become ``val/mIoU``."""
    text, csv = mmengine_iters(C.curve(4000, diverge_at=3000), max_iters=4000)
    a, b = both(tmp_path, text, csv, "nohup.out")
    assert_same(a, b)
    assert points(a, "val/mIoU")[0] == (1000, 61.0)
    assert "decode.loss_ce" in set(a.frame["metric"])


def test_mmcv_text_log(tmp_path):
    """mmcv 1.x: tab after the counter, comma separators, an eta holding a comma, and the
    ``bbox_mAP_copypaste`` string of six numbers (not a metric)."""
    text, csv = mmcv_text(C.curve(1200, diverge_at=800), epochs=3, iters=400)
    a, b = both(tmp_path, text, csv, "20220301_120000.log")
    assert_same(a, b)
    assert points(a, "val/bbox_mAP") == [(400, 0.25), (800, 0.3), (1200, 0.35)]
    assert not any("copypaste" in m for m in set(a.frame["metric"]))


def test_eta_of_days(tmp_path):
    """``eta: 1 day, 2:46:38`` (a timedelta of more than a day) is bookkeeping like any eta."""
    text, csv = mmengine_epochs(C.curve(400 * 12), epochs=12, iters=400, interval=50)
    text = text.replace("eta: ", "eta: 1 day, ")
    a, b = both(tmp_path, text, csv, "20230301_120000.log")
    assert_same(a, b)


def test_resumed_run_is_the_restart_rule(tmp_path):
    """Stopped in epoch 3 and resumed from epoch_2.pth: the counter restarts at [3][50/400]; the
    later points win, one run."""
    first, _ = mmengine_epochs(C.curve(1600), epochs=3, iters=400)
    first = first[:first.index("\n", first.index("[3][250/400]")) + 1]
    again, _ = mmengine_epochs([v * 0.9 for v in C.curve(1600)], epochs=4, iters=400, start_epoch=3)
    p = tmp_path / "20230301_120000.log"
    p.write_text(first + again)
    runs = load_runs(p).runs
    assert len(runs) == 1
    loss = points(runs[0], "loss")
    assert [s for s, _ in loss] == list(range(50, 1601, 50))
    assert loss[20][1] == pytest.approx(_f4(C.curve(1600)[1049] * 0.9))
    assert any("points replaced" in w for w in runs[0].warnings)


def test_work_dir_with_scalars_json_is_one_run_from_it(tmp_path):
    """mmengine's ``<work_dir>/<timestamp>/``: the text log beside ``vis_data/scalars.json`` (written
    as ``LocalVisBackend.add_scalars`` writes it) is one run read from scalars.json."""
    text, _ = mmengine_epochs(C.curve(800), epochs=2, iters=400)
    d = tmp_path / "retinanet" / "20230301_120000"
    (d / "vis_data").mkdir(parents=True)
    (d / "20230301_120000.log").write_text(text)
    lines = [json.dumps({"lr": 1e-4, "data_time": 0.0086, "loss": v, "time": 0.2557, "epoch": 1 + (s - 1) // 400,
                         "iter": s, "memory": 3218, "step": s}) for s, v in zip(range(50, 801, 50), C.curve(16))]
    (d / "vis_data" / "scalars.json").write_text("\n".join(lines) + "\n")
    res = load_runs(tmp_path)
    (run,) = res.runs
    assert run.files == [str(d / "vis_data" / "scalars.json")]
    assert [n for n in res.notes if "not merged" in n and "20230301_120000.log" in n]


def test_mmcv_iter_based_runner_json_iter_is_global(tmp_path):
    """mmcv's IterBasedRunner (mmsegmentation 0.x) logs a global ``iter`` beside an ``epoch`` that
    counts passes over the data: the iter never restarts when the epoch rises, so it is the step."""
    loss = C.curve(2000)
    out, rows = [], []
    for it in range(50, 2001, 50):
        d = OrderedDict(mode="train", epoch=1 + (it - 1) // 372, iter=it, lr=round(0.01 * (1 - it / 2000) ** 0.9, 5),
                        memory=3000, data_time=0.0063, **{"decode.loss_ce": round(loss[it - 1], 5)},
                        loss=round(loss[it - 1], 5), time=0.413)
        out.append(json.dumps(d) + "\n")
        rows.append({"step": it, **{k: v for k, v in d.items() if k not in ("mode", "epoch", "iter", "time")},
                     "epoch": d["epoch"]})
        if it % 1000 == 0:
            out.append(json.dumps(OrderedDict(mode="val", epoch=d["epoch"], iter=500, lr=d["lr"],
                                              aAcc=0.955, mIoU=0.6 + it / 100000, mAcc=0.7025)) + "\n")
            rows.append({"step": it, "val/aAcc": 0.955, "val/mIoU": 0.6 + it / 100000, "val/mAcc": 0.7025})
    a, b = both(tmp_path, "".join(out), C.csv_of(rows), "20220301_120000.log.json")
    assert [s for s, _ in points(a, "loss")] == list(range(50, 2001, 50))
    assert points(a, "val/mIoU") == [(1000, 0.61), (2000, 0.62)]
    assert findings(a) == findings(b)


@pytest.mark.parametrize("line", [
    "2023/03/01 12:00:50 - mmengine - INFO - Epoch(test) [625/625]    coco/bbox_mAP: 0.3980  data_time: 0.0017  time: 0.0461",
    "2023/03/01 12:00:50 - mmengine - INFO - Epoch(val)  [1][ 50/625]    eta: 0:00:20  time: 0.0461  data_time: 0.0017  memory: 512  ",
])
def test_lines_that_hold_no_training_curve(tmp_path, line):
    """Test results and val progress lines alone are not a training log."""
    from lossctl.errors import NotALog
    from lossctl.readers.console import reader

    p = tmp_path / "20230301_120000.log"
    p.write_text((line + "\n") * 40)
    with pytest.raises(NotALog):
        reader.read(p)


def test_nan_and_inf_spellings(tmp_path):
    """``f'{x:.4f}'`` of NaN and infinity: ``nan``, ``inf``."""
    loss = C.curve(800)
    loss[500:] = [math.inf] * 300
    text, _ = mmengine_epochs(loss, epochs=2, iters=400)
    assert "loss: inf" in text
    p = tmp_path / "20230301_120000.log"
    p.write_text(text)
    (run,) = load_runs(p).runs
    assert [v for s, v in points(run, "loss") if s > 500] == [math.inf] * 6
