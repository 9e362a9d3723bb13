"""Input validation against the manifest's JSON Schemas, before anything runs.

Role: check a flow's or a policy's inputs (JSON values from the command line, an API or a
trigger) against the schema the compiler wrote into the manifest, fill in defaults, and convert
durations to float seconds, reporting every problem with the path of the field.

Input: a schema in the subset below, the defaults, and a JSON-compatible value.
Output: the validated value (a new object; the input is not modified) or :class:`InputError`
whose ``errors`` read like ``inputs.nodes[1]: expected string, found number``.

The subset: ``type`` (one name or a list of ``string integer number boolean null array
object``), ``items``, ``properties``, ``required``, ``additionalProperties`` (false or a schema),
``anyOf``, ``not``, ``enum``, ``default`` (on a property) and the extension
``"x-tm-type": "duration"``: a number of seconds (>= 0) or a duration's text (``500ms``, ``5s``,
``1.5s``, ``2m``, ``1h``), converted to float seconds.  Keywords outside the subset are ignored
(``$schema``, ``description``, ``title``, ...).  An empty schema accepts anything.

Invariants: a bool is never a number or an integer; an integer is a number; a float with an
integral value is accepted as an integer and becomes an int.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Mapping
from typing import Any

_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_MAX_ERRORS = 20


class InputError(ValueError):
    """Inputs that do not match their schema; ``errors`` name each field."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def json_type(value: object) -> str:
    """The JSON name of a value's type, as error messages say it (``found number``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def parse_duration(text: str) -> float:
    """Seconds of ``500ms``, ``5s``, ``1.5s``, ``2m`` or ``1h``; ValueError otherwise."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(text)
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def prepare_inputs(
    schema: Mapping[str, Any],
    defaults: Mapping[str, Any],
    raw: object,
    where: str = "inputs",
) -> dict[str, Any]:
    """``raw`` checked against ``schema`` (an object schema), with ``defaults`` filled in for
    absent inputs; raises :class:`InputError` listing every problem."""
    if not isinstance(raw, dict):
        raise InputError([f"{where}: expected an object of named inputs, found {json_type(raw)}"])
    filled = dict(raw)
    properties: Mapping[str, Any] = schema.get("properties", {})
    for name, prop in properties.items():
        if name in filled:
            continue
        if name in defaults:
            filled[name] = copy.deepcopy(defaults[name])
        elif isinstance(prop, Mapping) and "default" in prop:
            filled[name] = copy.deepcopy(prop["default"])
    errors: list[str] = []
    value = check(schema, filled, where, errors)
    if errors:
        if len(errors) > _MAX_ERRORS:
            errors = [*errors[:_MAX_ERRORS], f"... and {len(errors) - _MAX_ERRORS} more"]
        raise InputError(errors)
    assert isinstance(value, dict)
    return value


def check(schema: Mapping[str, Any], value: Any, where: str, errors: list[str]) -> Any:
    """``value`` validated against ``schema`` (converted where the schema says so); problems
    are appended to ``errors`` as ``<where>: <message>``."""
    if schema.get("x-tm-type") == "duration":
        return _duration(value, where, errors, nullable=_allows(schema, "null"))
    if "not" in schema:
        probe: list[str] = []
        check(schema["not"], value, where, probe)
        if not probe:
            errors.append(f"{where}: no value is allowed here, found {json_type(value)}")
            return value
    if "anyOf" in schema:
        return _any_of(schema["anyOf"], value, where, errors)
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(_show(item) for item in schema["enum"])
        errors.append(f"{where}: expected one of {allowed}, found {_show(value)}")
        return value
    types = schema.get("type")
    if types is None:
        return _structure(schema, value, where, errors) if isinstance(value, dict | list) \
            else value
    names = [types] if isinstance(types, str) else list(types)
    for name in names:
        if _is(name, value):
            if name == "integer" and isinstance(value, float):
                value = int(value)
            if name in ("array", "object"):
                return _structure(schema, value, where, errors)
            return value
    expected = " or ".join(names)
    errors.append(f"{where}: expected {expected}, found {json_type(value)}")
    return value


def _is(name: str, value: object) -> bool:
    if name == "string":
        return isinstance(value, str)
    if name == "integer":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool) and \
            math.isfinite(value)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if name == "array":
        return isinstance(value, list)
    if name == "object":
        return isinstance(value, dict)
    return False


def _allows(schema: Mapping[str, Any], name: str) -> bool:
    types = schema.get("type")
    return types == name or (isinstance(types, list) and name in types)


def _structure(schema: Mapping[str, Any], value: Any, where: str, errors: list[str]) -> Any:
    if isinstance(value, list):
        items = schema.get("items")
        if not isinstance(items, Mapping):
            return list(value)
        return [check(items, item, f"{where}[{index}]", errors) for index, item in
                enumerate(value)]
    if not isinstance(value, dict):
        return value
    properties: Mapping[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    result: dict[str, Any] = {}
    for key, item in value.items():
        field = _field(where, key)
        if key in properties:
            result[key] = check(properties[key], item, field, errors)
        elif extra is False:
            known = ", ".join(properties) or "none"
            errors.append(f"{field}: unknown field (expected: {known})")
        elif isinstance(extra, Mapping):
            result[key] = check(extra, item, field, errors)
        else:
            result[key] = item
    for name in schema.get("required", ()):
        if name not in value:
            prop = properties.get(name, {})
            what = _describe(prop)
            errors.append(f"{_field(where, name)}: missing (required{' ' + what if what else ''})")
    return result


def _any_of(options: list[Mapping[str, Any]], value: Any, where: str, errors: list[str]) -> Any:
    for option in options:
        attempt: list[str] = []
        result = check(option, value, where, attempt)
        if not attempt:
            return result
    if len(options) == 1:
        return check(options[0], value, where, errors)
    expected = " or ".join(_describe(option) or "a value" for option in options)
    errors.append(f"{where}: expected {expected}, found {json_type(value)}")
    return value


def _duration(value: Any, where: str, errors: list[str], *, nullable: bool) -> Any:
    if value is None and nullable:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if math.isfinite(value) and value >= 0:
            return float(value)
        errors.append(f"{where}: expected a duration of zero or more seconds, found {value!r}")
        return value
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except ValueError:
            errors.append(f"{where}: expected a duration such as 500ms, 5s, 2m or 1h, "
                          f"found {value!r}")
            return value
    errors.append(f"{where}: expected duration (seconds or text such as 5s), found "
                  f"{json_type(value)}")
    return value


def _describe(schema: Mapping[str, Any]) -> str:
    if schema.get("x-tm-type") == "duration":
        return "duration"
    types = schema.get("type")
    if isinstance(types, str):
        return types
    if isinstance(types, list):
        return " or ".join(str(name) for name in types)
    return ""


def _field(where: str, key: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        return f"{where}.{key}"
    return f"{where}[{key!r}]"


def _show(value: object) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)
