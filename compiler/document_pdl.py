"""PDL policies from the block structure (see ``document`` for the shared machinery).

Input: the top-level entries of a ``.pdl`` file.  Output: a :class:`~.nodes.Policy`, with
every structural problem (statements, ``if`` chains, ``choose`` options, arms) reported.
"""

from __future__ import annotations

from . import nodes as n
from .diagnostics import Edit, Fix
from .document import (
    _ASSIGN_HEAD,
    _HEAD_WORD,
    _IDENT,
    _WITH_P,
    PDL_KEYS,
    PDL_VERSIONS,
    DocumentBuilder,
)
from .scanner import Entry

# ---------------------------------------------------------------------------------------------
# PDL


class PolicyBuilder(DocumentBuilder):
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


