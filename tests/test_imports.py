"""What a command imports: a structural check (which modules end up in ``sys.modules``), not a
timing. Start-up time is measured by ``make bench``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUN = ("import sys, runpy\nsys.argv = ['lossctl', *sys.argv[1:]]\n"
       "try:\n    runpy.run_module('lossctl', run_name='__main__')\nexcept SystemExit:\n    pass\n"
       "sys.stderr.write('\\nMODULES ' + ' '.join(sorted({m.split('.')[0] for m in sys.modules} | set(sys.modules))))\n")


def imported(*args: str) -> set[str]:
    res = subprocess.run([sys.executable, "-c", RUN, *args], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    line = [ln for ln in res.stderr.splitlines() if ln.startswith("MODULES ")]
    assert line, res.stderr
    return set(line[-1].split()[1:])


def test_help_and_version_import_no_heavy_modules():
    heavy = {"pandas", "numpy", "pyarrow", "pydantic", "rich", "google", "tensorboard", "matplotlib", "msgspec"}
    for args in (["--version"], ["--help"]):
        assert not imported(*args) & heavy, args


def test_a_csv_run_rendered_as_json_imports_no_other_renderer(tmp_path):
    log = tmp_path / "run" / "metrics.csv"
    log.parent.mkdir()
    log.write_text("epoch,step,train_loss\n" + "".join(f"0,{s},{1.0 / (s + 1)!r}\n" for s in range(200)))
    mods = imported("analyze", "--format", "json", str(log.parent))
    others = {f"lossctl.renderers.{m}" for m in ("html", "png", "junit", "github", "markdown", "terminal",
                                                  "compare_terminal", "compare_json")}
    assert "lossctl.renderers.json_" in mods
    assert not mods & (others | {"matplotlib", "playwright"}), mods & others
