"""Input validation: errors name the field; defaults are filled; durations become seconds."""

from __future__ import annotations

from typing import Any

import pytest

from tracemind.runtime.schema import InputError, prepare_inputs

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "endpoint": {"type": "string"},
        "nodes": {"type": "array", "items": {"type": "string"}},
        "limit": {"type": "integer"},
        "ratio": {"type": "number"},
        "dry_run": {"type": "boolean"},
        "period": {"x-tm-type": "duration", "type": ["number", "string"]},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "target": {
            "type": "object",
            "properties": {"host": {"type": "string"}, "port": {"type": "integer"}},
            "required": ["host", "port"],
            "additionalProperties": False,
        },
        "note": {"type": ["string", "null"]},
    },
    "required": ["endpoint", "nodes"],
    "additionalProperties": False,
}
DEFAULTS = {"limit": 10, "nodes": ["ns=2;i=2"], "labels": {"site": "a"}}


def errors(raw: object, schema: dict[str, Any] = SCHEMA) -> list[str]:
    with pytest.raises(InputError) as caught:
        prepare_inputs(schema, DEFAULTS, raw)
    return caught.value.errors


def test_valid_inputs_get_defaults_and_conversions() -> None:
    raw = {"endpoint": "opc.tcp://x", "period": "1.5s", "ratio": 1, "limit": 3.0}
    value = prepare_inputs(SCHEMA, DEFAULTS, raw)
    assert value == {"endpoint": "opc.tcp://x", "period": 1.5, "ratio": 1, "limit": 3,
                     "nodes": ["ns=2;i=2"], "labels": {"site": "a"}}
    assert type(value["limit"]) is int
    assert raw == {"endpoint": "opc.tcp://x", "period": "1.5s", "ratio": 1, "limit": 3.0}
    value["nodes"].append("changed")
    assert DEFAULTS["nodes"] == ["ns=2;i=2"]  # defaults are copied, never shared


@pytest.mark.parametrize(("raw", "expected"), [
    ({"endpoint": "e", "nodes": ["a", 5]}, ["inputs.nodes[1]: expected string, found number"]),
    ({"nodes": []}, ["inputs.endpoint: missing (required string)"]),
    ({"endpoint": 1, "nodes": "a"}, ["inputs.endpoint: expected string, found number",
                                     "inputs.nodes: expected array, found string"]),
    ({"endpoint": "e", "limit": 1.5}, ["inputs.limit: expected integer, found number"]),
    ({"endpoint": "e", "limit": True}, ["inputs.limit: expected integer, found boolean"]),
    ({"endpoint": "e", "ratio": False}, ["inputs.ratio: expected number, found boolean"]),
    ({"endpoint": "e", "dry_run": "yes"}, ["inputs.dry_run: expected boolean, found string"]),
    ({"endpoint": "e", "period": "5 sec"},
     ["inputs.period: expected a duration such as 500ms, 5s, 2m or 1h, found '5 sec'"]),
    ({"endpoint": "e", "period": -1},
     ["inputs.period: expected a duration of zero or more seconds, found -1"]),
    ({"endpoint": "e", "period": [1]},
     ["inputs.period: expected duration (seconds or text such as 5s), found array"]),
    ({"endpoint": "e", "labels": {"ok": "x", "bad key": 3}},
     ["inputs.labels['bad key']: expected string, found number"]),
    ({"endpoint": "e", "target": {"host": "h", "port": "80", "tls": True}},
     ["inputs.target.port: expected integer, found string",
      "inputs.target.tls: unknown field (expected: host, port)"]),
    ({"endpoint": "e", "target": {}},
     ["inputs.target.host: missing (required string)",
      "inputs.target.port: missing (required integer)"]),
    ({"endpoint": "e", "note": 3}, ["inputs.note: expected string or null, found number"]),
    ({"endpoint": "e", "extra": 1},
     ["inputs.extra: unknown field (expected: endpoint, nodes, limit, ratio, dry_run, period, "
      "labels, target, note)"]),
])
def test_errors_name_the_field(raw: dict[str, Any], expected: list[str]) -> None:
    assert errors(raw) == expected


def test_inputs_must_be_an_object() -> None:
    assert errors([1]) == ["inputs: expected an object of named inputs, found array"]


def test_durations_take_numbers_and_text() -> None:
    schema = {"type": "object", "properties": {"d": {"x-tm-type": "duration"}}}
    for raw, seconds in [(5, 5.0), (0.25, 0.25), ("500ms", 0.5), ("2m", 120.0), ("1h", 3600.0)]:
        assert prepare_inputs(schema, {}, {"d": raw}) == {"d": seconds}


def test_any_of_enum_and_empty_schemas() -> None:
    schema = {"type": "object", "properties": {
        "v": {"anyOf": [{"type": "integer"}, {"type": "array", "items": {"type": "integer"}}]},
        "mode": {"enum": ["fast", "safe"]},
        "free": {},
    }}
    assert prepare_inputs(schema, {}, {"v": [1, 2], "mode": "fast", "free": {"x": [None]}}) == {
        "v": [1, 2], "mode": "fast", "free": {"x": [None]}}
    assert errors({"v": "x", "mode": "slow"}, schema) == [
        "inputs.v: expected integer or array, found string",
        'inputs.mode: expected one of "fast", "safe", found "slow"',
    ]


def test_property_defaults_are_used_when_the_manifest_has_none() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer", "default": 4}}}
    assert prepare_inputs(schema, {}, {}) == {"n": 4}


def test_never_and_nullable_durations() -> None:
    schema = {"type": "object", "properties": {
        "n": {"not": {}},
        "d": {"type": ["number", "null"], "x-tm-type": "duration"},
    }}
    assert prepare_inputs(schema, {}, {"d": None}) == {"d": None}
    assert prepare_inputs(schema, {}, {"d": "3s"}) == {"d": 3.0}
    assert errors({"n": 1}, schema) == ["inputs.n: no value is allowed here, found number"]
