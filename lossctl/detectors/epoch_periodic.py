from __future__ import annotations

from lossctl.detectors.base import Detector, RunView


class EpochPeriodic(Detector):
    """PLACEHOLDER: being written."""

    kind = "epoch_periodic"
    severity = "warning"
    summary = "a saw-tooth repeating every epoch (data not shuffled)"
    thresholds = {}

    def detect(self, run: RunView):
        return []
