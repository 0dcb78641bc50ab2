"""A missing C extension fails the test session loudly under CI or where a compiler exists.

Each case runs pytest in a child process on one small reader test, with the extension made
unimportable there (``sys.modules["lossctl.readers._scan"] = None``: what an install whose
build failed looks like to ``import``), and checks the exit code and what it printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import c_compiler

ROOT = Path(__file__).resolve().parents[1]
TARGET = "tests/test_readers_incremental.py::test_start_at_or_beyond_the_end_reads_nothing"
BLOCKED = ("import sys; sys.modules['lossctl.readers._scan'] = None; import pytest; "
           f"sys.exit(pytest.main(['-rs', '-p', 'no:cacheprovider', {TARGET!r}]))")


def run_session(tmp_path, **env_changes) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "CC", "LOSSCTL_NO_EXTENSION")}
    env.update({k: v for k, v in env_changes.items() if v is not None})
    return subprocess.run([sys.executable, "-c", BLOCKED], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_ci_without_the_extension_fails_with_a_message(tmp_path):
    r = run_session(tmp_path, CI="true", PATH=str(tmp_path))  # no compiler on PATH: CI alone decides
    out = r.stdout + r.stderr
    assert r.returncode == pytest.ExitCode.USAGE_ERROR, out
    assert "the C extension lossctl.readers._scan did not build" in out and "CI=true" in out
    assert "passed" not in out


@pytest.mark.skipif(c_compiler() is None, reason="no C compiler on this machine")
def test_a_machine_with_a_compiler_without_the_extension_fails(tmp_path):
    r = run_session(tmp_path)
    out = r.stdout + r.stderr
    assert r.returncode == pytest.ExitCode.USAGE_ERROR, out
    assert "did not build" in out and "a C compiler is installed" in out


def test_no_compiler_and_no_ci_runs_python_and_shows_c_skipped(tmp_path):
    r = run_session(tmp_path, PATH=str(tmp_path), CC="no-such-compiler-here")
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "1 passed, 1 skipped" in out and "C extension lossctl.readers._scan not built" in out


def test_no_extension_on_purpose_runs_under_ci(tmp_path):
    r = run_session(tmp_path, CI="true", LOSSCTL_NO_EXTENSION="1")
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "1 passed, 1 skipped" in out

