"""The two TensorBoard readers the tests run: the pure-Python reference and the C scanner.

``IMPLS`` parametrises a test over both; when the C extension was not built its variant is
reported as SKIPPED with the reason (never silently dropped). Whether a missing extension is
allowed at all is decided once per session in conftest.py: under ``CI`` or where a C compiler
exists it fails the run. ``BUILT`` is the readers actually available, for tests that compare
them within one example.
"""

from __future__ import annotations

import pytest

from lossctl.readers import fastscan

NOT_BUILT = "C extension lossctl.readers._scan not built: pure-Python TensorBoard reader only"
needs_c = pytest.mark.skipif(not fastscan.available, reason=NOT_BUILT)

IMPLS = ["python", pytest.param("c", marks=needs_c, id="c")]
BUILT = ["python"] + (["c"] if fastscan.available else [])


def impl_params(prefix: tuple = ()) -> list:
    """``IMPLS`` after fixed leading arguments: ``impl_params(("tensorboardx",))``."""
    return [pytest.param(*prefix, "python"), pytest.param(*prefix, "c", marks=needs_c)]
