"""Documents from the block structure: WDL workflows and PDL policies.

Input: the scanner's entry tree and a :class:`~.parse.ValueParser` for the same file.
Output: a :class:`~.nodes.Workflow` or :class:`~.nodes.Policy` (or ``None`` when the document
is too broken to have a shape), with every structural problem reported to the sink.

Each key decides the field class of its value (language.md section 1): name fields are raw
scalars, data fields go to the YAML-flow data grammar, type fields to the type rule and
everything else to the expression grammar.  One bad value yields one diagnostic and is left out
of the tree; the rest of the document is still built and checked (error recovery without
cascades).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from . import nodes as n
from .diagnostics import Edit, Fix, Sink
from .parse import ValueParser, decode_string
from .scanner import Entry, scan
from .source import SourceFile, Span

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOC_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_STEP_HEAD = re.compile(
    r"([A-Za-z_][A-Za-z0-9_]*)\(\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)+)\s*\)"
)
_HEAD_WORD = re.compile(r"(when|if|elif|for)(?=\s)")
_WITH_P = re.compile(r"\bwith\s+p\s*=")
_ASSIGN_HEAD = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*:?=(?!=)\s*")
_PLAIN_FORBIDDEN = frozenset("$()[]{}\"'")

WDL_KEYS = ("version", "workflow", "description", "triggers", "inputs", "steps", "outputs")
PDL_KEYS = ("version", "policy", "description", "inputs", "arms", "evaluate", "emit")
WDL_VERSIONS = ("dsl/v0", "dsl/v1")
PDL_VERSIONS = ("pdl/v0", "pdl/v1")
STEP_OPTIONS = ("timeout", "retry", "on_error")
RESERVED_VARIABLES = frozenset(
    {"and", "or", "not", "in", "if", "else", "true", "false", "null", "with"}
)
NAME_ARGS = {"policy.apply": "policy", "flow.call": "flow"}


class _Builder:
    def __init__(self, source: SourceFile, sink: Sink, lang: str) -> None:
        self.source = source
        self.sink = sink
        self.lang = lang
        self.path = source.display_path
        self.text = source.text
        self.vp = ValueParser(source, sink, v0=True)

    # -- helpers ---------------------------------------------------------------------------

    def span(self, start: int, end: int) -> Span:
        return self.source.span(start, end)

    def key_span(self, e: Entry) -> Span:
        return self.span(e.key_start, e.key_end)

    def entry_span(self, e: Entry) -> Span:
        if e.key is not None:
            end = max(e.key_end, e.value_end)
            return self.span(e.key_start, end)
        return self.span(e.value_start, e.value_end)

    def value_text(self, e: Entry) -> str:
        return self.text[e.value_start : e.value_end]

    def report(self, code: str, span: Span, **kw: object) -> None:
        self.sink.report(code, self.path, span, **kw)  # type: ignore[arg-type]

    def mapping(self, entries: Iterable[Entry], what: str) -> list[Entry]:
        """Key entries of a block mapping; reports list items, scalars and duplicate keys."""
        seen: dict[str, Entry] = {}
        out: list[Entry] = []
        for e in entries:
            if e.dash:
                self.report(
                    "TM0116",
                    self.span(e.dash_offset, e.dash_offset + 1),
                    message=f"{what} is a mapping of `key: value` lines, not a list",
                )
                continue
            if e.key is None:
                self.report(
                    "TM0116",
                    self.entry_span(e),
                    message=f"expected `key: value` in {what}, found `{self.value_text(e)}`",
                )
                continue
            key = self.key_text(e)
            if key in seen:
                self.report(
                    "TM0115",
                    self.key_span(e),
                    key=key,
                    help=f"the first `{key}` is on line {seen[key].line}",
                )
                continue
            seen[key] = e
            out.append(e)
        return out

    def require_value(self, e: Entry) -> bool:
        if not e.has_value and not e.children and not e.broken:
            self.report("TM0106", self.key_span(e), key=e.key)
            return False
        return not e.broken

    def check_ident(self, name: str, span: Span, what: str) -> bool:
        if _IDENT.fullmatch(name):
            return True
        self.report(
            "TM0213", span, what=what, name=name, detail="use letters, digits and `_`, "
            "not starting with a digit",
        )
        return False

    def key_text(self, e: Entry) -> str:
        """A mapping key as a string: a quoted key (``"c d": 3``) is decoded."""
        key = e.key or ""
        if len(key) >= 2 and key[0] in "\"'" and key[-1] == key[0]:
            value, bad = decode_string(key)
            if bad is None:
                return value
            at = e.key_start + bad
            self.report("TM0114", self.span(at, at + 2), escape=key[bad : bad + 2])
        return key

    def check_variable(self, name: str, span: Span, what: str = "a variable") -> None:
        if name in RESERVED_VARIABLES:
            self.report("TM0210", span, name=name, what=what, help="pick another name")

    def name_value(self, e: Entry) -> n.NameValue | None:
        if not self.require_value(e):
            return None
        if e.children:
            self.report(
                "TM0116",
                self.key_span(e),
                message=f"`{e.key}` takes a single value on its line, not a block",
            )
            return None
        raw = self.value_text(e)
        span = self.span(e.value_start, e.value_end)
        if raw[:1] in "\"'":
            if len(raw) < 2 or raw[-1] != raw[0]:
                self.report("TM0101", span, message=f"invalid `{e.key}`: text after the quote")
                return None
            value, bad = decode_string(raw)
            if bad is not None:
                at = e.value_start + bad
                self.report("TM0114", self.span(at, at + 2), escape=raw[bad : bad + 2])
                return None
            return n.NameValue(value=value, quoted=True, span=span)
        return n.NameValue(value=raw, span=span)

    def flow_entries(self, start: int, end: int) -> list[tuple[str, int, int, int, int]] | None:
        """Split a one-level flow mapping ``{k: v, ...}`` into (key, ks, ke, vs, ve) parts.

        Returns None when the text is not a brace-delimited mapping of ``key: value`` parts;
        the caller then parses it as an expression to report the precise error.
        """
        text = self.text
        if end - start < 2 or text[start] != "{" or text[end - 1] != "}":
            return None
        parts: list[tuple[int, int]] = []
        depth = 0
        i = start + 1
        seg = i
        quote = ""
        while i < end - 1:
            ch = text[i]
            if quote:
                if ch == "\\":
                    i += 2
                    continue
                if ch == quote:
                    quote = ""
            elif ch in "\"'" and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
                quote = ch
            elif ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
                if depth < 0:
                    return None
            elif ch == "," and depth == 0:
                parts.append((seg, i))
                seg = i + 1
            i += 1
        if quote or depth != 0:
            return None
        parts.append((seg, end - 1))
        out: list[tuple[str, int, int, int, int]] = []
        for s, t in parts:
            while s < t and text[s] in " \t\r\n":
                s += 1
            while t > s and text[t - 1] in " \t\r\n":
                t -= 1
            if s == t:
                if len(parts) == 1 or (s, t) == parts[-1]:
                    continue
                return None
            m = re.match(r"(@?[A-Za-z_][A-Za-z0-9_]*)\s*:(?=\s)", text[s:t])
            if m is None:
                return None
            ks, ke = s, s + len(m.group(1))
            vs = s + m.end()
            while vs < t and text[vs] in " \t\r\n":
                vs += 1
            out.append((m.group(1), ks, ke, vs, t))
        return out

    # -- field classes ---------------------------------------------------------------------

    def expr_at(self, start: int, end: int) -> n.Expr:
        """An expression field, with the v0 plain-string fallback (language.md section 1).

        A value that does not parse yields :class:`~.nodes.Invalid` after its diagnostic.
        """
        trial = Sink()
        saved = self.vp.sink
        self.vp.sink = trial
        try:
            node = self.vp.expr(start, end)
        finally:
            self.vp.sink = saved
        raw = self.text[start:end]
        at_end = any(d.message.endswith("found the end of the value") for d in trial.diagnostics())
        plain = node is None and raw and not (_PLAIN_FORBIDDEN & set(raw))
        if plain and (self.vp.v0 or not at_end):
            span = self.span(start, end)
            quoted = '"' + raw.replace("\\", "\\\\").replace('"', '\\"') + '"'
            fix = Fix("quote it", (Edit(span, quoted),))
            if self.vp.v0:
                self.report("TM0601", span, text=quoted, help="quote it to make it explicit",
                            fixes=[fix])
                return n.PlainString(value=raw, span=span)
            first = trial.diagnostics()[0].message if trial.diagnostics() else ""
            found = first.rsplit(", found ", 1)[-1] if ", found " in first else "this text"
            self.report("TM0111", span, detail=f"unexpected {found}",
                        help=f"if this is text, quote it: {quoted}", fixes=[fix])
            return n.Invalid(span=span)
        for d in trial.diagnostics():
            self.sink.add(d)
        return node if node is not None else n.Invalid(span=self.span(start, end))

    def expr_entry(self, e: Entry) -> n.Expr:
        """The expression of ``e``: its value, or a block map or list written under it."""
        if e.has_value:
            if e.children:
                self.report(
                    "TM0116",
                    self.span(e.children[0].start, e.children[0].start + 1),
                    message=f"`{e.key}` has a value on its line and a block under it",
                )
            if e.broken:
                return n.Invalid(span=self.span(e.value_start, e.value_end))
            return self.expr_at(e.value_start, e.value_end)
        if not e.children:
            if not e.broken:
                self.report("TM0106", self.key_span(e), key=e.key)
            return n.Invalid(span=self.key_span(e))
        if all(c.dash for c in e.children):
            items: list[n.Expr] = []
            for c in e.children:
                if len(c.members) != 1 or c.members[0].key is not None:
                    self.report(
                        "TM0116",
                        self.span(c.dash_offset, c.dash_offset + 1),
                        message="a list item here must be a single expression",
                    )
                    continue
                m = c.members[0]
                items.append(self.expr_at(m.value_start, m.value_end) if not m.broken
                             else n.Invalid(span=self.span(m.value_start, m.value_end)))
            return n.ListExpr(items=tuple(items), span=self.block_span(e))
        entries: list[n.MapEntry] = []
        for c in self.mapping(e.children, f"`{e.key}`"):
            assert c.key is not None
            value = self.expr_entry(c)
            if value is not None:
                entries.append(
                    n.MapEntry(key=self.key_text(c), value=value, key_span=self.key_span(c),
                               span=self.entry_span(c))
                )
        return n.MapExpr(entries=tuple(entries), span=self.block_span(e))

    def block_span(self, e: Entry) -> Span:
        last = e
        while last.children or last.members:
            last = (last.children or last.members)[-1]
        return self.span(e.start, max(last.value_end, last.key_end, last.start + 1))

    def data_entry(self, e: Entry) -> n.Data | None:
        """A data field: a YAML-flow literal on the line, or a block map or list under it."""
        if e.has_value:
            if e.children:
                self.report(
                    "TM0116",
                    self.span(e.children[0].start, e.children[0].start + 1),
                    message=f"`{e.key}` has a value on its line and a block under it",
                )
            if e.broken:
                return None
            return self.vp.data(e.value_start, e.value_end)
        if not e.children:
            if not e.broken:
                self.report("TM0106", self.key_span(e), key=e.key)
            return None
        if all(c.dash for c in e.children):
            items: list[n.Data] = []
            for c in e.children:
                if len(c.members) == 1 and c.members[0].key is None:
                    m = c.members[0]
                    item = self.vp.data(m.value_start, m.value_end) if not m.broken else None
                else:
                    item = self.data_map(c.members, c)
                if item is not None:
                    items.append(item)
            return n.DataList(items=tuple(items), flow=False, span=self.block_span(e))
        return self.data_map(e.children, e)

    def data_map(self, entries: list[Entry], owner: Entry) -> n.DataMap:
        out: list[n.DataEntry] = []
        for c in self.mapping(entries, f"`{owner.key}`" if owner.key else "this item"):
            assert c.key is not None
            value = self.data_entry(c)
            if value is not None:
                out.append(n.DataEntry(key=self.key_text(c), value=value, key_span=self.key_span(c),
                                       span=self.entry_span(c)))
        return n.DataMap(entries=tuple(out), flow=False, span=self.block_span(owner))

    def bindings(self, e: Entry, what: str) -> tuple[n.Binding, ...]:
        """``name: expr`` lines under ``e`` (or a flow map on its line)."""
        out: list[n.Binding] = []
        if e.has_value:
            if e.broken:
                return ()
            parts = self.flow_entries(e.value_start, e.value_end)
            if parts is None:
                node = self.expr_at(e.value_start, e.value_end)
                if node is not None:
                    self.report(
                        "TM0116",
                        self.span(e.value_start, e.value_end),
                        message=f"{what} is a mapping of `name: expression` entries",
                    )
                return ()
            seen: set[str] = set()
            for key, ks, ke, vs, ve in parts:
                kspan = self.span(ks, ke)
                if key in seen:
                    self.report("TM0115", kspan, key=key)
                    continue
                seen.add(key)
                if not self.check_ident(key, kspan, "name"):
                    continue
                if ve == vs:
                    self.report("TM0106", kspan, key=key)
                value = self.expr_at(vs, ve) if ve > vs else n.Invalid(span=kspan)
                out.append(n.Binding(name=key, value=value, name_span=kspan,
                                     span=self.span(ks, ve)))
            return tuple(out)
        if not e.children:
            self.report("TM0106", self.key_span(e), key=e.key)
            return ()
        for c in self.mapping(e.children, what):
            assert c.key is not None
            kspan = self.key_span(c)
            if not self.check_ident(c.key, kspan, "name"):
                continue
            value = self.expr_entry(c)
            out.append(n.Binding(name=c.key, value=value, name_span=kspan,
                                 span=self.entry_span(c)))
        return tuple(out)

    def inputs(self, e: Entry) -> tuple[n.InputDecl, ...]:
        out: list[n.InputDecl] = []
        items: list[tuple[str, Span, int, int, Span]] = []
        if e.has_value:
            parts = None if e.broken else self.flow_entries(e.value_start, e.value_end)
            if parts is None:
                if not e.broken:
                    self.report("TM0116", self.span(e.value_start, e.value_end),
                                message="`inputs` is a mapping of `name: type` lines")
                return ()
            seen: set[str] = set()
            for key, ks, ke, vs, ve in parts:
                if key in seen:
                    self.report("TM0115", self.span(ks, ke), key=key)
                    continue
                seen.add(key)
                items.append((key, self.span(ks, ke), vs, ve, self.span(ks, ve)))
        else:
            if not e.children:
                self.report("TM0106", self.key_span(e), key=e.key)
                return ()
            for c in self.mapping(e.children, "`inputs`"):
                assert c.key is not None
                if not self.require_value(c):
                    continue
                if c.children:
                    self.report("TM0116", self.key_span(c),
                                message=f"the type of `{c.key}` goes on its line")
                    continue
                items.append((c.key, self.key_span(c), c.value_start, c.value_end,
                              self.entry_span(c)))
        for key, kspan, vs, ve, span in items:
            if not self.check_ident(key, kspan, "input name"):
                continue
            self.check_variable(key, kspan, "an input name")
            parsed = self.vp.type_with_default(vs, ve)
            if parsed is None:
                # Keep the input (as `any`) so reads of it do not cascade into errors.
                parsed = (n.NamedType(name="any", span=self.span(vs, ve)), None)
            type_expr, default = parsed
            out.append(n.InputDecl(name=key, type=type_expr, default=default, name_span=kspan,
                                   span=span))
        return tuple(out)

    def version(
        self, top: dict[str, Entry], allowed: tuple[str, ...], kind: str
    ) -> tuple[str, Span]:
        e = top.get("version")
        if e is None:
            self.report(
                "TM0401",
                self.span(0, 0),
                key="version",
                help=f"start the {kind} with `version: {allowed[-1]}`",
                fixes=[Fix(f"add `version: {allowed[-1]}`",
                           (Edit(self.span(0, 0), f"version: {allowed[-1]}\n"),))],
            )
            return allowed[-1], self.span(0, 0)
        nv = self.name_value(e)
        if nv is None:
            return allowed[-1], self.key_span(e)
        if nv.value not in allowed:
            self.report(
                "TM0406",
                nv.span,
                version=nv.value,
                help=f"a {kind} has version " + " or ".join(f"`{a}`" for a in allowed),
            )
            return (allowed[0] if nv.value.endswith("v0") else allowed[-1]), nv.span
        return nv.value, nv.span

    def top_level(self, entries: list[Entry]) -> dict[str, Entry]:
        return {e.key: e for e in self.mapping(entries, "a document") if e.key is not None}

    def doc_name(self, e: Entry, what: str) -> tuple[str, Span] | None:
        nv = self.name_value(e)
        if nv is None:
            return None
        if not _DOC_NAME.fullmatch(nv.value):
            self.report("TM0213", nv.span, what=f"{what} name", name=nv.value,
                        detail="use letters, digits, `_`, `.` and `-`, not starting with a digit")
            return None
        return nv.value, nv.span


# ---------------------------------------------------------------------------------------------
# WDL


class _WorkflowBuilder(_Builder):
    def build(self, entries: list[Entry]) -> n.Workflow | None:
        top = self.top_level(entries)
        for key, e in top.items():
            if key not in WDL_KEYS:
                self.report("TM0402", self.key_span(e), key=key, where="in a workflow",
                            help="a workflow has " + ", ".join(f"`{k}`" for k in WDL_KEYS))
        version, version_span = self.version(top, WDL_VERSIONS, "workflow")
        self.vp.v0 = version.endswith("v0")
        name = ""
        name_span = self.span(0, 0)
        if "workflow" in top:
            got = self.doc_name(top["workflow"], "workflow")
            if got is not None:
                name, name_span = got
        else:
            self.report("TM0401", self.span(0, 0), key="workflow",
                        help="name the workflow: `workflow: <name>`")
        description = None
        if "description" in top:
            nv = self.name_value(top["description"])
            description = nv.value if nv is not None else None
        triggers: tuple[n.Param, ...] = ()
        if "triggers" in top:
            triggers = self.params(top["triggers"])
        inputs = self.inputs(top["inputs"]) if "inputs" in top else ()
        steps: tuple[n.Stmt, ...] = ()
        if "steps" in top:
            e = top["steps"]
            if e.has_value and not e.broken:
                self.report("TM0116", self.span(e.value_start, e.value_end),
                            message="`steps` is a list of `- ` items on the lines below it")
            elif not e.children and not e.broken:
                self.report("TM0106", self.key_span(e), key="steps")
            steps = self.block(e.children, "steps")
        else:
            self.report("TM0401", self.span(0, 0), key="steps", help="add a `steps:` list")
        outputs = self.bindings(top["outputs"], "`outputs`") if "outputs" in top else ()
        return n.Workflow(
            version=version,
            name=name,
            description=description,
            triggers=triggers,
            inputs=inputs,
            steps=steps,
            outputs=outputs,
            name_span=name_span,
            version_span=version_span,
            span=self.span(0, len(self.text)),
        )

    def params(self, e: Entry) -> tuple[n.Param, ...]:
        data = self.data_entry(e)
        if data is None:
            return ()
        if not isinstance(data, n.DataMap):
            self.report("TM0403", data.span, message=f"`{e.key}` must be a mapping")
            return ()
        return tuple(
            n.Param(name=d.key, value=d.value, name_span=d.key_span, span=d.span)
            for d in data.entries
        )

    def block(self, entries: list[Entry], what: str) -> tuple[n.Stmt, ...]:
        """A steps list (``- `` items) or a v0 mapping-form body (key entries)."""
        out: list[n.Stmt] = []
        for e in entries:
            if e.dash:
                if not e.members:
                    self.report("TM0407", self.span(e.dash_offset, e.dash_offset + 1),
                                message="empty list item")
                    continue
                stmt = self.statement(e.members[0], e.members[1:], e)
            elif e.key is not None:
                stmt = self.statement(e, [], None)
            else:
                self.report("TM0407", self.entry_span(e),
                            message=f"expected a step `- <id>(<kind>):` in {what}, "
                            f"found `{self.value_text(e)}`")
                continue
            if stmt is not None:
                out.append(stmt)
        return tuple(out)

    def statement(self, head: Entry, rest: list[Entry], item: Entry | None) -> n.Stmt | None:
        key = head.key
        if key is None:
            self.report("TM0407", self.entry_span(head),
                        message=f"expected `<id>(<kind.op>):`, `when <condition>:`, "
                        f"`parallel:` or `for <name> in <list>:`, found `{self.value_text(head)}`")
            return None
        start = item.start if item is not None else head.key_start
        word = _HEAD_WORD.match(key)
        if word is not None or key in ("when", "for", "elif", "if"):
            kw = word.group(1) if word is not None else key
            if kw == "when":
                return self.when(head, rest, start)
            if kw == "for":
                return self.for_block(head, rest, start)
            if kw == "elif":
                self.elif_error(head)
                return None
            self.report("TM0407", self.key_span(head), message="`if` is PDL; a workflow uses "
                        "`when <condition>:`",
                        fixes=[Fix("write `when`", (Edit(self.span(head.key_start,
                                                                   head.key_start + 2), "when"),))])
            return None
        if key == "parallel":
            return self.parallel(head, rest, start)
        m = _STEP_HEAD.fullmatch(key)
        if m is None:
            self.report("TM0407", self.key_span(head),
                        message=f"expected `<id>(<kind.op>):`, `when <condition>:`, "
                        f"`parallel:` or `for <name> in <list>:`, found `{key}:`")
            return None
        self.extra_members(rest, "a step")
        return self.step(head, m, start)

    def extra_members(self, rest: list[Entry], what: str) -> None:
        for r in rest:
            self.report(
                "TM0116",
                self.entry_span(r),
                message=f"unexpected line in {what}: indent arguments under the step head",
            )

    def elif_error(self, e: Entry) -> None:
        span = self.span(e.key_start, e.key_start + 4)
        self.report("TM0405", span, help="write `else:` and put a `- when <condition>:` "
                    "item in its steps")

    def body_of(self, e: Entry, what: str) -> tuple[n.Stmt, ...]:
        if e.has_value and not e.broken:
            self.report("TM0116", self.span(e.value_start, e.value_end),
                        message=f"the steps of {what} go on the lines below it")
        if not e.children:
            self.report("TM0410", self.key_span(e), what=what)
            return ()
        return self.block(e.children, what)

    def require_v1(self, span: Span, what: str) -> None:
        if self.vp.v0:
            self.report("TM0411", span, what=what, needs="dsl/v1",
                        help="change the first line to `version: dsl/v1`")

    def when(self, head: Entry, rest: list[Entry], start: int) -> n.Stmt | None:
        assert head.key is not None
        cs = head.key_start + 4
        while cs < head.key_end and self.text[cs] in " \t":
            cs += 1
        cond: n.Expr
        if cs >= head.key_end:
            self.report("TM0101", self.key_span(head), message="`when` needs a condition")
            cond = n.Invalid(span=self.key_span(head))
        else:
            cond = self.vp.expr(cs, head.key_end) or n.Invalid(span=self.span(cs, head.key_end))
        body = self.body_of(head, "`when`")
        orelse: tuple[n.Stmt, ...] | None = None
        else_span = self.span(0, 0)
        for r in rest:
            if r.key == "else":
                if orelse is not None:
                    self.report("TM0115", self.key_span(r), key="else")
                    continue
                self.require_v1(self.key_span(r), "`else`")
                orelse = self.body_of(r, "`else`")
                else_span = self.key_span(r)
            elif r.key is not None and (r.key == "elif" or r.key.startswith("elif ")):
                self.elif_error(r)
            else:
                self.report("TM0116", self.entry_span(r),
                            message="a `when` item holds its condition, its steps and an "
                            "optional `else:`; nothing else")
        return n.When(cond=cond, body=body, orelse=orelse, else_span=else_span,
                      span=self.span(start, head.key_end + 1))

    def parallel(self, head: Entry, rest: list[Entry], start: int) -> n.Stmt:
        self.require_v1(self.key_span(head), "`parallel`")
        self.extra_members(rest, "a `parallel` block")
        body = self.body_of(head, "`parallel`")
        return n.Parallel(body=body, span=self.span(start, head.key_end + 1))

    def for_block(self, head: Entry, rest: list[Entry], start: int) -> n.Stmt | None:
        self.require_v1(self.key_span(head), "`for`")
        self.extra_members(rest, "a `for` block")
        hs = head.key_start + 3
        while hs < head.key_end and self.text[hs] in " \t":
            hs += 1
        parsed = self.vp.for_head(hs, head.key_end) if hs < head.key_end else None
        if hs >= head.key_end:
            self.report("TM0101", self.key_span(head),
                        message="`for` needs a head: `for <name> in <list>:`")
        body = self.body_of(head, "`for`")
        if parsed is None:
            return None
        var, var_span, iterable = parsed
        self.check_variable(var, var_span, "a `for` variable")
        return n.For(var=var, iter=iterable, body=body, var_span=var_span,
                     span=self.span(start, head.key_end + 1))

    def step(self, head: Entry, m: re.Match[str], start: int) -> n.Stmt | None:
        base = head.key_start
        step_id, kind = m.group(1), m.group(2)
        id_span = self.span(base + m.start(1), base + m.end(1))
        kind_span = self.span(base + m.start(2), base + m.end(2))
        args: list[n.Binding] = []
        options: dict[str, object] = {}
        policy: n.NameValue | None = None
        flow: n.NameValue | None = None
        name_arg = NAME_ARGS.get(kind)
        parts: list[tuple[str, Span, int, int, Entry | None]] = []
        partial = head.broken
        if head.has_value:
            if head.children:
                self.report("TM0116", self.span(head.children[0].start,
                                                head.children[0].start + 1),
                            message="arguments go either on the step line or below it, not both")
            if not head.broken:
                flow_parts = self.flow_entries(head.value_start, head.value_end)
                if flow_parts is None:
                    self.report("TM0116", self.span(head.value_start, head.value_end),
                                message="step arguments are a mapping: `{name: value, ...}` "
                                "or `name: value` lines below the step")
                    partial = True
                else:
                    seen: set[str] = set()
                    for key, ks, ke, vs, ve in flow_parts:
                        if key in seen:
                            self.report("TM0115", self.span(ks, ke), key=key)
                            continue
                        seen.add(key)
                        parts.append((key, self.span(ks, ke), vs, ve, None))
        elif not head.children:
            if not head.broken:
                self.report("TM0106", self.key_span(head), key=head.key,
                            help="write `{}` for a step without arguments",
                            fixes=[Fix("add `{}`", (Edit(self.span(head.key_end + 1,
                                                                   head.key_end + 1), " {}"),))])
        else:
            for c in self.mapping(head.children, "step arguments"):
                assert c.key is not None
                parts.append((c.key, self.key_span(c), c.value_start, c.value_end, c))
        for key, kspan, vs, ve, entry in parts:
            if key.startswith("@"):
                opt = key[1:]
                if opt not in STEP_OPTIONS:
                    self.report("TM0408", kspan, name=opt,
                                help="step options are `@timeout`, `@retry` and `@on_error`")
                    continue
                if opt == "on_error":
                    nv = self.name_at(key, kspan, vs, ve, entry)
                    if nv is not None:
                        options[opt] = nv
                else:
                    value = self.expr_entry(entry) if entry is not None else self.expr_at(vs, ve)
                    options[opt] = value
                continue
            if not self.check_ident(key, kspan, "argument name"):
                continue
            if key == name_arg:
                nv = self.name_at(key, kspan, vs, ve, entry)
                if nv is not None:
                    if name_arg == "policy":
                        policy = nv
                    else:
                        flow = nv
                continue
            if entry is None and ve == vs:
                self.report("TM0106", kspan, key=key)
            value = self.expr_entry(entry) if entry is not None else (
                self.expr_at(vs, ve) if ve > vs else n.Invalid(span=kspan)
            )
            args.append(n.Binding(name=key, value=value, name_span=kspan,
                                  span=kspan.cover(value.span)))
        timeout = options.get("timeout")
        retry = options.get("retry")
        on_error = options.get("on_error")
        assert timeout is None or isinstance(timeout, n.Expr)
        assert retry is None or isinstance(retry, n.Expr)
        assert on_error is None or isinstance(on_error, n.NameValue)
        return n.Step(
            id=step_id,
            kind=kind,
            args=tuple(args),
            options=n.StepOptions(timeout=timeout, retry=retry, on_error=on_error),
            id_span=id_span,
            kind_span=kind_span,
            policy=policy,
            flow=flow,
            partial=partial,
            span=self.span(start, head.key_end + 1),
        )

    def name_at(
        self, key: str, kspan: Span, vs: int, ve: int, entry: Entry | None
    ) -> n.NameValue | None:
        if entry is not None:
            return self.name_value(entry)
        if ve == vs:
            self.report("TM0106", kspan, key=key)
            return None
        raw = self.text[vs:ve]
        span = self.span(vs, ve)
        if raw[:1] in "\"'":
            value, bad = decode_string(raw)
            if bad is not None or raw[-1] != raw[0]:
                self.report("TM0101", span, message=f"invalid `{key}` value")
                return None
            return n.NameValue(value=value, quoted=True, span=span)
        return n.NameValue(value=raw, span=span)


# ---------------------------------------------------------------------------------------------
# PDL


class _PolicyBuilder(_Builder):
    def build(self, entries: list[Entry]) -> n.Policy | None:
        top = self.top_level(entries)
        version, version_span = self.version(top, PDL_VERSIONS, "policy")
        self.vp.v0 = version.endswith("v0")
        stem = self.path.replace("\\", "/").rsplit("/", 1)[-1]
        stem = stem[:-4] if stem.endswith(".pdl") else stem
        name, name_span, explicit = stem, self.span(0, 0), False
        if "policy" in top:
            got = self.doc_name(top["policy"], "policy")
            if got is not None:
                name, name_span = got
                explicit = True
        description = None
        if "description" in top:
            nv = self.name_value(top["description"])
            description = nv.value if nv is not None else None
        inputs = self.inputs(top["inputs"]) if "inputs" in top else ()
        arms = self.arms(top["arms"]) if "arms" in top else ()
        params: list[n.Param] = []
        for key, e in top.items():
            if key in PDL_KEYS:
                continue
            kspan = self.key_span(e)
            if not _IDENT.fullmatch(key):
                self.report("TM0402", kspan, key=key, where="in a policy",
                            help="a policy has " + ", ".join(f"`{k}`" for k in PDL_KEYS)
                            + " and parameters named like variables")
                continue
            self.check_variable(key, kspan, "a parameter name")
            data = self.data_entry(e)
            if data is not None:
                params.append(n.Param(name=key, value=data, name_span=kspan,
                                      span=self.entry_span(e)))
        evaluate: tuple[n.PStmt, ...] = ()
        if "evaluate" in top:
            e = top["evaluate"]
            if e.has_value and not e.broken:
                self.report("TM0116", self.span(e.value_start, e.value_end),
                            message="statements go on the lines below `evaluate:`")
            evaluate = self.statements(e.children)
        else:
            self.report("TM0401", self.span(0, 0), key="evaluate",
                        help="add an `evaluate:` block of statements")
        emit: tuple[n.Binding, ...] = ()
        if "emit" in top:
            emit = self.bindings(top["emit"], "`emit`")
        else:
            self.report("TM0401", self.span(0, 0), key="emit",
                        help="add an `emit:` block naming the decision's fields")
        return n.Policy(
            version=version,
            name=name,
            name_explicit=explicit,
            inputs=inputs,
            arms=arms,
            params=tuple(params),
            evaluate=evaluate,
            emit=emit,
            description=description,
            name_span=name_span,
            version_span=version_span,
            span=self.span(0, len(self.text)),
        )

    def arms(self, e: Entry) -> tuple[n.Arm, ...]:
        data = self.data_entry(e)
        if data is None:
            return ()
        if not isinstance(data, n.DataMap):
            self.report("TM0506", data.span, message="`arms` is a mapping of arm names to "
                        "mappings of fields")
            return ()
        out: list[n.Arm] = []
        for d in data.entries:
            if not self.check_ident(d.key, d.key_span, "arm name"):
                continue
            if not isinstance(d.value, n.DataMap):
                self.report("TM0506", d.value.span,
                            message=f"arm `{d.key}` must be a mapping of fields, "
                            "e.g. `{threshold: 75.0}`")
                continue
            out.append(n.Arm(name=d.key, fields=d.value.entries, name_span=d.key_span,
                             span=d.span))
        return tuple(out)

    def statements(self, entries: list[Entry]) -> tuple[n.PStmt, ...]:
        out: list[n.PStmt] = []
        pending_if: tuple[list[n.IfBranch], Entry] | None = None
        closed_if = False

        def flush() -> None:
            nonlocal pending_if
            if pending_if is not None:
                branches, first = pending_if
                out.append(n.If(branches=tuple(branches), orelse=None,
                                span=self.span(first.key_start, first.key_end + 1)))
                pending_if = None

        for e in entries:
            if e.dash:
                flush()
                self.report("TM0509", self.span(e.dash_offset, e.dash_offset + 1),
                            message="statements are plain lines, not `- ` list items")
                continue
            key = e.key
            if key is None:
                flush()
                stmt = self.assignment(e)
                if stmt is not None:
                    out.append(stmt)
                continue
            word = _HEAD_WORD.match(key)
            kw = word.group(1) if word is not None else (key if key in ("if", "elif", "for")
                                                        else None)
            if kw == "if":
                flush()
                cond = self.head_expr(e, 2)
                body = self.body(e, "`if`")
                if cond is not None:
                    pending_if = ([n.IfBranch(cond=cond, body=body,
                                              span=self.span(e.key_start, e.key_end + 1))], e)
                closed_if = False
                continue
            if kw == "elif":
                cond = self.head_expr(e, 4)
                body = self.body(e, "`elif`")
                if pending_if is None:
                    self.report("TM0509", self.key_span(e),
                                message="`elif` after the `else` of an `if`; move it before "
                                "the `else`" if closed_if else "`elif` without an `if` before it")
                    continue
                if cond is not None:
                    pending_if[0].append(n.IfBranch(cond=cond, body=body,
                                                    span=self.span(e.key_start, e.key_end + 1)))
                continue
            if key == "else":
                body = self.body(e, "`else`")
                if pending_if is None:
                    self.report("TM0509", self.key_span(e),
                                message="a second `else` for the same `if`" if closed_if
                                else "`else` without an `if` before it")
                    continue
                branches, first = pending_if
                out.append(n.If(branches=tuple(branches), orelse=body,
                                else_span=self.key_span(e),
                                span=self.span(first.key_start, first.key_end + 1)))
                pending_if = None
                closed_if = True
                continue
            flush()
            closed_if = False
            if kw == "for":
                self.report("TM0507", self.span(e.key_start, e.key_start + 3))
                continue
            if key == "choose":
                choose = self.choose(e)
                if choose is not None:
                    out.append(choose)
                continue
            if key == "when" or key.startswith("when "):
                span = self.span(e.key_start, e.key_start + 4)
                self.report("TM0509", span, message="`when` is WDL; a policy uses `if`",
                            fixes=[Fix("write `if`", (Edit(span, "if"),))])
                continue
            span = self.entry_span(e)
            colon = self.text.find(":", e.key_end)
            self.report(
                "TM0509",
                span,
                message=f"expected a statement `{key} = <expression>`, found `{key}:`",
                fixes=[Fix(f"assign with `{key} = ...`",
                           (Edit(self.span(e.key_end, colon + 1), " ="),))]
                if _IDENT.fullmatch(key) else [],
            )
        flush()
        return tuple(out)

    def head_expr(self, e: Entry, skip: int) -> n.Expr | None:
        cs = e.key_start + skip
        while cs < e.key_end and self.text[cs] in " \t":
            cs += 1
        if cs >= e.key_end:
            self.report("TM0101", self.key_span(e), message=f"`{e.key}` needs a condition")
            return n.Invalid(span=self.key_span(e))
        return self.vp.expr(cs, e.key_end) or n.Invalid(span=self.span(cs, e.key_end))

    def body(self, e: Entry, what: str) -> tuple[n.PStmt, ...]:
        inline: tuple[n.PStmt, ...] = ()
        if e.has_value and not e.broken:
            self.report("TM0509", self.span(e.value_start, e.value_end),
                        message=f"the statements of {what} go on the lines below it")
            # Recover: read the text after the colon as the body's first statement.
            stmt = self.vp.statement(e.value_start, e.value_end)
            inline = (stmt,) if stmt is not None else ()
        if not e.children:
            if not inline and not e.broken:
                self.report("TM0410", self.key_span(e), what=what)
            return inline
        return inline + self.statements(e.children)

    def assignment(self, e: Entry) -> n.PStmt | None:
        if e.broken:
            return None
        raw = self.value_text(e)
        if _WITH_P.search(raw):
            at = e.value_start + _WITH_P.search(raw).start()  # type: ignore[union-attr]
            self.report("TM0508", self.span(at, e.value_end))
            return self._recovered_assignment(e)
        stmt = self.vp.statement(e.value_start, e.value_end)
        if stmt is not None:
            self.check_variable(stmt.target, stmt.target_span)
            return stmt
        return self._recovered_assignment(e)


    def _recovered_assignment(self, e: Entry) -> n.PStmt | None:
        """``name = <bad value>`` still assigns ``name`` (as :class:`~.nodes.Invalid`), so
        reads of it later do not cascade into "not assigned" errors."""
        m = _ASSIGN_HEAD.match(self.text, e.value_start, e.value_end)
        if m is None:
            return None
        target_span = self.span(m.start(1), m.end(1))
        return n.Assign(target=m.group(1), value=n.Invalid(span=self.span(m.end(), e.value_end)),
                        target_span=target_span, span=self.span(e.value_start, e.value_end))

    def choose(self, e: Entry) -> n.PStmt | None:
        if e.has_value and not e.broken:
            self.report("TM0509", self.span(e.value_start, e.value_end),
                        message="the options of `choose` go on the lines below it")
        if not e.children:
            self.report("TM0410", self.key_span(e), what="`choose`")
            return None
        options: list[n.ChooseOption] = []
        for c in self.mapping(e.children, "`choose`"):
            assert c.key is not None
            kspan = self.key_span(c)
            if not self.check_ident(c.key, kspan, "option name"):
                continue
            if c.children:
                self.report("TM0509", self.key_span(c),
                            message="a `choose` option is one line: "
                            "`name: <assignment or expression> [with p = <expr>]`")
                continue
            if not self.require_value(c):
                continue
            parsed = self.vp.choose_option(c.value_start, c.value_end)
            if parsed is None:
                continue
            body, prob = parsed
            if isinstance(body, tuple):
                target, target_span, walrus, value = body
                self.check_variable(target, target_span)
                options.append(n.ChooseOption(name=c.key, target=target, value=value, prob=prob,
                                              name_span=kspan, target_span=target_span,
                                              walrus=walrus, span=self.entry_span(c)))
            else:
                options.append(n.ChooseOption(name=c.key, target=None, value=body, prob=prob,
                                              name_span=kspan, span=self.entry_span(c)))
        return n.Choose(options=tuple(options), span=self.span(e.key_start, e.key_end + 1))


def build_document(source: SourceFile, sink: Sink, lang: str) -> n.Workflow | n.Policy | None:
    """Scan ``source`` and build its document; ``lang`` is ``"wdl"`` or ``"pdl"``."""
    result = scan(source, sink)
    if not result.entries:
        sink.report("TM0110", source.display_path, source.span(0, 0),
                    help="a document needs at least `version:` and a name")
        return None
    builder: _WorkflowBuilder | _PolicyBuilder
    builder = _WorkflowBuilder(source, sink, lang) if lang == "wdl" else _PolicyBuilder(
        source, sink, lang
    )
    return builder.build(result.entries)
