"""A reseeded copy of bench/corpus: the same 82 configurations (make_corpus.RUNS) with other seeds
(data split, initialisation, batch order) and other names, written to ``reseeded/``.

Its labels were judged afresh, by eye, from contact sheets of the rendered curves (linear and log
y, run names only: no cause, no intended kind) by a second labeller who never ran lossctl nor read
its code or the first corpus's labels; ``labels.json`` keeps them with the labeller's one-line
note and whether they were sure. This script regenerates the runs and the sheets; it keeps the
labels already in ``reseeded/labels.json``.

    /work/corpus-venv/bin/python bench/corpus/make_reseeded.py             # ~3 min on 2 cores
    /work/corpus-venv/bin/python bench/corpus/make_reseeded.py --sheets bench/corpus/reseeded-sheets
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_corpus as mc

OUT = os.path.join(HERE, "reseeded")
SEED_OFFSET = 7919

ids = list(range(100, 1000))
random.Random(99).shuffle(ids)
for i, r in enumerate(mc.RUNS):
    r["seed"] += SEED_OFFSET
    r["name"] = f"{r['data']}-{r['model']}-{ids[i]}"
    r["labels"], r["onset"], r["notes"] = [], {}, ""


def main(argv: list[str]) -> int:
    if argv[:1] == ["--sheets"]:  # six runs a sheet, in a shuffled order, titled by name only
        out = argv[1]
        os.makedirs(out, exist_ok=True)
        names = sorted(d for d in os.listdir(OUT) if os.path.isdir(os.path.join(OUT, d)))
        random.Random(5).shuffle(names)
        for i in range(0, len(names), 6):
            mc.sheet([(os.path.join(OUT, n), n) for n in names[i:i + 6]], os.path.join(out, f"sheet{i // 6:02d}.png"), cols=2)
        return 0
    path = os.path.join(OUT, "labels.json")
    kept = json.loads(Path(path).read_text()) if os.path.exists(path) else {}
    rc = mc.main(["--out", OUT, "--jobs", "2"])
    labels = json.loads(Path(path).read_text())
    for name, entry in labels.items():  # the eye's labels survive a regeneration
        for key in ("labels", "notes", "sure"):
            if key in kept.get(name, {}):
                entry[key] = kept[name][key]
    with open(path, "w") as fh:
        json.dump(labels, fh, indent=1, sort_keys=True)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
