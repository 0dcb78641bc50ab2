"""The outputs pasted in README.md are what lossctl prints today (re-paste when this fails)."""

from __future__ import annotations

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
