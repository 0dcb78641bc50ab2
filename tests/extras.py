"""Optional extras in tests: skip with a reason on a developer machine without them, but fail
under CI (``CI=true``), where `make test` installs every dev extra and a skip would hide a gap."""

from __future__ import annotations

import importlib
import os

import pytest


def need(module: str, extra: str):
    """Import ``module`` or skip (fail under CI), naming the extra that brings it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{module} is not installed under CI ({exc}); make test installs '.[dev]'")
        pytest.skip(f"{module} not installed: pip install 'lossctl[{extra}]'")
