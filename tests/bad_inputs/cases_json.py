"""JSON that is not a Keras history, or is one with problems."""

from __future__ import annotations

from .cases import Expect, case, write_good_csv


def text(d, name, body):
    p = d / name
    p.write_text(body, encoding="utf-8")
    return p


@case()
def json_that_is_a_list(d):
    p = text(d, "history.json", "[1, 2, 3]")
    return Expect(d, 2, [(p.name, "not a training history (top level is a list")])


@case()
def json_that_is_a_string(d):
    p = text(d, "history.json", '"loss went down"')
    return Expect(d, 2, [(p.name, "not a training history (top level is a str")])


@case()
def json_truncated(d):
    p = text(d, "history.json", '{"loss": [1.0, 0.8, 0.6')
    return Expect(d, 2, [(p.name, "malformed JSON")])


@case()
def json_truncated_beside_a_csv(d):
    write_good_csv(d / "metrics.csv")
    p = text(d, "history.json", '{"loss": [1.0, 0.8, 0.6')
    return Expect(d, 0, [(p.name, "malformed JSON")], {".": {"loss": 50}})


@case()
def json_with_lists_of_unequal_length(d):
    p = text(d, "history.json", '{"loss": [2.0, 1.5, 1.1, 0.9, 0.8], "val_loss": [2.1, 1.6, 1.3]}')
    return Expect(d, 0, [(p.name, "metric lists have unequal lengths (3-5)")], {".": {"loss": 5, "val_loss": 3}})


@case()
def json_with_nan_and_infinity_tokens(d):
    text(d, "history.json", '{"loss": [2.0, 1.5, NaN, 1.0, Infinity, -Infinity]}')
    return Expect(d, 1, [], {".": {"loss": 6}}, {"nonfinite"})


@case()
def json_nested_too_deeply(d):
    p = text(d, "history.json", "[" * 100_000 + "]" * 100_000)
    return Expect(d, 2, [(p.name, "malformed JSON: nested too deeply")])


@case()
def json_with_a_5000_digit_integer(d):
    p = text(d, "history.json", '{"loss": [1.0, ' + "9" * 5000 + "]}")
    return Expect(d, 2, [(p.name, "malformed JSON")])
