"""Running the real CLI on a case and checking the outcome against its :class:`Expect`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from lossctl.cli import app

from .cases import Expect
from .guard import checksums, guarded

runner = CliRunner()
LOSSCTL = Path(sys.executable).with_name("lossctl")


def env_for(impl: str) -> dict[str, str]:
    return {"LOSSCTL_PURE_PYTHON": "1" if impl == "python" else "0"}


def invoke(target: Path, impl: str, root: Path) -> tuple[int, str, str, list[str]]:
    """`lossctl analyze TARGET --format json` in-process; returns code, stdout, stderr and the
    write attempts below ``root`` the audit hook saw."""
    with guarded(root) as violations:
        r = runner.invoke(app, ["analyze", str(target), "--format", "json"], env=env_for(impl))
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        import traceback

        raise AssertionError("lossctl raised:\n" + "".join(traceback.format_exception(*r.exc_info)))
    return r.exit_code, r.stdout, r.stderr, list(violations)


def drop_privileges() -> list[str] | None:
    """A command prefix under which chmod 000 stops reads: none needed unless root; as root,
    ``setpriv`` drops the capabilities that bypass file permissions (None: not possible)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search"]


def invoke_subprocess(target: Path, impl: str, prefix: list[str], cwd: Path) -> tuple[int, str, str]:
    env = {**os.environ, **env_for(impl)}
    r = subprocess.run([*prefix, str(LOSSCTL), "analyze", str(target), "--format", "json"], cwd=cwd,
                       env=env, capture_output=True, text=True, timeout=120, check=False)
    return r.returncode, r.stdout, r.stderr


def check(exp: Expect, code: int, stdout: str, stderr: str) -> None:
    assert "Traceback" not in stdout + stderr, stdout + stderr
    assert code == exp.code, f"exit {code}, expected {exp.code}\nstdout: {stdout[:2000]}\nstderr: {stderr}"
    if exp.code == 2:
        assert stdout == ""
        lines = stderr.splitlines()
        assert lines and all(line.startswith("lossctl: ") for line in lines), stderr
    else:
        doc = json.loads(stdout)
        lines = [w for r in doc["runs"] for w in r["warnings"]] + doc.get("errors", [])
        got = {r["run"]: {m: s["points"] for m, s in r["metrics"].items()} for r in doc["runs"]}
        assert got == exp.points
        kinds = {f["kind"] for r in doc["runs"] for f in r["findings"]}
        assert exp.findings <= kinds, kinds
        if not exp.problems:
            assert lines == [], lines
    for name, problem in exp.problems:
        assert any(name in line and problem in line for line in lines), (name, problem, lines)


def unchanged(before: dict[str, str], root: Path) -> None:
    after = checksums(root)
    assert after == before, "input files changed"
