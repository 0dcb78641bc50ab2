"""lossctl: diagnose misbehaving training-loss curves from the logs you already have."""

__version__ = "0.1.0"

from lossctl.api import load

__all__ = ["__version__", "load"]
