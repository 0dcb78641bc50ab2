from __future__ import annotations

from lossctl.detectors.base import Detector, RunView


class Noisy(Detector):
    """PLACEHOLDER: being written."""

    kind = "noisy"
    severity = "info"
    summary = "step-to-step noise large relative to the trend"
    thresholds = {}

    def detect(self, run: RunView):
        return []
