"""Detector registry: one line per kind, in the order findings are reported."""

from lossctl.detectors.divergence import Divergence
from lossctl.detectors.nonfinite import NonFinite
from lossctl.detectors.oscillation import Oscillation

DETECTORS = [NonFinite, Divergence, Oscillation]
BY_KIND = {d.kind: d for d in DETECTORS}
