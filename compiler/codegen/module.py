"""Module skeletons: the Jinja2 templates around the generated bodies.

Role: render ``flows/<id>.py`` and ``policies/<id>.py`` from ``templates/*.j2`` (package data):
the header naming the source and the tmc version, the import of exactly the ABI names used,
the metadata tables, the body written by :mod:`.flow`/:mod:`.policy`, and ``SOURCE_MAP``.

Input: an optimized IR flow or policy.  Output: :class:`GeneratedModule` (text and source map).

Invariants:
- Templates see only :class:`Code` (generated source) and values passed through the ``py``
  filter (:func:`.literal.py_literal`); the environment's ``finalize`` refuses anything else,
  so user text cannot reach a template unescaped.
- ``SOURCE_MAP`` keeps a line only where the position changes from the line mapped before it
  (the runtime takes the nearest mapped line above); :attr:`GeneratedModule.source_map` is the
  complete map, for ``sourcemap.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jinja2

from .. import ir
from .flow import flow_parts
from .literal import py_literal, py_literal_lines
from .policy import policy_parts
from .schema import inputs_schema, record_schema
from .writer import Position, Writer

ABI_MODULE = "tracemind.runtime.abi"
WIDTH = 99
_BODY = "\x00body\x00"
_SOURCE_MAP = "\x00source-map\x00"


class Code(str):
    """Generated Python source, safe to place in a template as is."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class GeneratedModule:
    text: str
    source_map: dict[int, Position]
    """Every generated line that evaluates a source construct -> ``(line, column)``."""


def _finalize(value: object) -> str:
    if isinstance(value, Code):
        return value
    raise TypeError(f"template value {value!r} is not code; pass it through the `py` filter")


def _load(name: str) -> str:
    return (resources.files(__package__) / "templates" / name).read_text(encoding="utf-8")


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_load),
        autoescape=False,  # Python source, not HTML: user text only through the `py` filter
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["py"] = lambda value: Code(py_literal(value))
    return env


def import_line(names: set[str]) -> str:
    """``from tracemind.runtime.abi import ...``: constants, then classes, then functions."""

    def order(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    ordered = sorted(names, key=order)
    flat = f"from {ABI_MODULE} import {', '.join(ordered)}"
    if len(flat) <= WIDTH:
        return flat
    return "\n".join([f"from {ABI_MODULE} import (", *(f"    {n}," for n in ordered), ")"])


def _assignment(name: str, value: object) -> Code:
    return Code("\n".join(py_literal_lines(value, 0, WIDTH, prefix=name)))


def _source_map_literal(source_map: Mapping[int, Position]) -> str:
    entries: list[str] = []
    previous: Position | None = None
    for line in sorted(source_map):
        position = source_map[line]
        if position != previous:
            entries.append(f"{line}: ({position[0]}, {position[1]})")
            previous = position
    if not entries:
        return "{}"
    lines: list[str] = []
    current = "   "
    for entry in entries:
        if len(current) + len(entry) + 2 > WIDTH:
            lines.append(current)
            current = "   "
        current += f" {entry},"
    lines.append(current)
    return "{\n" + "\n".join(lines) + "\n}"


def _render(template: str, body: Writer, context: dict[str, Any]) -> GeneratedModule:
    text = _environment().get_template(template).render(
        **context, body=Code(_BODY), source_map=Code(_SOURCE_MAP))
    head, rest = text.split(_BODY)
    middle, tail = rest.split(_SOURCE_MAP)
    offset = head.count("\n")
    source_map = body.source_map(offset)
    body_text = body.text().rstrip("\n")
    return GeneratedModule(
        text=head + body_text + middle + _source_map_literal(source_map) + tail,
        source_map=source_map,
    )


def generate_flow(flow: ir.Flow, *, tmc_version: str,
                  loops: Mapping[str, tuple[str, ...]] | None = None) -> GeneratedModule:
    """The module ``flows/<id>.py`` of ``flow`` (see :func:`.flow.flow_parts` for ``loops``)."""
    parts = flow_parts(flow, loops)
    return _render("flow.py.j2", parts.run, {
        "tmc_version": Code(_version_text(tmc_version)),
        "source_path": flow.path,
        "flow_id": flow.id,
        "imports": Code(import_line(parts.used)),
        "inputs": _assignment("INPUTS: dict[str, object] = ", inputs_schema(flow.inputs)),
        "outputs": _assignment("OUTPUTS: dict[str, object] = ",
                               record_schema(flow.output_type)),
        "sites": Code("\n".join(parts.sites)),
        "blocks": Code("\n".join(parts.blocks)),
    })


def generate_policy(policy: ir.PolicyIR, *, tmc_version: str) -> GeneratedModule:
    """The module ``policies/<id>.py`` of ``policy``."""
    parts = policy_parts(policy)
    return _render("policy.py.j2", parts.run, {
        "tmc_version": Code(_version_text(tmc_version)),
        "source_path": policy.path,
        "policy_id": policy.id,
        "imports": Code(import_line(parts.used)),
        "arms": _assignment("ARMS: dict[str, dict[str, object]] = ", policy.arms),
        "params": _assignment("PARAMS: dict[str, object] = ", policy.params),
        "default_arm": next(iter(policy.arms), ""),
        "inputs": _assignment("INPUTS: dict[str, object] = ", inputs_schema(policy.inputs)),
        "emit": _assignment("EMIT: dict[str, object] = ", record_schema(policy.emit_type)),
    })


def _version_text(version: str) -> str:
    """The compiler's version for the header comment (digits, letters, ``.+-`` only)."""
    if not all(c.isascii() and (c.isalnum() or c in ".+-") for c in version):
        raise ValueError(f"unexpected tmc version {version!r}")
    return version
