"""Detector registry: one line per kind, in the order findings are reported."""

from lossctl.detectors.divergence import Divergence
from lossctl.detectors.epoch_periodic import EpochPeriodic
from lossctl.detectors.loss_imbalance import LossImbalance
from lossctl.detectors.noisy import Noisy
from lossctl.detectors.nonfinite import NonFinite
from lossctl.detectors.oscillation import Oscillation
from lossctl.detectors.overfitting import Overfitting
from lossctl.detectors.plateau import Plateau
from lossctl.detectors.spike import Spike
from lossctl.detectors.train_val_mismatch import TrainValMismatch

DETECTORS = [NonFinite, Divergence, Oscillation, Spike, Plateau, Overfitting, TrainValMismatch, Noisy,
             EpochPeriodic, LossImbalance]
BY_KIND = {d.kind: d for d in DETECTORS}
