"""Broken and odd CSV logs (hand-edited spreadsheets, crashed Keras/Lightning jobs)."""

from __future__ import annotations

import numpy as np

from .cases import Expect, case, healthy, write_good_csv


def text(d, name, body, encoding="utf-8"):
    p = d / name
    p.write_bytes(body.encode(encoding))
    return p


@case()
def csv_without_header(d):
    p = text(d, "log.csv", "0,0.5,0.1\n1,0.4,0.2\n2,0.3,0.25\n")
    return Expect(d, 2, [(p.name, "no header row")])


@case()
def csv_with_only_a_header(d):
    p = text(d, "metrics.csv", "epoch,step,train_loss,val_loss\n")
    return Expect(d, 2, [(p.name, "CSV has a header but no data rows")])


@case()
def csv_with_text_in_numeric_columns(d):
    rows = [f"{s},{v!r}" for s, v in enumerate(healthy(50).tolist())]
    rows[7] = "7,oops"
    rows[20] = "20,#DIV/0!"
    p = text(d, "log.csv", "step,loss\n" + "\n".join(rows) + "\n")
    return Expect(d, 0, [(p.name, "column 'loss' has 2 non-numeric cells (first 'oops' in data row 8)")],
                  {".": {"loss": 48}})


@case()
def csv_with_nan_inf_na_and_empty_cells(d):
    rows = [f"{e},{v!r}" for e, v in enumerate(healthy(30).tolist())]
    for i, cell in ((10, "nan"), (11, "inf"), (12, "NA"), (13, ""), (14, "-inf")):
        rows[i] = f"{i},{cell}"
    text(d, "training.log", "epoch,loss\n" + "\n".join(rows) + "\n")
    # NaN and Inf are logged values (kept: the nonfinite error); NA and empty are missing points
    return Expect(d, 1, [], {".": {"loss": 28}}, {"nonfinite"})


@case()
def csv_with_duplicated_and_backwards_steps(d):
    v = healthy(40).tolist()
    steps = list(range(30)) + [29] + list(range(20, 40))  # step 29 twice, then back to 20
    p = text(d, "log.csv", "step,loss\n" + "".join(f"{s},{v[s]!r}\n" for s in steps))
    return Expect(d, 0, [(p.name, "11 points replaced by data logged again at the same or an earlier step")],
                  {".": {"loss": 40}})


@case()
def csv_with_a_utf8_bom(d):
    text(d, "log.csv", "\ufeffstep,loss\n" + "".join(f"{s},{v!r}\n" for s, v in enumerate(healthy(30).tolist())))
    return Expect(d, 0, [], {".": {"loss": 30}})


@case()
def csv_with_semicolons(d):
    body = "step;loss;val_loss\n" + "".join(f"{s};{v!r};{v * 1.1!r}\n" for s, v in enumerate(healthy(30).tolist()))
    text(d, "log.csv", body)
    return Expect(d, 0, [], {".": {"loss": 30, "val_loss": 30}})


@case()
def csv_with_an_unterminated_last_line(d):
    body = "step,loss\n" + "".join(f"{s},{v!r}\n" for s, v in enumerate(healthy(30).tolist()))
    p = text(d, "log.csv", body + "30,0.1")  # 30,0.1234... half written
    return Expect(d, 0, [(p.name, "last line has no line end (file still being written?); skipped")],
                  {".": {"loss": 30}})


@case()
def csv_with_a_million_rows(d):
    n = 10**6
    steps = np.arange(n)
    table = np.column_stack([steps, 2.0 * np.exp(-steps / 2e5) + 0.1])
    with open(d / "metrics.csv", "w") as f:
        f.write("step,loss\n")
        np.savetxt(f, table, fmt=["%d", "%.8g"], delimiter=",")
    return Expect(d, 0, [], {".": {"loss": n}})


@case()
def unreadable_csv_beside_a_readable_one(d):
    """Unreadable by permission: the test makes it so (chmod 000, under setpriv when root)."""
    write_good_csv(d / "a" / "metrics.csv")
    write_good_csv(d / "b" / "metrics.csv")
    return Expect(d, 0, [("b/metrics.csv", "cannot read: Permission denied")], {"a": {"loss": 50}})


@case()
def csv_with_rows_longer_than_the_header(d):
    """pandas would silently make the first column the index and shift every column left."""
    body = "step,loss\n" + "".join(f"{s},{v!r},0.5\n" for s, v in enumerate(healthy(30).tolist()))
    p = text(d, "log.csv", body)
    return Expect(d, 0, [(p.name, "rows with more fields than the header")], {".": {"loss": 30}})
