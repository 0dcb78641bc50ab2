"""The outputs pasted in README.md are what lossctl prints today (re-paste when this fails)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lossctl import cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("args,code", [
    ("compare sample_logs/healthy_tensorboard sample_logs/diverging_lightning", 1),
    ("analyze sample_logs/diverging_lightning --baseline sample_logs/healthy_tensorboard --format github", 1),
    ("analyze sample_logs/diverging_lightning --baseline sample_logs/healthy_tensorboard --format markdown", 1),
])
def test_readme_output_is_real(monkeypatch, args, code):
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(cli, "_terminal_width", lambda: 100)
    r = CliRunner().invoke(cli.app, args.split())
    assert r.exit_code == code
    assert r.stdout.strip() in README, f"README output of `lossctl {args}` is stale"
    assert f"lossctl {args}" in README


# "One real run per kind": a ```text block opening with `$ lossctl analyze sample_logs/RUN` is an
# excerpt of that command's output: its lines appear in the real output in order, each stretch
# between `...` lines as consecutive lines.
EXCERPT = re.compile(r"^```text\n\$ lossctl analyze (sample_logs/\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def test_readme_excerpts_are_real(monkeypatch):
    from lossctl.detectors import DETECTORS

    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(cli, "_terminal_width", lambda: 100)
    excerpts = EXCERPT.findall(README)
    shown = set()
    for path, text in excerpts:
        out = [line.rstrip() for line in CliRunner().invoke(cli.app, ["analyze", path]).stdout.splitlines()]
        pos = 0
        for chunk in re.split(r"^\.\.\.\n", text, flags=re.MULTILINE):
            lines = [line.rstrip() for line in chunk.splitlines()]
            if not lines:
                continue
            at = next((i for i in range(pos, len(out) - len(lines) + 1) if out[i:i + len(lines)] == lines), None)
            assert at is not None, f"README excerpt of `lossctl analyze {path}` is stale:\n" + "\n".join(lines)
            pos = at + len(lines)
        shown |= set(re.findall(r"^  [✖▲●] \w+ +(\w+) ", text, flags=re.MULTILINE))
    assert shown == {d.kind for d in DETECTORS}  # an excerpt for every kind
