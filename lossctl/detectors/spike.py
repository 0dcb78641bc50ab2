from __future__ import annotations

from lossctl.detectors.base import Detector, RunView


class Spike(Detector):
    """PLACEHOLDER: being written."""

    kind = "spike"
    severity = "warning"
    summary = "one or a few short, sharp jumps that recover"
    thresholds = {}

    def detect(self, run: RunView):
        return []
