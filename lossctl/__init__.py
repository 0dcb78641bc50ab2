"""lossctl: diagnose misbehaving training-loss curves from the logs you already have."""

__version__ = "0.1.0"

__all__ = ["__version__", "load"]


def __getattr__(name: str):
    """``lossctl.load`` imported on first use: ``import lossctl`` (and ``lossctl --version``)
    must not pay for pandas."""
    if name == "load":
        from lossctl.api import load

        return load
    raise AttributeError(f"module 'lossctl' has no attribute {name!r}")
