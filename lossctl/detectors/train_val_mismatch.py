from __future__ import annotations

from lossctl.detectors.base import Detector, RunView


class TrainValMismatch(Detector):
    """PLACEHOLDER: being written."""

    kind = "train_val_mismatch"
    severity = "warning"
    summary = "validation loss far above training loss from the start"
    thresholds = {}

    def detect(self, run: RunView):
        return []
