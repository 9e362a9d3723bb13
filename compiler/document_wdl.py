"""WDL workflows from the block structure (see ``document`` for the shared machinery).

Input: the top-level entries of a ``.wdl`` file.  Output: a :class:`~.nodes.Workflow`, with
every structural problem (step heads, blocks, options, v1-only constructs) reported.
"""

from __future__ import annotations

import re

from . import nodes as n
from .diagnostics import Edit, Fix
from .document import (
    _HEAD_WORD,
    _STEP_HEAD,
    NAME_ARGS,
    STEP_OPTIONS,
    WDL_KEYS,
    WDL_VERSIONS,
    DocumentBuilder,
)
from .parse import decode_string
from .scanner import Entry
from .source import Span

# ---------------------------------------------------------------------------------------------
# WDL


class WorkflowBuilder(DocumentBuilder):
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


