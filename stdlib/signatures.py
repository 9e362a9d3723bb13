"""The step-kind registry: typed signatures of every step kind, as pure data.

Role: the one declaration of what each step kind accepts and returns.  The compiler reads it to
check steps (``tracemind.compiler`` converts the type strings with its own type parser), the
editor reads it for hover text, docs and testgen read it for tables; the runtime maps the same
names to implementations elsewhere.  This module imports nothing from the compiler or runtime.

Input: nothing (stdlib kinds are literals here) or, for plugin kinds, JSON-shaped metadata read
from the plugin package's ``tracemind-steps.json`` (:func:`kind_from_metadata`; ``registry.py``
finds the file), never by importing the plugin's code.

Output: :class:`StepKind` values in a :class:`Registry`.

Invariants:
- Types are strings in the type syntax of ``inputs:`` fields (``map<string>``, ``{status: int}``,
  ``list<any>?``); names listed in :attr:`StepKind.type_params` are generic (``T``), and the
  result ``never`` means the kind never returns normally.
- Defaults are JSON-compatible values (durations as their source text, ``"10s"``); an argument
  without a default holds :data:`REQUIRED`.
- Names are unique within a registry; a plugin kind cannot replace a stdlib kind.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Final

JSONValue = None | bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"]


class _Required(Enum):
    """The marker of an argument without a default (an enum member, so it is a singleton)."""

    REQUIRED = "required"

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Final = _Required.REQUIRED


class Special(StrEnum):
    """Kinds whose signature depends on another document of the compilation."""

    POLICY = "policy"
    """``policy.apply``: the arguments are the bound policy's inputs, the result its emit record."""
    FLOW = "flow"
    """``flow.call``: the result is the called flow's outputs record."""


@dataclass(frozen=True, slots=True)
class ArgSpec:
    """One argument of a step kind.

    ``name_field`` marks an argument written as a name field (``policy:`` of ``policy.apply``,
    ``flow:`` of ``flow.call``): the parser stores it on the step, not among the bindings.
    """

    name: str
    type: str
    default: JSONValue | _Required = REQUIRED
    doc: str = ""
    name_field: bool = False

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True, slots=True)
class StepKind:
    """The typed signature of one step kind (``core.log``, ``http.get``...)."""

    name: str
    args: tuple[ArgSpec, ...]
    result: str
    pure: bool
    doc: str
    type_params: tuple[str, ...] = ()
    special: Special | None = None
    origin: str = "stdlib"
    """``stdlib`` or the distribution name of the plugin that declares the kind."""

    def arg(self, name: str) -> ArgSpec | None:
        for spec in self.args:
            if spec.name == name:
                return spec
        return None

    @property
    def never_returns(self) -> bool:
        return self.result == "never"


@dataclass(frozen=True, slots=True)
class Registry:
    """Step kinds by name.  Build one with :meth:`with_kinds` to add plugin kinds."""

    kinds: Mapping[str, StepKind] = field(default_factory=dict)

    def get(self, name: str) -> StepKind | None:
        return self.kinds.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self.kinds

    def __iter__(self) -> Iterator[StepKind]:
        return iter(self.kinds.values())

    def names(self) -> list[str]:
        return sorted(self.kinds)

    def with_kinds(self, kinds: Iterable[StepKind]) -> Registry:
        """A new registry with ``kinds`` added; raises ValueError on a name already taken."""
        merged = dict(self.kinds)
        for kind in kinds:
            if kind.name in merged:
                taken = merged[kind.name].origin
                raise ValueError(f"step kind `{kind.name}` is already declared by {taken}")
            merged[kind.name] = kind
        return Registry(merged)


def _arg(
    name: str,
    type_: str,
    default: JSONValue | _Required = REQUIRED,
    doc: str = "",
    *,
    name_field: bool = False,
) -> ArgSpec:
    return ArgSpec(name, type_, default, doc, name_field)


_HTTP_RESULT = "{status: int, headers: map<string>, body: string, json: any}"

STDLIB_KINDS: Final[tuple[StepKind, ...]] = (
    StepKind(
        "core.log",
        (_arg("message", "any", doc="what to log"),
         _arg("level", "string", "info", "debug, info, warning or error")),
        "{}", pure=False, doc="Write a message to the run's log.",
    ),
    StepKind(
        "core.set",
        (_arg("value", "T", doc="the value to bind"),),
        "{value: T}", pure=True, doc="Build a value and bind it to the step's id.",
        type_params=("T",),
    ),
    StepKind(
        "core.fail",
        (_arg("message", "string", doc="why the run fails"),
         _arg("code", "string", "failed", "a machine-readable error code")),
        "never", pure=False, doc="Fail the run with a message (never returns).",
    ),
    StepKind(
        "core.sleep",
        (_arg("duration", "duration", doc="how long to wait"),),
        "{}", pure=False, doc="Wait for a duration.",
    ),
    StepKind(
        "http.get",
        (_arg("url", "string", doc="the URL to fetch"),
         _arg("headers", "map<string>", {}, "request headers"),
         _arg("timeout", "duration", "10s", "request timeout")),
        _HTTP_RESULT, pure=False, doc="Send an HTTP GET request.",
    ),
    StepKind(
        "http.post",
        (_arg("url", "string", doc="the URL to post to"),
         _arg("json", "any", None, "a JSON body"),
         _arg("body", "string", "", "a raw body (when `json` is null)"),
         _arg("headers", "map<string>", {}, "request headers"),
         _arg("timeout", "duration", "10s", "request timeout")),
        _HTTP_RESULT, pure=False, doc="Send an HTTP POST request.",
    ),
    StepKind(
        "opcua.read",
        (_arg("endpoint", "string", doc="the server URL, opc.tcp://host:port"),
         _arg("node_ids", "list<string>", doc="the nodes to read")),
        "{values: map<any>}", pure=False, doc="Read OPC UA node values (node id -> value).",
    ),
    StepKind(
        "opcua.write",
        (_arg("endpoint", "string", doc="the server URL, opc.tcp://host:port"),
         _arg("node_id", "string", doc="the node to write"),
         _arg("value", "any", doc="the value to write")),
        "{status: string}", pure=False, doc="Write one OPC UA node value.",
    ),
    StepKind(
        "policy.apply",
        (_arg("policy", "string", doc="the policy to apply (v0: the PDL with the same file stem)",
              name_field=True),),
        "any", pure=False,
        doc="Evaluate a policy; the arguments are its inputs, the result its emit record.",
        special=Special.POLICY,
    ),
    StepKind(
        "flow.call",
        (_arg("flow", "string", doc="the flow of the bundle to run", name_field=True),
         _arg("inputs", "map<any>", doc="the called flow's inputs")),
        "any", pure=False, doc="Run another flow of the bundle and return its outputs.",
        special=Special.FLOW,
    ),
    StepKind(
        "mcp.call",
        (_arg("server", "string", doc="a configured MCP server"),
         _arg("tool", "string", doc="the tool to call"),
         _arg("arguments", "map<any>", {}, "the tool's arguments")),
        "{content: list<any>, structured: any, is_error: bool}", pure=False,
        doc="Call a tool on a configured MCP server.",
    ),
)

STDLIB: Final = Registry({kind.name: kind for kind in STDLIB_KINDS})


# ---------------------------------------------------------------------------------------------
# Plugin kinds from metadata

_KIND_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*")
_ARG_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def kind_from_metadata(data: Mapping[str, object], origin: str) -> StepKind:
    """A :class:`StepKind` from JSON-shaped plugin metadata; raises ValueError when malformed.

    The shape mirrors :class:`StepKind`::

        {"name": "acme.scan", "doc": "...", "pure": false, "result": "{hits: list<string>}",
         "args": [{"name": "target", "type": "string"},
                  {"name": "depth", "type": "int", "default": 2}],
         "type_params": []}

    Type strings are not parsed here (the compiler does that and reports bad ones).
    """
    name = _text(data, "name", origin)
    if not _KIND_NAME.fullmatch(name):
        raise ValueError(f"{origin}: step kind name `{name}` is not `package.operation`")
    raw_args = data.get("args", [])
    if not isinstance(raw_args, list):
        raise ValueError(f"{origin}: `args` of `{name}` must be a list")
    args: list[ArgSpec] = []
    for raw in raw_args:
        if not isinstance(raw, Mapping):
            raise ValueError(f"{origin}: each argument of `{name}` must be a mapping")
        arg_name = _text(raw, "name", origin)
        if not _ARG_NAME.fullmatch(arg_name) or any(a.name == arg_name for a in args):
            raise ValueError(f"{origin}: bad or duplicate argument `{arg_name}` of `{name}`")
        default: JSONValue | _Required = REQUIRED
        if "default" in raw:
            default = _json(raw["default"], origin)
        args.append(ArgSpec(arg_name, _text(raw, "type", origin), default, _opt_text(raw, "doc")))
    pure = data.get("pure", False)
    if not isinstance(pure, bool):
        raise ValueError(f"{origin}: `pure` of `{name}` must be true or false")
    params = data.get("type_params", [])
    if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
        raise ValueError(f"{origin}: `type_params` of `{name}` must be a list of names")
    return StepKind(
        name,
        tuple(args),
        _text(data, "result", origin),
        pure=pure,
        doc=_opt_text(data, "doc"),
        type_params=tuple(str(p) for p in params),
        origin=origin,
    )


def _text(data: Mapping[str, object], key: str, origin: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{origin}: `{key}` must be a non-empty string")
    return value


def _opt_text(data: Mapping[str, object], key: str) -> str:
    value = data.get(key, "")
    return value if isinstance(value, str) else ""


def _json(value: object, origin: str) -> JSONValue:
    """``value`` if it is JSON-compatible (checked iteratively), else ValueError."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            if not all(isinstance(k, str) for k in item):
                raise ValueError(f"{origin}: default values must have string keys")
            pending.extend(item.values())
        elif item is not None and not isinstance(item, bool | int | float | str):
            raise ValueError(f"{origin}: default value {item!r} is not JSON-compatible")
    return value  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------
# Trigger kinds


@dataclass(frozen=True, slots=True)
class TriggerKind:
    """A trigger section of a workflow (``triggers: cron: {...}``) and its typed fields."""

    name: str
    fields: tuple[ArgSpec, ...]
    doc: str

    def field(self, name: str) -> ArgSpec | None:
        for spec in self.fields:
            if spec.name == name:
                return spec
        return None


TRIGGER_KINDS: Final[dict[str, TriggerKind]] = {
    kind.name: kind
    for kind in (
        TriggerKind(
            "cron",
            (_arg("schedule", "string", doc="a cron expression in croniter syntax"),
             _arg("timezone", "string", "UTC", "an IANA time zone such as Europe/Berlin")),
            "Start a run on a schedule.",
        ),
        TriggerKind(
            "webhook",
            (_arg("route", "string", doc="the HTTP path, starting with /"),
             _arg("method", "string", "POST", "GET, POST, PUT, PATCH or DELETE"),
             _arg("secret_env", "string?", None,
                  "environment variable holding the shared secret"),
             _arg("idempotency_key", "string?", None,
                  "the request header or body field whose value de-duplicates deliveries")),
            "Start a run for each HTTP request to a route.",
        ),
        TriggerKind(
            "fs",
            (_arg("path", "string", doc="the directory to watch"),
             _arg("pattern", "string", "*", "a glob for the file names that start a run")),
            "Start a run for each new or changed file in a directory.",
        ),
    )
}

WEBHOOK_METHODS: Final = ("GET", "POST", "PUT", "PATCH", "DELETE")
