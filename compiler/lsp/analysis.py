"""Position lookups over the AST: hover text, go to definition and document symbols.

Role: answer the editor's questions about one position of a checked document, as plain data
(:class:`HoverInfo`, :class:`Target`, :class:`Symbol`) that ``server.py`` turns into LSP types.

Input: a :class:`~.workspace.Snapshot` (documents, sources and the check result of a group),
the document's path and a compiler position (1-based line, 1-based code-point column).
Output: the answer, or None when the position names nothing.

Invariants: lookups are iterative (no recursion on nesting depth); a block node's span covers
only its head line, so the innermost node is the smallest span containing the position over the
whole tree, not a descent through containing spans; positions at the end of a span count as
inside it (an editor's cursor sits just after the word it is on).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field

from ...stdlib.builtins import BUILTINS
from ...stdlib.signatures import REQUIRED, STDLIB, Registry, StepKind
from .. import nodes as n
from .. import types as t
from ..source import NO_SPAN, Span
from .workspace import Snapshot

_FIELDS: dict[type, tuple[str, ...]] = {}


def children(node: n.Node) -> Iterator[n.Node]:
    """The direct child nodes of ``node``, in field order."""
    names = _FIELDS.get(type(node))
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(node) if f.name != "span")
        _FIELDS[type(node)] = names
    for name in names:
        value = getattr(node, name)
        if isinstance(value, n.Node):
            yield value
        elif isinstance(value, tuple):
            for item in value:
                if isinstance(item, n.Node):
                    yield item


def contains(span: Span, line: int, column: int) -> bool:
    """Whether (line, column) is in ``span``, its end included; empty spans hold nothing."""
    if span == NO_SPAN or (span.line, span.column) == (span.end_line, span.end_column):
        return False
    return (span.line, span.column) <= (line, column) <= (span.end_line, span.end_column)


def _size(span: Span) -> tuple[int, int]:
    return span.end_line - span.line, span.end_column - span.column


@dataclass(slots=True)
class NodeIndex:
    """Every node of one document in preorder, with each node's parent."""

    nodes: list[n.Node] = field(default_factory=list)
    parents: dict[int, n.Node] = field(default_factory=dict)

    @classmethod
    def of(cls, doc: n.Node) -> NodeIndex:
        index = cls()
        pending: list[n.Node] = [doc]
        while pending:
            node = pending.pop()
            index.nodes.append(node)
            kids = list(children(node))
            for kid in kids:
                index.parents[id(kid)] = node
            pending.extend(reversed(kids))
        return index

    def at(self, line: int, column: int) -> list[n.Node]:
        """The innermost node at the position, then its ancestors; [] if none contains it."""
        best: n.Node | None = None
        for node in self.nodes:
            if contains(node.span, line, column) and (
                best is None or _size(node.span) <= _size(best.span)
            ):
                best = node
        chain: list[n.Node] = []
        while best is not None:
            chain.append(best)
            best = self.parents.get(id(best))
        return chain


def iter_steps(stmts: tuple[n.Stmt, ...]) -> Iterator[n.Step]:
    """Every step of a block and the blocks under it, in document order."""
    pending: list[n.Stmt] = list(reversed(stmts))
    while pending:
        stmt = pending.pop()
        match stmt:
            case n.Step():
                yield stmt
            case n.When(body=body, orelse=orelse):
                pending.extend(reversed((*body, *(orelse or ()))))
            case n.Parallel(body=body) | n.For(body=body):
                pending.extend(reversed(body))


def find_step(wf: n.Workflow, step_id: str) -> n.Step | None:
    return next((s for s in iter_steps(wf.steps) if s.id == step_id), None)


def first_assignment(policy: n.Policy, name: str) -> Span | None:
    """The target span of the first assignment to ``name`` under ``evaluate``."""
    pending: list[n.PStmt] = list(reversed(policy.evaluate))
    while pending:
        stmt = pending.pop()
        match stmt:
            case n.Assign(target=target) if target == name:
                return stmt.target_span
            case n.Choose(options=options):
                for option in options:
                    if option.target == name:
                        return option.target_span
            case n.If(branches=branches, orelse=orelse):
                bodies = [stmt for branch in branches for stmt in branch.body]
                pending.extend(reversed((*bodies, *(orelse or ()))))
    return None


# ---------------------------------------------------------------------------------------------
# Text for hovers


def default_text(value: object) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def kind_signature(kind: StepKind) -> str:
    """``http.get(url: string, headers: map<string> = {}) -> {status: int, ...}``."""
    args = []
    for arg in kind.args:
        text = f"{arg.name}: {arg.type}"
        if arg.default is not REQUIRED:
            text += f" = {default_text(arg.default)}"
        args.append(text)
    return f"{kind.name}({', '.join(args)}) -> {kind.result}"


def kind_markdown(kind: StepKind) -> str:
    lines = [f"```\n{kind_signature(kind)}\n```", kind.doc]
    for arg in kind.args:
        if arg.doc:
            lines.append(f"- `{arg.name}`: {arg.doc}")
    return "\n\n".join(lines[:2]) + ("\n" + "\n".join(lines[2:]) if len(lines) > 2 else "")


def builtin_markdown(name: str) -> str | None:
    builtin = BUILTINS.get(name)
    if builtin is None:
        return None
    return f"```\n{builtin.signature}\n```\n\n{builtin.doc}"


def data_text(data: n.Data) -> str:
    return t.render(t.type_of_data(data))


@dataclass(frozen=True, slots=True)
class HoverInfo:
    markdown: str
    span: Span


@dataclass(frozen=True, slots=True)
class Target:
    """Where a definition is: a file and a span in it."""

    path: str
    span: Span


class Lookup:
    """The questions asked about one document of a snapshot."""

    def __init__(self, snapshot: Snapshot, path: str) -> None:
        self.snapshot = snapshot
        self.path = path
        doc = snapshot.document(path)
        self.doc = doc
        self.index = NodeIndex.of(doc) if doc is not None else NodeIndex()
        check = snapshot.result.check_result
        self.types: dict[int, t.Type] = check.types if check is not None else {}
        self.registry: Registry = snapshot.result.registry or STDLIB

    def type_of(self, expr: n.Node) -> str | None:
        found = self.types.get(id(expr))
        return t.render(found) if found is not None else None

    def source_text(self, span: Span) -> str:
        source = self.snapshot.source(self.path)
        if source is None or span.end_offset <= span.offset:
            return ""
        return source.text[span.offset : span.end_offset]

    def step_result(self, step_id: str) -> str | None:
        check = self.snapshot.result.check_result
        if check is None or not isinstance(self.doc, n.Workflow):
            return None
        found = check.step_results.get(self.doc.name, {}).get(step_id)
        return t.render(found) if found is not None else None

    def arm(self, name: str) -> n.Arm | None:
        if not isinstance(self.doc, n.Policy):
            return None
        return next((a for a in self.doc.arms if a.name == name), None)

    # -- hover ---------------------------------------------------------------------------------

    def hover(self, line: int, column: int) -> HoverInfo | None:
        chain = self.index.at(line, column)
        if not chain:
            return None
        node, parent = chain[0], (chain[1] if len(chain) > 1 else None)
        text = self._hover_text(node, parent, line, column)
        if text is None:
            return None
        return HoverInfo(text[0], text[1])

    def _hover_text(
        self, node: n.Node, parent: n.Node | None, line: int, column: int
    ) -> tuple[str, Span] | None:
        match node:
            case n.Attr(obj=n.Ref(root="step"), name=step_id):
                step = find_step(self.doc, step_id) if isinstance(self.doc, n.Workflow) else None
                kind = f" (`{step.kind}`)" if step is not None else ""
                shown = self.type_of(node) or self.step_result(step_id) or "any"
                return f"step `{step_id}`{kind}: `{shown}`", node.name_span
            case n.Attr(obj=n.Ref(root="input"), name=name):
                return self._input_hover(name, node.name_span)
            case n.Attr(obj=n.Name(id="arms"), name=name):
                return self._arm_hover(name, node.name_span)
            case n.Attr(name=name):
                where = " (arm field)" if _is_arm(node.obj) else ""
                return f"`{name}`{where}: `{self.type_of(node) or 'any'}`", node.name_span
            case n.Call(func=func) if contains(node.func_span, line, column):
                text = builtin_markdown(func)
                return (text, node.func_span) if text is not None else None
            case n.Name(id=name):
                return self._name_hover(name, node)
            case n.Step():
                return self._step_hover(node, line, column)
            case n.Binding(name=name) if isinstance(parent, n.Step) and contains(
                node.name_span, line, column
            ):
                signature = self.registry.get(parent.kind)
                spec = signature.arg(name) if signature is not None else None
                if spec is None:
                    return None
                default = "" if spec.required else f" = {default_text(spec.default)}"
                doc = f"\n\n{spec.doc}" if spec.doc else ""
                return f"argument `{name}: {spec.type}{default}`{doc}", node.name_span
            case n.NameValue(value=value) if isinstance(parent, n.Step):
                target = self._binding_target(parent, node)
                where = f"\n\n{target.path}" if target is not None else ""
                what = "policy" if node is parent.policy else "flow"
                return f"{what} `{value}`{where}", node.span
            case n.InputDecl(name=name):
                return self._input_hover(name, node.name_span)
            case n.Arm(name=name):
                return self._arm_hover(name, node.name_span)
            case n.DataEntry(key=key) if isinstance(parent, n.Arm):
                return f"arm field `{key}`: `{data_text(node.value)}`", node.key_span
            case n.Param(name=name) if isinstance(self.doc, n.Policy):
                return f"parameter `{name}`: `{data_text(node.value)}`", node.name_span
            case n.Assign(target=target) if contains(node.target_span, line, column):
                return f"variable `{target}`: `{self.type_of(node.value) or 'any'}`", (
                    node.target_span
                )
            case n.Expr():
                found = self.type_of(node)
                return (f"`{found}`", node.span) if found is not None else None
        return None

    def _input_hover(self, name: str, span: Span) -> tuple[str, Span] | None:
        if self.doc is None:
            return None
        decl = next((i for i in self.doc.inputs if i.name == name), None)
        if decl is None:
            return None
        default = ""
        if decl.default is not None:
            default = " = " + self.source_text(decl.default.span)
        shown = t.render(t.from_type_expr(decl.type))
        return f"input `{name}: {shown}{default}`", span

    def _arm_hover(self, name: str, span: Span) -> tuple[str, Span] | None:
        if name == "active" and isinstance(self.doc, n.Policy):
            first = self.doc.arms[0].fields if self.doc.arms else ()
            fields = ", ".join(f"{f.key}: {data_text(f.value)}" for f in first)
            return f"`arms.active`: the arm selected for this decision\n\n`{{{fields}}}`", span
        arm = self.arm(name)
        if arm is None:
            return None
        lines = [f"arm `{name}`"] + [f"- `{f.key}`: `{data_text(f.value)}`" for f in arm.fields]
        return "\n".join(lines), span

    def _name_hover(self, name: str, node: n.Name) -> tuple[str, Span] | None:
        shown = self.type_of(node) or "any"
        if isinstance(self.doc, n.Policy):
            if any(i.name == name for i in self.doc.inputs):
                role = "input"
            elif any(p.name == name for p in self.doc.params):
                role = "parameter"
            elif name == "arms":
                role = "the arms"
            elif name == "values" and not self.doc.inputs:
                role = "input"
            else:
                role = "variable"
        else:
            role = "loop variable"
        return f"{role} `{name}`: `{shown}`", node.span

    def _step_hover(self, step: n.Step, line: int, column: int) -> tuple[str, Span] | None:
        kind = self.registry.get(step.kind)
        if contains(step.kind_span, line, column):
            if kind is None:
                return None
            return kind_markdown(kind), step.kind_span
        if contains(step.id_span, line, column):
            result = self.step_result(step.id) or "any"
            doc = f"\n\n{kind.doc}" if kind is not None else ""
            return f"step `{step.id}` (`{step.kind}`): `{result}`{doc}", step.id_span
        return None

    # -- definition ----------------------------------------------------------------------------

    def definition(self, line: int, column: int) -> Target | None:
        chain = self.index.at(line, column)
        if not chain or self.doc is None:
            return None
        node, doc = chain[0], self.doc
        here = self.path
        match node:
            case n.Attr(obj=n.Ref(root="step"), name=step_id) if isinstance(doc, n.Workflow):
                step = find_step(doc, step_id)
                return Target(here, step.id_span) if step is not None else None
            case n.Attr(obj=n.Ref(root="input"), name=name) | n.Name(id=name) if (
                isinstance(node, n.Attr) or isinstance(doc, n.Policy)
            ):
                if isinstance(doc, n.Policy):
                    span = first_assignment(doc, name)
                    if span is not None:
                        return Target(here, span)
                    param = next((p for p in doc.params if p.name == name), None)
                    if param is not None:
                        return Target(here, param.name_span)
                decl = next((i for i in doc.inputs if i.name == name), None)
                return Target(here, decl.name_span) if decl is not None else None
            case n.Name(id=name):
                for outer in chain[1:]:
                    if isinstance(outer, n.For) and outer.var == name:
                        return Target(here, outer.var_span)
                return None
            case n.Attr(obj=n.Name(id="arms"), name=name):
                arm = self.arm(name)
                return Target(here, arm.name_span) if arm is not None else None
            case n.Attr(obj=n.Attr(obj=n.Name(id="arms"), name=arm_name), name=name):
                arm = self.arm(arm_name)
                if arm is None and isinstance(doc, n.Policy) and doc.arms:
                    arm = doc.arms[0]
                entry = next((f for f in arm.fields if f.key == name), None) if arm else None
                return Target(here, entry.key_span) if entry is not None else None
            case n.NameValue() if len(chain) > 1 and isinstance(chain[1], n.Step):
                step = chain[1]
                if node is step.options.on_error and isinstance(doc, n.Workflow):
                    jump = find_step(doc, node.value)
                    return Target(here, jump.id_span) if jump is not None else None
                return self._binding_target(step, node)
            case n.Step(kind="policy.apply") if contains(node.kind_span, line, column):
                return self._binding_target(node, None)
        return None

    def _binding_target(self, step: n.Step, value: n.NameValue | None) -> Target | None:
        """The document a ``policy.apply`` or ``flow.call`` step is bound to."""
        check = self.snapshot.result.check_result
        if check is None or not isinstance(self.doc, n.Workflow):
            return None
        if value is None or value is step.policy:
            name = check.policy_bindings.get(self.doc.name, {}).get(step.id)
            path = self.snapshot.policy_path(name) if name is not None else None
        else:
            name = check.flow_bindings.get(self.doc.name, {}).get(step.id, value.value)
            path = self.snapshot.workflow_path(name)
        if path is None:
            return None
        target = self.snapshot.document(path)
        span = target.name_span if target is not None and target.name_span != NO_SPAN else (
            Span(1, 1, 1, 1))
        return Target(path, span)


def _is_arm(expr: n.Expr) -> bool:
    return isinstance(expr, n.Attr) and isinstance(expr.obj, n.Name) and expr.obj.id == "arms"


# ---------------------------------------------------------------------------------------------
# Document symbols


@dataclass(frozen=True, slots=True)
class Symbol:
    """An outline entry; ``kind`` is a name of LSP's ``SymbolKind`` (``Function``...)."""

    name: str
    kind: str
    span: Span
    selection: Span
    detail: str = ""
    children: tuple[Symbol, ...] = ()


def _sym(name: str, kind: str, span: Span, selection: Span, detail: str = "",
         kids: tuple[Symbol, ...] = ()) -> Symbol:
    """A symbol whose range covers its selection and its children (LSP requires it)."""
    if selection == NO_SPAN:
        selection = span
    full = span.cover(selection)
    for kid in kids:
        full = full.cover(kid.span)
    return Symbol(name, kind, full, selection, detail, kids)


def document_symbols(doc: n.Workflow | n.Policy) -> list[Symbol]:
    """The outline of a document: inputs, steps (nested blocks), outputs; or a policy's parts."""
    out: list[Symbol] = []
    for decl in doc.inputs:
        out.append(_sym(decl.name, "Variable", decl.span, decl.name_span,
                        t.render(t.from_type_expr(decl.type))))
    if isinstance(doc, n.Workflow):
        out.extend(_stmt_symbols(doc.steps))
        for binding in doc.outputs:
            out.append(_sym(binding.name, "Property", binding.span, binding.name_span, "output"))
        return out
    for arm in doc.arms:
        fields = tuple(_sym(f.key, "Field", f.span, f.key_span, data_text(f.value))
                       for f in arm.fields)
        out.append(_sym(arm.name, "EnumMember", arm.span, arm.name_span, "arm", fields))
    for param in doc.params:
        out.append(_sym(param.name, "Constant", param.span, param.name_span,
                        data_text(param.value)))
    seen: set[str] = set()
    pending: list[n.PStmt] = list(reversed(doc.evaluate))
    while pending:
        stmt = pending.pop()
        match stmt:
            case n.Assign(target=target) if target not in seen:
                seen.add(target)
                out.append(_sym(target, "Variable", stmt.span, stmt.target_span, "variable"))
            case n.If(branches=branches, orelse=orelse):
                bodies = [s for branch in branches for s in branch.body]
                pending.extend(reversed((*bodies, *(orelse or ()))))
    for binding in doc.emit:
        out.append(_sym(binding.name, "Property", binding.span, binding.name_span, "emit"))
    return out


def _stmt_symbols(stmts: tuple[n.Stmt, ...]) -> list[Symbol]:
    """Symbols of a block, built bottom-up with an explicit stack (no recursion)."""
    root: list[Symbol] = []
    # Each frame: the statements left, the symbols built so far, and how to close the frame.
    frames: list[tuple[list[n.Stmt], list[Symbol], n.Stmt | None]] = [
        (list(reversed(stmts)), root, None)
    ]
    while frames:
        todo, built, owner = frames[-1]
        if not todo:
            frames.pop()
            if owner is not None:
                frames[-1][1].append(_block_symbol(owner, tuple(built)))
            continue
        stmt = todo.pop()
        match stmt:
            case n.Step():
                built.append(_sym(stmt.id, "Function", stmt.span, stmt.id_span, stmt.kind))
            case n.When(body=body, orelse=orelse):
                frames.append((list(reversed((*body, *(orelse or ())))), [], stmt))
            case n.Parallel(body=body) | n.For(body=body):
                frames.append((list(reversed(body)), [], stmt))
    return root


def _block_symbol(stmt: n.Stmt, kids: tuple[Symbol, ...]) -> Symbol:
    match stmt:
        case n.When():
            return _sym("when", "Namespace", stmt.span, stmt.span, "", kids)
        case n.For(var=var):
            return _sym(f"for {var}", "Namespace", stmt.span, stmt.span, "", kids)
    return _sym("parallel", "Namespace", stmt.span, stmt.span, "", kids)
