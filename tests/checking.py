"""Helpers for checker tests: parse sources from text and check them together."""

from __future__ import annotations

import textwrap

from tracemind.compiler.check import CheckResult, check
from tracemind.compiler.diagnostics import Diagnostic, Sink
from tracemind.compiler.parse import parse_document
from tracemind.compiler.source import SourceFile
from tracemind.stdlib.signatures import Registry


def run(
    files: dict[str, str], *, strict: bool = False, registry: Registry | None = None
) -> tuple[CheckResult, list[Diagnostic]]:
    """Parse each ``path -> text`` (dedented) and check them in one run."""
    sink = Sink(strict=strict)
    units = []
    for path, text in files.items():
        source = SourceFile(path, textwrap.dedent(text).lstrip("\n"))
        doc = parse_document(source, sink, path.rsplit(".", 1)[1])
        assert doc is not None, [d.message for d in sink.diagnostics()]
        units.append((source, doc))
    result = check(units, sink, strict=strict, registry=registry)
    return result, sink.diagnostics()


def codes(diagnostics: list[Diagnostic]) -> list[str]:
    return [d.code for d in diagnostics]


def only(diagnostics: list[Diagnostic], code: str) -> Diagnostic:
    """The one diagnostic with ``code``."""
    found = [d for d in diagnostics if d.code == code]
    assert len(found) == 1, [(d.code, d.message) for d in diagnostics]
    return found[0]


def workflow(steps: str, *, inputs: str = "", outputs: str = "", version: str = "dsl/v1") -> str:
    """A workflow document around indented ``steps`` (and optional inputs/outputs blocks)."""
    parts = [f"version: {version}", "workflow: wf"]
    if inputs:
        parts += ["inputs:", textwrap.indent(textwrap.dedent(inputs).strip("\n"), "  ")]
    parts += ["steps:", textwrap.indent(textwrap.dedent(steps).strip("\n"), "  ")]
    if outputs:
        parts += ["outputs:", textwrap.indent(textwrap.dedent(outputs).strip("\n"), "  ")]
    return "\n".join(parts) + "\n"


def policy(evaluate: str, emit: str, *, head: str = "") -> str:
    """A v1 policy with ``head`` (inputs, arms, parameters), ``evaluate`` and ``emit``."""
    parts = ["version: pdl/v1", "policy: pol"]
    if head:
        parts.append(textwrap.dedent(head).strip("\n"))
    parts += ["evaluate:", textwrap.indent(textwrap.dedent(evaluate).strip("\n"), "  ")]
    parts += ["emit:", textwrap.indent(textwrap.dedent(emit).strip("\n"), "  ")]
    return "\n".join(parts) + "\n"
