"""The semantic type model shared by the checker, hover text and code generation.

Role: represent the types of language.md section 3 (``string int float bool null duration any
list<T> map<T> {field: T} T?``, plus ``never`` for a step that never returns and type parameters
for generic step kinds) and answer the questions the checker asks of them: is one assignable to
another, what is the join of two, how does one render.

Input: :class:`~.nodes.TypeExpr` trees (type fields), signature type strings (parsed with the
parser's ``parse_type_text``) and data literals (:class:`~.nodes.Data`).
Output: :class:`Type` values, immutable and hashable.

Invariants:
- ``int`` widens to ``float``; ``any`` is assignable both ways with everything; ``never`` is
  assignable to everything; ``null`` is assignable to ``T?``.
- ``optional`` never nests: ``T??`` is ``T?``, and ``null?``, ``any?``, ``never?`` are not built.
- Record fields keep their declaration order for rendering; comparisons go by field name
  (:func:`same`), never by order.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Final

from . import nodes


@dataclass(frozen=True, slots=True)
class Type:
    """Base of all semantic types."""


@dataclass(frozen=True, slots=True)
class Prim(Type):
    """``string int float bool null duration any never``."""

    name: str


@dataclass(frozen=True, slots=True)
class ListOf(Type):
    item: Type


@dataclass(frozen=True, slots=True)
class MapOf(Type):
    """A map with string keys."""

    value: Type


@dataclass(frozen=True, slots=True)
class Record(Type):
    fields: tuple[tuple[str, Type], ...]

    def get(self, name: str) -> Type | None:
        for field_name, field_type in self.fields:
            if field_name == name:
                return field_type
        return None

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.fields]


@dataclass(frozen=True, slots=True)
class OptionalOf(Type):
    inner: Type


@dataclass(frozen=True, slots=True)
class TypeParam(Type):
    """A generic parameter of a step kind signature (``T`` of ``core.set``)."""

    name: str


STRING: Final = Prim("string")
INT: Final = Prim("int")
FLOAT: Final = Prim("float")
BOOL: Final = Prim("bool")
NULL: Final = Prim("null")
DURATION: Final = Prim("duration")
ANY: Final = Prim("any")
NEVER: Final = Prim("never")
EMPTY_RECORD: Final = Record(())

PRIMITIVES: Final[dict[str, Prim]] = {
    p.name: p for p in (STRING, INT, FLOAT, BOOL, NULL, DURATION, ANY)
}
"""The type names a user may write in a type field."""

NUMERIC: Final = frozenset({INT, FLOAT})
ORDERED: Final = frozenset({INT, FLOAT, STRING, DURATION})
"""Types that ``<``, ``min``, ``max`` and ``sorted`` accept (numbers compare with each other)."""


def optional(t: Type) -> Type:
    """``t?``, without nesting and without wrapping ``null``, ``any`` or ``never``."""
    if isinstance(t, OptionalOf) or t in (NULL, ANY, NEVER):
        return t
    return OptionalOf(t)


def strip_optional(t: Type) -> Type:
    """``T`` of ``T?``; ``t`` itself otherwise."""
    return t.inner if isinstance(t, OptionalOf) else t


def is_numeric(t: Type) -> bool:
    return t in NUMERIC


def render(t: Type) -> str:
    """The type in source syntax: ``list<string>``, ``{temp: float}``, ``int?``."""
    match t:
        case Prim(name=name) | TypeParam(name=name):
            return name
        case ListOf(item=item):
            return f"list<{render(item)}>"
        case MapOf(value=value):
            return f"map<{render(value)}>"
        case Record(fields=fields):
            return "{" + ", ".join(f"{name}: {render(ft)}" for name, ft in fields) + "}"
        case OptionalOf(inner=inner):
            return f"{render(inner)}?"
    raise AssertionError(f"unknown type {t!r}")


def assignable(src: Type, dst: Type) -> bool:
    """Whether a value of type ``src`` may stand where ``dst`` is expected."""
    if src == dst or src in (ANY, NEVER) or dst == ANY:
        return True
    if isinstance(dst, OptionalOf):
        if src == NULL:
            return True
        return assignable(strip_optional(src), dst.inner)
    match src, dst:
        case Prim(), Prim():
            return src == INT and dst == FLOAT
        case ListOf(item=src_item), ListOf(item=dst_item):
            return assignable(src_item, dst_item)
        case MapOf(value=src_value), MapOf(value=dst_value):
            return assignable(src_value, dst_value)
        case Record(fields=src_fields), MapOf(value=dst_value):
            return all(assignable(ft, dst_value) for _, ft in src_fields)
        case Record(), Record(fields=dst_fields):
            for name, want in dst_fields:
                have = src.get(name)
                if have is None:
                    if not isinstance(want, OptionalOf) and want not in (ANY, NULL):
                        return False
                elif not assignable(have, want):
                    return False
            return True
    return False


def join(a: Type, b: Type) -> Type | None:
    """The least type both ``a`` and ``b`` are assignable to, or None when they have none."""
    if a == b:
        return a
    if a == NEVER:
        return b
    if b == NEVER:
        return a
    if ANY in (a, b):
        return ANY
    if a == NULL:
        return optional(b)
    if b == NULL:
        return optional(a)
    if isinstance(a, OptionalOf) or isinstance(b, OptionalOf):
        inner = join(strip_optional(a), strip_optional(b))
        return optional(inner) if inner is not None else None
    match a, b:
        case Prim(), Prim():
            return FLOAT if a in NUMERIC and b in NUMERIC else None
        case ListOf(item=a_item), ListOf(item=b_item):
            item = join(a_item, b_item)
            return ListOf(item) if item is not None else None
        case MapOf(value=a_value), MapOf(value=b_value):
            value = join(a_value, b_value)
            return MapOf(value) if value is not None else None
        case Record(), Record():
            return _join_records(a, b)
        case Record(), MapOf():
            return _join_record_map(a, b)
        case MapOf(), Record():
            return _join_record_map(b, a)
    return None


def _join_record_map(record: Record, mapping: MapOf) -> Type | None:
    value = join_all([mapping.value, *(ft for _, ft in record.fields)])
    return MapOf(value) if value is not None else None


def _join_records(a: Record, b: Record) -> Type | None:
    if sorted(a.names) != sorted(b.names):
        return None
    fields: list[tuple[str, Type]] = []
    for name, a_type in a.fields:
        b_type = b.get(name)
        assert b_type is not None
        joined = join(a_type, b_type)
        if joined is None:
            return None
        fields.append((name, joined))
    return Record(tuple(fields))


def join_all(types: Collection[Type]) -> Type | None:
    """The join of all ``types`` (``never`` for none), or None when some pair has none."""
    result: Type = NEVER
    for t in types:
        joined = join(result, t)
        if joined is None:
            return None
        result = joined
    return result


def same(a: Type, b: Type) -> bool:
    """Structural equality that ignores the order of record fields."""
    match a, b:
        case ListOf(item=a_item), ListOf(item=b_item):
            return same(a_item, b_item)
        case MapOf(value=a_value), MapOf(value=b_value):
            return same(a_value, b_value)
        case OptionalOf(inner=a_inner), OptionalOf(inner=b_inner):
            return same(a_inner, b_inner)
        case Record(), Record():
            if len(a.fields) != len(b.fields):
                return False
            for name, a_type in a.fields:
                b_type = b.get(name)
                if b_type is None or not same(a_type, b_type):
                    return False
            return True
    return a == b


# ---------------------------------------------------------------------------------------------
# Generic signatures


def contains_param(t: Type) -> bool:
    match t:
        case TypeParam():
            return True
        case ListOf(item=inner) | MapOf(value=inner) | OptionalOf(inner=inner):
            return contains_param(inner)
        case Record(fields=fields):
            return any(contains_param(ft) for _, ft in fields)
    return False


def bind_params(param: Type, actual: Type, bindings: dict[str, Type]) -> None:
    """Record in ``bindings`` what the type parameters of ``param`` stand for in ``actual``."""
    match param, actual:
        case TypeParam(name=name), _:
            previous = bindings.get(name)
            joined = actual if previous is None else join(previous, actual)
            bindings[name] = joined if joined is not None else ANY
        case ListOf(item=p), ListOf(item=a):
            bind_params(p, a, bindings)
        case MapOf(value=p), MapOf(value=a):
            bind_params(p, a, bindings)
        case OptionalOf(inner=p), _:
            bind_params(p, strip_optional(actual), bindings)
        case Record(), Record():
            for name, p_type in param.fields:
                a_type = actual.get(name)
                if a_type is not None:
                    bind_params(p_type, a_type, bindings)


def substitute(t: Type, bindings: Mapping[str, Type]) -> Type:
    """``t`` with each type parameter replaced by its binding (``any`` when unbound)."""
    match t:
        case TypeParam(name=name):
            return bindings.get(name, ANY)
        case ListOf(item=item):
            return ListOf(substitute(item, bindings))
        case MapOf(value=value):
            return MapOf(substitute(value, bindings))
        case OptionalOf(inner=inner):
            return optional(substitute(inner, bindings))
        case Record(fields=fields):
            return Record(tuple((name, substitute(ft, bindings)) for name, ft in fields))
    return t


# ---------------------------------------------------------------------------------------------
# Conversions


def from_type_expr(
    node: nodes.TypeExpr,
    *,
    on_unknown: Callable[[nodes.NamedType], None] | None = None,
    params: Collection[str] = (),
    allow_never: bool = False,
) -> Type:
    """The type a type field denotes.  An unknown name is passed to ``on_unknown`` (if given)
    and becomes ``any``, so one bad name does not cascade."""
    match node:
        case nodes.NamedType(name=name):
            if name in params:
                return TypeParam(name)
            if name in PRIMITIVES:
                return PRIMITIVES[name]
            if allow_never and name == "never":
                return NEVER
            if on_unknown is not None:
                on_unknown(node)
            return ANY
        case nodes.ListType(item=item):
            return ListOf(from_type_expr(item, on_unknown=on_unknown, params=params))
        case nodes.MapType(value=value):
            return MapOf(from_type_expr(value, on_unknown=on_unknown, params=params))
        case nodes.RecordType(fields=fields):
            return Record(
                tuple(
                    (f.name, from_type_expr(f.type, on_unknown=on_unknown, params=params))
                    for f in fields
                )
            )
        case nodes.OptionalType(inner=inner):
            return optional(from_type_expr(inner, on_unknown=on_unknown, params=params))
    raise AssertionError(f"unknown type node {node!r}")


def parse_type_string(text: str, params: Collection[str] = ()) -> Type:
    """The type a signature type string denotes; ValueError if it is not a valid type."""
    from .parse import parse_type_text

    def unknown(node: nodes.NamedType) -> None:
        raise ValueError(f"unknown type `{node.name}` in `{text}`")

    return from_type_expr(
        parse_type_text(text), on_unknown=unknown, params=params, allow_never=True
    )


def type_of_data(data: nodes.Data) -> Type:
    """The type of a YAML-flow literal: scalars by the YAML core schema, maps as records."""
    match data:
        case nodes.DataScalar(value=value):
            return type_of_scalar(value)
        case nodes.DataMap(entries=entries):
            return Record(tuple((e.key, type_of_data(e.value)) for e in entries))
        case nodes.DataList(items=items):
            return ListOf(join_all([type_of_data(i) for i in items]) or ANY)
    raise AssertionError(f"unknown data node {data!r}")


def type_of_scalar(value: object) -> Type:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return FLOAT
    return STRING


def literal_type(kind: nodes.LitKind) -> Type:
    return _LITERAL_TYPES[kind]


_LITERAL_TYPES: Final[dict[nodes.LitKind, Type]] = {
    nodes.LitKind.INT: INT,
    nodes.LitKind.FLOAT: FLOAT,
    nodes.LitKind.STRING: STRING,
    nodes.LitKind.BOOL: BOOL,
    nodes.LitKind.NULL: NULL,
    nodes.LitKind.DURATION: DURATION,
}
