"""What a command imports: a structural check (which modules end up in ``sys.modules``), not a
timing. Start-up time is measured by ``make bench``."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the modules are listed by an exit handler: lossctl leaves through os._exit once its handlers ran
RUN = ("import atexit, sys, runpy\nsys.argv = ['lossctl', *sys.argv[1:]]\n"
       "atexit.register(lambda: sys.stderr.write('\\nMODULES ' + ' '.join(sorted({m.split('.')[0] for m in "
       "sys.modules} | set(sys.modules))) + '\\n'))\n"
       "runpy.run_module('lossctl', run_name='__main__')\n")


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


def test_version_is_answered_before_the_command_line_parser():
    mods = imported("--version")
    assert not mods & {"typer", "click", "lossctl.cli"}, mods & {"typer", "click", "lossctl.cli"}
    out = subprocess.run([sys.executable, "-m", "lossctl", "--version"], cwd=ROOT, capture_output=True, text=True)
    from lossctl import __version__
    assert (out.returncode, out.stdout) == (0, f"lossctl {__version__}\n")


def test_a_csv_run_rendered_as_json_imports_no_other_renderer(tmp_path):
    log = tmp_path / "run" / "metrics.csv"
    log.parent.mkdir()
    log.write_text("epoch,step,train_loss\n" + "".join(f"0,{s},{1.0 / (s + 1)!r}\n" for s in range(200)))
    mods = imported("analyze", "--format", "json", str(log.parent))
    others = {f"lossctl.renderers.{m}" for m in ("html", "png", "junit", "github", "markdown", "terminal",
                                                  "compare_terminal", "compare_json")}
    assert "lossctl.renderers.json_" in mods
    assert not mods & (others | {"matplotlib", "playwright"}), mods & others


# pydantic: typer 0.29+ imports it for every command (pyproject keeps typer below it)
HEAVY_UNUSED = {"google", "tensorboard", "crc32c", "rich", "yaml", "matplotlib", "playwright", "pydantic"}
NOT_FOR_FILES = {"lossctl.sources.wandb", "lossctl.sources.wandb_log", "lossctl.sources.mlflow.server",
                 "lossctl.sources.mlflow.sqlite", "lossctl.sources.mlflow.files", "lossctl.readers.tensorboard",
                 "lossctl.readers.tfrecord", "lossctl.readers.console", "lossctl.readers.console.scanner"}


def test_help_imports_no_reader_nor_source():
    for args in (["--help"], ["analyze", "--help"]):
        mods = imported(*args)
        assert not {m for m in mods if m.startswith(("lossctl.readers", "lossctl.sources"))}, args


def test_a_csv_run_imports_only_the_readers_it_asks(tmp_path):
    log = tmp_path / "run" / "metrics.csv"
    log.parent.mkdir()
    log.write_text("epoch,step,train_loss\n" + "".join(f"0,{s},{1.0 / (s + 1)!r}\n" for s in range(200)))
    mods = imported("analyze", "--format", "json", str(log.parent))
    assert "lossctl.readers.csv_reader" in mods
    assert not mods & (HEAVY_UNUSED | NOT_FOR_FILES | {"lossctl.readers.json_reader"}), mods & (HEAVY_UNUSED | NOT_FOR_FILES)


def test_a_trainer_state_run_imports_only_the_json_reader(tmp_path):
    state = {"global_step": 400, "log_history": [{"epoch": s / 400, "grad_norm": 1.5, "learning_rate": 5e-5,
                                                  "loss": round(2.0 / (1 + s / 50), 4), "step": s}
                                                 for s in range(10, 410, 10)]}
    path = tmp_path / "checkpoint-400" / "trainer_state.json"
    path.parent.mkdir()
    path.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")  # as TrainerState.save_to_json
    mods = imported("analyze", "--format", "json", str(path.parent))
    assert "lossctl.readers.json_reader" in mods
    assert not mods & (HEAVY_UNUSED | NOT_FOR_FILES | {"lossctl.readers.csv_reader"}), mods & (HEAVY_UNUSED | NOT_FOR_FILES)


# The registries' cheap tests skip a reader or source only where its own sniff or claim would say
# no: checked on the sample logs and on every file the bad-input suite writes.

def _bad_input_dirs(root: Path) -> list[Path]:
    from bad_inputs import cases_console, cases_csv, cases_json, cases_paths, cases_tensorboard  # noqa: F401
    from bad_inputs.cases import CASES

    out = []
    for i, case in enumerate(c for c in CASES.values() if not c.make.__module__.endswith(("mlflow", "wandb"))):
        d = root / f"case{i}"
        d.mkdir()
        case.make(d)
        out.append(d)
    return out


def _tracker_dirs(root: Path) -> dict[str, Path]:
    """A W&B offline run and MLflow's SQLite and file stores, each written by its own client
    (where installed), by the name of the source that reads it."""
    out = {}
    if importlib.util.find_spec("wandb") is not None:
        import wandb_runs

        wandb_runs.write_run(root / "wandb_runs", range(5), loss=lambda s: 1.0 / (s + 1))
        out["wandb"] = root / "wandb_runs"
    if importlib.util.find_spec("mlflow") is not None:
        import mlflow_writers

        out["mlflow_sqlite"] = mlflow_writers.copy_tree(mlflow_writers.sqlite_store()[0].parent, root / "sqlite")
        out["mlflow_files"] = mlflow_writers.copy_tree(mlflow_writers.file_store()[0], root / "mlruns")
    return out


def test_reader_tests_are_necessary_conditions_of_their_sniffs(tmp_path):
    from lossctl.readers import READERS
    from lossctl.storage import Blob
    from lossctl.storage.local import LOCAL

    checked = 0
    for d in [ROOT / "sample_logs", *_bad_input_dirs(tmp_path)]:
        for path in (p for p in d.rglob("*") if p.is_file()):
            blob = Blob(LOCAL, str(path))
            head = blob.head(4096)
            for entry in READERS:
                if entry.reader.sniff(blob, head):
                    checked += 1
                    assert entry.may_claim(blob, head), (entry, path)
    assert checked > 50


def test_source_tests_are_necessary_conditions_of_their_claims(tmp_path):
    from lossctl.discovery import listings
    from lossctl.sources import SOURCES
    from lossctl.storage.local import LOCAL

    claimed = set()
    trackers = _tracker_dirs(tmp_path / "trackers")
    for d in [ROOT / "sample_logs", *_bad_input_dirs(tmp_path), *trackers.values()]:
        for entry in SOURCES:
            for listing in listings(LOCAL, str(d)):
                maybe = entry.may_claim is None or entry.may_claim(listing)
                if entry.source.claim(listing):
                    claimed.add(entry.name)
                    assert maybe, (entry, listing.path)
    assert claimed >= {"files", *trackers}


def test_the_registrys_tfrecord_header_test_is_the_readers():
    import random

    from lossctl.readers import tfrecord, tfrecord_header

    rng = random.Random(0)
    heads = [rng.randbytes(12) for _ in range(2000)]
    for path in (ROOT / "sample_logs").rglob("*tfevents*"):
        heads.append(path.read_bytes()[:12])
    heads += [h[:8] + tfrecord._U32.pack(tfrecord.masked_crc(h[:8])) for h in heads[:500]]
    assert [tfrecord_header(h) for h in heads] == [tfrecord.header_ok(h) for h in heads]
    assert sum(map(tfrecord_header, heads)) > 500


def test_the_registrys_suffixes_are_the_readers():
    from pathlib import Path

    from lossctl.readers import console_name, csv_reader

    # the registry's test is the console reader's own (one function): the suffixes scripts write,
    # glog's <program>.INFO, numbered logs (PaddlePaddle's workerlog.0, a rotated train.log.1)
    names = ("train.log", "nohup.out", "slurm-1234.out", "log", "caffe.INFO", "workerlog.0", "train.log.1")
    assert all(console_name(Path(n)) for n in names)
    assert not any(console_name(Path(n)) for n in ("model.pt", "results.rb", "weights.h5", "train.py"))
    assert csv_reader.SUFFIXES == {".csv", ".tsv", ".log", ".txt"}
