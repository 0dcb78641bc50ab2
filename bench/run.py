"""`make bench`: every benchmark, one table each. Figures are seconds and ratios to a reference
measured in the same run on the same machine; exit 1 when a target is missed.

``BENCH=pipeline``, ``BENCH=read`` or ``BENCH=html`` runs one of them (reading generates ~1.1 GB of inputs
under bench/data/ on first use and runs tbparse and EventAccumulator on them: ~7 minutes).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import html_report
import pipeline
import read

TARGET_PIPELINE_S = 1.0
TARGET_X_TBPARSE = 20.0  # lossctl (CRC on) vs tbparse on 1,000,000 simple_value events
TARGET_RSS_MB = 400.0  # lossctl's peak RSS on the 1 GB mixed file
TARGET_HTML_MB = 10.0  # the HTML report of 100 runs of 100,000 steps
TARGET_HTML_OPEN_S = 3.0  # ...opened in headless Chromium


def bench_pipeline() -> bool:
    ok = True
    print("== detection pipeline (target < 1 s per 1M-point run)")
    for name, t, ref in pipeline.main():
        flag = "ok" if t < TARGET_PIPELINE_S else "SLOW"
        ok &= t < TARGET_PIPELINE_S
        print(f"  {name:78s} {t:7.3f} s  {t / ref:6.1f}x ref  [{flag}]")
    return ok


def bench_read() -> bool:
    print("== reading TensorBoard files: whole processes, same files "
          f"(targets: tbparse/lossctl >= {TARGET_X_TBPARSE:.0f}x on 1M simple_value, "
          f"lossctl peak RSS < {TARGET_RSS_MB:.0f} MB on 1 GB mixed)")
    rows = read.main(progress=False)
    print(f"  {'input':17s} {'reader':20s} {'points':>10s} {'seconds':>9s} {'x lossctl':>10s} {'peak RSS':>10s}")
    ok = True
    for r in rows:
        if "error" in r:
            print(f"  {r['input']:17s} {r['reader']:20s} {r['error']}")
            continue
        print(f"  {r['input']:17s} {r['reader']:20s} {r['points']:>10,d} {r['seconds']:>9.2f} "
              f"{r.get('x_lossctl', float('nan')):>9.1f}x {r['rss_mb']:>7.0f} MB")
    by = {(r["input"], r["reader"]): r for r in rows}
    lc, tb = by.get(("1M simple_value", "lossctl")), by.get(("1M simple_value", "tbparse"))
    if lc and tb and "seconds" in lc and "seconds" in tb:
        x = tb["seconds"] / lc["seconds"]
        ok &= x >= TARGET_X_TBPARSE
        print(f"  tbparse / lossctl on 1M simple_value: {x:.1f}x  [{'ok' if x >= TARGET_X_TBPARSE else 'SLOW'}]")
    big = by.get(("1 GB mixed", "lossctl"))
    if big and "rss_mb" in big:
        ok &= big["rss_mb"] < TARGET_RSS_MB
        print(f"  lossctl peak RSS on 1 GB mixed: {big['rss_mb']:.0f} MB  "
              f"[{'ok' if big['rss_mb'] < TARGET_RSS_MB else 'OVER'}]")
    full = [r for r in rows if r["reader"] in ("lossctl", "tbparse", "EventAccumulator") and "points" in r]
    counts = {r["input"]: set() for r in full}
    for r in full:
        counts[r["input"]].add(r["points"])
    for name, seen in counts.items():
        if len(seen) > 1:
            ok = False
            print(f"  {name}: readers disagree on the number of points: {sorted(seen)}  [MISMATCH]")
    return ok


def bench_html() -> bool:
    print(f"== HTML report: {html_report.RUNS} runs of {html_report.STEPS:,} steps (loss, lr, grad norm every step, "
          f"val loss every 1,000) (targets: < {TARGET_HTML_MB:.0f} MB, open in headless Chromium < "
          f"{TARGET_HTML_OPEN_S:.0f} s)")
    r = html_report.main()
    mb = r["bytes"] / 1e6
    ok = mb < TARGET_HTML_MB and r["open_s"] < TARGET_HTML_OPEN_S and r["kept"] and not r["problems"]
    print(f"  {r['points']:,} points; analyse {r['analyze_s']:.1f} s, write the page {r['write_s']:.1f} s")
    print(f"  page {mb:.2f} MB  [{'ok' if mb < TARGET_HTML_MB else 'OVER'}]")
    print(f"  open to first screen drawn {r['open_s']:.2f} s  [{'ok' if r['open_s'] < TARGET_HTML_OPEN_S else 'SLOW'}]; "
          f"then all {html_report.RUNS * 2} plots drawn in {r['draw_all_s']:.2f} s")
    print(f"  every run's spike and NaN in the page: {'yes' if r['kept'] else 'NO'}; problems: {r['problems'] or 'none'}")
    return ok


def main() -> int:
    which = os.environ.get("BENCH", "pipeline,read,html").split(",")
    ok = True
    if "pipeline" in which:
        ok &= bench_pipeline()
    if "read" in which:
        ok &= bench_read()
    if "html" in which:
        ok &= bench_html()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
