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


class DocumentBuilder:
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


def build_document(source: SourceFile, sink: Sink, lang: str) -> n.Workflow | n.Policy | None:
    """Scan ``source`` and build its document; ``lang`` is ``"wdl"`` or ``"pdl"``."""
    result = scan(source, sink)
    if not result.entries:
        sink.report("TM0110", source.display_path, source.span(0, 0),
                    help="a document needs at least `version:` and a name")
        return None
    from .document_pdl import PolicyBuilder
    from .document_wdl import WorkflowBuilder

    builder: WorkflowBuilder | PolicyBuilder
    builder = WorkflowBuilder(source, sink, lang) if lang == "wdl" else PolicyBuilder(
        source, sink, lang
    )
    return builder.build(result.entries)
