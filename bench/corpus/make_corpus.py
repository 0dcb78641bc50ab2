#!/usr/bin/env python3
"""Generate an independent labelled corpus of REAL training runs for scoring lossctl's detectors.

Every run trains a small PyTorch model on CPU (MLPs, CNNs, deep MLPs, GRU/LSTM and transformer
character language models) on scikit-learn's bundled or generated data sets, or on Python standard
library source text, with the mistakes practitioners make (learning rate too high or too low, LR
schedulers with gamma > 1, float16 overflow, log(0), std=0 normalisation, corrupted batches, frozen
layers, dead ReLUs, strong L2, small data, label noise, scalers fitted on train only, batch size 1-2,
sorted data without shuffling) and about a third healthy runs (cosine, step decay, warm-up, SGDR,
ReduceLROnPlateau, early stopping, ...). Each run is written the way the real tool writes it:

    tensorboard    events.out.tfevents.* from torch.utils.tensorboard.SummaryWriter
                   (train/loss, val/loss, sometimes lr and grad_norm)
    lightning_csv  metrics.csv (sparse rows: train rows and validation rows apart, columns sorted)
                   + hparams.yaml, sometimes under lightning_logs/version_0/, sometimes lr-<Opt> rows
    keras_csv      CSVLogger file (training.log, training.csv or log.csv): epoch + sorted keys
    keras_json     history.json = json.dump(history.history)

plus OUT/labels.json in the schema of shared/corpus/dev/labels.json
(labels, expected, cause, format, length, onset, notes).

LABELS ARE WHAT THE CURVES SHOW, decided by a person looking at the rendered training and validation
loss (linear and log y) of every run, not by the intended cause: `expected` holds the intended kinds,
`labels` the judged ones, `notes` any mismatch. The judged labels are written into RUNS below; they
hold for the curves this script produces (it is deterministic: fixed seeds, one torch thread per
worker process, torch 2.13.0 CPU; two full generations gave identical curves). If you change a run, regenerate it, render it (--sheets) and look again before
trusting its label. Onsets (divergence, overfitting) are the step where the rise begins; where a rule
is named ("val_best": the step of the best validation loss; "train_best": the step of the lowest
smoothed training loss, where the rise begins) it is computed from the written curve, and was checked
by eye; a number in a run's `onset` overrides the rule.

Run names are <dataset>-<model>-<id>; ids are drawn at random so a name says nothing of the cause.

Setup (own venv; torch 2.13.0 CPU, do not install a plain `torch`: it pulls a CUDA build):
    python3 -m venv /work/corpus-venv
    /work/corpus-venv/bin/pip install torch==2.13.0 scikit-learn numpy tensorboard tensorboardX matplotlib

Generate (82 runs, about 6 minutes on 2 cores with the default 2 worker processes x 1 torch thread;
output ~3.5 MB):
    cd /work/main && /work/corpus-venv/bin/python bench/corpus/make_corpus.py            # -> bench/corpus/out/
    /work/corpus-venv/bin/python bench/corpus/make_corpus.py --only text-gru-547,wine-   # some runs again
    /work/corpus-venv/bin/python bench/corpus/make_corpus.py --no-train --sheets bench/corpus/sheets
        # contact sheets (PNG), 9 runs each: training (blue) and validation (orange) loss on linear and
        # log y, red x = non-finite; title = name [judged labels] exp=intended kinds, onsets

Score lossctl on it (from /work/main):
    python3 /work/shared/tools/evaluate.py --split bench/corpus/out --batch \
        --cmd ".venv/bin/lossctl analyze --format json {run}"
"""

# ruff: noqa: C408  (dict(...) reads better than literals in the table of runs)
from __future__ import annotations

import argparse
import csv
import glob
import json
import math
import os
import random
import shutil
import sys
import sysconfig
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
KINDS = ["divergence", "nonfinite", "oscillation", "spike", "plateau", "overfitting",
         "train_val_mismatch", "noisy", "epoch_periodic"]
FORMAT_NAMES = {"tb": "tensorboard", "lightning": "lightning_csv", "keras_csv": "keras_csv",
                "keras_json": "keras_json"}


# ----------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------

def load_xy(name: str, seed: int, kw: dict):
    """(X, y, task) with task 'clf' or 'reg'; bundled or generated data only (no downloads)."""
    from sklearn import datasets as ds
    if name == "breast_cancer":
        d = ds.load_breast_cancer(); return d.data, d.target, "clf"
    if name == "digits":
        d = ds.load_digits(); return d.data / 16.0 if kw.get("pixels_scaled", True) else d.data, d.target, "clf"
    if name == "iris":
        d = ds.load_iris(); return d.data, d.target, "clf"
    if name == "wine":
        d = ds.load_wine(); return d.data, d.target, "clf"
    if name == "diabetes":
        d = ds.load_diabetes(scaled=False); return d.data, d.target, "reg"
    if name == "moons":
        X, y = ds.make_moons(n_samples=kw.get("n", 1000), noise=kw.get("noise", 0.2), random_state=seed)
        return X, y, "clf"
    if name == "classification":
        X, y = ds.make_classification(n_samples=kw.get("n", 2000), n_features=kw.get("features", 20),
                                      n_informative=kw.get("informative", 10), n_redundant=kw.get("redundant", 4),
                                      n_classes=kw.get("classes", 4), n_clusters_per_class=kw.get("clusters", 2),
                                      class_sep=kw.get("sep", 1.0), flip_y=kw.get("flip", 0.01), random_state=seed)
        return X, y, "clf"
    if name == "regression":
        X, y = ds.make_regression(n_samples=kw.get("n", 1500), n_features=kw.get("features", 15),
                                  n_informative=kw.get("informative", 8), noise=kw.get("noise", 10.0),
                                  bias=kw.get("bias", 50.0), random_state=seed)
        y = y + kw.get("nonlin", 0.0) * (X[:, 0] ** 2) * 20
        return X, y, "reg"
    raise ValueError(name)


class Tabular:
    """Train/validation tensors with the preprocessing (and preprocessing bugs) a spec asks for."""

    def __init__(self, s: dict, seed: int):
        import torch
        from sklearn.model_selection import train_test_split
        X, y, self.task = load_xy(s["data"], seed, s.get("data_kw", {}))
        X = X.astype(np.float64)
        rng = np.random.RandomState(seed)
        strat = y if self.task == "clf" else None
        Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=s.get("val_frac", 0.25), random_state=seed,
                                              stratify=strat)
        if s.get("subset"):
            k = max(8, int(len(Xtr) * s["subset"]))
            idx = rng.permutation(len(Xtr))[:k]
            Xtr, ytr = Xtr[idx], ytr[idx]
        if s.get("const_cols"):  # e.g. a padding feature that is constant in the data
            Xtr = np.hstack([Xtr, np.zeros((len(Xtr), s["const_cols"]))])
            Xva = np.hstack([Xva, np.zeros((len(Xva), s["const_cols"]))])
        bug = s.get("val_bug")
        # feature scaling
        scale = s.get("scale", "none" if s["data"] == "digits" else "standard")
        if scale == "std_zero":  # hand-written standardisation, no epsilon: 0/0 for constant columns
            mu, sd = Xtr.mean(0), Xtr.std(0)
            with np.errstate(invalid="ignore", divide="ignore"):
                Xtr = (Xtr - mu) / sd
                Xva = (Xva - mu) / sd
        elif scale == "standard":
            mu, sd = Xtr.mean(0), Xtr.std(0)
            sd[sd < 1e-8] = 1.0  # as sklearn's StandardScaler does for constant features
            Xtr = (Xtr - mu) / sd
            if bug != "val_raw":
                Xva = (Xva - mu) / sd
        if bug == "val_x100":
            Xva = Xva * 100.0
        if bug == "val_pixels_raw":  # train pixels /16, validation forgot it
            Xva = Xva * 16.0
        if s.get("x_scale"):
            Xtr, Xva = Xtr * s["x_scale"], Xva * s["x_scale"]
        if self.task == "reg":
            ym, ys = ytr.mean(), ytr.std()
            ytr = (ytr - ym) / ys
            if bug != "val_target_raw":
                yva = (yva - ym) / ys
        if bug == "val_label_perm":  # LabelEncoder fitted on the validation file separately
            classes = np.unique(yva)
            perm = np.roll(classes, 1)
            yva = perm[np.searchsorted(classes, yva)]
        if s.get("label_noise"):
            k = int(len(ytr) * s["label_noise"])
            idx = rng.permutation(len(ytr))[:k]
            ytr = ytr.copy()
            ytr[idx] = rng.randint(0, int(y.max()) + 1, size=k)
        if s.get("nan_rows"):
            idx = rng.permutation(len(Xtr))[:s["nan_rows"]]
            Xtr = Xtr.copy()
            Xtr[idx, rng.randint(0, Xtr.shape[1], size=len(idx))] = np.nan
        if s.get("sort"):
            order = np.argsort(ytr, kind="stable")
            Xtr, ytr = Xtr[order], ytr[order]
        self.Xtr = torch.tensor(Xtr, dtype=torch.float32)
        self.Xva = torch.tensor(Xva, dtype=torch.float32)
        if self.task == "clf":
            self.ytr = torch.tensor(ytr, dtype=torch.long)
            self.yva = torch.tensor(yva, dtype=torch.long)
            self.n_out = int(max(y.max(), ytr.max(), yva.max())) + 1
        else:
            self.ytr = torch.tensor(ytr, dtype=torch.float32)
            self.yva = torch.tensor(yva, dtype=torch.float32)
            self.n_out = 1
        self.n_in = self.Xtr.shape[1]
        self.batch = s["batch"]
        self.shuffle = not s.get("sort") and s.get("shuffle", True)
        self.steps_per_epoch = math.ceil(len(self.Xtr) / self.batch)

    def epoch_batches(self, gen):
        import torch
        n = len(self.Xtr)
        order = torch.randperm(n, generator=gen) if self.shuffle else torch.arange(n)
        for i in range(0, n, self.batch):
            idx = order[i:i + self.batch]
            yield self.Xtr[idx], self.ytr[idx]

    def val_batches(self):
        for i in range(0, len(self.Xva), 256):
            yield self.Xva[i:i + 256], self.yva[i:i + 256]


STDLIB_FILES = ["argparse.py", "difflib.py", "textwrap.py", "csv.py", "heapq.py", "shlex.py", "fractions.py",
                "statistics.py", "calendar.py", "pprint.py", "dataclasses.py", "functools.py", "string.py",
                "ftplib.py", "smtplib.py"]


def stdlib_text(files) -> str:
    root = sysconfig.get_paths()["stdlib"]
    parts = []
    for f in files:
        with open(os.path.join(root, f), encoding="utf-8", errors="replace") as fh:
            parts.append(fh.read())
    text = "\n".join(parts)
    return "".join(c if (32 <= ord(c) < 127 or c == "\n") else "?" for c in text)


class TextLM:
    """Character language-model data: random windows of Python source (seeded)."""
    VOCAB = "\n" + "".join(chr(i) for i in range(32, 127))

    def __init__(self, s: dict, seed: int):
        import torch
        files = s.get("text_files", STDLIB_FILES)
        text = stdlib_text(files)
        if s.get("text_chars"):
            text = text[:s["text_chars"]]
        cut = int(len(text) * 0.9)
        tr, va = text[:cut], text[cut:]
        if s.get("val_bug") == "val_upper":  # validation text upper-cased by a preprocessing bug
            va = va.upper()
        self.stoi = {c: i for i, c in enumerate(self.VOCAB)}
        self.tr = torch.tensor([self.stoi[c] for c in tr], dtype=torch.long)
        val_stoi = self.stoi
        if s.get("val_bug") == "val_vocab":  # vocabulary rebuilt from the validation file: other ids
            freq = {c: va.count(c) for c in set(va)}  # ids by frequency in the validation file
            val_stoi = {c: i for i, c in enumerate(sorted(freq, key=lambda c: (-freq[c], c)))}
        self.va = torch.tensor([val_stoi[c] for c in va], dtype=torch.long)
        self.n_vocab = len(self.VOCAB)
        self.seq, self.batch = s["seq"], s["batch"]
        self.steps_per_epoch = s.get("val_every", 200)
        g = torch.Generator().manual_seed(seed + 7)
        n_val = s.get("val_windows", 256)
        starts = torch.randint(0, len(self.va) - self.seq - 1, (n_val,), generator=g)
        self.val_x = torch.stack([self.va[i:i + self.seq] for i in starts])
        self.val_y = torch.stack([self.va[i + 1:i + self.seq + 1] for i in starts])

    def epoch_batches(self, gen):
        import torch
        for _ in range(self.steps_per_epoch):
            starts = torch.randint(0, len(self.tr) - self.seq - 1, (self.batch,), generator=gen)
            x = torch.stack([self.tr[i:i + self.seq] for i in starts])
            y = torch.stack([self.tr[i + 1:i + self.seq + 1] for i in starts])
            yield x, y

    def val_batches(self):
        for i in range(0, len(self.val_x), 64):
            yield self.val_x[i:i + 64], self.val_y[i:i + 64]


# ----------------------------------------------------------------------------------------------
# Models
# ----------------------------------------------------------------------------------------------

def build_model(s: dict, data):
    from torch import nn
    kind = s["model"]
    acts = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU}
    if kind in ("mlp", "deep_mlp", "logreg"):
        hidden = [] if kind == "logreg" else s.get("hidden", [64, 64])
        layers, prev = [], data.n_in
        for h in hidden:
            lin = nn.Linear(prev, h)
            if s.get("init_gain"):
                nn.init.normal_(lin.weight, 0.0, s["init_gain"] / math.sqrt(prev))
            if s.get("bias_init") is not None:
                nn.init.constant_(lin.bias, s["bias_init"])
            layers.append(lin)
            if s.get("bn"):
                layers.append(nn.BatchNorm1d(h))
            layers.append(acts[s.get("act", "relu")]())
            if s.get("dropout"):
                layers.append(nn.Dropout(s["dropout"]))
            prev = h
        layers.append(nn.Linear(prev, data.n_out))
        model = nn.Sequential(*layers)
        if s.get("freeze"):  # only the output layer trains
            for p in model[:-1].parameters():
                p.requires_grad_(False)
        return model
    if kind == "cnn":
        c1, c2 = s.get("channels", (16, 32))
        return nn.Sequential(nn.Unflatten(1, (1, 8, 8)), nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(),
                             nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             *( [nn.Dropout(s["dropout"])] if s.get("dropout") else [] ),
                             nn.Linear(c2 * 16, s.get("fc", 64)), nn.ReLU(), nn.Linear(s.get("fc", 64), data.n_out))
    if kind in ("gru", "lstm"):
        return RNNLM(data.n_vocab, s.get("emb", 32), s.get("hidden_size", 128), s.get("layers", 1), kind)
    if kind == "transformer":
        return TinyTransformer(data.n_vocab, s.get("d_model", 64), s.get("heads", 4), s.get("layers", 2),
                               s["seq"], s.get("dropout", 0.0))
    raise ValueError(kind)


def _lm_classes():
    import torch
    from torch import nn

    class RNNLM(nn.Module):
        def __init__(self, v, e, h, layers, cell):
            super().__init__()
            self.emb = nn.Embedding(v, e)
            self.rnn = (nn.GRU if cell == "gru" else nn.LSTM)(e, h, num_layers=layers, batch_first=True)
            self.out = nn.Linear(h, v)

        def forward(self, x):
            return self.out(self.rnn(self.emb(x))[0])

    class TinyTransformer(nn.Module):
        def __init__(self, v, d, heads, layers, seq, dropout):
            super().__init__()
            self.emb = nn.Embedding(v, d)
            self.pos = nn.Parameter(torch.zeros(1, seq, d))
            nn.init.normal_(self.pos, std=0.02)
            layer = nn.TransformerEncoderLayer(d, heads, 4 * d, dropout, batch_first=True, norm_first=True)
            self.enc = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(d)
            self.out = nn.Linear(d, v)
            self.register_buffer("mask", torch.triu(torch.full((seq, seq), float("-inf")), 1))

        def forward(self, x):
            t = x.shape[1]
            h = self.emb(x) + self.pos[:, :t]
            h = self.enc(h, mask=self.mask[:t, :t], is_causal=True)
            return self.out(self.norm(h))

    return RNNLM, TinyTransformer


RNNLM = TinyTransformer = None


# ----------------------------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------------------------

def loss_fn(s: dict, data, out, y):
    import torch
    import torch.nn.functional as F
    kind = s.get("loss")
    if data.__class__ is TextLM:
        return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
    if data.task == "reg":
        return F.mse_loss(out.squeeze(-1), y)
    if kind == "softmax_fp16":  # hand-written softmax in float16 (AMP-style): exp(logit > 11) = inf
        z = out.half()
        e = torch.exp(z)
        p = e / e.sum(1, keepdim=True)
        return -torch.log(p.gather(1, y[:, None])).float().mean()
    if kind == "bce_hand":  # hand-written binary cross-entropy on sigmoid: log(0) once p rounds to 1
        p = torch.sigmoid(out[:, 1] - out[:, 0])
        yf = y.float()
        return -(yf * torch.log(p) + (1 - yf) * torch.log(1 - p)).mean()
    return F.cross_entropy(out, y)


def l2_penalty(s, model):
    lam = s.get("l2")
    if not lam:
        return 0.0
    return lam * sum((m.weight ** 2).sum() for m in model.modules() if hasattr(m, "weight")
                     and m.weight is not None and m.weight.dim() == 2)


def make_optimizer(s, model):
    import torch
    params = [p for p in model.parameters() if p.requires_grad]
    opt, lr, wd = s.get("opt", "adam"), s["lr"], s.get("wd", 0.0)
    if opt == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=s.get("momentum", 0.0), weight_decay=wd)
    if opt == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    if opt == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd or 0.01)
    if opt == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    raise ValueError(opt)


def lr_factor(sched, step: int, spe: int, total: int) -> float:
    """Per-step multiplier of the base lr for schedules applied every optimizer step."""
    if not sched:
        return 1.0
    kind = sched[0]
    if kind == "cosine":
        return 0.5 * (1 + math.cos(math.pi * min(step, total) / total))
    if kind == "warmup_cosine":
        w = sched[1]
        if step < w:
            return (step + 1) / w
        return 0.5 * (1 + math.cos(math.pi * (step - w) / max(1, total - w)))
    if kind == "warmup_const":
        return min(1.0, (step + 1) / sched[1])
    if kind == "step":  # decay by gamma every k epochs
        return sched[2] ** (step // (sched[1] * spe))
    if kind == "step_steps":  # decay by gamma every k steps
        return sched[2] ** (step // sched[1])
    if kind == "sgdr":  # cosine warm restarts, T0 epochs, period x mult
        t0, mult = sched[1] * spe, sched[2]
        t, period = step, t0
        while t >= period:
            t -= period
            period *= mult
        return 0.5 * (1 + math.cos(math.pi * t / period))
    if kind == "exp_per_step":  # scheduler meant per epoch, gamma > 1, stepped every batch
        return sched[1] ** (step / spe)
    if kind == "mult_every":  # LR-range-test left on: lr x factor every n steps
        return sched[2] ** (step // sched[1])
    return 1.0


def train_run(s: dict) -> dict:
    """Train one spec; return the logged series (all floats as the logger would see them)."""
    import torch
    global RNNLM, TinyTransformer
    if RNNLM is None:
        RNNLM, TinyTransformer = _lm_classes()
    seed = s["seed"]
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    data = TextLM(s, seed) if s["model"] in ("gru", "lstm", "transformer") else Tabular(s, seed)
    model = build_model(s, data)
    opt = make_optimizer(s, model)
    gen = torch.Generator().manual_seed(seed + 1)
    spe = data.steps_per_epoch
    epochs = s["epochs"]
    total = epochs * spe
    sched = s.get("sched")
    base_lr = s["lr"]
    epoch_lr = base_lr  # for per-epoch schedules (Keras callbacks, ReduceLROnPlateau)
    plateau_best, plateau_wait = float("inf"), 0
    es_best, es_wait = float("inf"), 0
    corrupt = s.get("corrupt") or {}
    log_every = s.get("log_every", 1)
    rec = {"train": [], "val": [], "lr": [], "grad_norm": [], "epoch_loss": [], "epoch_val": [],
           "epoch_lr": [], "epoch_acc": [], "epoch_val_acc": [], "spe": spe, "train_epoch": []}
    step = 0
    stop = False
    for epoch in range(epochs):
        model.train()
        ep_sum, ep_n, ep_correct = 0.0, 0, 0
        per_step_sched = sched and sched[0] not in ("plateau", "exp_epoch")
        for bi, (x, y) in enumerate(data.epoch_batches(gen)):
            lr = (base_lr * lr_factor(sched, step, spe, total)) if per_step_sched else epoch_lr
            for g in opt.param_groups:
                g["lr"] = lr
            if step in corrupt.get("steps", ()) or (epoch in corrupt.get("epochs", ())
                                                     and bi % corrupt.get("every", 1) == 0):
                x, y = corrupt_batch(corrupt, x, y, data, gen)
            out = model(x)
            loss = loss_fn(s, data, out, y)
            total_loss = loss + l2_penalty(s, model)
            lv = float(total_loss.detach())
            finite = math.isfinite(lv)
            gn = float("nan")
            if finite or not s.get("guard_nonfinite"):
                opt.zero_grad(set_to_none=True)
                total_loss.backward()
                clip = s.get("clip", float("inf"))
                gn = float(torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], clip))
                opt.step()
            if step % log_every == 0:
                rec["train"].append((step, epoch, lv))
                rec["lr"].append((step, lr))
                rec["grad_norm"].append((step, gn))
            rec["train_epoch"].append(lv)
            ep_sum += lv * len(x)
            ep_n += len(x)
            if data.__class__ is Tabular and data.task == "clf":
                ep_correct += int((out.argmax(-1) == y).sum())
            step += 1
            if s.get("terminate_nan") and not finite:
                stop = True  # Keras TerminateOnNaN: stops at the end of this batch
                break
        # validation at the end of the epoch (step of the last optimizer step, as Lightning logs it)
        model.eval()
        vs, vn, vc = 0.0, 0, 0
        with torch.no_grad():
            for x, y in data.val_batches():
                out = model(x)
                l = loss_fn(s, data, out, y)
                vs += float(l + l2_penalty(s, model)) * len(x)
                vn += len(x)
                if data.__class__ is Tabular and data.task == "clf":
                    vc += int((out.argmax(-1) == y).sum())
        vl = vs / vn
        rec["val"].append((step - 1, epoch, vl))
        rec["epoch_loss"].append(ep_sum / max(1, ep_n))
        rec["epoch_val"].append(vl)
        rec["epoch_lr"].append(epoch_lr if not per_step_sched else lr)
        rec["epoch_acc"].append(ep_correct / max(1, ep_n))
        rec["epoch_val_acc"].append(vc / max(1, vn))
        if stop:
            break
        if sched and sched[0] == "plateau":  # ReduceLROnPlateau(patience, factor) on val_loss
            if vl < plateau_best - 1e-4:
                plateau_best, plateau_wait = vl, 0
            else:
                plateau_wait += 1
                if plateau_wait > sched[1]:
                    epoch_lr *= sched[2]
                    plateau_wait = 0
        if sched and sched[0] == "exp_epoch":  # Keras LearningRateScheduler(lambda e, lr: lr * gamma)
            epoch_lr *= sched[1]
        if s.get("early_stop"):
            if vl < es_best - s.get("min_delta", 0.0):
                es_best, es_wait = vl, 0
            else:
                es_wait += 1
                if es_wait >= s["early_stop"]:
                    break
    return rec


def corrupt_batch(c, x, y, data, gen):
    import torch
    kind = c["kind"]
    if kind == "x":  # a shard whose inputs were not normalised
        return x * c["factor"], y
    if kind == "y_scale":  # targets in the wrong unit
        return x, y * c["factor"]
    if kind == "y_scramble":
        return x, y[torch.randperm(len(y), generator=gen)]
    if kind == "junk":  # a shard of binary junk in the text stream
        j = torch.randint(0, data.n_vocab, x.shape, generator=gen)
        return j, torch.roll(j, -1, dims=1)
    raise ValueError(kind)


# ----------------------------------------------------------------------------------------------
# Writers (as the real tools write)
# ----------------------------------------------------------------------------------------------

def f32(v) -> float:
    return float(np.float32(v))


def write_tensorboard(run_dir, s, rec):
    from torch.utils.tensorboard import SummaryWriter
    w = SummaryWriter(log_dir=run_dir)
    val = {st: v for st, _, v in rec["val"]}
    lr = dict(rec["lr"])
    gn = dict(rec["grad_norm"])
    train_steps = [st for st, _, _ in rec["train"]]
    walltime = 1_800_000_000.0 + s["seed"] * 1000.0
    tdict = {st: v for st, _, v in rec["train"]}
    for st in sorted(set(train_steps) | set(val)):
        wt = walltime + st * 0.05
        if st in tdict:
            w.add_scalar("train/loss", tdict[st], st, walltime=wt)
            if s.get("log_lr"):
                w.add_scalar("lr", lr[st], st, walltime=wt)
            if s.get("log_gn"):
                w.add_scalar("grad_norm", gn[st], st, walltime=wt)
        if st in val:
            w.add_scalar("val/loss", val[st], st, walltime=wt + 0.01)
    w.close()


def write_lightning(run_dir, s, rec):
    d = os.path.join(run_dir, "lightning_logs", "version_0") if s.get("nested") else run_dir
    os.makedirs(d, exist_ok=True)
    rows = []
    opt_name = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop"}[s.get("opt", "adam")]
    lr_key = "lr-" + opt_name
    lr = dict(rec["lr"])
    for st, ep, v in rec["train"]:
        if s.get("lr_monitor"):  # LearningRateMonitor logs straight to the logger: no epoch column
            rows.append({"step": st, lr_key: lr[st]})
        rows.append({"epoch": ep, "step": st, "train_loss": f32(v)})
    merged = []
    vals = sorted(rec["val"])
    vi = 0
    for r in rows:
        while vi < len(vals) and vals[vi][0] < r["step"]:
            merged.append({"epoch": vals[vi][1], "step": vals[vi][0], "val_loss": f32(vals[vi][2])})
            vi += 1
        merged.append(r)
    for st, ep, v in vals[vi:]:
        merged.append({"epoch": ep, "step": st, "val_loss": f32(v)})
    keys = sorted({k for r in merged for k in r})
    with open(os.path.join(d, "metrics.csv"), "w", newline="") as fh:
        wr = csv.DictWriter(fh, fieldnames=keys)
        wr.writeheader()
        for r in merged:
            wr.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in r.items()})
    hp = {"batch_size": s["batch"], "dataset": s["data"], "epochs": s["epochs"], "lr": s["lr"],
          "model": s["model"], "opt": s.get("opt", "adam")}
    with open(os.path.join(d, "hparams.yaml"), "w") as fh:
        fh.writelines(f"{k}: {hp[k]}\n" for k in sorted(hp))


def keras_history(s, rec) -> dict:
    h = {}
    n = len(rec["epoch_loss"])
    clf = s.get("keras_acc")
    if clf:
        h["accuracy"] = [f32(a) for a in rec["epoch_acc"]]
    h["loss"] = [f32(v) for v in rec["epoch_loss"]]
    if clf:
        h["val_accuracy"] = [f32(a) for a in rec["epoch_val_acc"]]
    h["val_loss"] = [f32(v) for v in rec["epoch_val"]]
    if s.get("log_lr"):
        h[s.get("lr_key", "learning_rate")] = [f32(v) for v in rec["epoch_lr"][:n]]
    return h


def write_keras_csv(run_dir, s, rec):
    h = keras_history(s, rec)
    keys = sorted(h)
    with open(os.path.join(run_dir, s.get("csv_name", "training.log")), "w", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(["epoch"] + keys)
        for e in range(len(h["loss"])):
            wr.writerow([e] + [repr(h[k][e]) if math.isfinite(h[k][e]) else str(h[k][e]) for k in keys])


def write_keras_json(run_dir, s, rec):
    with open(os.path.join(run_dir, "history.json"), "w") as fh:
        json.dump(keras_history(s, rec), fh)


WRITERS = {"tb": write_tensorboard, "lightning": write_lightning, "keras_csv": write_keras_csv,
           "keras_json": write_keras_json}


# ----------------------------------------------------------------------------------------------
# Reading back (for labels.json lengths, onset rules and the contact sheets)
# ----------------------------------------------------------------------------------------------

def _num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def read_run(d: str) -> dict:
    """metric -> (steps, values) for a run directory in any of the four layouts."""
    out = {}
    ev = sorted(glob.glob(os.path.join(d, "**", "events.out.tfevents*"), recursive=True))
    if ev:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        for f in ev:
            ea = EventAccumulator(f, size_guidance={"scalars": 0})
            ea.Reload()
            for t in ea.Tags()["scalars"]:
                sc = ea.Scalars(t)
                out[t] = ([e.step for e in sc], [e.value for e in sc])
        return out
    m = glob.glob(os.path.join(d, "**", "metrics.csv"), recursive=True)
    if m:
        with open(m[0]) as fh:
            rows = list(csv.DictReader(fh))
        for k in rows[0]:
            if k in ("epoch", "step"):
                continue
            pts = [(int(r["step"]), _num(r[k])) for r in rows if r[k] not in ("", None)]
            out[k] = ([p[0] for p in pts], [p[1] for p in pts])
        return out
    if os.path.exists(os.path.join(d, "history.json")):
        with open(os.path.join(d, "history.json")) as fh:
            for k, v in json.load(fh).items():
                out[k] = (list(range(len(v))), [float(x) for x in v])
        return out
    for f in sorted(os.listdir(d)):
        if f.endswith((".csv", ".log")):
            with open(os.path.join(d, f)) as fh:
                rows = list(csv.DictReader(fh))
            for k in rows[0]:
                if k != "epoch":
                    out[k] = ([int(r["epoch"]) for r in rows], [_num(r[k]) for r in rows])
            return out
    return out


def losses(d: str):
    m = read_run(d)
    tr = next((m[k] for k in ("train/loss", "train_loss", "loss") if k in m), None)
    va = next((m[k] for k in ("val/loss", "val_loss") if k in m), None)
    return tr, va


def onset_rule(rule, tr, va):
    if isinstance(rule, int):
        return rule
    if rule == "val_best":
        steps, v = va
        arr = np.array([x if x is not None and math.isfinite(x) else np.inf for x in v])
        return int(steps[int(np.argmin(arr))])
    if rule == "train_best":  # lowest smoothed training loss (the rise begins there)
        steps, v = tr
        arr = np.array([x if x is not None and math.isfinite(x) else np.nan for x in v], float)
        if not np.isfinite(arr).any():
            return int(steps[0])
        w = max(1, len(arr) // 50)
        sm = np.array([np.nanmedian(arr[max(0, i - w):i + w + 1]) if np.isfinite(arr[max(0, i - w):i + w + 1]).any()
                       else np.nan for i in range(len(arr))])
        return int(steps[int(np.nanargmin(sm))])
    raise ValueError(rule)


def sheet(items, out_png, cols=3):
    """Contact sheet: per run, train (blue) and validation (orange) loss on linear and log y; red x = non-finite."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = math.ceil(len(items) / cols)
    fig, axes = plt.subplots(rows, cols * 2, figsize=(cols * 6.0, rows * 2.3), squeeze=False)
    for i, (d, title) in enumerate(items):
        tr, va = losses(d)
        for j, scale in enumerate(("linear", "log")):
            ax = axes[i // cols][(i % cols) * 2 + j]
            for ser, c in ((tr, "C0"), (va, "C1")):
                if ser is None:
                    continue
                st = np.array(ser[0], float)
                v = np.array([np.nan if x is None else x for x in ser[1]], float)
                bad = ~np.isfinite(v)
                v = np.where(bad, np.nan, v)
                if scale == "log":
                    v = np.where(v > 0, v, np.nan)
                ax.plot(st, v, c, lw=0.6 if c == "C0" else 1.2, marker="." if len(st) < 80 else None, ms=2)
                if bad.any():
                    fin = v[np.isfinite(v)]
                    yb = (np.nanmin(fin) if fin.size else 1.0)
                    ax.plot(st[bad], np.full(bad.sum(), yb), "rx", ms=4)
            ax.set_yscale(scale)
            ax.tick_params(labelsize=6)
            if j == 0:
                ax.set_title(title[:70], fontsize=7, loc="left")
    for k in range(len(items), rows * cols):
        for j in range(2):
            axes[k // cols][(k % cols) * 2 + j].axis("off")
    fig.tight_layout()
    fig.savefig(out_png, dpi=70)
    plt.close(fig)


# ----------------------------------------------------------------------------------------------
# The runs
# ----------------------------------------------------------------------------------------------

def R(data, model, fmt, cause, expected, labels, notes="", onset=None, **cfg):
    """One run: `expected` = intended kinds, `labels` = kinds judged from the rendered curves."""
    return dict(data=data, model=model, fmt=fmt, cause=cause, expected=list(expected),
                labels=list(labels), notes=notes, onset=onset or {}, **cfg)


RUNS = [
    # ---------------- healthy ----------------
    R("classification", "mlp", "tb", "MLP 128x128, SGD momentum 0.9 lr 0.05, cosine, batch 64", [],
      labels=[],
      seed=31, hidden=[128, 128], opt="sgd", lr=0.05, momentum=0.9, sched=("cosine",), batch=64, epochs=20,
      log_lr=True, log_gn=True),
    R("digits", "cnn", "tb", "CNN (12/24 channels), AdamW 2e-3, 100-step warm-up + cosine, batch 48", [],
      labels=[],
      seed=32, channels=(12, 24), opt="adamw", lr=2e-3, sched=("warmup_cosine", 100), batch=48, epochs=15,
      log_lr=True),
    R("text", "transformer", "tb", "char transformer (d=48, 2 layers, pre-LN), AdamW 1e-3, 150-step warm-up + cosine",
      [],
      labels=[],
      seed=33, d_model=48, layers=2, seq=48, batch=16, opt="adamw", lr=1e-3, sched=("warmup_cosine", 150),
      epochs=10, val_every=200, log_lr=True, log_gn=True),
    R("text", "gru", "tb", "char GRU (h=128), Adam 3e-3, clip 1.0, lr x0.5 every 600 steps", [],
      labels=[],
      seed=34, hidden_size=128, seq=48, batch=32, opt="adam", lr=3e-3, clip=1.0, sched=("step_steps", 600, 0.5),
      epochs=10, val_every=200),
    R("moons", "mlp", "tb", "MLP 64x64 on moons, Adam 5e-3, batch 16 (small but fine)", [],
      labels=[],
      seed=35, data_kw=dict(n=800, noise=0.25), hidden=[64, 64], opt="adam", lr=5e-3, batch=16, epochs=30),
    R("breast_cancer", "mlp", "tb", "SGDR warm restarts (T0=4 epochs, x2), SGD momentum 0.05", [],
      labels=["overfitting"],
      notes="meant healthy: validation creeps up from epoch 2 (0.08 -> 0.11) while training loss falls; mild",
      seed=36, hidden=[64], opt="sgd", lr=0.05, momentum=0.9, sched=("sgdr", 4, 2), batch=24, epochs=28,
      log_lr=True, log_gn=True),
    R("diabetes", "mlp", "tb", "regression MLP 32x32, Adam 2e-3, batch 32, weight decay 1e-3", [],
      labels=[],
      seed=37, hidden=[32, 32], opt="adam", lr=2e-3, wd=1e-3, batch=32, epochs=30),
    R("digits", "cnn", "tb", "CNN, SGD momentum 0.9 lr 0.03, step decay x0.2 every 6 epochs", [],
      labels=[],
      seed=38, channels=(16, 16), opt="sgd", lr=0.03, momentum=0.9, sched=("step", 6, 0.2), batch=64, epochs=18,
      log_lr=True, log_gn=True),
    R("text", "transformer", "tb", "long LM run: char transformer, Adam 5e-4 constant, logged every 4 steps", [],
      labels=[],
      seed=39, d_model=48, layers=2, seq=48, batch=16, opt="adam", lr=5e-4, epochs=6, val_every=500, log_every=4),
    R("wine", "mlp", "tb", "small batch 8 (fine), Adam 1e-3, MLP 32", [],
      labels=[],
      seed=40, hidden=[32], opt="adam", lr=1e-3, batch=8, epochs=40),
    R("wine", "mlp", "lightning", "MLP 48, SGD momentum 0.9 lr 0.02, batch 16", [],
      labels=[],
      seed=41, hidden=[48], opt="sgd", lr=0.02, momentum=0.9, batch=16, epochs=60),
    R("regression", "mlp", "lightning", "regression MLP 64x64, AdamW 1e-3 + cosine, logged every 4 steps", [],
      labels=[],
      seed=42, data_kw=dict(n=2000, nonlin=0.3), hidden=[64, 64], opt="adamw", lr=1e-3, sched=("cosine",),
      batch=32, epochs=25, log_every=4),
    R("digits", "mlp", "lightning", "MLP 256 with dropout 0.2, Adam 1e-3, LearningRateMonitor", [],
      labels=[],
      seed=43, hidden=[256], dropout=0.2, opt="adam", lr=1e-3, batch=64, epochs=20, nested=True, lr_monitor=True),
    R("text", "lstm", "lightning", "char LSTM (h=96), Adam 2e-3, clip 1.0, logged every 5 steps", [],
      labels=[],
      seed=44, hidden_size=96, seq=48, batch=32, opt="adam", lr=2e-3, clip=1.0, epochs=8, val_every=200,
      log_every=5),
    R("iris", "mlp", "lightning", "tiny MLP 16, Adam 1e-2, batch 12", [],
      labels=[],
      seed=45, hidden=[16], opt="adam", lr=1e-2, batch=12, epochs=80),
    R("breast_cancer", "logreg", "lightning", "logistic regression, SGD 0.1, batch 32", [],
      labels=[],
      seed=46, opt="sgd", lr=0.1, batch=32, epochs=40),
    R("classification", "mlp", "lightning", "MLP with BatchNorm, SGD momentum lr 0.1, 1-epoch warm-up then constant",
      [],
      labels=[],
      seed=47, data_kw=dict(n=5000, classes=3, features=24), hidden=[96, 96], bn=True, opt="sgd", lr=0.1,
      momentum=0.9, sched=("warmup_const", 35), batch=64, epochs=12, log_every=2),
    R("breast_cancer", "mlp", "keras_csv", "Keras MLP 32x16, Adam 1e-3, EarlyStopping(patience=8)", [],
      labels=[],
      seed=48, hidden=[32, 16], opt="adam", lr=1e-3, batch=32, epochs=200, early_stop=8, keras_acc=True,
      csv_name="training.log"),
    R("classification", "mlp", "keras_csv", "Keras SGD 0.05 with ReduceLROnPlateau(patience=4, factor=0.5)", [],
      labels=[],
      seed=49, data_kw=dict(n=1500, classes=5, features=16), hidden=[64, 64], opt="sgd", lr=0.05, momentum=0.0,
      sched=("plateau", 4, 0.5), batch=32, epochs=60, log_lr=True, lr_key="lr", csv_name="training.csv"),
    R("wine", "mlp", "keras_csv", "Keras MLP 24, Adam 3e-3, accuracy metric", [],
      labels=[],
      seed=50, hidden=[24], opt="adam", lr=3e-3, batch=16, epochs=60, keras_acc=True, csv_name="log.csv"),
    R("diabetes", "mlp", "keras_csv", "Keras regression MLP 8, SGD momentum 0.01, step decay x0.5 every 10 epochs",
      [],
      labels=[],
      seed=51, hidden=[8], opt="sgd", lr=0.01, momentum=0.9, sched=("step", 10, 0.5), batch=16, epochs=30,
      log_lr=True, csv_name="training.log"),
    R("digits", "mlp", "keras_json", "Keras MLP 128, Adam 1e-3 + cosine decay", [],
      labels=[],
      seed=52, hidden=[128], opt="adam", lr=1e-3, sched=("cosine",), batch=32, epochs=30, log_lr=True),
    R("moons", "mlp", "keras_json", "Keras MLP 32x32 on moons, RMSprop 1e-3", [],
      labels=[],
      seed=53, data_kw=dict(n=600, noise=0.2), hidden=[32, 32], opt="rmsprop", lr=1e-3, batch=32, epochs=100),
    R("iris", "mlp", "keras_json", "Keras tiny MLP 8, Adam 5e-3, 150 epochs", [],
      labels=[],
      seed=54, hidden=[8], opt="adam", lr=5e-3, batch=16, epochs=150, keras_acc=True),
    R("regression", "mlp", "keras_json", "Keras regression MLP 32, Adam 1e-3", [],
      labels=[],
      seed=55, data_kw=dict(n=1200, noise=20.0), hidden=[32], opt="adam", lr=1e-3, batch=32, epochs=50),
    R("digits", "cnn", "keras_csv", "Keras CNN (8/16 channels), Adam 1e-3", [],
      labels=[],
      seed=56, channels=(8, 16), opt="adam", lr=1e-3, batch=32, epochs=25, keras_acc=True, csv_name="training.csv"),

    # ---------------- divergence ----------------
    R("digits", "mlp", "tb", "per-step LR scheduler bug: gamma 1.25 meant per epoch applied every batch, SGD 0.02",
      ["divergence"],
      labels=["divergence"],
      seed=61, hidden=[128], opt="sgd", lr=0.02, momentum=0.9, sched=("exp_per_step", 1.25),
      batch=64, epochs=40, log_lr=True, log_gn=True),
    R("text", "transformer", "lightning", "LR-range-test schedule left on: lr x2 every 150 steps from 1e-4",
      ["divergence"],
      labels=["divergence"], notes="mild: rises from ~1.8 to ~2.6 once the lr passes ~0.03, does not recover",
      seed=62, d_model=48, layers=2, seq=48, batch=16, opt="adam", lr=1e-4,
      sched=("mult_every", 150, 2.0), epochs=8, val_every=200, log_every=2),
    R("breast_cancer", "mlp", "keras_json", "LearningRateScheduler bug: SGD lr x1.4 every epoch", ["divergence"],
      labels=["divergence", "nonfinite"], notes="explodes from epoch 6 to 1e27 at epoch 16, NaN after",
      seed=63, hidden=[32], opt="sgd", lr=0.02, momentum=0.9, sched=("exp_epoch", 1.4), batch=32, epochs=35,
      log_lr=True),
    R("classification", "mlp", "keras_csv", "Keras ExponentialDecay with decay_rate 1.15 (> 1) per epoch, Adam",
      ["divergence"],
      labels=["divergence"],
      seed=64, data_kw=dict(n=1500, classes=3), hidden=[64, 64], opt="adam", lr=1e-3,
      sched=("exp_epoch", 1.15), batch=32, epochs=60, log_lr=True, csv_name="training.log"),
    R("regression", "mlp", "tb", "regression MLP, SGD lr 0.3 momentum 0.9, no clipping", ["divergence"],
      labels=["divergence", "nonfinite"],
      notes="explodes within ~25 steps (1.1 -> 1e14), NaN after", onset={"divergence": 0},
      seed=65, data_kw=dict(n=1500), hidden=[64, 64], opt="sgd", lr=0.3, momentum=0.9, batch=32, epochs=20,
      log_gn=True),
    R("wine", "mlp", "lightning", "linear warm-up ramps Adam to lr 3.0 (far too high) over 200 steps",
      ["divergence"],
      labels=["divergence"], notes="rise through a burst of spikes during warm-up, settles at chance (~1.1)",
      seed=66, hidden=[64, 64], opt="adam", lr=3.0, sched=("warmup_const", 200), batch=16,
      epochs=60),
    R("text", "gru", "tb", "char GRU, SGD with lr x1.6 every 250 steps, no clipping", ["divergence"],
      labels=["divergence"],
      seed=67, hidden_size=96, seq=48, batch=32, opt="sgd", lr=0.5, sched=("mult_every", 250, 1.6), epochs=10,
      val_every=200, log_lr=True, log_gn=True),

    # ---------------- nonfinite ----------------
    R("classification", "mlp", "tb", "hand-written softmax in float16 (AMP-style): exp(logit > 11) overflows",
      ["nonfinite"],
      labels=["nonfinite"],
      seed=71, data_kw=dict(n=2000, classes=4, sep=2.0), hidden=[128], opt="adam", lr=5e-3,
      loss="softmax_fp16", batch=64, epochs=25),
    R("breast_cancer", "mlp", "keras_csv", "hand-written BCE -(y log p + (1-y) log(1-p)): log(0) once p rounds to 1",
      ["nonfinite"],
      labels=["nonfinite"], notes="NaN from epoch 11",
      seed=72, hidden=[64], opt="adam", lr=2e-3, loss="bce_hand", batch=32, epochs=40,
      csv_name="training.csv"),
    R("iris", "mlp", "keras_json", "standardising with x.std() that is 0 for a constant padding column: NaN inputs",
      ["nonfinite"],
      labels=["nonfinite"], notes="NaN from the first epoch",
      seed=73, const_cols=1, scale="std_zero", hidden=[16], opt="adam", lr=1e-2, batch=16,
      epochs=20),
    R("classification", "deep_mlp", "lightning", "deep plain MLP (14 ReLU layers, init gain 1.9), SGD momentum, no clipping",
      ["nonfinite", "divergence"],
      labels=["nonfinite"],
      notes="meant divergence too: activations explode at init (first loss ~80), NaN from step 1; no rise to see",
      seed=74, data_kw=dict(n=1500, classes=3), hidden=[64] * 14, init_gain=1.9,
      opt="sgd", lr=0.02, momentum=0.9, batch=32, epochs=15),
    R("diabetes", "mlp", "tb", "6 training rows with missing values (NaN); a guard skips non-finite steps",
      ["nonfinite"],
      labels=["nonfinite"],
      seed=75, nan_rows=6, guard_nonfinite=True, hidden=[32], opt="adam", lr=3e-3, batch=16,
      epochs=25),
    R("regression", "mlp", "keras_csv", "inputs left unscaled x1000 with SGD 0.05; TerminateOnNaN stops it",
      ["nonfinite", "divergence"],
      labels=["nonfinite"], notes="meant divergence too: TerminateOnNaN stopped training in epoch 0, a single row",
      seed=76, x_scale=1000.0, hidden=[32], opt="sgd", lr=0.05, batch=32, epochs=30,
      terminate_nan=True, csv_name="training.log"),

    # ---------------- oscillation ----------------
    R("wine", "mlp", "keras_csv", "Keras Adam lr 0.08 (too high)", ["oscillation"],
      labels=["spike"],
      notes="meant oscillation: two sharp jumps (epochs 0-1 and 10-11) that recover, then converges to ~1e-5",
      seed=81, hidden=[64, 64], opt="adam", lr=0.08, batch=16, epochs=50, csv_name="training.csv"),
    R("classification", "mlp", "keras_json", "Keras SGD lr 2.0, no momentum (too high)", ["oscillation"],
      labels=["oscillation"],
      seed=82, data_kw=dict(n=1200, classes=3), hidden=[64], opt="sgd", lr=2.0, batch=32, epochs=40),
    R("breast_cancer", "mlp", "lightning", "Adam lr 0.1 (too high), batch 64", ["oscillation"],
      labels=["spike"], notes="meant oscillation: sharp jumps (to ~4) in the first 50 steps, then settles",
      seed=83, hidden=[64, 64], opt="adam", lr=0.1, batch=64, epochs=50),
    R("digits", "mlp", "keras_csv", "Keras RMSprop lr 0.02 (too high)", ["oscillation"],
      labels=["oscillation"],
      seed=84, hidden=[128, 64], opt="rmsprop", lr=0.02, batch=64, epochs=40, csv_name="log.csv"),

    # ---------------- spike ----------------
    R("digits", "cnn", "tb", "CNN, Adam 1e-3, two batches from a shard with unnormalised inputs (x60)", ["spike"],
      labels=[], notes="meant spike: the x60 batches do not show",
      seed=91, channels=(12, 24), opt="adam", lr=1e-3, batch=32, epochs=12, corrupt=dict(kind="x", factor=60.0,
      steps=[130, 290])),
    R("classification", "mlp", "lightning", "MLP, Adam 2e-3, three corrupted batches (inputs x40)", ["spike"],
      labels=["spike"],
      seed=92, data_kw=dict(n=2000, classes=4), hidden=[64, 64], opt="adam", lr=2e-3, batch=32, epochs=15,
      corrupt=dict(kind="x", factor=40.0, steps=[150, 400, 560])),
    R("text", "gru", "tb", "char GRU, Adam 2e-3; two shards of binary junk in the text stream", ["spike"],
      labels=["spike"],
      seed=93, hidden_size=128, seq=48, batch=32, opt="adam", lr=2e-3, clip=5.0, epochs=9, val_every=200,
      corrupt=dict(kind="junk", steps=[700, 701, 702, 1300, 1301])),
    R("text", "transformer", "tb", "char transformer, Adam 4e-3 with no warm-up and no clipping", ["spike"],
      labels=[], notes="meant spike: Adam 4e-3 without warm-up trains smoothly",
      seed=94, d_model=48, layers=2, seq=48, batch=16, opt="adam", lr=4e-3, epochs=8, val_every=200,
      log_gn=True),
    R("regression", "mlp", "lightning", "two batches with targets in the wrong unit (x100)", ["spike"],
      labels=["spike"],
      seed=95, data_kw=dict(n=1500), hidden=[64], opt="adam", lr=2e-3, batch=32, epochs=15,
      corrupt=dict(kind="y_scale", factor=100.0, steps=[200, 420])),
    R("digits", "mlp", "keras_csv", "one epoch (12) reads a corrupted shard: half its batches unnormalised (x30)",
      ["spike"],
      labels=["spike"], notes="per-epoch log: one bump at epoch 12 that recovers",
      seed=96, hidden=[128], opt="adam", lr=1e-3, batch=32, epochs=30,
      corrupt=dict(kind="x", factor=30.0, epochs=[12], every=2), csv_name="training.csv"),

    # ---------------- plateau ----------------
    R("digits", "mlp", "keras_csv", "Keras SGD lr 1e-5", ["plateau"],
      labels=["plateau"],
      seed=101, hidden=[64], opt="sgd", lr=1e-5, batch=32, epochs=40, csv_name="training.log"),
    R("text", "gru", "tb", "char GRU, Adam lr 2e-6 (far too low)", ["plateau"],
      labels=["plateau"], notes="barely moves: 4.56 -> 4.44 in 1200 steps (healthy runs reach ~1.4)",
      seed=102, hidden_size=96, seq=48, batch=32, opt="adam", lr=2e-6, epochs=6, val_every=200),
    R("classification", "mlp", "lightning", "frozen layers: only the output layer trains, on a random 3-unit bottleneck",
      ["plateau"],
      labels=["plateau"],
      seed=103, data_kw=dict(n=2000, classes=5), hidden=[64, 3], freeze=True, opt="adam", lr=1e-3,
      batch=32, epochs=20, log_every=2),
    R("classification", "mlp", "keras_json", "dead ReLUs: hidden biases initialised to -4", ["plateau"],
      labels=["plateau"], notes="flat at ln 3",
      seed=104, data_kw=dict(n=1500, classes=3), hidden=[64, 64], bias_init=-4.0, opt="adam", lr=1e-3,
      batch=32, epochs=50),
    R("breast_cancer", "mlp", "keras_csv", "Keras L2 regulariser 0.5 on every layer (too strong)", ["plateau"],
      labels=["plateau"], notes="drops from 14 to ln 2 (the L2 term) in 20 epochs, flat after",
      seed=105, hidden=[64, 32], l2=0.5, opt="adam", lr=1e-3, batch=32, epochs=40, csv_name="training.csv"),
    R("digits", "deep_mlp", "tb", "deep sigmoid MLP (10 layers), SGD 0.01: vanishing gradients", ["plateau"],
      labels=["plateau"], notes="flat at ln 10",
      seed=106, hidden=[64] * 10, act="sigmoid", opt="sgd", lr=0.01, batch=32, epochs=20),

    # ---------------- overfitting ----------------
    R("digits", "cnn", "tb", "CNN on 8% of the data, 150 epochs, logged every 2 steps", ["overfitting"],
      labels=["overfitting"], notes="mild: validation +15% over 750 steps",
      seed=111, channels=(16, 32), subset=0.08, opt="adam", lr=1e-3, batch=16, epochs=150, log_every=2),
    R("breast_cancer", "mlp", "keras_csv", "Keras wide MLP 512x512 on 20% of the data, 250 epochs", ["overfitting"],
      labels=["overfitting"],
      seed=112, hidden=[512, 512], subset=0.2, opt="adam", lr=1e-3, batch=16, epochs=250, csv_name="training.log"),
    R("classification", "mlp", "keras_json", "Keras wide MLP on 300 samples, 40 features (6 informative), 300 epochs",
      ["overfitting"],
      labels=["overfitting"],
      seed=113, data_kw=dict(n=400, features=40, informative=6, classes=2), hidden=[256, 256],
      opt="adam", lr=1e-3, batch=32, epochs=300),
    R("diabetes", "mlp", "lightning", "regression, wide MLP 256x256 on 40% of the data, 300 epochs, logged every 3 steps",
      ["overfitting"],
      labels=["overfitting"],
      seed=114, hidden=[256, 256], subset=0.4, opt="adam", lr=1e-3, batch=32, epochs=300,
      log_every=3),
    R("wine", "mlp", "keras_json", "Keras: 30% label noise, wide MLP 256x256, 150 epochs", ["overfitting"],
      labels=["overfitting"],
      seed=115, hidden=[256, 256], label_noise=0.3, opt="adam", lr=1e-3, batch=16, epochs=150),
    R("text", "gru", "tb", "char GRU (h=256) on a tiny corpus (6k characters), 2400 steps", ["overfitting"],
      labels=["overfitting"],
      seed=116, hidden_size=256, seq=48, batch=32, opt="adam", lr=3e-3, clip=1.0, epochs=12, val_every=200,
      text_files=["heapq.py", "bisect.py"], text_chars=7000),
    R("moons", "mlp", "keras_csv", "Keras MLP 256x256 on 100 noisy moons points, 400 epochs", ["overfitting"],
      labels=["overfitting"], notes="validation noisy, rising from ~0.3 to ~1.2",
      seed=117, data_kw=dict(n=130, noise=0.35), hidden=[256, 256], opt="adam", lr=2e-3, batch=16, epochs=400,
      csv_name="log.csv"),
    R("breast_cancer", "mlp", "lightning", "wide MLP 512x512 on 15% of the training data, 200 epochs",
      ["overfitting"],
      labels=["overfitting"],
      seed=118, subset=0.15, hidden=[512, 512], opt="adam", lr=1e-3, batch=16, epochs=200,
      nested=True),

    # ---------------- train/val mismatch ----------------
    R("breast_cancer", "mlp", "keras_csv", "Keras: StandardScaler applied to train only; validation left raw",
      ["train_val_mismatch"],
      labels=["train_val_mismatch", "overfitting"], notes="validation ~20x training at epoch 0 and rising to ~600",
      seed=121, hidden=[32], val_bug="val_raw", opt="adam", lr=1e-3, batch=32, epochs=40,
      csv_name="training.csv"),
    R("regression", "mlp", "lightning", "target scaler applied to train only; validation targets in raw units",
      ["train_val_mismatch"],
      labels=["train_val_mismatch"],
      seed=122, data_kw=dict(n=1200), hidden=[64], val_bug="val_target_raw", opt="adam",
      lr=1e-3, batch=32, epochs=20),
    R("digits", "cnn", "keras_json", "Keras CNN: pixels /16 for train, validation forgot it",
      ["train_val_mismatch"],
      labels=["train_val_mismatch"], notes="validation stays at 1-2.5 (chance 2.3) while training loss reaches 0.05",
      seed=123, channels=(8, 16), val_bug="val_pixels_raw", opt="adam", lr=1e-3, batch=32,
      epochs=25),
    R("text", "gru", "tb", "char GRU: validation text upper-cased by a preprocessing bug", ["train_val_mismatch"],
      labels=[], notes="meant train_val_mismatch: upper-cased validation text costs little; the curves look healthy",
      seed=124, hidden_size=96, seq=48, batch=32, opt="adam", lr=3e-3, clip=1.0, epochs=8, val_every=200),
    R("iris", "mlp", "keras_csv", "LabelEncoder fitted separately on the validation file: classes permuted",
      ["train_val_mismatch"],
      labels=["train_val_mismatch", "overfitting"], notes="validation 1.5x training at epoch 0, then climbs to ~10",
      seed=125, hidden=[16], val_bug="val_label_perm", opt="adam", lr=1e-2, batch=16,
      epochs=50, csv_name="training.log"),

    # ---------------- noisy ----------------
    R("breast_cancer", "mlp", "lightning", "batch size 1, SGD 0.01", ["noisy"],
      labels=["noisy"],
      seed=131, hidden=[32], opt="sgd", lr=0.01, batch=1, epochs=6),
    R("regression", "mlp", "tb", "regression, batch size 2, Adam 1e-3, noisy targets", ["noisy"],
      labels=["noisy"],
      seed=132, data_kw=dict(n=1000, noise=60.0), hidden=[32], opt="adam", lr=1e-3, batch=2, epochs=5),
    R("text", "lstm", "tb", "char LSTM LM with batch size 1 and 16-character sequences", ["noisy"],
      labels=["noisy"],
      seed=133, hidden_size=64, seq=16, batch=1, opt="adam", lr=2e-3, epochs=10, val_every=250),
    R("wine", "mlp", "lightning", "batch size 2, Adam 3e-3", ["noisy"],
      labels=["noisy"],
      seed=134, hidden=[32], opt="adam", lr=3e-3, batch=2, epochs=40),

    # ---------------- epoch periodic ----------------
    R("classification", "mlp", "tb", "sorted by label, shuffle=False, SGD momentum", ["epoch_periodic"],
      labels=["epoch_periodic"],
      seed=141, data_kw=dict(n=1600, classes=4), hidden=[64], opt="sgd", lr=0.02, momentum=0.9, batch=32,
      epochs=12, sort=True),
    R("breast_cancer", "mlp", "lightning", "sorted by label (2 classes), shuffle=False, Adam 1e-3", ["epoch_periodic"],
      labels=["epoch_periodic"],
      seed=142, hidden=[32], opt="adam", lr=1e-3, batch=16, epochs=25, sort=True),
    R("regression", "mlp", "tb", "regression data sorted by target, shuffle=False, Adam", ["epoch_periodic"],
      labels=["epoch_periodic"],
      seed=143, data_kw=dict(n=1200), hidden=[64], opt="adam", lr=2e-3, batch=32, epochs=15, sort=True),
    R("iris", "mlp", "lightning", "sorted by label, shuffle=False, SGD 0.05", ["epoch_periodic"],
      labels=["epoch_periodic"],
      seed=144, hidden=[16], opt="sgd", lr=0.05, batch=8, epochs=40, sort=True, nested=True),

    # ---------------- added after a first look ----------------
    R("text", "gru", "lightning", "char GRU: vocabulary rebuilt from the validation file (other character ids)",
      ["train_val_mismatch"],
      labels=["train_val_mismatch", "overfitting"],
      notes="validation 4.6 at the first evaluation, far above training, and rising to 5.4",
      seed=151, val_bug="val_vocab", hidden_size=96, seq=48, batch=32, opt="adam", lr=3e-3, clip=1.0,
      epochs=8, val_every=200, log_every=2),
    R("moons", "mlp", "keras_csv", "Keras SGD lr 3.0 (too high)", ["oscillation"],
      labels=["oscillation"],
      seed=167, data_kw=dict(n=1000, noise=0.2), hidden=[32, 32], opt="sgd", lr=3.0, batch=32, epochs=40,
      csv_name="training.csv"),
    R("classification", "mlp", "tb", "SGD lr 1.0 momentum 0.9 (too high), no clipping", ["divergence"],
      labels=["divergence"],
      notes="rises exponentially from the first step (1.4 -> 4e18); no NaN within the run", onset={"divergence": 0},
      seed=153, data_kw=dict(n=2000, classes=4), hidden=[64], opt="sgd", lr=1.0, momentum=0.9, batch=32,
      epochs=10, log_gn=True),
    R("wine", "mlp", "lightning", "SGD lr 0.8 without momentum (high, but converges)", [],
      labels=[], notes="too-high lr that still converges: a few early jumps, then smooth",
      seed=154, hidden=[64, 64], opt="sgd", lr=0.8, batch=16, epochs=40),
    R("diabetes", "mlp", "keras_json", "Keras regression, SGD lr 0.3 without momentum (too high)", ["oscillation"],
      labels=["oscillation"],
      seed=168, hidden=[32], opt="sgd", lr=0.3, batch=32, epochs=40),
    R("iris", "mlp", "keras_json", "Keras Adam lr 0.3 (too high)", ["oscillation"],
      labels=["oscillation"],
      notes="mild: validation swings x10 on a log scale throughout, training flat with swings",
      seed=162, hidden=[32], opt="adam", lr=0.3, batch=16, epochs=60),
]


def assign_names(runs):
    ids = list(range(100, 1000))
    random.Random(20240611).shuffle(ids)
    for i, r in enumerate(runs):
        r["name"] = f"{r['data']}-{r['model']}-{ids[i]}"
    return runs


assign_names(RUNS)


def generate(r, out):
    run_dir = os.path.join(out, r["name"])
    shutil.rmtree(run_dir, ignore_errors=True)
    os.makedirs(run_dir)
    rec = train_run(r)
    WRITERS[r["fmt"]](run_dir, r, rec)


def label_entry(r, out):
    tr, va = losses(os.path.join(out, r["name"]))
    labels = r["labels"]
    onset = {}
    for k in ("divergence", "overfitting"):
        if k in labels:
            rule = r["onset"].get(k, "val_best" if k == "overfitting" else "train_best")
            onset[k] = onset_rule(rule, tr, va)
    return {"cause": r["cause"], "expected": r["expected"], "format": FORMAT_NAMES[r["fmt"]],
            "labels": labels,
            "length": {"first_step": int(tr[0][0]), "last_step": int(tr[0][-1]), "points": len(tr[0])},
            "notes": r["notes"], "onset": onset}


def _worker(args):
    r, out, threads = args
    import torch
    torch.set_num_threads(threads)
    t = time.time()
    generate(r, out)
    return r["name"], r["fmt"], time.time() - t


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(HERE, "out"))
    ap.add_argument("--only", help="comma-separated run names (or substrings) to (re)generate")
    ap.add_argument("--no-train", action="store_true", help="only rewrite labels.json / sheets")
    ap.add_argument("--sheets", help="write PNG contact sheets of the runs into this directory")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2, one per core)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads per worker (default 1: for models this small, 2 processes x 1 thread "
                         "beat 1 x 2; the labels were judged on curves made with 1 thread)")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    runs = RUNS
    if args.only:
        keys = args.only.split(",")
        runs = [r for r in RUNS if any(k in r["name"] for k in keys)]
    t_all = time.time()
    if not args.no_train:
        # language models first: they take longest
        todo = sorted(runs, key=lambda r: r["model"] not in ("gru", "lstm", "transformer"))
        jobs = [(r, args.out, args.threads) for r in todo]
        if args.jobs > 1:
            import multiprocessing as mp
            with mp.get_context("fork").Pool(args.jobs, maxtasksperchild=4) as pool:
                for name, fmt, dt in pool.imap_unordered(_worker, jobs):
                    print(f"{name:32s} {fmt:10s} {dt:6.1f}s", flush=True)
        else:
            for j in jobs:
                name, fmt, dt = _worker(j)
                print(f"{name:32s} {fmt:10s} {dt:6.1f}s", flush=True)
    present = [r for r in RUNS if os.path.isdir(os.path.join(args.out, r["name"]))]
    stale = [d for d in os.listdir(args.out) if os.path.isdir(os.path.join(args.out, d))
             and d not in {r["name"] for r in RUNS}]
    for d in stale:  # runs of an older version of this script
        shutil.rmtree(os.path.join(args.out, d))
    labels = {r["name"]: label_entry(r, args.out) for r in sorted(present, key=lambda r: r["name"])}
    with open(os.path.join(args.out, "labels.json"), "w") as fh:
        json.dump(labels, fh, indent=1, sort_keys=True)
    print(f"{len(labels)} runs in {args.out}; {time.time() - t_all:.0f}s", flush=True)
    if args.sheets:
        os.makedirs(args.sheets, exist_ok=True)
        sel = [r for r in runs if r["name"] in labels]
        for i in range(0, len(sel), 9):
            items = []
            for r in sel[i:i + 9]:
                e = labels[r["name"]]
                on = " ".join(f"{k}@{v}" for k, v in e["onset"].items())
                title = (f"{r['name']} [{','.join(e['labels']) or 'healthy'}] "
                         f"exp={','.join(r['expected']) or '-'} {on}")
                items.append((os.path.join(args.out, r["name"]), title))
            sheet(items, os.path.join(args.sheets, f"sheet{i // 9:02d}.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
