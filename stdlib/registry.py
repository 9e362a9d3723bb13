"""Where step kinds come from: implementations for the runtime, plugin signatures for the compiler.

Role: the one lookup from a step kind's name to what runs it (:func:`implementation`), over the
stdlib kinds (imported lazily per family, so a flow that only logs never imports asyncua) and
the kinds of installed plugins; and the discovery of the plugins' typed signatures as data
(:func:`discover_plugin_signatures`), so the compiler checks plugin steps without importing
plugin code.

Plugins are Python distributions that declare an entry point in the group ``tracemind.steps``
(``name = "package.module:ATTR"``), where ``ATTR`` is a mapping from kind name to async
implementation, and ship ``tracemind-steps.json`` as package data in the top-level package of
that module: a JSON list of kind metadata in the format of
:func:`~.signatures.kind_from_metadata`.  examples/plugin-steps/ is a worked example.

Input: the installed distributions (``importlib.metadata``) and, for signatures, the files
their entry points lead to.  Output: implementations (:data:`~.call.StepImpl`),
:class:`~.signatures.StepKind` values, and :class:`PluginError` / :class:`StepKindUnavailable`
with messages that name the plugin, the entry point and the file.

Invariants:
- Signature discovery never imports plugin code: the package directory comes from
  ``importlib.util.find_spec`` on the top-level package name, which imports nothing.
- A plugin cannot replace a stdlib kind, and two plugins cannot declare the same kind.
- ``mcp.call`` is declared but has no implementation in this release: looking it up raises
  :class:`StepKindUnavailable` saying so.
- Discovery results are cached per ``sys.path``; :func:`clear_plugin_caches` forgets them.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from .call import StepImpl
from .signatures import STDLIB, StepKind, kind_from_metadata

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

__all__ = [
    "ENTRY_POINT_GROUP",
    "SIGNATURE_FILE",
    "PluginError",
    "PluginScan",
    "StepKindUnavailable",
    "clear_plugin_caches",
    "discover_plugin_signatures",
    "implementation",
    "scan_plugin_signatures",
]

ENTRY_POINT_GROUP: Final = "tracemind.steps"
SIGNATURE_FILE: Final = "tracemind-steps.json"

_STDLIB_IMPLEMENTATIONS: Final[dict[str, tuple[str, str]]] = {
    "core.log": ("core", "core_log"),
    "core.set": ("core", "core_set"),
    "core.fail": ("core", "core_fail"),
    "core.sleep": ("core", "core_sleep"),
    "http.get": ("http", "http_get"),
    "http.post": ("http", "http_post"),
    "opcua.read": ("opcua", "opcua_read"),
    "opcua.write": ("opcua", "opcua_write"),
    "policy.apply": ("policy_apply", "policy_apply"),
    "flow.call": ("flow_call", "flow_call"),
}
"""Stdlib kind -> (module of this package, function): imported on first use."""

_NOT_YET: Final[dict[str, str]] = {
    "mcp.call": "step kind mcp.call has no implementation in this release; "
    "it arrives with MCP support",
}
"""Declared stdlib kinds without an implementation, and why."""


class StepKindUnavailable(LookupError):
    """No implementation can run this step kind (unknown, not implemented, or a broken plugin)."""


class PluginError(ValueError):
    """An installed plugin's signatures cannot be read (one message line per problem)."""


# ---------------------------------------------------------------------------------------------
# Runtime: implementations


def implementation(kind: str) -> StepImpl:
    """The implementation of step kind ``kind``; :class:`StepKindUnavailable` when none."""
    target = _STDLIB_IMPLEMENTATIONS.get(kind)
    if target is not None:
        module = importlib.import_module(f"{__package__}.{target[0]}")
        impl: StepImpl = getattr(module, target[1])
        return impl
    reason = _NOT_YET.get(kind)
    if reason is not None:
        raise StepKindUnavailable(reason)
    table = _plugin_implementations(tuple(sys.path))
    found = table.implementations.get(kind)
    if found is not None:
        return found
    clash = table.clashes.get(kind)
    if clash is not None:
        raise StepKindUnavailable(clash)
    message = f"unknown step kind `{kind}`: neither the stdlib nor an installed plugin has it"
    if table.problems:
        message += "; plugins that failed to load:\n  " + "\n  ".join(table.problems)
    raise StepKindUnavailable(message)


@dataclass(frozen=True, slots=True)
class _PluginTable:
    implementations: dict[str, StepImpl]
    clashes: dict[str, str]
    problems: tuple[str, ...]


@functools.cache
def _plugin_implementations(path: tuple[str, ...]) -> _PluginTable:
    """Load every ``tracemind.steps`` entry point (``path`` is the cache key: ``sys.path``)."""
    implementations: dict[str, StepImpl] = {}
    origins: dict[str, str] = {}
    clashes: dict[str, str] = {}
    problems: list[str] = []
    for entry in _entry_points():
        origin = _origin(entry)
        try:
            table = entry.load()
        except Exception as exc:
            problems.append(
                f"plugin {origin}: cannot load entry point `{entry.name} = {entry.value}` "
                f"({type(exc).__name__}: {exc})"
            )
            continue
        if not isinstance(table, Mapping):
            problems.append(
                f"plugin {origin}: entry point `{entry.name} = {entry.value}` must be a mapping "
                f"from step kind to async function, not {type(table).__name__}"
            )
            continue
        for kind, impl in table.items():
            if not isinstance(kind, str) or not callable(impl):
                problems.append(
                    f"plugin {origin}: entry point `{entry.name}` maps {kind!r} to "
                    f"{type(impl).__name__}; want a kind name and an async function"
                )
            elif kind in STDLIB:
                problems.append(f"plugin {origin}: step kind `{kind}` belongs to the stdlib")
            elif kind in origins and origins[kind] != origin:
                clashes[kind] = (
                    f"step kind `{kind}` is provided by two plugins, {origins[kind]} and "
                    f"{origin}; uninstall one"
                )
            else:
                implementations[kind] = impl
                origins[kind] = origin
    for kind in clashes:
        implementations.pop(kind, None)
    return _PluginTable(implementations, clashes, tuple(problems))


# ---------------------------------------------------------------------------------------------
# Compiler: signatures as data


@dataclass(frozen=True, slots=True)
class PluginScan:
    """What the installed plugins declare: the kinds that could be read, and the problems."""

    kinds: tuple[StepKind, ...]
    problems: tuple[str, ...]


def discover_plugin_signatures() -> list[StepKind]:
    """The typed signatures of every installed plugin's kinds, read without importing plugin
    code; :class:`PluginError` listing every problem when a plugin's file is missing or
    malformed or its kinds clash with the stdlib or another plugin."""
    scan = scan_plugin_signatures()
    if scan.problems:
        raise PluginError("\n".join(scan.problems))
    return list(scan.kinds)


def scan_plugin_signatures() -> PluginScan:
    """Like :func:`discover_plugin_signatures`, but problems are returned, not raised."""
    return _scan(tuple(sys.path))


def clear_plugin_caches() -> None:
    """Forget discovered plugins (after installing one into a running process)."""
    _scan.cache_clear()
    _plugin_implementations.cache_clear()


@functools.cache
def _scan(path: tuple[str, ...]) -> PluginScan:
    """Scan the ``tracemind.steps`` entry points (``path`` is the cache key: ``sys.path``)."""
    kinds: dict[str, StepKind] = {}
    problems: list[str] = []
    seen: set[str] = set()
    for entry in _entry_points():
        origin = _origin(entry)
        try:
            file = _signature_file(entry, origin)
            if file in seen:
                continue
            seen.add(file)
            declared = _read_signatures(file, origin)
        except PluginError as exc:
            problems.append(str(exc))
            continue
        for kind in declared:
            if kind.name in STDLIB:
                problems.append(f"plugin {origin}: step kind `{kind.name}` belongs to the stdlib")
            elif kind.name in kinds:
                problems.append(
                    f"plugin {origin}: step kind `{kind.name}` is also declared by "
                    f"{kinds[kind.name].origin}; uninstall one"
                )
            else:
                kinds[kind.name] = kind
    return PluginScan(tuple(kinds.values()), tuple(problems))


def _signature_file(entry: EntryPoint, origin: str) -> str:
    """The path of the plugin's signature file, found without importing the package."""
    top = entry.value.split(":", 1)[0].strip().split(".", 1)[0]
    where = f"plugin {origin} (entry point `{entry.name} = {entry.value}`)"
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError) as exc:
        raise PluginError(f"{where}: cannot locate package `{top}` ({exc})") from None
    if spec is None:
        raise PluginError(f"{where}: package `{top}` is not installed")
    locations = spec.submodule_search_locations
    if not locations:
        raise PluginError(
            f"{where}: `{top}` is a module, not a package; {SIGNATURE_FILE} must ship inside "
            "a package"
        )
    for location in locations:
        candidate = os.path.join(location, SIGNATURE_FILE)
        if os.path.isfile(candidate):
            return candidate
    raise PluginError(
        f"{where}: package `{top}` has no {SIGNATURE_FILE} (ship it as package data next to "
        f"its __init__.py; looked in {', '.join(locations)})"
    )


def _read_signatures(file: str, origin: str) -> list[StepKind]:
    where = f"plugin {origin}: {file}"
    try:
        with open(file, encoding="utf-8") as stream:
            data: Any = json.load(stream)
    except OSError as exc:
        raise PluginError(f"{where}: cannot read it ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise PluginError(f"{where}: not valid JSON ({exc})") from None
    if not isinstance(data, list):
        raise PluginError(f"{where}: must hold a JSON list of step kinds, not {_json_kind(data)}")
    kinds: list[StepKind] = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise PluginError(f"{where}: item {index + 1} must be an object, not "
                              f"{_json_kind(item)}")
        try:
            kinds.append(kind_from_metadata(item, origin))
        except ValueError as exc:
            raise PluginError(f"{where}: item {index + 1}: {exc}") from None
    return kinds


def _json_kind(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "a string" if isinstance(value, str) else "a scalar"


def _entry_points() -> Iterable[EntryPoint]:
    from importlib.metadata import entry_points

    return sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (e.value, e.name))


def _origin(entry: EntryPoint) -> str:
    dist = entry.dist
    return dist.name if dist is not None else entry.value
