"""Detection quality under changes that keep each run's labels: the dev corpus rewritten as a
long CSV (a different container), with every loss x1000 (scale), and with per-step series
logged every 2nd or 3rd step (sampling). A verdict that flips under these is fitted to the
particular runs, not to the curves' shapes: the check behind "improve the detectors in
general ways".

    .venv/bin/python bench/corpus_variants.py            # all variants, one table
    .venv/bin/python bench/corpus_variants.py thin2      # one variant, with its misclassified runs

Known, intended differences: a loss flat at ln(k) is judged at chance only on its own scale
(x1000 hides that), and thinning can drop the very points of a one- or two-batch spike or of a
two-step explosion; nothing else should move. Variants are written under bench/data/variants/.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEV = ROOT.parent / "shared" / "corpus" / "dev"
EVALUATE = ROOT.parent / "shared" / "tools" / "evaluate.py"
OUT = HERE / "data" / "variants"
LOSSCTL = ROOT / ".venv" / "bin" / "lossctl"
PER_STEP = 200  # series longer than this are per-step logs; per-epoch logs are never thinned

sys.path.insert(0, str(ROOT))
import lossctl


def _as_is(df: pd.DataFrame) -> pd.DataFrame:
    return df


def _scale(df: pd.DataFrame) -> pd.DataFrame:
    loss = df["metric"].astype(str).str.contains("loss", case=False)
    df.loc[loss, "value"] *= 1000.0
    return df


def _thin(every: int):
    def thin(df: pd.DataFrame) -> pd.DataFrame:
        parts = [g.iloc[::every] if len(g) > PER_STEP else g for _, g in df.groupby("metric", observed=True)]
        return pd.concat(parts)
    return thin


VARIANTS = {"long_csv": _as_is, "scale1000": _scale, "thin2": _thin(2), "thin3": _thin(3)}


def write_variant(name: str) -> Path:
    out = OUT / name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    labels = json.loads((DEV / "labels.json").read_text())
    for run in labels:
        df = lossctl.load(DEV / run)[["metric", "step", "value"]].copy()
        df["metric"] = df["metric"].astype(str)
        (out / run).mkdir()
        # "nan" keeps a logged NaN a NaN (an empty cell would be a missing value)
        VARIANTS[name](df).to_csv(out / run / "metrics.csv", index=False, na_rep="nan")
    (out / "labels.json").write_text(json.dumps(labels, indent=1))
    return out


def score(split: Path) -> tuple[str, list[str]]:
    proc = subprocess.run([sys.executable, str(EVALUATE), "--split", str(split), "--batch",
                           "--cmd", f"{LOSSCTL} analyze --format json {{run}}"],
                          capture_output=True, text=True)
    lines = proc.stdout.splitlines()
    macro = next((line.split()[2] for line in lines if line.startswith("macro F1")), "?")
    miss = [line.strip() for line in lines if line.startswith("  ") and "truth=" in line]
    return macro, miss


def main(argv: list[str]) -> int:
    names = argv or ["dev", *VARIANTS]
    print(f"{'variant':12s} {'macro F1':>8s}  misclassified")
    for name in names:
        split = DEV if name == "dev" else write_variant(name)
        macro, miss = score(split)
        print(f"{name:12s} {macro:>8s}  {len(miss)}")
        if len(names) == 1 or name != "dev":
            for m in miss:
                print(f"    {m}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
