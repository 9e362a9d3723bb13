"""Typed step-kind signatures: the stdlib registry's type strings turned into types.

Role: the bridge between ``tracemind.stdlib.signatures`` (pure data, type strings) and the
checker (types).  Each kind is converted once per :class:`KindTable` and cached.

Input: a :class:`~tracemind.stdlib.signatures.Registry`; :func:`default_registry` builds the
usual one, the stdlib kinds plus those of installed plugins (read as data, never imported).
Output: :class:`KindSig` values, or a ValueError naming what is wrong with a kind's signature
(a plugin can declare a bad type string or a default that does not fit its type).

Invariant: stdlib signatures always convert (a test checks every one, defaults included).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..stdlib.registry import discover_plugin_signatures
from ..stdlib.signatures import REQUIRED, STDLIB, JSONValue, Registry, StepKind
from . import types as t

_DURATION = re.compile(r"[0-9]+(\.[0-9]+)?(ms|s|m|h)")


def default_registry() -> Registry:
    """The stdlib kinds plus every installed plugin's kinds (``tracemind.stdlib.registry``);
    raises :class:`~tracemind.stdlib.registry.PluginError` naming the plugin when a plugin's
    signature file cannot be read or its kinds clash."""
    return STDLIB.with_kinds(discover_plugin_signatures())


@dataclass(frozen=True, slots=True)
class ParamSig:
    name: str
    type: t.Type
    required: bool
    name_field: bool


@dataclass(frozen=True, slots=True)
class KindSig:
    kind: StepKind
    params: dict[str, ParamSig]
    result: t.Type

    @property
    def generic(self) -> bool:
        return bool(self.kind.type_params)


def typed_kind(kind: StepKind) -> KindSig:
    """The typed signature of ``kind``; ValueError if a type string or default is invalid."""
    params: dict[str, ParamSig] = {}
    for arg in kind.args:
        typ = t.parse_type_string(arg.type, kind.type_params)
        if typ == t.NEVER:
            raise ValueError(f"argument `{arg.name}` of `{kind.name}` cannot be `never`")
        if arg.default is not REQUIRED and not json_fits(arg.default, typ):
            raise ValueError(
                f"default {arg.default!r} of `{kind.name}` argument `{arg.name}` "
                f"is not a `{t.render(typ)}`"
            )
        params[arg.name] = ParamSig(arg.name, typ, arg.required, arg.name_field)
    result = t.parse_type_string(kind.result, kind.type_params)
    return KindSig(kind, params, result)


def json_fits(value: JSONValue, typ: t.Type) -> bool:
    """Whether a JSON-compatible default fits ``typ`` (durations are their source text)."""
    match typ:
        case t.Prim(name="any"):
            return True
        case t.Prim(name="duration"):
            return isinstance(value, str) and _DURATION.fullmatch(value) is not None
        case t.TypeParam():
            return True
        case t.OptionalOf(inner=inner):
            return value is None or json_fits(value, inner)
        case t.ListOf(item=item):
            return isinstance(value, list) and all(json_fits(v, item) for v in value)
        case t.MapOf(value=member):
            return isinstance(value, dict) and all(json_fits(v, member) for v in value.values())
        case t.Record():
            if not isinstance(value, dict):
                return False
            return all(
                (name in value and json_fits(value[name], ft))
                or (name not in value and t.assignable(t.NULL, ft))
                for name, ft in typ.fields
            )
    if isinstance(value, list | dict):
        return False
    return t.assignable(t.type_of_scalar(value), typ)


class KindTable:
    """Typed signatures of a registry's kinds, converted on first use."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._cache: dict[str, KindSig | ValueError] = {}

    def names(self) -> list[str]:
        return self.registry.names()

    def get(self, name: str) -> KindSig | ValueError | None:
        """The typed signature, the error that makes it unusable, or None if unknown."""
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        kind = self.registry.get(name)
        if kind is None:
            return None
        try:
            sig: KindSig | ValueError = typed_kind(kind)
        except ValueError as exc:
            sig = exc
        self._cache[name] = sig
        return sig
