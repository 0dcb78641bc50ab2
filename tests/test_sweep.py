"""The sweep view: the split that separates a kind of finding, the sentences against the table,
the JSON shape, the cost over 10,000 runs, and the real learning-rate sweep end to end."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lossctl.analysis import analyze_run
from lossctl.cli import app
from lossctl.config import Config
from lossctl.report import report_dict
from lossctl.sweep import separate, sweep_dict, sweep_of_rows
from lossctl.sweep.association import average_ranks, spearman
from lossctl.sweep.table import Row
from lossctl.sweep.text import fmt_value, vs_best
from tests.synth import decay, run_of

ROOT = Path(__file__).resolve().parents[1]


def row(name, hparams, kinds=(), final=0.1):
    failed = any(k in ("divergence", "nonfinite") for k in kinds)
    status = "error" if failed else "warning" if kinds else "ok"
    return Row(name, float("nan") if failed else final, "val_loss", "val_loss", status, tuple(kinds),
               dict(hparams), "name")


def lr_rows(high=(3e-3, 1e-2, 3e-2, 1e-1), low=(1e-5, 3e-5, 1e-4, 2e-4, 3e-4, 5e-4, 7e-4, 8e-4, 1e-3)):
    return ([row(f"lr={fmt_value(lr)}", {"lr": lr, "seed": i}, ("divergence",)) for i, lr in enumerate(high)]
            + [row(f"lr={fmt_value(lr)}", {"lr": lr, "seed": i}, final=0.1 + lr) for i, lr in enumerate(low)])


def only_found(sweep):
    return [s for s in sweep["separations"] if s["found"]]


# --- the check every sentence must pass: its numbers recomputed from the table ----------------

SPLIT = re.compile(
    r"^(?:All (?P<k>\d+) runs|(?P<kw>\d+) of the (?P<k2>\d+) runs) with (?P<key>\S+) (?P<op>>=|<=|=) (?P<t>\S+) "
    r".*?, and (?:none|only (?P<hw>\d+)) of the (?P<h>\d+) with (?P=key) (?P<hop>>=|<=|=|in) (?P<b>\{[^}]*\}|\S+) .*?"
    r": (?:keep (?P=key) at or (?P<dir>below|above) (?P<fix>\S+)|avoid (?P=key) = (?P<avoid>\S+))\.$")


def check_against_table(sentence: str, sweep: dict) -> None:
    """Every count and value in a split sentence, recomputed from the table rows."""
    m = SPLIT.match(sentence)
    assert m, sentence
    sep = next(s for s in sweep["separations"] if s.get("sentence") == sentence)
    kinds = set(sep["kinds"])
    key = m["key"]
    rows = [r for r in sweep["table"] if key in r["hparams"]]

    def side(op, text):
        if op in ("=", "in"):
            values = text.strip("{}").split(", ")
            return [r for r in rows if fmt_value(r["hparams"][key]) in values]
        x = float(text)
        return [r for r in rows if (r["hparams"][key] >= x if op == ">=" else r["hparams"][key] <= x)]

    kind_side, healthy = side(m["op"], m["t"]), side(m["hop"], m["b"])
    assert not {r["run"] for r in kind_side} & {r["run"] for r in healthy}
    has = [bool(kinds <= set(r["kinds"])) for r in kind_side]
    assert len(kind_side) == int(m["k"] or m["k2"])
    assert sum(has) == (len(kind_side) if m["k"] else int(m["kw"]))
    assert len(healthy) == int(m["h"])
    assert sum(kinds <= set(r["kinds"]) for r in healthy) == int(m["hw"] or 0)
    assert len(kind_side) + len(healthy) + sep["not_covered"] == sweep["runs"]
    if m["fix"]:  # the bound is the healthy side's extreme value, as the table writes it
        vals = [r["hparams"][key] for r in healthy]
        assert m["fix"] == m["b"] == fmt_value(max(vals) if m["dir"] == "below" else min(vals))
        assert all(fmt_value(v) != m["t"] for v in vals)


# --- separating splits ----------------------------------------------------------------------


def test_threshold_split_and_its_fix():
    s = sweep_of_rows(lr_rows())
    [sep] = only_found(s)
    assert (sep["hparam"], sep["type"], sep["op"], sep["threshold"], sep["bound"]) == ("lr", "threshold", ">=",
                                                                                          3e-3, 1e-3)
    assert sep["sentence"] == ("All 4 runs with lr >= 3e-3 diverged, and none of the 9 with lr <= 1e-3 did: "
                               "keep lr at or below 1e-3.")
    check_against_table(sep["sentence"], s)


def test_kind_on_the_low_side():
    rows = ([row(f"a{i}", {"lr": lr}, ("plateau",)) for i, lr in enumerate((1e-7, 1e-6, 3e-6))]
            + [row(f"b{i}", {"lr": lr}) for i, lr in enumerate((1e-4, 3e-4, 1e-3, 3e-3))])
    s = sweep_of_rows(rows)
    [sep] = only_found(s)
    assert sep["sentence"] == ("All 3 runs with lr <= 3e-6 plateaued, and none of the 4 with lr >= 1e-4 did: "
                               "keep lr at or above 1e-4.")
    check_against_table(sep["sentence"], s)


def test_category_split():
    rows = ([row(f"sgd{i}", {"optimizer": "sgd", "lr": 0.01 * (i + 1)}, ("plateau",)) for i in range(4)]
            + [row(f"adam{i}", {"optimizer": "adam", "lr": 0.01 * (i + 1)}) for i in range(4)]
            + [row(f"adamw{i}", {"optimizer": "adamw", "lr": 0.01 * (i + 1)}) for i in range(2)])
    s = sweep_of_rows(rows)
    [sep] = only_found(s)
    assert (sep["type"], sep["values"], sep["others"]) == ("category", ["sgd"], ["adam", "adamw"])
    assert sep["sentence"] == ("All 4 runs with optimizer = sgd plateaued, and none of the 6 with optimizer in "
                               "{adam, adamw} did: avoid optimizer = sgd.")
    check_against_table(sep["sentence"], s)


def test_exceptions_are_named_and_counted():
    rows = lr_rows()
    rows.append(row("lr=2e-2,lucky", {"lr": 2e-2, "seed": 9}, final=0.5))  # high lr, did not diverge
    s = sweep_of_rows(rows)
    [sep] = only_found(s)
    assert sep["exceptions"] == 1 and sep["kind_side"]["exceptions"] == ["lr=2e-2,lucky"]
    assert sep["sentence"].startswith("4 of the 5 runs with lr >= 3e-3 diverged (not lr=2e-2,lucky), and none "
                                      "of the 9 with lr <= 1e-3 did")
    check_against_table(sep["sentence"], s)
    rows.append(row("lr=1e-4,unlucky", {"lr": 1e-4, "seed": 8}, ("divergence",)))  # a 2nd exception: too many
    s = sweep_of_rows(rows)
    [sep] = s["separations"]
    assert not sep["found"] and sep["reason"] == "no_split"
    assert sep["closest"]["exceptions"] == 2 and sep["closest"]["allowed_exceptions"] == 1
    assert sep["sentence"].startswith("No single hyperparameter separates the 5 runs that diverged from the 10 "
                                      "that did not (closest: lr >= 3e-3 against lr <= 1e-3, with 2 exceptions")


def test_healthy_side_exception_and_runs_without_the_hparam():
    rows = lr_rows() + [row("lr=3e-4,odd", {"lr": 3e-4}, ("divergence",)), row("nohp", {}, ("divergence",))]
    s = sweep_of_rows(rows)
    [sep] = only_found(s)
    assert sep["healthy_side"]["exceptions"] == ["lr=3e-4,odd"] and sep["not_covered"] == 1
    assert "only 1 of the 10 with lr <= 1e-3 did (lr=3e-4,odd) (1 run without lr not counted)" in sep["sentence"]
    check_against_table(sep["sentence"], s)


def test_no_split_says_so_and_gives_the_association():
    rng = np.random.default_rng(0)
    lrs = np.repeat([1e-4, 3e-4, 1e-3, 3e-3], 4)
    noisy = rng.permutation(16) < 6  # 'noisy' on random runs: nothing explains it
    rows = [row(f"r{i}", {"lr": float(lr), "optimizer": ["sgd", "adam"][i % 2]}, ("noisy",) if n else (),
                final=0.5 - 0.1 * np.log10(lr / 1e-4) + 0.001 * i) for i, (lr, n) in enumerate(zip(lrs, noisy))]
    rows += [row(f"d{i}", {"lr": 1e-2, "optimizer": "sgd"}, ("divergence",)) for i in range(2)]  # failed
    s = sweep_of_rows(rows)
    sep = next(x for x in s["separations"] if x["kinds"] == ["noisy"])
    assert not sep["found"] and sep["sentence"].startswith("No single hyperparameter separates the 6 runs that "
                                                           "were noisy from the 12 that were not")
    lr = next(a for a in s["associations"] if a["hparam"] == "lr")
    assert lr["n"] == 16 and lr["excluded_failed"] == 2  # the diverged runs are left out
    assert lr["spearman"] == pytest.approx(spearman(lrs, np.array([r.final for r in rows[:16]])))
    assert lr["spearman"] < -0.9
    opt = next(a for a in s["associations"] if a["hparam"] == "optimizer")
    assert {opt["best"]["value"], opt["worst"]["value"]} == {"sgd", "adam"} and opt["best"]["n"] == 8
    assert any(line.startswith("Association with the final loss: lr: Spearman -0.") and "n = 16, 2 failed runs left out"
               in line for line in s["sentences"])


def test_seed_and_run_ids_never_explain_a_failure():
    rows = [row(f"s{i}", {"seed": i, "tag": f"t{i}"}, ("divergence",) if i < 4 else ()) for i in range(10)]
    s = sweep_of_rows(rows)
    assert s["varying"] == ["seed", "tag"] and not only_found(s)
    assert s["separations"][0]["closest"] is None  # seed is not tried; a tag per run is no category


def test_too_few_runs_with_a_kind():
    rows = lr_rows() + [row("spiky", {"lr": 1e-4}, ("spike",))]
    s = sweep_of_rows(rows)
    spike = next(x for x in s["separations"] if x["kinds"] == ["spike"])
    assert spike["reason"] == "too_few" and spike["sentence"] is None
    assert "Too few runs on one side to look for what separates them: spike (1 of 14)." in s["sentences"]


def test_kinds_on_the_same_runs_are_one_sentence():
    rows = [row(r.run, r.hparams, r.kinds + ("nonfinite",) if r.kinds else (), r.final) for r in lr_rows()]
    s = sweep_of_rows(rows)
    [sep] = s["separations"]
    assert sep["kinds"] == ["divergence", "nonfinite"]
    assert sep["sentence"].startswith("All 4 runs with lr >= 3e-3 diverged and went NaN/Inf, and none of the 9")


def test_average_ranks_and_spearman():
    assert average_ranks(np.array([10.0, 20.0, 20.0, 5.0])).tolist() == [2.0, 3.5, 3.5, 1.0]
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert spearman(x, x ** 3) == pytest.approx(1.0) and spearman(x, -x) == pytest.approx(-1.0)
    assert spearman(x[:2], x[:2]) is None and spearman(x, np.ones(5)) is None


# --- whole reports: ranking, best run, JSON ---------------------------------------------------


def _reports():
    out = []
    for i, lr in enumerate((1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 3e-2, 1e-1)):
        loss = decay(200, floor=0.1 + 0.02 * i, seed=i)
        if lr >= 1e-2:  # blows up halfway
            loss[100:] = loss[100] * np.exp(np.arange(100) / 8)
        out.append(analyze_run(run_of({"train_loss": loss}, name=f"sweep/lr={fmt_value(lr)}"), Config()))
    return out


def test_sweep_dict_shape_and_best_run():
    reports = _reports()
    kinds = {r.run.name: {f.kind for f in r.findings} for r in reports}
    assert [n for n, k in kinds.items() if "divergence" in k] == ["sweep/lr=0.01", "sweep/lr=0.03", "sweep/lr=0.1"]
    s = sweep_dict(reports)
    json.dumps(s, allow_nan=False)
    assert list(s) == ["runs", "ranked_by", "failed", "varying", "hparams_from", "table", "best", "separations",
                       "associations", "sentences", "rules"]
    assert s["runs"] == 7 and s["failed"] == 3 and s["varying"] == ["lr"] and s["hparams_from"]["name"] == 7
    assert [r["run"] for r in s["table"][:4]] == [f"sweep/lr={v}" for v in ("1e-3", "2e-3", "3e-3", "5e-3")]
    assert [r["failed"] for r in s["table"]] == [False] * 4 + [True] * 3
    assert set(s["table"][0]) >= {"rank", "run", "final", "metric", "role", "status", "failed", "kinds",
                                  "hparams", "hparams_source", "vs_best"}
    assert s["best"]["run"] == "sweep/lr=1e-3" and s["table"][0]["vs_best"] is None
    assert {r["run"] for r in s["table"] if r["failed"]} <= set(s["best"]["worse"])  # new errors: worse
    assert s["best"]["judged"] == 6
    assert "_index" not in s["best"]
    [sep] = only_found(s)  # three runs a side is the least a split needs
    assert sep["sentence"] == ("All 3 runs with lr >= 0.01 diverged, and none of the 4 with lr <= 5e-3 did: "
                               "keep lr at or below 5e-3.")
    check_against_table(sep["sentence"], s)
    two = sweep_dict(reports[:-1])  # with two diverged runs, no sentence invents a cause
    assert two["separations"][0]["reason"] == "too_few" and not only_found(two)


def test_report_gains_sweep_key_only_for_several_runs():
    reports = _reports()
    one = report_dict(reports[:1])
    assert "sweep" not in one and sweep_dict(reports[:1]) is None
    many = report_dict(reports)
    assert list(many)[:5] == ["schema", "lossctl_version", "runs", "summary", "sweep"]
    assert many["summary"]["runs"] == 7 and many["sweep"] == sweep_dict(reports)


# --- cost -----------------------------------------------------------------------------------


def _counting(monkeypatch, module, name):
    calls = []
    real = getattr(module, name)

    def counted(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_ten_thousand_runs_cost_one_split_search_per_group_and_hparam(monkeypatch):
    rng = np.random.default_rng(1)
    n = 10_000
    lr = 10.0 ** rng.uniform(-5, -1, n)
    opt = rng.choice(["sgd", "adam", "adamw"], n)
    diverged = (lr >= 1e-2) ^ (rng.random(n) < 0.005)  # 0.5 % exceptions either way
    plateau = (opt == "sgd") & (lr < 1e-4)
    spike = rng.random(n) < 0.2
    rows = [row(f"run{i}", {"lr": float(lr[i]), "optimizer": str(opt[i]), "seed": i},
                tuple(k for k, on in (("divergence", diverged[i]), ("plateau", plateau[i]), ("spike", spike[i])) if on),
                final=float(0.1 + lr[i])) for i in range(n)]
    num = _counting(monkeypatch, separate, "numeric_split")
    cat = _counting(monkeypatch, separate, "category_split")
    s = sweep_of_rows(rows)
    groups = len(s["separations"])
    assert groups == 3 and len(num) == groups and len(cat) == groups  # lr and optimizer, once per group
    div = next(x for x in s["separations"] if x["kinds"] == ["divergence"])
    assert div["found"] and div["hparam"] == "lr" and div["op"] == ">="
    assert div["exceptions"] <= div["allowed_exceptions"] == 1000
    assert len(s["table"]) == n
    check_against_table(div["sentence"], s)


def test_one_judge_per_run(monkeypatch):
    from lossctl.sweep import best

    reports = _reports() * 20  # 140 reports
    calls = _counting(monkeypatch, best, "judge")
    s = sweep_dict(reports)
    assert len(calls) == len(reports) - 1 == s["best"]["judged"]


# --- the real learning-rate sweep, end to end -------------------------------------------------

SENTENCE = ("All 4 runs with lr >= 0.1 diverged and went NaN/Inf, and none of the 8 with lr <= 0.03 did: "
            "keep lr at or below 0.03.")


def test_lr_sweep_end_to_end(monkeypatch):
    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    r = runner.invoke(app, ["analyze", "sample_logs/lr_sweep"], env={"COLUMNS": "200"})
    assert r.exit_code == 1
    assert " ".join(r.stdout.split()).endswith(SENTENCE)
    j = runner.invoke(app, ["analyze", "sample_logs/lr_sweep", "--format", "json"])
    assert j.exit_code == 1
    s = json.loads(j.stdout)["sweep"]
    assert s["sentences"][-1] == SENTENCE
    check_against_table(SENTENCE, s)
    md = runner.invoke(app, ["analyze", "sample_logs/lr_sweep", "--format", "markdown"])
    assert md.stdout.rstrip().endswith(f"- {SENTENCE}")


def test_the_table_shows_the_hyperparameter_a_sentence_names():
    from io import StringIO

    from rich.console import Console

    from lossctl.renderers.sweep import MAX_HPARAMS, print_sweep

    extra = {f"h{i}": i for i in range(MAX_HPARAMS + 2)}
    rows = [row(r.run, {**{k: v + j % 2 for k, v in extra.items()}, **r.hparams}, r.kinds, r.final)
            for j, r in enumerate(lr_rows())]
    s = sweep_of_rows(rows)
    assert s["varying"].index("lr") >= MAX_HPARAMS
    buf = StringIO()
    print_sweep(Console(file=buf, width=200, no_color=True), s)
    header = next(line for line in buf.getvalue().splitlines() if line.lstrip().startswith("#"))
    assert header.split()[7] == "lr"  # the first hyperparameter column, after "vs best"
    assert "more varying hyperparameters in --format json" in buf.getvalue()


def test_a_confounded_hyperparameter_is_named():
    rows = [row(r.run, {**r.hparams, "warmup": 0 if r.kinds else 500}, r.kinds, r.final) for r in lr_rows()]
    s = sweep_of_rows(rows)
    [sep] = only_found(s)
    assert sep["hparam"] == "lr" and sep["equally"] == ["warmup"]
    assert sep["sentence"].endswith("keep lr at or below 1e-3. warmup separates them as well: the sweep cannot "
                                    "tell which matters.")


def test_a_verdict_on_another_loss_than_the_final_value_says_which():
    """A run ranked by its validation loss, judged against a best run that logs none, is judged on
    the training loss both log: its cell says so, or "better" would sit beside a final value
    three times the best's."""
    n = 400
    a = run_of({"loss": decay(n, floor=0.5, seed=1)}, name="no_val")
    b = run_of({"loss": decay(n, floor=0.05, seed=2), "val_loss": decay(n, floor=1.5, seed=3)}, name="with_val")
    reports = [analyze_run(r, Config()) for r in (a, b)]
    s = sweep_dict(reports)
    by = {r["run"]: r for r in s["table"]}
    assert s["best"]["run"] == "no_val" and by["with_val"]["role"] == "val_loss"
    assert by["with_val"]["vs_best"] == "better" and by["with_val"]["vs_best_role"] == "loss"
    assert "vs_best_role" not in by["no_val"]
    assert vs_best(by["with_val"], "no_val") == "better (training loss)"
    assert vs_best(by["no_val"], "no_val") == "best"
