"""The check phase: name resolution and type checking of all documents of one run together.

Role: sequence the per-document checkers so that cross-document facts exist when they are
needed: policies first (their emit records type ``policy.apply`` results), then workflows in
call order (``flow.call`` results are the called flow's outputs).  Also reports a workflow or
policy name defined by two files (TM0214).

Input: ``(source, document)`` pairs as the parser produced them, a sink, and optionally the step
registry with plugin kinds added (default: the stdlib registry).
Output: a :class:`CheckResult` (expression types, emit records, policy and flow bindings,
outputs records), diagnostics in the sink.

Invariants: the checker only reports, it never changes the documents; every document is checked
even when another one has errors; ``strict`` adds the TM0604 and TM0607 lint warnings.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from ..stdlib.signatures import STDLIB, Registry
from . import nodes as n
from .check_context import CheckResult, FlowInfo, PolicyInfo, Session
from .check_expr import span_of
from .check_pdl import PolicyChecker
from .check_wdl import WorkflowChecker
from .diagnostics import Note, Sink
from .kinds import KindTable
from .source import SourceFile, Span

__all__ = ["CheckResult", "check"]

Unit = tuple[SourceFile, n.Workflow | n.Policy]


def check(
    units: Sequence[Unit],
    sink: Sink,
    *,
    strict: bool = False,
    registry: Registry | None = None,
) -> CheckResult:
    """Check ``units`` together and report into ``sink``."""
    session = Session(KindTable(registry or STDLIB), strict, CheckResult())
    by_stem: dict[str, list[PolicyInfo]] = {}
    for source, doc in units:
        if isinstance(doc, n.Policy):
            info = PolicyChecker(source, sink, session, doc).run()
            first = session.policies.get(info.name)
            if first is not None:
                _duplicate(sink, source, "policy", info.name, info.span, first.path)
                continue
            session.policies[info.name] = info
            session.result.emits[info.name] = info.emit
            by_stem.setdefault(info.stem, []).append(info)
            session.policies_by_stem[os.path.splitext(info.path)[0]] = info
    for stem, infos in by_stem.items():
        if len(infos) == 1:
            session.policies_by_stem.setdefault(stem, infos[0])

    checkers: list[WorkflowChecker] = []
    for source, doc in units:
        if isinstance(doc, n.Workflow):
            checker = WorkflowChecker(source, sink, session, doc)
            inputs = checker.declare_inputs()
            flow = session.flows.get(doc.name)
            if flow is not None:
                span = span_of(doc.name_span, doc.span)
                _duplicate(sink, source, "workflow", doc.name, span, flow.path)
            else:
                session.flows[doc.name] = FlowInfo(doc.name, source.display_path, inputs)
            checkers.append(checker)
    for checker in _call_order(checkers):
        outputs = checker.run()
        flow = session.flows[checker.wf.name]
        if flow.path == checker.source.display_path:
            flow.outputs = outputs
    return session.result


def _duplicate(
    sink: Sink, source: SourceFile, what: str, name: str, span: Span, first_path: str
) -> None:
    sink.report(
        "TM0214",
        source.display_path,
        span,
        notes=(Note(f"{what} `{name}` is also defined in {first_path}", path=first_path),),
        help=f"rename one of them with `{what}: <name>`",
        what=what,
        name=name,
    )


def _call_order(checkers: list[WorkflowChecker]) -> list[WorkflowChecker]:
    """Callees before callers (``flow.call``); members of a call cycle in input order."""
    by_name = {c.wf.name: c for c in checkers}
    callees: dict[int, set[str]] = {}
    for checker in checkers:
        calls: set[str] = set()
        pending: list[n.Stmt] = list(checker.wf.steps)
        while pending:
            match pending.pop():
                case n.Step(flow=n.NameValue(value=name)) if name in by_name:
                    calls.add(name)
                case n.When(body=body, orelse=orelse):
                    pending.extend(body)
                    pending.extend(orelse or ())
                case n.Parallel(body=body) | n.For(body=body):
                    pending.extend(body)
        calls.discard(checker.wf.name)
        callees[id(checker)] = calls
    order: list[WorkflowChecker] = []
    done: set[str] = set()
    remaining = list(checkers)
    while remaining:
        ready = [c for c in remaining if callees[id(c)] <= done]
        if not ready:
            ready = remaining[:1]
        for checker in ready:
            order.append(checker)
            done.add(checker.wf.name)
        chosen = {id(c) for c in ready}
        remaining = [c for c in remaining if id(c) not in chosen]
    return order
