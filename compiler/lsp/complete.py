"""Completion candidates at a cursor position.

Role: decide from the text before the cursor what is being typed (``$input.``, ``$step.``,
``$step.<id>.`` and deeper fields, ``arms.`` and ``arms.<name>.`` in a policy, a step kind inside
``id(``, an argument name under a step head, or a bare word in an expression) and list what fits.

Input: a :class:`~.workspace.Snapshot` (the last check of the document's group; the line being
typed often does not parse, but the rest of the document does, so step ids, inputs and types
come from it), the document's path, the editor's text of the cursor's line and the lines above,
and the cursor's code-point column.  Output: :class:`Item` values, unsorted by relevance (the
editor filters by the typed prefix).

Invariants: the context is read from text, never from the AST node at the cursor, so completion
works while the value at the cursor is still invalid; nothing here changes the snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ...stdlib.builtins import BUILTINS
from ...stdlib.signatures import STDLIB, Registry
from .. import nodes as n
from .. import types as t
from .analysis import data_text, default_text, find_step, iter_steps, kind_signature
from .workspace import Snapshot

_STEP_FIELDS = re.compile(r"\$step\.([A-Za-z_]\w*)\.((?:[A-Za-z_]\w*\.)*)\w*$")
_STEP_IDS = re.compile(r"\$step\.\w*$")
_INPUTS = re.compile(r"\$input\.\w*$")
_DOLLAR = re.compile(r"\$\w*$")
_ARM_FIELDS = re.compile(r"(?<![\w.$])arms\.([A-Za-z_]\w*)\.\w*$")
_ARMS = re.compile(r"(?<![\w.$])arms\.\w*$")
_KIND = re.compile(r"^\s*-\s*[A-Za-z_]\w*\(\s*[\w.]*$")
_KEY = re.compile(r"^(\s*)@?\w*$")
_STEP_HEAD = re.compile(r"^\s*-\s*([A-Za-z_]\w*)\(\s*([\w.]+)\s*\)\s*:")
_WORD = re.compile(r"(?<![\w.$])[A-Za-z_]\w*$|(?<![\w.$])$")
_OPTIONS = ("@timeout", "@retry", "@on_error")


@dataclass(frozen=True, slots=True)
class Item:
    """A completion candidate; ``kind`` is a name of LSP's ``CompletionItemKind``."""

    label: str
    kind: str
    detail: str = ""
    documentation: str = ""


def _record_fields(found: t.Type | None, path: Sequence[str]) -> list[tuple[str, t.Type]]:
    """The fields of ``found`` after following ``path`` through records."""
    current = found
    for name in path:
        current = t.strip_optional(current) if current is not None else None
        current = current.get(name) if isinstance(current, t.Record) else None
    current = t.strip_optional(current) if current is not None else None
    if isinstance(current, t.ListOf):  # a step in a `for` body reads as a list after it
        current = t.strip_optional(current.item)
    return list(current.fields) if isinstance(current, t.Record) else []


def complete(
    snapshot: Snapshot | None, path: str, lines: Sequence[str], line: int, column: int
) -> list[Item]:
    """Candidates for the cursor at 1-based ``line`` and code-point ``column`` of ``lines``."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    before = text[: column - 1]
    doc = snapshot.document(path) if snapshot is not None else None
    registry: Registry = STDLIB
    if snapshot is not None and snapshot.result.registry is not None:
        registry = snapshot.result.registry

    if match := _STEP_FIELDS.search(before):
        if not isinstance(doc, n.Workflow) or snapshot is None:
            return []
        check = snapshot.result.check_result
        result = check.step_results.get(doc.name, {}).get(match[1]) if check else None
        path_parts = [p for p in match[2].split(".") if p]
        return [Item(name, "Field", t.render(ft))
                for name, ft in _record_fields(result, path_parts)]
    if _STEP_IDS.search(before):
        if not isinstance(doc, n.Workflow):
            return []
        return [Item(s.id, "Variable", s.kind) for s in iter_steps(doc.steps)]
    if _INPUTS.search(before):
        if doc is None:
            return []
        return [Item(i.name, "Variable", t.render(t.from_type_expr(i.type))) for i in doc.inputs]
    if _DOLLAR.search(before):
        return [Item("$input", "Keyword", "the workflow's inputs"),
                Item("$step", "Keyword", "the results of earlier steps")]
    if isinstance(doc, n.Policy):
        if match := _ARM_FIELDS.search(before):
            arm = next((a for a in doc.arms if a.name == match[1]), None)
            if arm is None and match[1] == "active" and doc.arms:
                arm = doc.arms[0]
            fields = arm.fields if arm is not None else ()
            return [Item(f.key, "Field", data_text(f.value)) for f in fields]
        if _ARMS.search(before):
            items = [Item("active", "EnumMember", "the arm selected for this decision")]
            return items + [Item(a.name, "EnumMember", "arm") for a in doc.arms]
    if _KIND.search(before):
        return [Item(k.name, "Class", kind_signature(k), k.doc) for k in registry]
    key = _KEY.match(before)
    if key is not None and not isinstance(doc, n.Policy):
        head = _enclosing_step(lines, line, len(key[1]))
        if head is not None:
            return _argument_items(doc, registry, head)
    in_value = ": " in before or (isinstance(doc, n.Policy) and bool(before.strip()))
    if in_value and _WORD.search(before):
        return _expression_items(doc)
    return []


def _enclosing_step(lines: Sequence[str], line: int, indent: int) -> tuple[str, str] | None:
    """(id, kind) of the step head whose arguments the cursor's line is among."""
    for number in range(line - 1, 0, -1):
        text = lines[number - 1]
        stripped = text.lstrip()
        if not stripped or stripped.startswith("#"):
            continue
        if len(text) - len(stripped) >= indent:
            continue
        head = _STEP_HEAD.match(text)
        if head is None or text.rstrip().endswith("}"):
            return None
        return head[1], head[2]
    return None


def _argument_items(doc: n.Workflow | None, registry: Registry, head: tuple[str, str]
                    ) -> list[Item]:
    step = find_step(doc, head[0]) if doc is not None else None
    given = {b.name for b in step.args} if step is not None else set()
    if step is not None and step.policy is not None:
        given.add("policy")
    if step is not None and step.flow is not None:
        given.add("flow")
    kind = registry.get(head[1])
    items: list[Item] = []
    for spec in kind.args if kind is not None else ():
        if spec.name in given:
            continue
        default = "" if spec.required else f" = {default_text(spec.default)}"
        items.append(Item(spec.name, "Property", f"{spec.type}{default}", spec.doc))
    if step is not None:
        options = step.options
        given.update(name for name, value in (("@timeout", options.timeout),
                                              ("@retry", options.retry),
                                              ("@on_error", options.on_error)) if value)
    items.extend(Item(option, "Keyword", "step option") for option in _OPTIONS
                 if option not in given)
    return items


def _expression_items(doc: n.Workflow | n.Policy | None) -> list[Item]:
    items = [Item(b.name, "Function", b.signature, b.doc) for b in BUILTINS.values()]
    if isinstance(doc, n.Policy):
        names = [i.name for i in doc.inputs] or ["values"]
        items.extend(Item(name, "Variable", "input") for name in names)
        items.extend(Item(p.name, "Constant", data_text(p.value)) for p in doc.params)
        items.append(Item("arms", "Module", "the policy's arms"))
        seen: set[str] = set()
        pending: list[n.PStmt] = list(doc.evaluate)
        while pending:
            stmt = pending.pop()
            match stmt:
                case n.Assign(target=target):
                    seen.add(target)
                case n.Choose(options=options):
                    seen.update(o.target for o in options if o.target is not None)
                case n.If(branches=branches, orelse=orelse):
                    pending.extend(s for b in branches for s in b.body)
                    pending.extend(orelse or ())
        items.extend(Item(name, "Variable", "variable") for name in sorted(seen))
    elif isinstance(doc, n.Workflow):
        items.append(Item("$input", "Keyword", "the workflow's inputs"))
        items.append(Item("$step", "Keyword", "the results of earlier steps"))
    return items
