"""JSON Schemas of the types of inputs, outputs and emit records.

Role: describe a flow's or a policy's inputs and results in the JSON Schema subset the runtime
validates (``runtime/schema.py``): ``type``, ``items``, ``properties``, ``required``,
``additionalProperties``, ``anyOf``, ``default`` and ``"x-tm-type": "duration"`` (a number of
seconds, or a duration's text such as ``5s``, converted by the runtime).

Input: :mod:`..types` values and IR inputs.  Output: JSON-compatible dicts (non-finite floats
may occur in defaults; the JSON writers encode them, see :func:`..bundle.json_safe`).

Invariants: ``int`` is ``integer``, ``float`` is ``number``; ``any`` and type parameters accept
anything (``{}``); ``T?`` adds ``null``; a record lists its non-optional fields as required
and admits no other field; an input without a default is required unless its type is
optional, in which case its default is null.
"""

from __future__ import annotations

from typing import Any

from .. import ir
from .. import types as t

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

_PRIMITIVES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "null": {"type": "null"},
    "duration": {"type": "number", "x-tm-type": "duration"},
    "any": {},
    "never": {"not": {}},
}


def type_schema(typ: t.Type) -> dict[str, Any]:
    """The schema of values of ``typ``."""
    match typ:
        case t.Prim(name=name):
            return dict(_PRIMITIVES[name])
        case t.ListOf(item=item):
            items = type_schema(item)
            return {"type": "array", "items": items} if items else {"type": "array"}
        case t.MapOf(value=value):
            values = type_schema(value)
            return ({"type": "object", "additionalProperties": values} if values
                    else {"type": "object"})
        case t.Record(fields=fields):
            return {
                "type": "object",
                "properties": {name: type_schema(ft) for name, ft in fields},
                "required": [name for name, ft in fields if _required(ft)],
                "additionalProperties": False,
            }
        case t.OptionalOf(inner=inner):
            return nullable(type_schema(inner))
    return {}


def _required(typ: t.Type) -> bool:
    return not isinstance(typ, t.OptionalOf) and typ not in (t.ANY, t.NULL)


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` that also admits null."""
    if not schema:
        return schema
    kind = schema.get("type")
    if isinstance(kind, str) and "not" not in schema:
        return {**schema, "type": [kind, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def input_defaults(inputs: tuple[ir.Input, ...]) -> dict[str, ir.Json]:
    """The value each input takes when left out (declared defaults; null for optional types)."""
    defaults: dict[str, ir.Json] = {}
    for decl in inputs:
        if decl.has_default:
            defaults[decl.name] = decl.default
        elif isinstance(decl.type, t.OptionalOf) or decl.type == t.NULL:
            defaults[decl.name] = None
    return defaults


def inputs_schema(inputs: tuple[ir.Input, ...]) -> dict[str, Any]:
    """The object schema of a document's inputs, defaults in each property's ``default``."""
    defaults = input_defaults(inputs)
    properties: dict[str, Any] = {}
    for decl in inputs:
        prop = type_schema(decl.type)
        if decl.name in defaults:
            prop = {**prop, "default": defaults[decl.name]}
        properties[decl.name] = prop
    return {
        "$schema": SCHEMA_DIALECT,
        "type": "object",
        "properties": properties,
        "required": [d.name for d in inputs if d.name not in defaults],
        "additionalProperties": False,
    }


def record_schema(typ: t.Type) -> dict[str, Any]:
    """The top-level schema of an outputs or emit record."""
    return {"$schema": SCHEMA_DIALECT, **type_schema(typ)}
