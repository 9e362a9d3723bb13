"""What the checkers of one compilation share, and what the check phase hands on.

Role: :class:`Session` carries the cross-document facts (typed step kinds, each policy's inputs
and emit record, each workflow's inputs and outputs) from the documents checked first to those
that use them; :class:`CheckResult` is the phase's output for hover text, lowering and codegen.

Invariants: policies are checked before workflows, and a workflow after the workflows it calls
(``flow.call``) unless they form a cycle; a fact not known yet reads as ``any``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import types as t
from .kinds import KindTable, ParamSig
from .source import NO_SPAN, Span


@dataclass(slots=True)
class PolicyInfo:
    """A checked policy as ``policy.apply`` steps see it."""

    name: str
    path: str
    stem: str
    inputs: dict[str, ParamSig]
    emit: t.Record = t.EMPTY_RECORD
    span: Span = NO_SPAN


@dataclass(slots=True)
class FlowInfo:
    """A workflow as ``flow.call`` steps see it; ``outputs`` is None until it is checked."""

    name: str
    path: str
    inputs: dict[str, ParamSig]
    outputs: t.Record | None = None


@dataclass(slots=True)
class CheckResult:
    """What the check phase found out.

    ``types`` maps ``id(expr)`` of every checked expression node to its type; the ids are valid
    while the documents handed to :func:`~.check.check` are alive.
    """

    types: dict[int, t.Type] = field(default_factory=dict)
    emits: dict[str, t.Record] = field(default_factory=dict)
    """Policy name -> the record type its ``emit`` block produces."""
    policy_bindings: dict[str, dict[str, str]] = field(default_factory=dict)
    """Workflow name -> ``policy.apply`` step id -> the bound policy's name."""
    flow_bindings: dict[str, dict[str, str]] = field(default_factory=dict)
    """Workflow name -> ``flow.call`` step id -> the called workflow's name."""
    outputs: dict[str, t.Record] = field(default_factory=dict)
    """Workflow name -> the record type of its ``outputs``."""
    step_results: dict[str, dict[str, t.Type]] = field(default_factory=dict)
    """Workflow name -> step id -> the type of one run of the step (``$step.<id>``)."""


@dataclass(slots=True)
class Session:
    kinds: KindTable
    strict: bool
    result: CheckResult
    policies: dict[str, PolicyInfo] = field(default_factory=dict)
    policies_by_stem: dict[str, PolicyInfo] = field(default_factory=dict)
    """Policies by file path without suffix, and by bare file stem when that is unambiguous:
    how a ``policy.apply`` step without ``policy:`` finds its policy (the v0 rule)."""
    flows: dict[str, FlowInfo] = field(default_factory=dict)
