"""Test values from IR analysis: thresholds, literals and keys, and values synthesised by type.

Role: the raw material of ``tmc testgen``'s cases.  :func:`collect_pool` reads the IR JSON of
every flow and policy of a bundle and gathers what its conditions compare against: numbers (a
constant, an arm field or a parameter on one side of ``< <= > >= == !=``) become boundary
values just below, at and just above; strings compared with ``==``/``!=``/``in`` become string
candidates; constant map keys (``values["ns=2;i=2"]``) become keys for synthesised maps.
:func:`base_value` and :func:`variants` turn a type into a neutral value and into labelled
alternatives (boundaries, literals, null for optionals, the empty list).

Input: IR JSON documents and type strings (the IR's rendering).  Output: :class:`Pool` and
``(label, category, value)`` triples; every value is JSON.

Invariants: deterministic (pool contents keep first-seen order); no padding: a type gets
alternatives only from the pool or from its own shape (null, empty list).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import types as t

MAX_VARIANTS = 24
"""Alternatives per slot; the pool rarely comes close, this only bounds pathological sources."""
COMPARISONS = frozenset({"<", "<=", ">", ">=", "==", "!="})

Variant = tuple[str, str, Any, str]
"""(label, category, value, group); categories: boundary, literal, null, empty, value.  The
three boundary values of one threshold share a ``group`` (else it is empty)."""


@dataclass(slots=True)
class Pool:
    """What the conditions of the sources compare against."""

    numbers: dict[float | int, str] = field(default_factory=dict)
    """Threshold -> where it comes from (``plant-monitor.pdl:10:6``)."""
    strings: dict[str, str] = field(default_factory=dict)
    keys: dict[str, None] = field(default_factory=dict)

    def boundaries(self, as_int: bool) -> list[Variant]:
        out: list[Variant] = []
        seen: set[float] = set()
        for threshold, where in self.numbers.items():
            step: float = 1 if as_int or isinstance(threshold, int) else 0.1
            for name, value in (("just below", threshold - step), ("at", threshold),
                                ("just above", threshold + step)):
                number: float | int = int(value) if as_int else round(float(value), 10)
                if number in seen:
                    continue
                seen.add(number)
                out.append((f"{name} {threshold!r} ({where})", "boundary", number,
                            f"{threshold!r}@{where}"))
        return out


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _walk(value: Any) -> Iterator[Mapping[str, Any]]:
    """Every JSON object below ``value`` (expressions and statements alike)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))


def collect_pool(documents: Iterable[Mapping[str, Any]]) -> Pool:
    """Thresholds, string literals and map keys of every document's conditions."""
    pool = Pool()
    for document in documents:
        path = str(document.get("path", ""))
        arms: Mapping[str, Mapping[str, Any]] = document.get("arms") or {}
        params: Mapping[str, Any] = document.get("params") or {}
        for node in _walk(document.get("body", [])):
            op = node.get("op")
            if op == "index" and node["index"].get("op") == "const" and \
                    isinstance(node["index"].get("value"), str):
                pool.keys.setdefault(node["index"]["value"])
            if op != "binary":
                continue
            operator = node.get("operator")
            at = node.get("at") or [0, 0]
            where = f"{path}:{at[0]}:{at[1]}"
            if operator in COMPARISONS:
                for side in (node["left"], node["right"]):
                    for value in _constants(side, arms, params):
                        number = _number(value)
                        if number is not None:
                            pool.numbers.setdefault(number, where)
                        elif isinstance(value, str):
                            pool.strings.setdefault(value, where)
            elif operator in ("in", "not in"):
                for value in _constants(node["right"], arms, params):
                    for item in value if isinstance(value, list) else [value]:
                        if isinstance(item, str):
                            pool.strings.setdefault(item, where)
                        elif _number(item) is not None:
                            pool.numbers.setdefault(item, where)
    return pool


def _constants(expr: Mapping[str, Any], arms: Mapping[str, Mapping[str, Any]],
               params: Mapping[str, Any]) -> list[Any]:
    """The values an operand can have without depending on inputs, if it is such an operand."""
    match expr.get("op"):
        case "const":
            return [expr.get("value")]
        case "param":
            return [params.get(str(expr["name"]))]
        case "arm":
            if expr.get("arm") is not None:
                return [arms.get(str(expr["arm"]), {}).get(str(expr["field"]))]
            return [fields.get(str(expr["field"])) for fields in arms.values()]
        case "list":
            items = [_constants(i, arms, params) for i in expr.get("items", [])]
            return [v for values in items for v in values]
    return []


def parse_type(text: str) -> t.Type:
    """The type an IR type string denotes (``any`` for what cannot be parsed)."""
    try:
        return t.parse_type_string(text)
    except ValueError:
        return t.ANY


def base_value(typ: t.Type) -> Any:
    """A neutral value of ``typ``: zero, ``"x"``, a one-item list, an empty map."""
    match typ:
        case t.Prim(name="int"):
            return 0
        case t.Prim(name="float") | t.Prim(name="duration"):
            return 0.0 if typ == t.FLOAT else 1.0
        case t.Prim(name="string"):
            return "x"
        case t.Prim(name="bool"):
            return False
        case t.ListOf(item=item):
            return [base_value(item)]
        case t.MapOf():
            return {}
        case t.Record(fields=fields):
            return {name: base_value(ft) for name, ft in fields}
        case t.OptionalOf(inner=inner):
            return base_value(inner)
    return None


def variants(typ: t.Type, pool: Pool) -> list[Variant]:
    """Labelled alternatives to :func:`base_value` of ``typ`` (never the base value itself)."""
    base = base_value(typ)
    out = [v for v in _variants(typ, pool) if v[2] != base or type(v[2]) is not type(base)]
    unique: list[Variant] = []
    seen: set[str] = set()
    for variant in out:
        key = repr(variant[2])
        if key not in seen:
            seen.add(key)
            unique.append(variant)
    return unique[:MAX_VARIANTS]


def _variants(typ: t.Type, pool: Pool) -> list[Variant]:
    match typ:
        case t.Prim(name="int"):
            return pool.boundaries(as_int=True)
        case t.Prim(name="float"):
            return pool.boundaries(as_int=False)
        case t.Prim(name="string"):
            return [(f"string {s!r} ({where})", "literal", s, "")
                    for s, where in pool.strings.items()]
        case t.Prim(name="bool"):
            return [("true", "literal", True, "")]
        case t.Prim(name="any"):
            return [*pool.boundaries(as_int=False), ("null", "null", None, "")]
        case t.OptionalOf(inner=inner):
            return [("null", "null", None, ""), *_variants(inner, pool)]
        case t.ListOf(item=item):
            return [("empty list", "empty", [], ""),
                    *[(f"[{label}]", cat, [v], g) for label, cat, v, g in _variants(item, pool)]]
        case t.MapOf(value=value):
            out: list[Variant] = []
            # A map needs one entry to carry a value; without constant keys any key serves.
            for key in pool.keys or {"x": None}:
                out.append((f"key {key!r}", "value", {key: base_value(value)}, ""))
                out.extend((f"{key!r}: {label}", cat, {key: v}, f"{key}/{g}" if g else "")
                           for label, cat, v, g in _variants(value, pool))
            return out
        case t.Record(fields=fields):
            base = base_value(typ)
            return [(f".{name} {label}", cat, {**base, name: v}, f"{name}/{g}" if g else "")
                    for name, ft in fields for label, cat, v, g in _variants(ft, pool)]
    return []
