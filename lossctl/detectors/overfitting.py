from __future__ import annotations

from lossctl.detectors.base import Detector, RunView


class Overfitting(Detector):
    """PLACEHOLDER: being written."""

    kind = "overfitting"
    severity = "warning"
    summary = "validation loss rises for a sustained stretch while training loss keeps falling"
    thresholds = {}

    def detect(self, run: RunView):
        return []
