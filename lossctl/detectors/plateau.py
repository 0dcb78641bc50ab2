from __future__ import annotations

from lossctl.detectors.base import Detector, RunView


class Plateau(Detector):
    """PLACEHOLDER: being written."""

    kind = "plateau"
    severity = "warning"
    summary = "loss stops improving while still far from good"
    thresholds = {}

    def detect(self, run: RunView):
        return []
