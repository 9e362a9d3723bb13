"""``tmc fmt``: the one canonical layout of WDL and PDL documents.

Input: a source file.  Output: its canonical text, printed from the AST (so formatting can
never change meaning: parsing the output gives an equal AST), or ``None`` with the
diagnostics when the file does not parse.

Layout: two spaces per level; top-level keys in a fixed order; step arguments in block form
(``policy:``/``flow:`` first, then arguments in source order, then ``@timeout``, ``@retry``,
``@on_error``); ``when`` bodies as ``- `` lists; expressions, types and data in their canonical
spelling (``unparse``); at most one blank line where the source had one; one newline at the end.

Comments are never lost: an own-line comment is placed before the construct that followed it in
the source, a trailing comment after the construct whose lines contain it; comments that no
construct claims go to the end of the file.  Formatting is idempotent.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from . import nodes as n
from . import unparse as up
from .codes import Severity
from .diagnostics import Diagnostic, Sink
from .scanner import Comment, Entry, scan
from .source import SourceFile, Span

INDENT = "  "


@dataclass(slots=True)
class _Line:
    depth: int
    text: str
    first: int
    last: int
    before: list[tuple[int, str]] = field(default_factory=list)
    trailing: str = ""
    blank: bool = False


def _name_field(value: str) -> str:
    """A name field's text: raw where it reads back unchanged, else quoted."""
    if (
        not value
        or value != value.strip()
        or value[0] in "\"'#[{&*!|>%@`"
        or " #" in value
        or "\t#" in value
        or any(ord(c) < 32 for c in value)
    ):
        return up.quote(value)
    return value


class _Printer:
    def __init__(self, source: SourceFile, sections: dict[str, tuple[int, int]]) -> None:
        self.source = source
        self.sections = sections
        self.lines: list[_Line] = []

    def emit(self, depth: int, text: str, span: Span | tuple[int, int] | None) -> None:
        if span is None:
            first = last = 0
        elif isinstance(span, Span):
            first, last = span.line, span.end_line
        else:
            first, last = span
        self.lines.append(_Line(depth, text, first, last))

    def section(self, key: str, value: str = "") -> None:
        lines = self.sections.get(key, (0, 0))
        self.emit(0, f"{key}: {value}" if value else f"{key}:", lines)

    # -- shared parts ----------------------------------------------------------------------

    def inputs(self, inputs: tuple[n.InputDecl, ...], depth: int) -> None:
        for decl in inputs:
            text = f"{decl.name}: {up.type_expr(decl.type)}"
            if decl.default is not None:
                text += f" = {up.expr(decl.default)}"
            self.emit(depth, text, decl.span)

    def bindings(self, bindings: tuple[n.Binding, ...], depth: int) -> None:
        for b in bindings:
            self.emit(depth, f"{b.name}: {up.expr(b.value)}", b.span)

    def data_block(self, key: str, value: n.Data, depth: int, span: Span) -> None:
        """``key: value`` for data, keeping block maps and lists in block form."""
        match value:
            case n.DataMap(flow=False, entries=entries) if entries:
                self.emit(depth, f"{key}:", (span.line, span.line))
                for entry in entries:
                    self.data_block(up.data_key(entry.key), entry.value, depth + 1, entry.span)
            case n.DataList(flow=False, items=items) if items:
                self.emit(depth, f"{key}:", (span.line, span.line))
                for item in items:
                    self.data_item(item, depth + 1)
            case _:
                self.emit(depth, f"{key}: {up.data(value)}", span)

    def data_item(self, item: n.Data, depth: int) -> None:
        match item:
            case n.DataMap(flow=False, entries=entries) if entries:
                first, *rest = entries
                mark = len(self.lines)
                self.data_block(up.data_key(first.key), first.value, depth + 1, first.span)
                self.lines[mark].depth = depth
                self.lines[mark].text = "- " + self.lines[mark].text
                for entry in rest:
                    self.data_block(up.data_key(entry.key), entry.value, depth + 1, entry.span)
            case _:
                self.emit(depth, f"- {up.data(item)}", item.span)

    # -- WDL -------------------------------------------------------------------------------

    def workflow(self, wf: n.Workflow) -> None:
        self.section("version", wf.version)
        self.section("workflow", _name_field(wf.name))
        if wf.description is not None:
            self.section("description", _name_field(wf.description))
        if wf.triggers:
            self.section("triggers")
            for p in wf.triggers:
                self.data_block(p.name, p.value, 1, p.span)
        if wf.inputs:
            self.section("inputs")
            self.inputs(wf.inputs, 1)
        self.section("steps")
        self.block(wf.steps, 1)
        if wf.outputs:
            self.section("outputs")
            self.bindings(wf.outputs, 1)

    def block(self, stmts: tuple[n.Stmt, ...], depth: int) -> None:
        for stmt in stmts:
            self.stmt(stmt, depth)

    def stmt(self, stmt: n.Stmt, depth: int) -> None:
        head = (stmt.span.line, stmt.span.line)
        match stmt:
            case n.Step():
                opts = stmt.options
                empty = not (stmt.args or stmt.policy or stmt.flow or opts.timeout
                             or opts.retry or opts.on_error)
                self.emit(depth, f"- {stmt.id}({stmt.kind}):" + (" {}" if empty else ""), head)
                inner = depth + 2
                if stmt.policy is not None:
                    self.emit(inner, f"policy: {_name_field(stmt.policy.value)}", stmt.policy.span)
                if stmt.flow is not None:
                    self.emit(inner, f"flow: {_name_field(stmt.flow.value)}", stmt.flow.span)
                self.bindings(stmt.args, inner)
                if opts.timeout is not None:
                    self.emit(inner, f"@timeout: {up.expr(opts.timeout)}", opts.timeout.span)
                if opts.retry is not None:
                    self.emit(inner, f"@retry: {up.expr(opts.retry)}", opts.retry.span)
                if opts.on_error is not None:
                    self.emit(inner, f"@on_error: {_name_field(opts.on_error.value)}",
                              opts.on_error.span)
            case n.When():
                self.emit(depth, f"- when {up.expr(stmt.cond)}:", head)
                self.block(stmt.body, depth + 2)
                if stmt.orelse is not None:
                    self.emit(depth + 1, "else:", stmt.else_span)
                    self.block(stmt.orelse, depth + 2)
            case n.Parallel():
                self.emit(depth, "- parallel:", head)
                self.block(stmt.body, depth + 2)
            case n.For():
                self.emit(depth, f"- for {stmt.var} in {up.expr(stmt.iter)}:", head)
                self.block(stmt.body, depth + 2)
            case _:  # pragma: no cover
                raise TypeError(type(stmt).__name__)

    # -- PDL -------------------------------------------------------------------------------

    def policy(self, p: n.Policy) -> None:
        self.section("version", p.version)
        if p.name_explicit:
            self.section("policy", _name_field(p.name))
        if p.description is not None:
            self.section("description", _name_field(p.description))
        if p.inputs:
            self.section("inputs")
            self.inputs(p.inputs, 1)
        if p.arms:
            self.section("arms")
            for arm in p.arms:
                self.emit(1, f"{arm.name}:", (arm.span.line, arm.span.line))
                for f in arm.fields:
                    self.data_block(up.data_key(f.key), f.value, 2, f.span)
        for param in p.params:
            self.data_block(param.name, param.value, 0, param.span)
        self.section("evaluate")
        self.statements(p.evaluate, 1)
        self.section("emit")
        self.bindings(p.emit, 1)

    def statements(self, stmts: tuple[n.PStmt, ...], depth: int) -> None:
        for stmt in stmts:
            match stmt:
                case n.Assign():
                    op = ":=" if stmt.walrus else "="
                    self.emit(depth, f"{stmt.target} {op} {up.expr(stmt.value)}", stmt.span)
                case n.If():
                    for i, branch in enumerate(stmt.branches):
                        word = "if" if i == 0 else "elif"
                        self.emit(depth, f"{word} {up.expr(branch.cond)}:",
                                  (branch.span.line, branch.span.line))
                        self.statements(branch.body, depth + 1)
                    if stmt.orelse is not None:
                        self.emit(depth, "else:", stmt.else_span)
                        self.statements(stmt.orelse, depth + 1)
                case n.Choose():
                    self.emit(depth, "choose:", (stmt.span.line, stmt.span.line))
                    for opt in stmt.options:
                        text = up.expr(opt.value)
                        if opt.target is not None:
                            text = f"{opt.target} {':=' if opt.walrus else '='} {text}"
                        if opt.prob is not None:
                            text += f" with p = {up.expr(opt.prob)}"
                        self.emit(depth + 1, f"{opt.name}: {text}", opt.span)
                case _:  # pragma: no cover
                    raise TypeError(type(stmt).__name__)


def collect_comments(entries: list[Entry], trailing: list[Comment]) -> list[Comment]:
    found: list[Comment] = []
    stack = list(reversed(entries))
    while stack:
        e = stack.pop()
        found.extend(e.leading)
        if e.comment is not None:
            found.append(e.comment)
        found.extend(e.inner)
        stack.extend(reversed(e.children))
        stack.extend(reversed(e.members))
    found.extend(trailing)
    found.sort(key=lambda c: (c.line, c.offset))
    return found


def _place_comments(lines: list[_Line], comments: list[Comment]) -> list[str]:
    """Attach comments to printed lines; return comments no line claimed."""
    by_first = sorted(
        (ln.first, i) for i, ln in enumerate(lines) if ln.first > 0
    )
    firsts = [f for f, _ in by_first]
    # Source line -> the printed line that owns a trailing comment there: among the printed
    # lines whose source range holds it, the one starting last (the first such in output order).
    owners: dict[int, _Line] = {}
    for ln in lines:
        if not ln.first:
            continue
        for line in range(ln.first, ln.last + 1):
            held = owners.get(line)
            if held is None or ln.first > held.first:
                owners[line] = ln
    orphans: list[str] = []
    for c in comments:
        if not c.own_line:
            owner = owners.get(c.line)
            if owner is not None:
                if owner.trailing:
                    owner.before.append((c.line, c.text))
                else:
                    owner.trailing = c.text
                continue
        k = bisect.bisect_right(firsts, c.line)
        if k < len(by_first):
            lines[by_first[k][1]].before.append((c.line, c.text))
        else:
            orphans.append(c.text)
    return orphans


def _render(lines: list[_Line], orphans: list[str], source: SourceFile) -> str:
    out: list[str] = []
    for ln in lines:
        pad = INDENT * ln.depth
        top = min([ln.first, *(line for line, _ in ln.before)]) if ln.first else 0
        if out and out[-1] != "" and top > 1 and not source.line_text(top - 1).strip():
            out.append("")
        out.extend(pad + text for _, text in sorted(ln.before))
        line = pad + ln.text
        if ln.trailing:
            line += "  " + ln.trailing
        out.append(line.rstrip())
    if orphans:
        if out and out[-1] != "":
            out.append("")
        out.extend(orphans)
    return "\n".join(out) + "\n"


def format_document(source: SourceFile, doc: n.Workflow | n.Policy) -> str:
    """The canonical text of ``doc`` (parsed from ``source``), comments included."""
    scanned = scan(source, Sink())
    sections = {
        e.key: (e.line, e.line) for e in scanned.entries if e.key is not None and not e.dash
    }
    printer = _Printer(source, sections)
    if isinstance(doc, n.Workflow):
        printer.workflow(doc)
    else:
        printer.policy(doc)
    comments = collect_comments(scanned.entries, scanned.trailing)
    orphans = _place_comments(printer.lines, comments)
    return _render(printer.lines, orphans, source)


def format_source(source: SourceFile, lang: str) -> tuple[str | None, list[Diagnostic]]:
    """Format ``source``; ``None`` (with the diagnostics) when it has syntax errors."""
    from .parse import parse_document

    sink = Sink()
    doc = parse_document(source, sink, lang)
    diagnostics = sink.diagnostics()
    if doc is None or any(d.severity is Severity.ERROR for d in diagnostics):
        return None, diagnostics
    return format_document(source, doc), diagnostics
