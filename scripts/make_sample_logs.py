"""Generate the sample training logs in ``sample_logs/`` by running real gradient descent.

Every curve here comes from an actual (tiny) training run written in numpy: a small MLP
classifier or regressor, or a logistic regression, trained with mini-batch SGD, momentum or Adam
on a synthetic dataset drawn from a fixed seed. Nothing is hand-drawn, so the curves have the noise, plateaus and blow-ups
real runs have. Each run is written in the layout its framework really produces, one format
per run, and each demonstrates one behaviour ``lossctl`` should diagnose (one run per finding
kind, plus a healthy run that must raise nothing):

``healthy_tensorboard/``
    A 2-32-2 tanh MLP on two-moons (600 train / 200 validation), SGD with momentum 0.9, a
    sensible learning rate with cosine decay, reshuffled every epoch. Training and validation
    loss fall and level off. TensorBoard event file: ``train/loss`` and ``lr`` every step,
    ``val/loss`` once per epoch (at the epoch's last global step).

``diverging_lightning/``
    A 2-64-2 tanh MLP on two-moons, SGD with momentum 0.9 and an ``ExponentialLR`` schedule
    stepped once per epoch whose gamma is 1.2 instead of below 1, so the learning rate grows
    from 0.1 to ~50. The loss falls for the first epochs, then climbs persistently (epoch
    means from 0.13 to ~200) and never recovers; once the logits are huge single batches
    swing between ~0 and hundreds, as in real blow-ups. No NaN is reached. Written as Lightning's ``CSVLogger``
    ``metrics.csv`` (sparse rows: training rows leave ``val_loss`` empty, the one row per epoch
    end leaves ``train_loss`` empty) plus the ``hparams.yaml`` Lightning writes beside it.

``oscillating_keras/``
    Full-batch logistic regression (4 features, random init) whose last feature was never
    standardised (10x the scale of the others), trained with momentum-0.8 SGD at a learning
    rate above the stability limit of that direction. The gradient of the logistic loss is
    bounded, so instead of diverging the weights keep bouncing around the minimum: after a
    wild first few epochs the epoch loss settles into swings of about +-30 % of its level that
    never die out, with no trend up or down. Keras ``CSVLogger`` ``training.log``
    (``epoch,loss,lr,val_loss``; one row per epoch).

``overfitting_keras_json/``
    A wide 7-256-2 ReLU MLP trained with Adam for 200 epochs on only 40 points (two-moons plus
    5 irrelevant noise features, 15 % of the labels flipped). The training loss keeps falling
    towards 0 as the net memorises the noise, while the validation loss (200 held-out points)
    reaches its minimum early and then rises for the rest of the run, ending at about twice
    its minimum. Keras ``history.history`` dumped as ``history.json``
    (``{"loss": [...], "val_loss": [...]}``).

``nonfinite_tensorboard/``
    A 8-64-5 ReLU MLP on five Gaussian clusters, Adam 3e-3, whose forward pass runs in float16
    (as under autocast) with a hand-written softmax, ``exp(logits) / exp(logits).sum()``,
    without the max subtraction and without a loss scaler. As the model grows confident its
    largest logits pass ln(65504) = 11.09, ``exp`` overflows float16 and the softmax is
    inf / inf = NaN: first for one validation example (the validation loss is NaN from the
    epoch ending at step 227 while training still looks fine), then, at step 316, for a
    training batch, whose NaN gradients turn every weight into NaN; from there every loss is
    NaN, and the job is stopped three epochs later. TensorBoard event file, as the healthy run.

``spike_lightning/``
    The two-moons MLP (2-64-2 ReLU, Adam 3e-3, batch 32, reshuffled every epoch) fed two
    batches from a shard that was written without normalisation: at steps 250 and 410 the
    inputs arrive 100x too large. Those two batches' losses jump to 71 and 17 against a level of
    about 0.2; Adam's bounded step keeps the damage small and the loss is back at its level the
    next step, though the run loses a few epochs of progress. Lightning ``metrics.csv`` (every
    step) plus ``hparams.yaml``.

``plateau_keras/``
    The two-moons MLP (2-64-2 ReLU) trained with plain SGD at a learning rate of 1e-6 (a typo
    for 1e-3, or a value meant for fine-tuning) for 50 epochs: the loss goes from 0.648 to
    0.644 and the validation loss with it. Keras ``CSVLogger`` ``training.log`` with the
    constant ``lr`` column Keras logs.

``train_val_mismatch_keras_json/``
    A 4-64-1 ReLU regression (MSE, SGD momentum 0.9, lr 0.01) of house prices from floor area
    (m2), rooms, age (years) and distance (km). The ``StandardScaler`` was fitted on the
    training inputs and applied to them only: the validation inputs reach the network in their
    raw units, up to hundreds of times the scale it was trained on, and the validation loss sits
    ~10^4-10^5x above the training loss from the first epoch to the last. With the validation
    inputs scaled too, the same run ends with validation 0.077 vs training 0.064 and lossctl
    reports nothing. Keras ``history.history`` as ``history.json``.

``noisy_lightning/``
    A 6-32-1 ReLU regression (MSE) on 300 examples of a target a third of whose variance is
    noise, trained with SGD (lr 0.01) at batch size 2 for 10 epochs and logged every step:
    single batches range from ~0 to several times the level, and the batch-to-batch scatter is
    larger than the loss itself. (At batch size 32 the epoch curve is smooth.) Lightning
    ``metrics.csv`` plus ``hparams.yaml``.

``epoch_periodic_tensorboard/``
    The healthy run's two-moons MLP (2-32-2 tanh, SGD momentum 0.9, lr 0.05, batch 32) on a
    training set that came sorted by label and is fed in that order every epoch
    (``shuffle=False``): each epoch first sees only class 0, then only class 1, so the model
    drifts towards whichever class it saw last and the per-step loss draws the same saw-tooth
    (a factor of ~3 within each epoch) 30 times over. Reshuffled each epoch, the same run is
    flagged for nothing. TensorBoard event file.

``loss_imbalance_lightning/``
    A multi-task regression: a shared 6-8 tanh trunk with two linear heads, one predicting a
    price (in its own units, 3-5x the scale of the other target, and weighted 10x in the
    objective) and one a standardised demand, trained together with Adam on
    ``10 * price_loss + demand_loss`` (600 examples, batch 32, 100 epochs). The trunk serves the
    heavy term: the price loss falls ~800x while the demand loss stays near its starting level
    (1.09 -> 0.96), so by the end it is ~90% of the total. With both weights 1 the same run
    takes the demand loss down 2.7x and lossctl reports nothing. Lightning ``metrics.csv``
    (``train_loss``, ``price_loss``, ``demand_loss`` every step) plus ``hparams.yaml``.

``long_spikes_lightning/``
    A long run (120,000 steps): a bigram language model (a 32x32 logit table) trained with
    Adam (lr 3e-4, warm-up, cosine decay) on batches of 64 tokens drawn from a fixed, sparse
    Markov chain (the loss falls from ln 32 = 3.47 towards its entropy rate, 0.58), two
    stretches of whose data (30 batches at step 40,000, 20 at 85,000) are a corrupted shard
    with shuffled next tokens. Logged every 10 steps (Lightning's ``log_every_n_steps=10``):
    ``train_loss`` and ``grad_norm``. The corrupted batches make the loss jump ~20x its running
    mean and the gradient norm rise with it (not before it). Judged by the long-run spike rules (OLMo-core's
    stability monitor). Training takes ~30 s; a shorter run is not valid for those rules.

``lr_sweep/lr=1e-3,seed=1/`` ... ``lr_sweep/lr=3e-1,seed=2/``
    A learning-rate sweep: the house-price regression (4-64-1 ReLU, MSE, inputs standardised
    this time) trained with momentum-0.9 SGD at six learning rates, 1e-3 to 3e-1 in steps of
    about 3x, each with two initialisation seeds (12 runs, 30 epochs of batch 32). Up to 3e-2
    every run trains; at 1e-1 and 3e-1 the first updates overshoot, the loss grows from the
    first steps until it overflows to inf and NaN, and the job stops three epochs later. The
    hyperparameters are only in the directory names (no ``hparams.yaml``), as a hand-written
    sweep script names them. Lightning ``metrics.csv`` each. ``lossctl analyze
    sample_logs/lr_sweep`` ends by naming the learning rate that separates the failures.
``nonfinite_console/``
    The nonfinite run again, as a console log: the training loop prints each step the way
    nanoGPT's ``train.py`` does (``iter 316: loss nan, time 50.00ms, mfu 30.00%``) and, at the end
    of every epoch, ``step 299: train loss 0.0123, val loss nan``, into ``train.log`` as
    ``python train.py > train.log`` would capture it (the time per step is the deterministic
    0.05 s clock of the TensorBoard runs, so the file does not change between regenerations).
    ``tests/test_readers_console.py`` writes the same run as CSV and checks that lossctl finds
    the same.

``val_labels_permuted_keras/``
    An 8-64-4 ReLU MLP on four Gaussian clusters (Adam 1e-3, batch 32, 40 epochs) whose class
    ids were built per file, in the order each file's labels first appear
    (``df.label.unique()``): the validation file lists its classes in another order, so its ids
    name other classes. Training learns the clusters (1.15 -> 0.066); the validation loss, 2.9x
    the training loss at the first epochs, is never below training's starting loss and climbs
    from 1.82 to 6.1 as the model grows confident: a train/validation mismatch that also
    overfits from the first epoch. Keras ``CSVLogger`` ``training.log``.

``val_oscillating_keras_json/``
    The house-price regression (4-64-1 ReLU, MSE, inputs standardised) trained with plain SGD
    (no momentum) at a learning rate of 0.03 and batch size 16, about 6x too high: the weights
    keep bouncing across the valley instead of settling into it. The training loss, a mean
    over each epoch's 38 batches, smooths the bouncing into a curve that stalls at ~0.1 from
    epoch 20 on; the validation loss, measured once at each epoch's end wherever the last
    update left the weights, swings between 0.075 and 0.26 to the end. At lr 0.005 the same run
    falls smoothly to the same level and lossctl reports nothing. Keras ``history.history`` as
    ``history.json``.

``two_heads_keras/``
    A two-output model (Keras functional API style): a shared 8-256 ReLU trunk with a ``price``
    head (MSE on the standardised price) and a ``segment`` head (built in the last 20 years or
    not, softmax cross-entropy), compiled with ``loss_weights={"price": 0.1, "segment": 1.0}``
    and trained with Adam for 150 epochs on 48 houses (the houses regression plus 4 irrelevant
    features) whose recorded sale prices are noisy (noise 1.5x the price's own spread), while
    the segment labels are clean. The price head memorises the noise: its validation loss is
    lowest at epoch 20 and ends 2.5x higher, while the segment head stays near its best and
    the weighted total ``val_loss`` barely moves. Keras ``CSVLogger`` ``training.log`` with the
    columns Keras logs for two outputs (``loss``, ``price_loss``, ``segment_loss`` and their
    ``val_`` twins, sorted).

``rl_collapse_tensorboard/PPO_1/``
    An agent learns CartPole (the classic cart-pole equations in numpy, 500-step episodes): a
    linear softmax policy trained by a PPO-style update without clipping (10 epochs over each
    2,048-step rollout, normalised advantages, a least-squares value baseline), whose learning
    rate grows 5% per update (a scheduler stepped the wrong way). The return climbs from ~24 to
    ~240 in 35 updates; as the rate grows, updates overshoot (approx_kl far above PPO's 0.01-0.02),
    the return swings, and at update ~120 the policy turns deterministic on a losing action:
    9-step episodes, zero gradient, and the return stays at 9 for the rest of the run. Written as
    stable-baselines3's TensorBoard logger writes PPO (``rollout/ep_rew_mean``,
    ``train/approx_kl``, ``train/policy_gradient_loss``, ``train/value_loss``, ...) at each
    update's timesteps.

Regenerate with ``make samples`` (which runs
``.venv/bin/python scripts/make_sample_logs.py sample_logs``). The output is deterministic
apart from the TensorBoard file name and its header record, which TensorBoard's writer stamps
with the host name and current time.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import sys
from pathlib import Path

import numpy as np

TRAIN, VAL = 600, 200
WALL_START = 1.7e9  # deterministic wall clock for the TensorBoard run: start + 0.05 s per step
WALL_PER_STEP = 0.05


# ---------------------------------------------------------------------------------------------
# data


def two_moons(n: int, noise: float, rng: np.random.Generator):
    """The classic two interleaving half circles, with gaussian noise, shuffled."""
    n1 = n // 2
    t1, t2 = rng.uniform(0, np.pi, n1), rng.uniform(0, np.pi, n - n1)
    x = np.concatenate([np.c_[np.cos(t1), np.sin(t1)], np.c_[1 - np.cos(t2), 0.5 - np.sin(t2)]])
    y = np.r_[np.zeros(n1, dtype=np.int64), np.ones(n - n1, dtype=np.int64)]
    x = x + rng.normal(0.0, noise, x.shape)
    order = rng.permutation(n)
    return x[order], y[order]


def standardise(x_train, *others):
    mu, sd = x_train.mean(0), x_train.std(0)
    return [(a - mu) / sd for a in (x_train, *others)]


def blobs(n: int, classes: int, dim: int, spread: float, rng: np.random.Generator):
    """Gaussian clusters (unit variance) around centres drawn with standard deviation ``spread``."""
    centres = rng.normal(0.0, spread, (classes, dim))
    y = rng.integers(0, classes, n)
    return centres[y] + rng.normal(0.0, 1.0, (n, dim)), y


def houses(n: int, rng: np.random.Generator):
    """A tabular regression in natural units: floor area (m2), rooms, age (years), distance to
    the centre (km) -> price (in 100k). The inputs' scales differ by two orders of magnitude,
    so they must be standardised before training."""
    area = rng.normal(120.0, 40.0, n).clip(30.0)
    rooms = np.round(area / 30.0 + rng.normal(0.0, 0.8, n)).clip(1.0)
    age = rng.uniform(0.0, 60.0, n)
    dist = rng.uniform(1.0, 30.0, n)
    price = (0.02 * area + 0.15 * rooms - 0.012 * age + 2.5 * np.exp(-dist / 8.0)
             + rng.normal(0.0, 0.25, n))
    return np.c_[area, rooms, age, dist], price


def noisy_regression(n: int, rng: np.random.Generator):
    """Six standard-normal inputs (two irrelevant) and a target that is mostly linear with one
    interaction, a third of whose variance is noise, as in small medical or survey datasets
    (scikit-learn's diabetes, say); standardised."""
    x = rng.normal(0.0, 1.0, (n, 6))
    y = x @ np.array([0.8, -0.5, 0.4, 0.3, 0.0, 0.0]) + 0.3 * np.tanh(2.0 * x[:, 0] * x[:, 1])
    y = y + rng.normal(0.0, 0.8, n)
    return x, (y - y.mean()) / y.std()


# ---------------------------------------------------------------------------------------------
# models: each has ``params`` (a dict of arrays) and ``loss_grad(x, y) -> (loss, grads)``


class MLP:
    """One hidden layer, softmax cross-entropy output."""

    def __init__(self, sizes, act: str, rng: np.random.Generator):
        d, h, c = sizes
        gain = 1.0 if act == "tanh" else math.sqrt(2.0)
        self.act = act
        self.params = {
            "W1": rng.normal(0.0, gain / math.sqrt(d), (d, h)),
            "b1": np.zeros(h),
            "W2": rng.normal(0.0, 1.0 / math.sqrt(h), (h, c)),
            "b2": np.zeros(c),
        }

    def loss_grad(self, x, y):
        p = self.params
        z = x @ p["W1"] + p["b1"]
        h = np.tanh(z) if self.act == "tanh" else np.maximum(z, 0.0)
        logits = h @ p["W2"] + p["b2"]
        loss, dlogits = softmax_xent(logits, y)
        grads = {"W2": h.T @ dlogits, "b2": dlogits.sum(0)}
        dh = dlogits @ p["W2"].T
        dz = dh * (1.0 - h * h) if self.act == "tanh" else dh * (z > 0)
        grads["W1"] = x.T @ dz
        grads["b1"] = dz.sum(0)
        return loss, grads

    def loss(self, x, y):
        return self.loss_grad(x, y)[0]


class Logistic:
    """Binary logistic regression (``sigmoid(x @ w + b)``, mean binary cross-entropy)."""

    def __init__(self, d: int, rng: np.random.Generator):
        self.params = {"w": rng.normal(0.0, 1.0, d), "b": np.zeros(1)}  # Keras-style random init

    def loss_grad(self, x, y):
        z = x @ self.params["w"] + self.params["b"][0]
        loss = float(np.mean(np.logaddexp(0.0, z) - y * z))
        r = (1.0 / (1.0 + np.exp(-z)) - y) / len(y)
        return loss, {"w": x.T @ r, "b": np.array([r.sum()])}

    def loss(self, x, y):
        return self.loss_grad(x, y)[0]


class HalfSoftmaxMLP(MLP):
    """The MLP with its forward pass in float16 (weights cast from float32 masters, as under
    autocast) and a hand-written softmax ``exp(logits) / exp(logits).sum()`` that skips the
    usual max subtraction. float16 overflows above 65504, so as soon as one logit exceeds
    ln(65504) = 11.09 the softmax is inf / inf = NaN, and so are the loss, the gradients
    and, one update later, every weight. There is no loss scaler or NaN guard."""

    def loss_grad(self, x, y):
        p, f16 = self.params, np.float16
        z = x.astype(f16) @ p["W1"].astype(f16) + p["b1"].astype(f16)
        h = np.tanh(z) if self.act == "tanh" else np.maximum(z, f16(0.0))
        logits = h @ p["W2"].astype(f16) + p["b2"].astype(f16)
        e = np.exp(logits)
        prob = e / e.sum(axis=1, keepdims=True)
        n = len(y)
        loss = float(-np.log(prob[np.arange(n), y]).astype(np.float32).mean())
        d = prob.astype(np.float64)  # the backward pass runs in float32/64 as autocast does
        d[np.arange(n), y] -= 1.0
        d /= n
        h, z = h.astype(np.float64), z.astype(np.float64)
        grads = {"W2": h.T @ d, "b2": d.sum(0)}
        dh = d @ p["W2"].T
        dz = dh * (1.0 - h * h) if self.act == "tanh" else dh * (z > 0)
        grads["W1"] = x.T @ dz
        grads["b1"] = dz.sum(0)
        return loss, grads


class Regressor:
    """One hidden ReLU layer, one linear output, mean squared error."""

    def __init__(self, sizes, rng: np.random.Generator):
        d, h = sizes
        self.params = {
            "W1": rng.normal(0.0, math.sqrt(2.0 / d), (d, h)),
            "b1": np.zeros(h),
            "W2": rng.normal(0.0, 1.0 / math.sqrt(h), (h, 1)),
            "b2": np.zeros(1),
        }

    def loss_grad(self, x, y):
        p = self.params
        z = x @ p["W1"] + p["b1"]
        h = np.maximum(z, 0.0)
        r = (h @ p["W2"] + p["b2"])[:, 0] - y
        loss = float(np.mean(r * r))
        dout = (2.0 / len(y)) * r[:, None]
        grads = {"W2": h.T @ dout, "b2": dout.sum(0)}
        dz = (dout @ p["W2"].T) * (z > 0)
        grads["W1"] = x.T @ dz
        grads["b1"] = dz.sum(0)
        return loss, grads

    def loss(self, x, y):
        return self.loss_grad(x, y)[0]


def softmax_xent(logits, y):
    """Mean cross-entropy and its gradient w.r.t. the logits (numerically stable)."""
    n = len(y)
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = float(-logp[np.arange(n), y].mean())
    d = np.exp(logp)
    d[np.arange(n), y] -= 1.0
    return loss, d / n


# ---------------------------------------------------------------------------------------------
# optimisers (PyTorch conventions)


class SGD:
    def __init__(self, params, momentum: float = 0.0):
        self.momentum = momentum
        self.buf = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, params, grads, lr: float):
        for k, g in grads.items():
            self.buf[k] = self.momentum * self.buf[k] + g
            params[k] -= lr * self.buf[k]


class Adam:
    def __init__(self, params, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-7):
        self.b1, self.b2, self.eps, self.t = b1, b2, eps, 0
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, params, grads, lr: float):
        self.t += 1
        for k, g in grads.items():
            self.m[k] = self.b1 * self.m[k] + (1 - self.b1) * g
            self.v[k] = self.b2 * self.v[k] + (1 - self.b2) * g * g
            mhat = self.m[k] / (1 - self.b1 ** self.t)
            vhat = self.v[k] / (1 - self.b2 ** self.t)
            params[k] -= lr * mhat / (np.sqrt(vhat) + self.eps)


# ---------------------------------------------------------------------------------------------
# the training loop


def train(model, opt, data, *, epochs: int, batch: int, lr_at, seed: int, stop_after_nan: int = 3,
          shuffle: bool = True, corrupt=None):
    """Mini-batch training; returns per-step ``(epoch, step, loss, lr)`` and per-epoch
    ``(epoch, last_step, mean_train_loss, val_loss)`` records.

    ``lr_at(step)`` gives the learning rate of each optimiser step. Once the training loss is
    NaN the run goes on for ``stop_after_nan`` more epochs and then stops (like a job whose
    owner noticed, or a NaN guard that fires at the next epoch check). ``shuffle=False`` feeds
    the batches in dataset order every epoch (``DataLoader(shuffle=False)``); ``corrupt(step,
    xb, yb) -> (xb, yb)`` lets a run replace what the data pipeline delivers at some steps.
    """
    x, y, xv, yv = data
    rng = np.random.default_rng(seed)
    steps, epochs_out = [], []
    step, nan_epochs = 0, 0
    for epoch in range(epochs):
        order = rng.permutation(len(x)) if shuffle else np.arange(len(x))
        losses = []
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            lr = lr_at(step)
            xb, yb = x[idx], y[idx]
            if corrupt is not None:
                xb, yb = corrupt(step, xb, yb)
            loss, grads = model.loss_grad(xb, yb)
            opt.step(model.params, grads, lr)
            steps.append((epoch, step, float(loss) + 0.0, float(lr)))  # + 0.0: no "-0.0"
            losses.append(loss)
            step += 1
        epochs_out.append((epoch, step - 1, float(np.mean(losses)), float(model.loss(xv, yv))))
        if not math.isfinite(losses[-1]):
            nan_epochs += 1
            if nan_epochs >= stop_after_nan:
                break
    return steps, epochs_out


# ---------------------------------------------------------------------------------------------
# the runs


def healthy():
    rng = np.random.default_rng(1)
    x, y = two_moons(TRAIN + VAL, 0.2, rng)
    x, xv = standardise(x[:TRAIN], x[TRAIN:])
    data = (x, y[:TRAIN], xv, y[TRAIN:])
    model = MLP((2, 32, 2), "tanh", np.random.default_rng(2))
    epochs, batch, peak = 30, 32, 0.05
    total = epochs * math.ceil(TRAIN / batch)

    def lr_at(step):  # cosine decay from peak to 5 % of it
        return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / total)))

    return train(model, SGD(model.params, momentum=0.9), data, epochs=epochs, batch=batch,
                 lr_at=lr_at, seed=3)


DIVERGE = {"hidden": 64, "batch_size": 32, "max_epochs": 35, "optimizer": "SGD", "lr": 0.1,
           "momentum": 0.9, "lr_scheduler": "ExponentialLR", "lr_gamma": 1.2}


def diverging():
    rng = np.random.default_rng(11)
    x, y = two_moons(TRAIN + VAL, 0.2, rng)
    x, xv = standardise(x[:TRAIN], x[TRAIN:])
    data = (x, y[:TRAIN], xv, y[TRAIN:])
    h = DIVERGE
    model = MLP((2, h["hidden"], 2), "tanh", np.random.default_rng(12))
    per_epoch = math.ceil(TRAIN / h["batch_size"])

    def lr_at(step):  # ExponentialLR stepped once per epoch, but with gamma > 1: the rate grows
        return h["lr"] * h["lr_gamma"] ** (step // per_epoch)

    return train(model, SGD(model.params, momentum=h["momentum"]), data, epochs=h["max_epochs"],
                 batch=h["batch_size"], lr_at=lr_at, seed=13)


OSCILLATE = {"epochs": 60, "lr": 0.375, "momentum": 0.8, "feature_scale": 10.0}


def oscillating():
    rng = np.random.default_rng(21)
    n, d = TRAIN + VAL, 4
    x = rng.normal(0.0, 1.0, (n, d))
    true_w = np.array([1.5, -1.0, 0.8, 0.6])
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(x @ true_w + 0.3)))).astype(np.float64)
    x[:, -1] *= OSCILLATE["feature_scale"]  # this column was never standardised
    data = (x[:TRAIN], y[:TRAIN], x[TRAIN:], y[TRAIN:])
    model = Logistic(d, np.random.default_rng(4))
    lr = OSCILLATE["lr"]
    return train(model, SGD(model.params, momentum=OSCILLATE["momentum"]), data,
                 epochs=OSCILLATE["epochs"], batch=TRAIN, lr_at=lambda step: lr, seed=23)


def overfitting():
    rng = np.random.default_rng(31)
    n_train, n_noise = 40, 5
    x, y = two_moons(n_train + VAL, 0.2, rng)
    x = np.c_[x, rng.normal(0.0, 1.0, (len(x), n_noise))]  # 5 irrelevant input features
    flip = rng.random(n_train) < 0.15  # label noise in the tiny training set
    y[:n_train] = np.where(flip, 1 - y[:n_train], y[:n_train])
    x, xv = standardise(x[:n_train], x[n_train:])
    data = (x, y[:n_train], xv, y[n_train:])
    model = MLP((2 + n_noise, 256, 2), "relu", np.random.default_rng(32))
    return train(model, Adam(model.params), data, epochs=200, batch=16,
                 lr_at=lambda step: 7e-4, seed=33)


NONFINITE = {"classes": 5, "hidden": 64, "batch_size": 32, "max_epochs": 40, "lr": 3e-3}


def blob_split(seed: int, classes: int):
    """Gaussian clusters in 8 dimensions as ``(x, y, x_val, y_val)``, standardised on the training split."""
    x, y = blobs(TRAIN + VAL, classes, 8, 1.5, np.random.default_rng(seed))
    x, xv = standardise(x[:TRAIN], x[TRAIN:])
    return x, y[:TRAIN], xv, y[TRAIN:]


def nonfinite():
    h = NONFINITE
    data = blob_split(41, h["classes"])
    model = HalfSoftmaxMLP((8, h["hidden"], h["classes"]), "relu", np.random.default_rng(42))
    return train(model, Adam(model.params), data, epochs=h["max_epochs"], batch=h["batch_size"],
                 lr_at=lambda step: h["lr"], seed=43)


SPIKE = {"hidden": 64, "batch_size": 32, "max_epochs": 30, "optimizer": "Adam", "lr": 3e-3,
         "bad_steps": (250, 410), "bad_scale": 100.0}


def spike():
    rng = np.random.default_rng(51)
    x, y = two_moons(TRAIN + VAL, 0.2, rng)
    x, xv = standardise(x[:TRAIN], x[TRAIN:])
    data = (x, y[:TRAIN], xv, y[TRAIN:])
    h = SPIKE
    model = MLP((2, h["hidden"], 2), "relu", np.random.default_rng(52))

    def corrupt(step, xb, yb):  # two batches from a shard written without normalisation
        return (xb * h["bad_scale"], yb) if step in h["bad_steps"] else (xb, yb)

    return train(model, Adam(model.params), data, epochs=h["max_epochs"], batch=h["batch_size"],
                 lr_at=lambda step: h["lr"], seed=53, corrupt=corrupt)


PLATEAU = {"epochs": 50, "batch_size": 32, "lr": 1e-6}


def plateau():
    rng = np.random.default_rng(61)
    x, y = two_moons(TRAIN + VAL, 0.2, rng)
    x, xv = standardise(x[:TRAIN], x[TRAIN:])
    data = (x, y[:TRAIN], xv, y[TRAIN:])
    model = MLP((2, 64, 2), "relu", np.random.default_rng(62))
    lr = PLATEAU["lr"]
    return train(model, SGD(model.params), data, epochs=PLATEAU["epochs"],
                 batch=PLATEAU["batch_size"], lr_at=lambda step: lr, seed=63)


def train_val_mismatch():
    rng = np.random.default_rng(71)
    x, y = houses(TRAIN + VAL, rng)
    x, xv = x[:TRAIN], x[TRAIN:]
    mu, sd = x.mean(0), x.std(0)  # StandardScaler fitted on the training inputs...
    x = (x - mu) / sd             # ...and applied to them only: xv stays in m2, years and km
    data = (x, y[:TRAIN], xv, y[TRAIN:])
    model = Regressor((4, 64), np.random.default_rng(72))
    return train(model, SGD(model.params, momentum=0.9), data, epochs=40, batch=32,
                 lr_at=lambda step: 0.01, seed=73)


PERMUTED = {"classes": 4, "hidden": 64, "batch_size": 32, "max_epochs": 40, "lr": 1e-3}


def labels_permuted():
    h = PERMUTED
    x, y, xv, yv = blob_split(91, h["classes"])
    # each file's class ids in the order its labels first appear (``df.label.unique()``): the
    # validation file lists its classes in another order, so its ids name other classes
    ids = {c: i for i, c in enumerate(dict.fromkeys(yv))}
    data = (x, y, xv, np.array([ids[c] for c in yv]))
    model = MLP((8, h["hidden"], h["classes"]), "relu", np.random.default_rng(92))
    return train(model, Adam(model.params), data, epochs=h["max_epochs"], batch=h["batch_size"],
                 lr_at=lambda step: h["lr"], seed=93)


VAL_OSCILLATE = {"hidden": 64, "batch_size": 16, "max_epochs": 40, "optimizer": "SGD", "lr": 0.03}


def val_oscillating():
    h = VAL_OSCILLATE
    x, y = houses(TRAIN + VAL, np.random.default_rng(4))
    x, xv = standardise(x[:TRAIN], x[TRAIN:])
    data = (x, y[:TRAIN], xv, y[TRAIN:])
    model = Regressor((4, h["hidden"]), np.random.default_rng(5))
    return train(model, SGD(model.params), data, epochs=h["max_epochs"], batch=h["batch_size"],
                 lr_at=lambda step: h["lr"], seed=6)


NOISY = {"train_size": 300, "batch_size": 2, "max_epochs": 10, "optimizer": "SGD", "lr": 0.01}


def noisy():
    h = NOISY
    x, y = noisy_regression(h["train_size"] + VAL, np.random.default_rng(81))
    n = h["train_size"]
    data = (x[:n], y[:n], x[n:], y[n:])
    model = Regressor((6, 32), np.random.default_rng(82))
    return train(model, SGD(model.params), data, epochs=h["max_epochs"], batch=h["batch_size"],
                 lr_at=lambda step: h["lr"], seed=83)


SWEEP_LRS = ("1e-3", "3e-3", "1e-2", "3e-2", "1e-1", "3e-1")  # as written in the directory names
SWEEP_SEEDS = (1, 2)


def sweep_run(lr: float, seed: int):
    """One run of the learning-rate sweep: the same data every run, the seed sets the
    initialisation and the batch order."""
    rng = np.random.default_rng(101)
    x, y = houses(TRAIN + VAL, rng)
    x, xv = standardise(x[:TRAIN], x[TRAIN:])
    data = (x, y[:TRAIN], xv, y[TRAIN:])
    model = Regressor((4, 64), np.random.default_rng(200 + seed))
    return train(model, SGD(model.params, momentum=0.9), data, epochs=30, batch=32,
                 lr_at=lambda step: lr, seed=300 + seed)


def epoch_periodic():
    rng = np.random.default_rng(91)
    x, y = two_moons(TRAIN + VAL, 0.2, rng)
    x, xv = standardise(x[:TRAIN], x[TRAIN:])
    order = np.argsort(y[:TRAIN], kind="stable")  # the training set came sorted by label
    data = (x[order], y[:TRAIN][order], xv, y[TRAIN:])
    model = MLP((2, 32, 2), "tanh", np.random.default_rng(92))
    return train(model, SGD(model.params, momentum=0.9), data, epochs=30, batch=32,
                 lr_at=lambda step: 0.05, seed=93, shuffle=False)


# ---------------------------------------------------------------------------------------------
# writers


# ---------------------------------------------------------------------------------------------
# runs with more than one loss series


class TwoHeadRegressor:
    """A shared tanh trunk with two linear heads, each with its own MSE term; the objective is
    ``weights[0] * term_a + weights[1] * term_b`` (a multi-task or multi-term loss)."""

    def __init__(self, d: int, h: int, weights, rng: np.random.Generator):
        self.weights = weights
        self.params = {"W1": rng.normal(0.0, 1.0 / math.sqrt(d), (d, h)), "b1": np.zeros(h),
                       "Wa": rng.normal(0.0, 1.0 / math.sqrt(h), (h, 1)), "ba": np.zeros(1),
                       "Wb": rng.normal(0.0, 1.0 / math.sqrt(h), (h, 1)), "bb": np.zeros(1)}

    def loss_grad(self, x, ya, yb):
        p, (wa, wb), n = self.params, self.weights, len(ya)
        h = np.tanh(x @ p["W1"] + p["b1"])
        ra, rb = (h @ p["Wa"] + p["ba"])[:, 0] - ya, (h @ p["Wb"] + p["bb"])[:, 0] - yb
        da, db = (2.0 * wa / n) * ra[:, None], (2.0 * wb / n) * rb[:, None]
        grads = {"Wa": h.T @ da, "ba": da.sum(0), "Wb": h.T @ db, "bb": db.sum(0)}
        dz = (da @ p["Wa"].T + db @ p["Wb"].T) * (1.0 - h * h)
        grads["W1"], grads["b1"] = x.T @ dz, dz.sum(0)
        return (float(np.mean(ra * ra)), float(np.mean(rb * rb))), grads


IMBALANCE = {"hidden": 8, "batch_size": 32, "max_epochs": 100, "optimizer": "Adam", "lr": 3e-3,
             "price_weight": 10.0, "demand_weight": 1.0}


def loss_imbalance():
    """Per-step ``(epoch, step, total, price_loss, demand_loss)`` of the two-head regression."""
    rng = np.random.default_rng(71)
    n, d = 600, 6
    x = rng.normal(0.0, 1.0, (n, d))
    price = 3.0 * np.tanh(x @ rng.normal(0.0, 0.7, d)) + 2.0 * np.tanh(x @ rng.normal(0.0, 0.7, d))
    demand = np.tanh(x[:, 0] * x[:, 1]) + 0.5 * np.cos(2.0 * x[:, 2])
    demand = (demand - demand.mean()) / demand.std()
    h = IMBALANCE
    w = (h["price_weight"], h["demand_weight"])
    model = TwoHeadRegressor(d, h["hidden"], w, np.random.default_rng(72))
    opt, order_rng, rows, step = Adam(model.params), np.random.default_rng(73), [], 0
    for epoch in range(h["max_epochs"]):
        order = order_rng.permutation(n)
        for i in range(0, n, h["batch_size"]):
            idx = order[i:i + h["batch_size"]]
            (la, lb), grads = model.loss_grad(x[idx], price[idx], demand[idx])
            opt.step(model.params, grads, h["lr"])
            rows.append((epoch, step, w[0] * la + w[1] * lb, la, lb))
            step += 1
    return rows


LONG = {"vocab": 32, "alpha": 0.02, "batch_tokens": 64, "max_steps": 120_000, "optimizer": "Adam", "lr": 3e-4,
        "warmup_steps": 2000, "log_every_n_steps": 10, "bad_shards": "40000+30,85000+20"}


def long_spikes():
    """Per-logged-step ``(epoch, step, loss, grad_norm)`` of a bigram LM trained for 120,000
    steps (one pass over a token stream: epoch 0 throughout, as Lightning logs it)."""
    h = LONG
    v, b, steps = h["vocab"], h["batch_tokens"], h["max_steps"]
    chain = np.random.default_rng(81).dirichlet(np.full(v, h["alpha"]), v).cumsum(1)
    chain[:, -1] = 1.0
    bad = np.zeros(steps, dtype=bool)
    for shard in h["bad_shards"].split(","):
        at, length = map(int, shard.split("+"))
        bad[at:at + length] = True
    params = {"W": np.zeros((v, v))}
    opt, rng = Adam(params), np.random.default_rng(83)
    xs, us = rng.integers(0, v, (steps, b)), rng.random((steps, b))
    eye, rows, ar = np.eye(v), [], np.arange(b)
    for step in range(steps):
        x = xs[step]
        y = xs[step - 1] if bad[step] else (chain[x] < us[step][:, None]).sum(1)  # corrupted: shuffled
        logits = params["W"][x]
        logits = logits - logits.max(1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(1, keepdims=True)
        loss = float(-np.log(p[ar, y]).mean())
        p[ar, y] -= 1.0
        g = eye[x].T @ (p / b)
        lr = h["lr"] * min(1.0, (step + 1) / h["warmup_steps"]) * (0.1 + 0.45 * (1 + math.cos(math.pi * step / steps)))
        opt.step(params, {"W": g}, lr)
        if step % h["log_every_n_steps"] == 0:
            rows.append((0, step, loss, math.sqrt(float((g * g).sum()))))
    return rows


# ---------------------------------------------------------------------------------------------
# reinforcement learning: an agent whose return collapses

RL = {"rollout": 2048, "updates": 200, "epochs": 10, "lr": 1.0, "lr_growth": 1.05, "gamma": 0.99, "seed": 0}


def cartpole_step(s: np.ndarray, a: int) -> tuple[np.ndarray, bool]:
    """The classic cart-pole equations (gym's CartPole-v1: Euler steps of 0.02 s, a 10 N push)."""
    g, m_cart, m_pole, half, force, tau = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
    x, x_dot, th, th_dot = s
    f = force if a == 1 else -force
    c, sn = math.cos(th), math.sin(th)
    tmp = (f + m_pole * half * th_dot**2 * sn) / (m_cart + m_pole)
    th_acc = (g * sn - c * tmp) / (half * (4 / 3 - m_pole * c**2 / (m_cart + m_pole)))
    x_acc = tmp - m_pole * half * th_acc * c / (m_cart + m_pole)
    s = np.array([x + tau * x_dot, x_dot + tau * x_acc, th + tau * th_dot, th_dot + tau * th_acc])
    return s, bool(abs(s[0]) > 2.4 or abs(s[2]) > 0.2095)


def rl_collapse():
    """Per update: ``(timesteps, ep_rew_mean, ep_len_mean, approx_kl, entropy_loss,
    policy_gradient_loss, value_loss, learning_rate)``, as stable-baselines3 logs PPO."""
    rng = np.random.default_rng(RL["seed"])
    w, b = np.zeros((4, 2)), np.zeros(2)
    n = RL["rollout"]
    episodes, s, length, rows = [], rng.uniform(-0.05, 0.05, 4), 0, []
    for update in range(RL["updates"]):
        states, actions, done_at, logp = np.zeros((n, 4)), np.zeros(n, dtype=int), np.zeros(n, dtype=bool), np.zeros(n)
        for t in range(n):
            z = s @ w + b
            p = np.exp(z - z.max())
            p /= p.sum()
            a = int(rng.choice(2, p=p))
            states[t], actions[t], logp[t] = s, a, math.log(p[a])
            s, fell = cartpole_step(s, a)
            length += 1
            if fell or length >= 500:
                episodes.append(length)
                done_at[t], s, length = True, rng.uniform(-0.05, 0.05, 4), 0
        ret, g = np.zeros(n), 0.0
        for t in range(n - 1, -1, -1):  # discounted returns, cut at each episode's end
            g = 1.0 + RL["gamma"] * g * (not done_at[t])
            ret[t] = g
        x = np.c_[states, np.ones(n)]
        v = np.linalg.lstsq(x, ret, rcond=None)[0]
        adv = ret - x @ v
        value_loss = float(np.mean(adv**2))
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        lr = RL["lr"] * RL["lr_growth"] ** update
        onehot = np.eye(2)[actions]
        for _ in range(RL["epochs"]):  # PPO's epochs over the rollout, without its clipping
            z = states @ w + b
            p = np.exp(z - z.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            ratio = np.exp(np.log(np.maximum(p[np.arange(n), actions], 1e-300)) - logp)
            grad = (onehot - p) * (ratio * adv)[:, None]
            w += lr * states.T @ grad / n
            b += lr * grad.mean(0)
        z = states @ w + b
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        new_logp = np.log(np.maximum(p[np.arange(n), actions], 1e-300))
        ratio = np.exp(new_logp - logp)
        recent = episodes[-100:]  # SB3's ep_info_buffer: the last 100 episodes
        rows.append(((update + 1) * n, float(np.mean(recent)) if recent else 0.0,
                     float(np.mean(recent)) if recent else 0.0, float(np.mean(logp - new_logp)),
                     float(np.mean((p * np.log(np.maximum(p, 1e-300))).sum(1))), float(-np.mean(ratio * adv)),
                     value_loss, lr))
    return rows


def write_sb3_tensorboard(run_dir: Path, rows) -> Path:
    """stable-baselines3's TensorBoard output for PPO: one event per logged key at the update's
    ``num_timesteps``."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    tags = ["rollout/ep_rew_mean", "rollout/ep_len_mean", "train/approx_kl", "train/entropy_loss",
            "train/policy_gradient_loss", "train/value_loss", "train/learning_rate"]
    writer = EventFileWriter(str(run_dir))
    for row in rows:
        step, values = row[0], row[1:]
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=t, simple_value=v) for t, v in zip(tags, values)])
        writer.add_event(event_pb2.Event(summary=summary, step=step, wall_time=WALL_START + step / 2000))
    writer.close()
    return next(run_dir.glob("events.out.tfevents.*"))


def write_lightning_columns(run_dir: Path, header: list[str], rows, hparams) -> Path:
    """Lightning's ``metrics.csv`` with the given columns (one row per logged step)."""
    path = run_dir / "metrics.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for row in rows:
            w.writerow([c if isinstance(c, int) else fmt(c) for c in row])
    with open(run_dir / "hparams.yaml", "w") as f:
        f.writelines(f"{k}: {v}\n" for k, v in hparams.items())
    return path


def fresh_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def write_tensorboard(run_dir: Path, steps, epochs) -> Path:
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    def event(tag, value, step, wall):
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])
        return event_pb2.Event(summary=summary, step=step, wall_time=wall)

    writer = EventFileWriter(str(run_dir))
    val_at = {last_step: val for _, last_step, _, val in epochs}
    for _, step, loss, lr in steps:
        wall = WALL_START + WALL_PER_STEP * step
        writer.add_event(event("train/loss", loss, step, wall))
        writer.add_event(event("lr", lr, step, wall))
        if step in val_at:
            writer.add_event(event("val/loss", val_at[step], step, wall + 0.5 * WALL_PER_STEP))
    writer.close()
    return next(run_dir.glob("events.out.tfevents.*"))


def fmt(v: float) -> str:
    return "nan" if math.isnan(v) else repr(v)


def write_lightning(run_dir: Path, steps, epochs, hparams) -> Path:
    path = run_dir / "metrics.csv"
    val_after = {last_step: (epoch, val) for epoch, last_step, _, val in epochs}
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["epoch", "step", "train_loss", "val_loss"])
        for epoch, step, loss, _ in steps:
            w.writerow([epoch, step, fmt(loss), ""])
            if step in val_after:
                w.writerow([epoch, step, "", fmt(val_after[step][1])])
    if hparams is not None:
        with open(run_dir / "hparams.yaml", "w") as f:
            f.writelines(f"{k}: {v}\n" for k, v in hparams.items())
    return path


def write_keras_csv(run_dir: Path, epochs, lr) -> Path:
    path = run_dir / "training.log"
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["epoch", "loss", "lr", "val_loss"])
        for epoch, _, loss, val in epochs:
            w.writerow([epoch, repr(loss), repr(float(lr)), repr(val)])
    return path


def print_console(run_dir: Path, steps, epochs) -> Path:
    """The run as its training loop prints it, nanoGPT's format strings (train.py), captured."""
    path = run_dir / "train.log"
    val_at = {last_step: (train, val) for _, last_step, train, val in epochs}
    with open(path, "w") as f:
        print(f"tokens per iteration will be: {NONFINITE['batch_size']:,}", file=f)
        print("Initializing a new model from scratch", file=f)
        for i, (_, step, loss, _) in enumerate(steps):
            mfu = -100.0 if i < 5 else 30.0  # nanoGPT's running_mfu starts at -1 until iter 5
            print(f"iter {step}: loss {loss:.4f}, time {WALL_PER_STEP * 1000:.2f}ms, mfu {mfu:.2f}%", file=f)
            if step in val_at:
                train, val = val_at[step]
                print(f"step {step}: train loss {train:.4f}, val loss {val:.4f}", file=f)
    return path


HF_LOGGING_STEPS, HF_EVALUATIONS = 10, 5


def write_hf_trainer_state(run_dir: Path, steps, epochs) -> Path:
    """``checkpoint-N/trainer_state.json`` as transformers' Trainer saves it: the mean training
    loss of every ``logging_steps`` steps rounded to 4 decimals, an evaluation row at
    ``eval_steps`` (5 evaluations over the run), the closing train summary row; the TrainerState
    dataclass as ``json.dumps(asdict(state), indent=2, sort_keys=True)``."""
    total = len(steps)
    per_epoch = total / len(epochs)
    eval_steps = total // HF_EVALUATIONS
    val_after = {last_step + 1: val for _, last_step, _, val in epochs}  # HF counts steps from 1
    history = []
    for end in range(HF_LOGGING_STEPS, total + 1, HF_LOGGING_STEPS):
        chunk = steps[end - HF_LOGGING_STEPS:end]
        history.append({"epoch": round(end / per_epoch, 2), "learning_rate": chunk[-1][3],
                        "loss": round(float(np.mean([c[2] for c in chunk])), 4), "step": end})
        if end % eval_steps == 0:
            history.append({"epoch": round(end / per_epoch, 2), "eval_loss": val_after[end], "eval_runtime": 0.0123,
                            "eval_samples_per_second": 16260.163, "eval_steps_per_second": 1016.26, "step": end})
    history.append({"epoch": round(total / per_epoch, 2), "step": total, "total_flos": 0.0,
                    "train_loss": float(np.mean([c[2] for c in steps])), "train_runtime": 4.2,
                    "train_samples_per_second": 1904.762, "train_steps_per_second": 142.857})
    state = {"best_metric": None, "best_model_checkpoint": None, "epoch": float(len(epochs)),
             "eval_steps": eval_steps, "global_step": total, "is_hyper_param_search": False,
             "is_local_process_zero": True, "is_world_process_zero": True, "log_history": history,
             "logging_steps": HF_LOGGING_STEPS, "max_steps": total, "num_input_tokens_seen": 0,
             "num_train_epochs": len(epochs), "save_steps": total, "stateful_callbacks": {},
             "total_flos": 0.0, "train_batch_size": 16, "trial_name": None, "trial_params": None}
    path = run_dir / f"checkpoint-{total}" / "trainer_state.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    return path


def write_keras_json(run_dir: Path, epochs) -> Path:
    path = run_dir / "history.json"
    history = {"loss": [float(e[2]) for e in epochs], "val_loss": [float(e[3]) for e in epochs]}
    with open(path, "w") as f:
        json.dump(history, f)
    return path


# ---------------------------------------------------------------------------------------------


def describe(values) -> str:
    v = np.asarray(values, dtype=np.float64)
    finite = v[np.isfinite(v)]
    nan = int(np.isnan(v).sum())
    return (f"first {v[0]:.3g}, best {finite.min():.3g}, last {v[-1]:.3g}"
            + (f", {nan} nan" if nan else ""))


def report_steps(path: Path, steps) -> None:
    print(f"{path}: {len(steps)} steps, train loss {describe([s[2] for s in steps])}")


def report_epochs(path: Path, epochs) -> None:
    val = [e[3] for e in epochs]
    print(f"{path}: {len(epochs)} epochs, loss {describe([e[2] for e in epochs])}; "
          f"val_loss {describe(val)} (min at epoch {int(np.nanargmin(val))})")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: make_sample_logs.py OUTPUT_DIR", file=sys.stderr)
        return 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        runs = {name: make() for name, make in [
            ("healthy", healthy), ("diverging", diverging), ("oscillating", oscillating),
            ("overfitting", overfitting), ("nonfinite", nonfinite), ("spike", spike),
            ("plateau", plateau), ("train_val_mismatch", train_val_mismatch), ("noisy", noisy),
            ("epoch_periodic", epoch_periodic), ("labels_permuted", labels_permuted),
            ("val_oscillating", val_oscillating)]}

    hp = {"diverging": DIVERGE, "spike": SPIKE, "noisy": NOISY}
    lr = {"oscillating": OSCILLATE["lr"], "plateau": PLATEAU["lr"], "labels_permuted": PERMUTED["lr"]}
    layout = [("healthy", "healthy_tensorboard"), ("diverging", "diverging_lightning"),
              ("oscillating", "oscillating_keras"), ("overfitting", "overfitting_keras_json"),
              ("nonfinite", "nonfinite_tensorboard"), ("spike", "spike_lightning"),
              ("plateau", "plateau_keras"), ("train_val_mismatch", "train_val_mismatch_keras_json"),
              ("noisy", "noisy_lightning"), ("epoch_periodic", "epoch_periodic_tensorboard"),
              ("nonfinite", "nonfinite_console"), ("overfitting", "overfitting_hf_trainer"),
              ("labels_permuted", "val_labels_permuted_keras"), ("val_oscillating", "val_oscillating_keras_json")]
    for key, name in layout:  # the directory name's suffix says the format
        steps, epochs = runs[key]
        d = fresh_dir(out / name)
        if name.endswith("_tensorboard"):
            report_steps(write_tensorboard(d, steps, epochs), steps)
        elif name.endswith("_lightning"):
            report_steps(write_lightning(d, steps, epochs, hp[key]), steps)
        elif name.endswith("_keras"):
            report_epochs(write_keras_csv(d, epochs, lr[key]), epochs)
        elif name.endswith("_console"):
            report_steps(print_console(d, steps, epochs), steps)
        elif name.endswith("_hf_trainer"):  # evaluated 5 times: the few-evaluations rule
            report_steps(write_hf_trainer_state(d, steps, epochs), steps)
        else:
            report_epochs(write_keras_json(d, epochs), epochs)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        terms, long = loss_imbalance(), long_spikes()
    d = fresh_dir(out / "loss_imbalance_lightning")
    path = write_lightning_columns(d, ["epoch", "step", "train_loss", "price_loss", "demand_loss"], terms, IMBALANCE)
    print(f"{path}: {len(terms)} steps, price_loss {describe([r[3] for r in terms])}; "
          f"demand_loss {describe([r[4] for r in terms])}")
    d = fresh_dir(out / "long_spikes_lightning")
    path = write_lightning_columns(d, ["epoch", "step", "train_loss", "grad_norm"], long, LONG)
    print(f"{path}: {len(long)} logged steps to {long[-1][1]:,}, train loss {describe([r[2] for r in long])}")
    sweep = fresh_dir(out / "lr_sweep")
    for lr in SWEEP_LRS:
        for seed in SWEEP_SEEDS:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                steps, epochs = sweep_run(float(lr), seed)
            d = fresh_dir(sweep / f"lr={lr},seed={seed}")
            report_steps(write_lightning(d, steps, epochs, None), steps)
    two_heads_sample(out)
    rows = rl_collapse()
    path = write_sb3_tensorboard(fresh_dir(out / "rl_collapse_tensorboard" / "PPO_1"), rows)
    print(f"{path}: {len(rows)} updates to {rows[-1][0]:,} timesteps, ep_rew_mean {describe([r[1] for r in rows])}")
    return 0


# ---------------------------------------------------------------------------------------------
# two_heads_keras: a run that logs several losses (every loss pair is judged)


class TwoHeadMLP:
    """A shared ReLU trunk with two heads, as a two-output Keras model: ``price`` (one linear
    unit, MSE) and ``segment`` (two logits, softmax cross-entropy). The loss optimised is the
    weighted sum; each head's loss is also returned unweighted, as Keras logs it."""

    def __init__(self, sizes, rng: np.random.Generator):
        d, h = sizes
        self.params = {"W1": rng.normal(0.0, math.sqrt(2.0 / d), (d, h)), "b1": np.zeros(h),
                       "Wp": rng.normal(0.0, 1.0 / math.sqrt(h), (h, 1)), "bp": np.zeros(1),
                       "Ws": rng.normal(0.0, 1.0 / math.sqrt(h), (h, 2)), "bs": np.zeros(2)}

    def losses_grad(self, x, price, segment, weights):
        p = self.params
        z = x @ p["W1"] + p["b1"]
        h = np.maximum(z, 0.0)
        r = (h @ p["Wp"] + p["bp"])[:, 0] - price
        seg_loss, dlogits = softmax_xent(h @ p["Ws"] + p["bs"], segment)
        dp, ds = weights["price"] * (2.0 / len(r)) * r[:, None], weights["segment"] * dlogits
        grads = {"Wp": h.T @ dp, "bp": dp.sum(0), "Ws": h.T @ ds, "bs": ds.sum(0)}
        dz = (dp @ p["Wp"].T + ds @ p["Ws"].T) * (z > 0)
        grads["W1"], grads["b1"] = x.T @ dz, dz.sum(0)
        return {"price": float(np.mean(r * r)), "segment": seg_loss}, grads


TWO_HEADS = {"train_size": 48, "price_noise": 1.5, "noise_features": 4, "hidden": 256, "epochs": 150,
             "batch_size": 16, "lr": 1e-3, "loss_weights": {"price": 0.1, "segment": 1.0}, "seed": 181}


def two_heads():
    """Per epoch ``{name: value}`` as a two-output Keras model logs it: ``loss`` (the weighted
    sum), ``price_loss``, ``segment_loss`` (epoch means of the batches), then the same three
    on the validation set with ``val_`` in front."""
    h = TWO_HEADS
    n, rng = h["train_size"], np.random.default_rng(h["seed"])
    x, price = houses(n + VAL, rng)
    segment = (x[:, 2] < 20.0).astype(np.int64)  # built in the last 20 years: clean labels
    price = price + np.r_[rng.normal(0.0, h["price_noise"], n), np.zeros(VAL)]  # noisy sale prices
    price = (price - price[:n].mean()) / price[:n].std()
    x = np.c_[x, rng.normal(0.0, 1.0, (len(x), h["noise_features"]))]
    x, xv = standardise(x[:n], x[n:])
    model = TwoHeadMLP((x.shape[1], h["hidden"]), np.random.default_rng(h["seed"] + 1))
    opt, order_rng, w = Adam(model.params), np.random.default_rng(h["seed"] + 2), h["loss_weights"]
    history = []
    for _ in range(h["epochs"]):
        order, batches = order_rng.permutation(n), []
        for i in range(0, n, h["batch_size"]):
            idx = order[i:i + h["batch_size"]]
            losses, grads = model.losses_grad(x[idx], price[:n][idx], segment[:n][idx], w)
            opt.step(model.params, grads, h["lr"])
            batches.append(losses)
        val, _ = model.losses_grad(xv, price[n:], segment[n:], w)
        row = {}
        for prefix, losses in (("", {k: float(np.mean([b[k] for b in batches])) for k in w}), ("val_", val)):
            row[f"{prefix}loss"] = sum(w[k] * v for k, v in losses.items())
            row.update((f"{prefix}{k}_loss", v) for k, v in losses.items())
        history.append(row)
    return history


def write_keras_csv_logger(run_dir: Path, history) -> Path:
    """Keras ``CSVLogger``: ``epoch`` then the logged keys sorted, one row per epoch."""
    path = run_dir / "training.log"
    keys = sorted(history[0])
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["epoch", *keys])
        for epoch, row in enumerate(history):
            w.writerow([epoch, *(repr(row[k]) for k in keys)])
    return path


def two_heads_sample(out: Path) -> None:
    history = two_heads()
    path = write_keras_csv_logger(fresh_dir(out / "two_heads_keras"), history)
    for key in ("loss", "price_loss", "segment_loss"):
        val = [row["val_" + key] for row in history]
        print(f"{path}: {key} {describe([row[key] for row in history])}; val_{key} {describe(val)} "
              f"(min at epoch {int(np.argmin(val))})")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
