"""Shared test setup: make ``tests/*.py`` helpers importable, refuse to run without the C
extension where it should have been built, and set up hypothesis.

The C extension ``lossctl.readers._scan`` is optional for users (setup.py installs without it
when there is no compiler), but a test run that silently lacks it tests only half the readers.
So the session fails at the start, with a message saying the extension did not build, when
it is missing and either ``CI`` is set or a C compiler is on this machine; only
``LOSSCTL_NO_EXTENSION=1`` (the same switch that skips the build) allows it. Without a
compiler the C variants of the reader tests show as SKIPPED.

The default hypothesis profile is derandomised: detector properties hold for all but rare
noise draws, and CI must not fail on the draw of the day. ``make test-thorough``
(``HYPOTHESIS_PROFILE=thorough``) runs every property with random draws and 10x the examples
(detector properties scale their own counts with ``hyp.scaled``); ``fuzz`` is what ``make fuzz``
runs on tests/fuzz.
"""

import os
import shlex
import shutil
import sys
import sysconfig
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # pragma: no cover - hypothesis is a dev extra
    pass
else:
    settings.register_profile("lossctl", deadline=None, max_examples=60, derandomize=True,
                              suppress_health_check=[HealthCheck.function_scoped_fixture])
    # 10x the default examples (hyp.DEFAULT_MAX_EXAMPLES is the default's 60), random draws
    settings.register_profile("thorough", deadline=None, max_examples=600, print_blob=True,
                              suppress_health_check=[HealthCheck.function_scoped_fixture])
    # `make fuzz`: tests/fuzz with many random examples each (FUZZ_EXAMPLES, default 20,000)
    settings.register_profile("fuzz", deadline=None, max_examples=int(os.environ.get("FUZZ_EXAMPLES", "20000")),
                              print_blob=True, suppress_health_check=list(HealthCheck))
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "lossctl"))


def c_compiler() -> str | None:
    """The C compiler this Python builds extensions with ($CC, else sysconfig's CC), if on PATH."""
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or ""
    words = shlex.split(cc)
    return shutil.which(words[0]) if words else None


def missing_extension_error() -> str | None:
    """Why this session must not run without the C extension, or None when it may (or is built)."""
    try:
        from lossctl.readers import _scan  # noqa: F401
    except ImportError as exc:
        why = f"{type(exc).__name__}: {exc}"
    else:
        return None
    if os.environ.get("LOSSCTL_NO_EXTENSION") == "1":
        return None
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        context = f"CI={os.environ['CI']}"
    elif (cc := c_compiler()) is not None:
        context = f"a C compiler is installed: {cc}"
    else:
        return None  # a user without a compiler: the pure-Python reader is tested, C variants skip
    return (f"the C extension lossctl.readers._scan did not build ({why}; {context}). "
            "Rebuild it and read the compiler error: `rm -rf .venv && make test` "
            "(or `pip install -e '.[dev]' -v`). LOSSCTL_NO_EXTENSION=1 runs the tests without it on purpose.")


def pytest_sessionstart(session):
    if (error := missing_extension_error()) is not None:
        pytest.exit(f"ERROR: {error}", returncode=pytest.ExitCode.USAGE_ERROR)
