"""The semantic type model: assignability, join, rendering and conversions."""

from __future__ import annotations

import pytest

from tracemind.compiler import nodes as n
from tracemind.compiler import types as t

REC = t.Record((("temp", t.FLOAT), ("threshold", t.FLOAT)))


@pytest.mark.parametrize(
    ("src", "dst"),
    [
        (t.INT, t.FLOAT),
        (t.ANY, t.STRING),
        (t.STRING, t.ANY),
        (t.NEVER, t.INT),
        (t.NULL, t.OptionalOf(t.STRING)),
        (t.STRING, t.OptionalOf(t.STRING)),
        (t.OptionalOf(t.INT), t.OptionalOf(t.FLOAT)),
        (t.ListOf(t.INT), t.ListOf(t.FLOAT)),
        (t.ListOf(t.NEVER), t.ListOf(t.STRING)),
        (t.Record((("a", t.STRING),)), t.MapOf(t.STRING)),
        (t.EMPTY_RECORD, t.MapOf(t.INT)),
        (t.Record((("a", t.INT), ("b", t.STRING))), t.Record((("a", t.FLOAT),))),
        (t.EMPTY_RECORD, t.Record((("max", t.OptionalOf(t.INT)),))),
    ],
)
def test_assignable(src: t.Type, dst: t.Type) -> None:
    assert t.assignable(src, dst)


@pytest.mark.parametrize(
    ("src", "dst"),
    [
        (t.FLOAT, t.INT),
        (t.STRING, t.INT),
        (t.NULL, t.STRING),
        (t.OptionalOf(t.STRING), t.STRING),
        (t.ListOf(t.STRING), t.ListOf(t.INT)),
        (t.MapOf(t.ANY), t.Record((("a", t.INT),))),
        (t.Record((("a", t.STRING),)), t.MapOf(t.INT)),
        (t.Record((("b", t.INT),)), t.Record((("a", t.INT),))),
        (t.DURATION, t.INT),
    ],
)
def test_not_assignable(src: t.Type, dst: t.Type) -> None:
    assert not t.assignable(src, dst)


@pytest.mark.parametrize(
    ("a", "b", "joined"),
    [
        (t.INT, t.FLOAT, t.FLOAT),
        (t.INT, t.INT, t.INT),
        (t.NEVER, t.STRING, t.STRING),
        (t.ANY, t.STRING, t.ANY),
        (t.NULL, t.STRING, t.OptionalOf(t.STRING)),
        (t.OptionalOf(t.INT), t.FLOAT, t.OptionalOf(t.FLOAT)),
        (t.ListOf(t.NEVER), t.ListOf(t.STRING), t.ListOf(t.STRING)),
        (t.Record((("a", t.INT),)), t.Record((("a", t.FLOAT),)), t.Record((("a", t.FLOAT),))),
        (t.Record((("a", t.INT),)), t.MapOf(t.FLOAT), t.MapOf(t.FLOAT)),
        (t.STRING, t.INT, None),
        (t.Record((("a", t.INT),)), t.Record((("b", t.INT),)), None),
        (t.ListOf(t.STRING), t.MapOf(t.STRING), None),
    ],
)
def test_join(a: t.Type, b: t.Type, joined: t.Type | None) -> None:
    assert t.join(a, b) == joined
    reverse = t.join(b, a)
    assert reverse is None if joined is None else reverse is not None and t.same(reverse, joined)


def test_join_all() -> None:
    assert t.join_all([]) == t.NEVER
    assert t.join_all([t.INT, t.FLOAT, t.NULL]) == t.OptionalOf(t.FLOAT)
    assert t.join_all([t.INT, t.STRING]) is None


def test_optional_never_nests() -> None:
    opt = t.optional(t.STRING)
    assert t.optional(opt) == opt
    assert t.optional(t.NULL) == t.NULL
    assert t.optional(t.ANY) == t.ANY
    assert t.strip_optional(opt) == t.STRING


@pytest.mark.parametrize(
    ("typ", "text"),
    [
        (t.ListOf(t.STRING), "list<string>"),
        (t.MapOf(t.ANY), "map<any>"),
        (REC, "{temp: float, threshold: float}"),
        (t.OptionalOf(t.ListOf(t.INT)), "list<int>?"),
        (t.EMPTY_RECORD, "{}"),
        (t.TypeParam("T"), "T"),
    ],
)
def test_render(typ: t.Type, text: str) -> None:
    assert t.render(typ) == text


def test_same_ignores_record_order() -> None:
    swapped = t.Record((("threshold", t.FLOAT), ("temp", t.FLOAT)))
    assert swapped != REC
    assert t.same(swapped, REC)
    assert not t.same(REC, t.Record((("temp", t.FLOAT),)))
    assert not t.same(t.INT, t.FLOAT)


@pytest.mark.parametrize(
    "text",
    ["string", "list<string>", "map<any>", "{values: map<any>}", "list<string>?",
     "{status: int, headers: map<string>, body: string, json: any}", "{}"],
)
def test_parse_type_string_round_trips_through_render(text: str) -> None:
    assert t.render(t.parse_type_string(text)) == text


def test_parse_type_string_params_and_never() -> None:
    assert t.parse_type_string("{value: T}", ["T"]) == t.Record((("value", t.TypeParam("T")),))
    assert t.parse_type_string("never") == t.NEVER
    with pytest.raises(ValueError, match="unknown type `T`"):
        t.parse_type_string("T")
    with pytest.raises(ValueError):
        t.parse_type_string("list<")


def test_from_type_expr_reports_unknown_names_and_recovers() -> None:
    unknown: list[str] = []
    node = n.ListType(item=n.NamedType(name="strng"))
    typ = t.from_type_expr(node, on_unknown=lambda named: unknown.append(named.name))
    assert typ == t.ListOf(t.ANY)
    assert unknown == ["strng"]
    record = n.RecordType(fields=(n.RecordField(name="a", type=n.OptionalType(
        inner=n.NamedType(name="int"))),))
    assert t.from_type_expr(record) == t.Record((("a", t.OptionalOf(t.INT)),))
    assert t.from_type_expr(n.MapType(value=n.NamedType(name="duration"))) == t.MapOf(t.DURATION)


def test_type_of_data_follows_the_core_schema() -> None:
    data = n.DataMap(entries=(
        n.DataEntry(key="threshold", value=n.DataScalar(value=75.0)),
        n.DataEntry(key="action", value=n.DataScalar(value="WRITE_BACK")),
        n.DataEntry(key="on", value=n.DataScalar(value=True)),
        n.DataEntry(key="count", value=n.DataScalar(value=3)),
        n.DataEntry(key="none", value=n.DataScalar(value=None)),
        n.DataEntry(key="tags", value=n.DataList(items=(n.DataScalar(value=1),
                                                         n.DataScalar(value=2.5)))),
        n.DataEntry(key="mixed", value=n.DataList(items=(n.DataScalar(value=1),
                                                          n.DataScalar(value="a")))),
    ))
    assert t.render(t.type_of_data(data)) == (
        "{threshold: float, action: string, on: bool, count: int, none: null, "
        "tags: list<float>, mixed: list<any>}"
    )


def test_generic_binding_and_substitution() -> None:
    bindings: dict[str, t.Type] = {}
    t.bind_params(t.ListOf(t.TypeParam("T")), t.ListOf(t.STRING), bindings)
    assert bindings == {"T": t.STRING}
    assert t.substitute(t.Record((("value", t.TypeParam("T")),)), bindings) == t.Record(
        (("value", t.STRING),)
    )
    assert t.substitute(t.TypeParam("U"), bindings) == t.ANY
    assert t.contains_param(t.MapOf(t.OptionalOf(t.TypeParam("T"))))
    assert not t.contains_param(REC)
