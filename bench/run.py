"""`make bench`: every benchmark, one table. Figures are seconds and ratios to a reference
measured in the same run on the same machine."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pipeline  # noqa: E402

TARGET_PIPELINE_S = 1.0


def main() -> int:
    ok = True
    print("== detection pipeline (target < 1 s per 1M-point run)")
    for name, t, ref in pipeline.main():
        flag = "ok" if t < TARGET_PIPELINE_S else "SLOW"
        ok &= t < TARGET_PIPELINE_S
        print(f"  {name:78s} {t:7.3f} s  {t / ref:6.1f}x ref  [{flag}]")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
