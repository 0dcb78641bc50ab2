"""Example counts for property tests that scale with the hypothesis profile (see conftest.py).

A detector property builds and analyses a whole curve per example, so each sets a small base
count; ``scaled(base)`` multiplies it by the loaded profile's ``max_examples`` over the default
profile's (x1 under ``make test``, x10 under ``make test-thorough``), so a deeper profile
deepens these tests too instead of being overridden by a fixed ``max_examples``.
"""

from __future__ import annotations

from hypothesis import settings

DEFAULT_MAX_EXAMPLES = 60  # the "lossctl" profile's max_examples: the x1 reference


def factor() -> float:
    return settings.default.max_examples / DEFAULT_MAX_EXAMPLES


def scaled(base: int) -> settings:
    """``@scaled(25)``: 25 examples under the default profile, proportionally more under others."""
    return settings(max_examples=max(1, round(base * factor())), deadline=None)
