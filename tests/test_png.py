"""``--format png``: real images written by the CLI, read back as pixels.

The size a PR comment shows, and the finding's severity colour inside its shaded step range
(and not before it). Geometry comes from the same figure the renderer draws.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="the png extra (matplotlib) is not installed")

from matplotlib.image import imread

from lossctl.analysis import analyze_run
from lossctl.config import load_config
from lossctl.renderers import png
from lossctl.runs import load_runs

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "output"


def lossctl(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lossctl", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def pixels(path: Path) -> np.ndarray:
    return (imread(str(path))[..., :3] * 255).round().astype(int)


def span_colour(severity: str) -> np.ndarray:
    """The severity's colour at the span's alpha over the white axes background."""
    rgb = np.array([int(png.SEVERITY_COLOURS[severity][i:i + 2], 16) for i in (1, 3, 5)])
    return (png.SPAN_ALPHA * rgb + (1 - png.SPAN_ALPHA) * 255).round().astype(int)


def near(img: np.ndarray, colour: np.ndarray, tol: int = 3) -> np.ndarray:
    return (np.abs(img - colour) <= tol).all(axis=-1)


def report(path: str):
    runs = load_runs(ROOT / path).runs
    assert len(runs) == 1
    return analyze_run(runs[0], load_config())


@pytest.mark.parametrize("sample", ["diverging_lightning", "nonfinite_tensorboard", "spike_lightning"])
def test_one_run_image_with_the_finding_shaded(tmp_path, sample):
    out = tmp_path / "curve.png"
    res = lossctl("analyze", f"sample_logs/{sample}", "--format", "png", "-o", out)
    assert res.returncode in (0, 1), res.stderr
    assert f"wrote {out}" in res.stderr
    img = pixels(out)
    assert img.shape[:2] == (600, 1200)
    r = report(f"sample_logs/{sample}")
    f = r.findings[0]
    fig = png.figure_run(r)
    ax = fig.axes[0]
    fig.canvas.draw()
    height = fig.canvas.get_width_height()[1]
    (x0, _), (x1, _) = ax.transData.transform([(f.start_step, 1), (f.end_step, 1)])
    top, bottom = height - ax.bbox.y1, height - ax.bbox.y0
    rows = slice(int(top) + 30, int(bottom) - 5)  # below the numbered marker
    hit = near(img[rows], span_colour(f.severity))
    inside = hit[:, int(x0) + 3:int(x1) - 2].any(axis=0)
    assert inside.mean() > 0.9, f"span colour in {inside.mean():.0%} of the columns of steps {f.start_step}-{f.end_step}"
    before = hit[:, int(ax.bbox.x0) + 2:int(x0) - 3]
    assert not before.any(), "the span colour appears before the finding's onset"
    OUT.mkdir(exist_ok=True)
    (OUT / f"png_{sample}.png").write_bytes(out.read_bytes())


def test_a_few_runs_share_one_grid_and_many_get_one_image_each(tmp_path):
    out = tmp_path / "grid.png"
    runs = ["sample_logs/diverging_lightning", "sample_logs/healthy_tensorboard", "sample_logs/plateau_keras"]
    assert lossctl("analyze", *runs, "--format", "png", "-o", out).returncode == 1
    assert pixels(out).shape[:2] == (1000, 1600)
    assert near(pixels(out), span_colour("error")).sum() > 10_000
    many = tmp_path / "all.png"
    res = lossctl("analyze", "sample_logs", "--format", "png", "-o", many)
    files = sorted(tmp_path.glob("all-*.png"))
    n = len(json.loads(lossctl("analyze", "sample_logs", "--format", "json").stdout)["runs"])
    assert n > 9 and [f.name for f in files] == [f"all-{i:02d}.png" for i in range(1, n + 1)], res.stderr
    assert all(pixels(f).shape[:2] == (600, 1200) for f in files)
    assert not many.exists()


def test_compare_image(tmp_path):
    out = tmp_path / "compare.png"
    res = lossctl("compare", "sample_logs/healthy_tensorboard", "sample_logs/diverging_lightning", "--format", "png",
                  "-o", out)
    assert res.returncode == 1, res.stderr
    img = pixels(out)
    assert img.shape[:2] == (600, 1200)
    assert near(img, span_colour("error")).sum() > 5_000  # B's divergence shaded on the training loss
    OUT.mkdir(exist_ok=True)
    (OUT / "png_compare.png").write_bytes(out.read_bytes())


def test_missing_extra_is_one_line_and_exit_2(tmp_path):
    code = ("import sys; sys.modules['matplotlib'] = None\n"  # as if the png extra were not installed
            "from lossctl.cli import main\n"
            f"sys.argv = ['lossctl', 'analyze', 'sample_logs/healthy_tensorboard', '--format', 'png', '-o', "
            f"{str(tmp_path / 'x.png')!r}]\nmain()")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 2
    assert res.stderr.strip() == "lossctl: --format png needs matplotlib: pip install 'lossctl[png]'"
    assert not (tmp_path / "x.png").exists()
