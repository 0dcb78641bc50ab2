"""Every bad input of the suite through the real CLI (`lossctl analyze --format json`): no
traceback, a message naming the file and the problem, the documented exit code, every readable
point, and the input untouched (checksums; no open for writing). Event-file cases run with the C
scanner and with the pure-Python reader."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from impls import needs_c

from . import cases_console, cases_csv, cases_json, cases_mlflow, cases_paths, cases_tensorboard, cases_wandb  # noqa: F401 - they register cases
from .cases import CASES
from .guard import checksums
from .run import check, drop_privileges, invoke, invoke_subprocess, unchanged

PARAMS = [pytest.param(c, impl, id=f"{c.name}-{impl}", marks=[needs_c] if impl == "c" else [])
          for c in CASES.values() for impl in (["python", "c"] if c.tensorboard else ["python"])]

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


@pytest.mark.parametrize("case,impl", PARAMS)
def test_bad_input(tmp_path, case, impl):
    d = tmp_path / "in"
    d.mkdir()
    exp = case.make(d)
    if "unreadable" in case.name:
        return run_unreadable(tmp_path, d, exp, impl)
    before = checksums(d)
    code, out, err, writes = invoke(exp.target, impl, d)
    check(exp, code, out, err)
    assert writes == []
    unchanged(before, d)


def run_unreadable(tmp_path, d: Path, exp, impl):
    """chmod 000 the file named in the expected problem; root ignores that, so as root the CLI
    runs under setpriv without the capabilities that bypass file permissions."""
    prefix = drop_privileges()
    if prefix is None:
        pytest.skip("running as root without setpriv: chmod 000 cannot stop reads")
    (name, _), = exp.problems
    victim = d / name
    before = checksums(d)
    victim.chmod(0)
    try:
        code, out, err = invoke_subprocess(exp.target.relative_to(tmp_path), impl, prefix, tmp_path)
    finally:
        victim.chmod(0o644)
    check(exp, code, out, err)
    unchanged(before, d)


def test_the_suite_covers_the_issue():
    """The cases the hardening issue lists, each present."""
    needed = ["zero_byte", "random_bytes", "truncated_header", "truncated_payload", "bad_length_crc",
              "bad_payload_crc", "bit_flip_in_a_float", "length_of_2_to_the_60", "only_non_scalar",
              "csv_without_header", "csv_with_only_a_header", "text_in_numeric", "nan_inf_na",
              "duplicated_and_backwards", "bom", "semicolons", "million_rows", "json_that_is_a_list",
              "json_that_is_a_string", "json_truncated", "unequal_length", "nan_and_infinity",
              "10000_files", "symlink_loop", "unreadable", "does_not_exist"]
    for n in needed:
        assert any(n in name for name in CASES), n


def test_c_scanner_opens_read_only():
    src = (Path(__file__).parents[2] / "lossctl" / "readers" / "_scan.c").read_text()
    opens = re.findall(r"\b_?w?fopen\s*\(([^;]*)\)", src)
    assert opens and all(re.search(r'L?"rb"', call) for call in opens), opens
    assert not re.search(r"\b(fwrite|ftruncate|open\s*\()", src)


def test_the_write_guard_sees_writes(tmp_path):
    from .guard import guarded

    p = tmp_path / "log.csv"
    p.write_text("step,loss\n")
    with guarded(tmp_path) as seen:
        p.read_text()
        os.close(os.open(p, os.O_RDONLY))
        assert seen == []
        with open(p, "a"):
            pass
        os.close(os.open(p, os.O_RDWR))
        os.utime(p)
    assert len(seen) == 3
