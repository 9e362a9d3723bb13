"""Workflows: an IR :class:`~..ir.Flow` -> the parts of a generated flow module.

Role: lay out the flow's step and block sites (``SITES``/``BLOCKS``, document order) and write
``async def run(ctx, inputs)`` (docs/internals.md, "Generated flow modules"):

- every step result is a local ``s_<id>``, set to ``MISSING.of(<id>)`` at the start (every id of
  ``Flow.step_ids``, so steps of a branch not taken or removed by the optimizer read as absent);
- ``when``/``else`` -> ``if``/``else``, each branch in ``async with ctx.block(...)``;
- ``parallel`` -> one inner ``async def`` per branch (``nonlocal`` for the results it sets),
  run with ``await ctx.gather(...)``; ``Concurrent`` (-O2) likewise, one function per step;
- ``for`` -> a loop over ``rt_iter(...)``; each iteration first resets the body's steps that
  might not run in it, and ends by appending every body step's result to the block's list
  ``l<block>_<id>``; after the loop ``s_<id>`` is that list.  The body's steps are those of the
  *source* (``loops``), so a branch the optimizer removed still yields one absent item per
  iteration, as at -O0;
- ``@on_error: <target>`` -> the step's call in ``try``/``except StepFailed`` setting the
  target's flag ``j_<target>``; the nodes between the step and its target run under
  ``if not j_<target>:`` (consecutive nodes with the same flags share one ``if``, so jumps never
  deepen the nesting), and the flag is reset where the target's block starts.

Input: an optimized flow (paths already relative to the bundle's sources).
Output: :class:`FlowParts`.  Raises :class:`~.expr.CodegenError` for what cannot be compiled.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from .. import ir
from ..source import Span
from .expr import CodegenError, ExprCompiler, write_record_return
from .literal import IDENTIFIER, call_lines, mangle, py_literal, py_number, py_str
from .writer import WIDTH, Writer

_EMPTY: frozenset[str] = frozenset()
ContainerKey = tuple[str, str]
"""A sequence of nodes: ``("", "")`` the flow body, ``(<block id>, then|else|body|<branch>)``."""
TOP: ContainerKey = ("", "")
RETRY_DEFAULTS: dict[str, ir.Json] = {"max": 3, "backoff": 0.0, "factor": 2.0}
"""The values of ``@retry`` fields left out (docs/internals.md)."""


@dataclass(slots=True)
class FlowParts:
    """What the flow module template needs besides the flow's metadata."""

    sites: list[str]
    blocks: list[str]
    run: Writer
    used: set[str] = field(default_factory=set)
    """ABI names the module uses."""


def block_sites(flow: ir.Flow) -> Iterator[tuple[str, str, Span, str | None]]:
    """``(id, kind, span, parent)`` of every block (``else`` branches included), in
    document order."""
    Item = tuple[ir.Node | tuple[str, Span], str | None]
    stack: list[Item] = [(n, None) for n in reversed(flow.body)]
    while stack:
        item, parent = stack.pop()
        children: list[Item] = []
        match item:
            case (str() as else_id, Span() as span):
                yield else_id, "else", span, parent
            case ir.When(then=then, orelse=orelse):
                yield item.id, "when", item.span, parent
                children = [(n, item.id) for n in then]
                if orelse is not None:
                    else_id = else_block_id(item)
                    children.append(((else_id, item.else_span), parent))
                    children.extend((n, else_id) for n in orelse)
            case ir.Parallel(branches=nodes) | ir.For(body=nodes):
                kind = "parallel" if isinstance(item, ir.Parallel) else "for"
                yield item.id, kind, item.span, parent
                children = [(n, item.id) for n in nodes]
        stack.extend(reversed(children))


def else_block_id(node: ir.When) -> str:
    return f"else@{node.else_span.line}:{node.else_span.column}"


def step_parents(flow: ir.Flow) -> Iterator[tuple[ir.Step, str | None]]:
    """Every step with the id of its enclosing block, in document order."""
    stack: list[tuple[ir.Node, str | None]] = [(n, None) for n in reversed(flow.body)]
    while stack:
        node, parent = stack.pop()
        match node:
            case ir.Step():
                yield node, parent
            case ir.When(then=then, orelse=orelse):
                children = [(n, node.id) for n in then]
                children += [(n, else_block_id(node)) for n in orelse or ()]
                stack.extend(reversed(children))
            case ir.Parallel(branches=nodes) | ir.For(body=nodes):
                stack.extend((n, node.id) for n in reversed(nodes))
            case ir.Concurrent(steps=steps):
                stack.extend((s, parent) for s in reversed(steps))


def loop_members(flow: ir.Flow) -> dict[str, tuple[str, ...]]:
    """For each ``for`` block, the ids of every step in its body (nested ones included)."""
    members: dict[str, tuple[str, ...]] = {}
    for node in ir.iter_nodes(flow.body):
        if isinstance(node, ir.For):
            members[node.id] = tuple(s.id for s in ir.iter_steps(node.body))
    return members


def constant_value(expr: ir.Expr | None) -> tuple[bool, ir.Json]:
    """``(True, value)`` when ``expr`` is a constant, also unfolded (-O0) literals."""
    match expr:
        case ir.Const(value=value):
            return True, value
        case ir.RecordExpr(entries=entries):
            out: dict[str, ir.Json] = {}
            for key, item in entries:
                ok, value = constant_value(item)
                if not ok:
                    return False, None
                out[key] = value
            return True, out
    return False, None


class _Layout:
    """Indexes of sites and blocks, sequences, and the ``@on_error`` jump guards."""

    def __init__(self, flow: ir.Flow) -> None:
        self.site_index: dict[str, int] = {}
        self.block_index: dict[str, int] = {}
        self.position: dict[str, tuple[ContainerKey, int]] = {}
        self.owner: dict[ContainerKey, tuple[ir.Node, ContainerKey, int]] = {}
        self.sequences: dict[ContainerKey, tuple[ir.Node, ...]] = {}
        self.guards: dict[str, set[str]] = {}
        self.flag_inits: dict[ContainerKey, list[str]] = {}
        self.jumpers: set[str] = set()
        for index, (block_id, _, _, _) in enumerate(block_sites(flow)):
            self.block_index[block_id] = index
        self._sequence(flow.body, TOP)
        for index, step in enumerate(ir.iter_steps(flow.body)):
            self.site_index[step.id] = index
        for step in ir.iter_steps(flow.body):
            if step.on_error not in ("fail", "continue"):
                self._jump(step)

    def _sequence(self, nodes: tuple[ir.Node, ...], key: ContainerKey) -> None:
        stack: list[tuple[tuple[ir.Node, ...], ContainerKey]] = [(nodes, key)]
        while stack:
            seq, ckey = stack.pop()
            self.sequences[ckey] = seq
            for index, node in enumerate(seq):
                self.position[node.id] = (ckey, index)
                inner: list[tuple[tuple[ir.Node, ...], ContainerKey]] = []
                match node:
                    case ir.When(then=then, orelse=orelse):
                        inner.append((then, (node.id, "then")))
                        if orelse is not None:
                            inner.append((orelse, (node.id, "else")))
                    case ir.Parallel(branches=branches):
                        inner.extend(((b,), (node.id, str(k))) for k, b in enumerate(branches))
                    case ir.For(body=body):
                        inner.append((body, (node.id, "body")))
                for child_seq, child_key in inner:
                    self.owner[child_key] = (node, ckey, index)
                    stack.append((child_seq, child_key))

    def _jump(self, step: ir.Step) -> None:
        target = step.on_error
        if target not in self.position:
            raise CodegenError(step.span, f"`@on_error` target `{target}` is not in the flow")
        target_key, target_index = self.position[target]
        key, index = self.position[step.id]
        while key != target_key:
            self._guard(self.sequences[key][index + 1:], target)
            owner = self.owner.get(key)
            if owner is None or isinstance(owner[0], ir.Parallel | ir.For):
                raise CodegenError(step.span, f"`@on_error` cannot jump from `{step.id}` to "
                                   f"`{target}` (out of a `for` or `parallel` block)")
            _, key, index = owner
        if target_index <= index:
            raise CodegenError(step.span, f"`@on_error` target `{target}` is not a later step")
        self._guard(self.sequences[key][index + 1:target_index], target)
        self.jumpers.add(step.id)
        inits = self.flag_inits.setdefault(key, [])
        if target not in inits:
            inits.append(target)

    def _guard(self, nodes: tuple[ir.Node, ...], target: str) -> None:
        for node in nodes:
            self.guards.setdefault(node.id, set()).add(target)


class _FlowWriter:
    def __init__(self, flow: ir.Flow, loops: Mapping[str, tuple[str, ...]]) -> None:
        self.flow = flow
        self.loops = loops
        self.layout = _Layout(flow)
        self.order = {step_id: index for index, step_id in enumerate(flow.step_ids)}
        self.x = ExprCompiler()
        self.used: set[str] = {"FlowContext", "StepSite", "BlockSite", "MISSING"}
        self.w = Writer(depth=1)

    # -- tables -----------------------------------------------------------------------------

    def sites(self) -> list[str]:
        lines: list[str] = []
        for index, (step, parent) in enumerate(step_parents(self.flow)):
            span = step.span
            args = [py_str(step.id), py_str(step.kind), "SOURCE_PATH", str(span.line),
                    str(span.column)]
            timeout = self._constant_timeout(step)
            if timeout is not None:
                args.append(f"timeout={py_number(timeout)}")
            retry = self._constant_retry(step)
            if retry is not None:
                args.append(f"retry={retry}")
            if step.on_error != "fail":
                args.append(f"on_error={py_str(step.on_error)}")
            if step.pure:
                args.append("pure=True")
            if parent is not None:
                args.append(f"parent={py_str(parent)}")
            args.append(f"index={index}")
            lines.extend(call_lines("StepSite", args, 4, WIDTH, ","))
        return lines

    def blocks(self) -> list[str]:
        lines: list[str] = []
        for block_id, kind, span, parent in block_sites(self.flow):
            args = [py_str(block_id), py_str(kind), "SOURCE_PATH", str(span.line),
                    str(span.column)]
            if parent is not None:
                args.append(f"parent={py_str(parent)}")
            lines.extend(call_lines("BlockSite", args, 4, WIDTH, ","))
        return lines

    def _constant_timeout(self, step: ir.Step) -> float | None:
        ok, value = constant_value(step.timeout)
        if not ok or value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not (
            value >= 0 and not math.isnan(value)
        ):
            assert step.timeout is not None
            raise CodegenError(step.timeout.span, f"`@timeout` must be a duration of zero or "
                               f"more, got {py_literal(value)}")
        return float(value)

    def _constant_retry(self, step: ir.Step) -> str | None:
        ok, value = constant_value(step.retry)
        if not ok or value is None:
            return None
        assert step.retry is not None
        if not isinstance(value, dict):
            raise CodegenError(step.retry.span, "`@retry` must be a map")
        fields = {**RETRY_DEFAULTS, **value}
        attempts, backoff, factor = fields["max"], fields["backoff"], fields["factor"]
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise CodegenError(step.retry.span, f"`@retry` max must be an int of at least 1, "
                               f"got {py_literal(attempts)}")
        for name, number in (("backoff", backoff), ("factor", factor)):
            if isinstance(number, bool) or not isinstance(number, int | float) or not (
                0 <= number < math.inf
            ):
                raise CodegenError(step.retry.span, f"`@retry` {name} must be a finite number "
                                   f"of zero or more, got {py_literal(number)}")
        assert isinstance(backoff, int | float) and isinstance(factor, int | float)
        self.used.add("Retry")
        return (f"Retry(attempts={attempts}, backoff={py_number(float(backoff))}, "
                f"factor={py_number(float(factor))})")

    # -- run() ------------------------------------------------------------------------------

    def run(self) -> Writer:
        body = self.w
        self._sequence(self.flow.body, TOP)
        self._outputs()
        out = Writer()
        out.open("async def run(ctx: FlowContext, inputs: dict[str, object]) "
                 "-> dict[str, object]:")
        for decl in self.flow.inputs:
            if decl.name in self.x.inputs:
                out.line(f"{mangle('input', decl.name)} = inputs[{py_str(decl.name)}]",
                         decl.span)
        for step_id in self.flow.step_ids:
            out.line(f"{mangle('step', step_id)} = MISSING.of({py_str(step_id)})")
        out.extend(body)
        out.close()
        self.used |= self.x.used
        return out

    def _sequence(self, nodes: tuple[ir.Node, ...], key: ContainerKey) -> None:
        w = self.w
        for target in self.layout.flag_inits.get(key, ()):
            w.line(f"{mangle('jump', target)} = False")
        guards = self.layout.guards
        index = 0
        while index < len(nodes):
            flags = frozenset(guards.get(nodes[index].id, _EMPTY))
            end = index + 1
            while end < len(nodes) and frozenset(guards.get(nodes[end].id, _EMPTY)) == flags:
                end += 1
            if flags:
                names = sorted(flags, key=lambda t: self.order.get(t, 0))
                w.open("if not " + " or ".join(mangle("jump", t) for t in names) + ":")
            for node in nodes[index:end]:
                self._node(node)
            if flags:
                w.close()
            index = end

    def _node(self, node: ir.Node) -> None:
        match node:
            case ir.Step():
                self._step(node)
            case ir.When():
                self._when(node)
            case ir.Parallel():
                self._parallel(node)
            case ir.For():
                self._for(node)
            case ir.Concurrent():
                self._concurrent(node)
            case _:  # pragma: no cover - the IR has no other nodes
                raise CodegenError(node.span, f"no code for {type(node).__name__}")

    def _block(self, block_id: str, span: Span) -> None:
        self.w.open(f"async with ctx.block(BLOCKS[{self.layout.block_index[block_id]}]):", span)

    def _when(self, node: ir.When) -> None:
        w = self.w
        w.open(f"if {self.x.compile(node.cond)}:", node.cond.span)
        self._block(node.id, node.span)
        self._sequence(node.then, (node.id, "then"))
        w.close()
        w.close()
        if node.orelse is not None:
            w.open("else:", node.else_span)
            self._block(else_block_id(node), node.else_span)
            self._sequence(node.orelse, (node.id, "else"))
            w.close()
            w.close()

    def _parallel(self, node: ir.Parallel) -> None:
        w = self.w
        block = self.layout.block_index[node.id]
        names: list[str] = []
        for k, branch in enumerate(node.branches):
            name = f"branch{block}_{k}"
            names.append(f"{name}()")
            w.open(f"async def {name}() -> None:", branch.span)
            self._nonlocal(self._assigned((branch,)))
            self._sequence((branch,), (node.id, str(k)))
            w.close()
        self._block(node.id, node.span)
        w.lines_at(call_lines("await ctx.gather", names, 0, WIDTH - 4 * w.depth), node.span)
        w.close()

    def _concurrent(self, node: ir.Concurrent) -> None:
        w = self.w
        names: list[str] = []
        for step in node.steps:
            name = f"conc_{_identifier(step.id)}"
            names.append(f"{name}()")
            w.open(f"async def {name}() -> None:", step.span)
            self._nonlocal([step.id])
            self._step(step)
            w.close()
        w.lines_at(call_lines("await ctx.gather", names, 0, WIDTH - 4 * w.depth), node.span)

    def _nonlocal(self, step_ids: list[str]) -> None:
        names = [mangle("step", s) for s in step_ids]
        line: list[str] = []
        for name in names:
            if line and 4 * self.w.depth + len("nonlocal ") + len(", ".join([*line, name])) > WIDTH:
                self.w.line("nonlocal " + ", ".join(line))
                line = []
            line.append(name)
        if line:
            self.w.line("nonlocal " + ", ".join(line))

    def _members(self, node: ir.For) -> list[str]:
        ids = set(self.loops.get(node.id, ())) | {s.id for s in ir.iter_steps(node.body)}
        return sorted(ids, key=lambda s: self.order.get(s, len(self.order)))

    def _assigned(self, nodes: tuple[ir.Node, ...]) -> list[str]:
        """The step results a list of nodes sets (for ``nonlocal``)."""
        ids: set[str] = set()
        for node in ir.iter_nodes(nodes):
            if isinstance(node, ir.Step):
                ids.add(node.id)
            elif isinstance(node, ir.For):
                ids.update(self._members(node))
        return sorted(ids, key=lambda s: self.order.get(s, len(self.order)))

    def _for(self, node: ir.For) -> None:
        w, x = self.w, self.x
        block = self.layout.block_index[node.id]
        members = self._members(node)
        lists = {m: f"l{block}_{_identifier(m)}" for m in members}
        always = {n.id for n in node.body if isinstance(n, ir.Step)
                  and not self.layout.guards.get(n.id) and n.id not in self.layout.jumpers}
        always |= {s.id for n in node.body if isinstance(n, ir.Concurrent)
                   and not self.layout.guards.get(n.id) for s in n.steps}
        for m in members:
            w.line(f"{lists[m]} = []", node.span)
        self._block(node.id, node.span)
        previous = x.variables.get(node.var)
        name = mangle("var", node.var) if previous is None else f"v{block}_{node.var}"
        iterable = x.compile(node.iter)
        self.used.add("rt_iter")
        w.open(f"for {name} in rt_iter({iterable}):", node.iter.span)
        x.variables[node.var] = name
        for m in members:
            if m not in always:
                w.line(f"{mangle('step', m)} = MISSING.of({py_str(m)})")
        self._sequence(node.body, (node.id, "body"))
        for m in members:
            w.line(f"{lists[m]}.append({mangle('step', m)})")
        if previous is None:
            del x.variables[node.var]
        else:
            x.variables[node.var] = previous
        w.close()
        w.close()
        for m in members:
            w.line(f"{mangle('step', m)} = {lists[m]}")

    def _step(self, step: ir.Step) -> None:
        w, x = self.w, self.x
        args: list[tuple[str, str, Span]] = []
        bound = {name for name, _ in step.args}
        if step.kind == "policy.apply" and step.policy is not None and "policy" not in bound:
            args.append(("policy", py_str(step.policy), step.span))
        if step.kind == "flow.call" and step.flow is not None and "flow" not in bound:
            args.append(("flow", py_str(step.flow), step.span))
        args += [(name, x.compile(value), value.span) for name, value in step.args]
        extras = ""
        extras_at = step.span
        if step.retry is not None and not constant_value(step.retry)[0]:
            extras = f", retry={self._retry_code(step.retry)}"
            extras_at = step.retry.span
        if step.timeout is not None and not constant_value(step.timeout)[0]:
            extras = f", timeout={x.compile(step.timeout)}" + extras
            extras_at = step.timeout.span
        target = mangle("step", step.id)
        jumper = step.id in self.layout.jumpers
        if jumper:
            w.open("try:", step.span)
        head = f"{target} = await ctx.step(SITES[{self.layout.site_index[step.id]}], "
        entries = [f"{py_str(name)}: {code}" for name, code, _ in args]
        one_line = head + "{" + ", ".join(entries) + "}" + extras + ")"
        if len(args) <= 1 and 4 * w.depth + len(one_line) <= WIDTH:
            w.line(one_line, args[0][2] if args and not extras else step.span)
        else:
            w.line(head + "{", step.span)
            w.depth += 1
            for entry, (_, _, span) in zip(entries, args, strict=True):
                w.line(entry + ",", span)
            w.depth -= 1
            w.line("}" + extras + ")", extras_at)
        if jumper:
            w.close()
            self.used.add("StepFailed")
            w.open("except StepFailed:", step.span)
            w.line(f"{mangle('jump', step.on_error)} = True")
            w.close()

    def _retry_code(self, retry: ir.Expr) -> str:
        """``Retry(...)`` built at run time from a ``@retry`` that is not a constant."""
        self.used.add("Retry")
        x = self.x
        if isinstance(retry, ir.RecordExpr):
            given = dict(retry.entries)
            parts = []
            for key, keyword in (("max", "attempts"), ("backoff", "backoff"),
                                 ("factor", "factor")):
                value = given.get(key)
                code = py_literal(RETRY_DEFAULTS[key]) if value is None else x.compile(value)
                parts.append(f"{keyword}={code}")
            return f"Retry({', '.join(parts)})"
        code = x.compile(retry)
        return (f"Retry(attempts=(t_retry := {code}).get('max', 3), "
                "backoff=t_retry.get('backoff', 0.0), factor=t_retry.get('factor', 2.0))")

    def _outputs(self) -> None:
        write_record_return(self.w, self.x, self.flow.outputs)


def _identifier(name: str) -> str:
    if IDENTIFIER.fullmatch(name) is None:
        raise CodegenError(Span(0, 0, 0, 0), f"{name!r} is not an identifier")
    return name


def flow_parts(flow: ir.Flow, loops: Mapping[str, tuple[str, ...]] | None = None) -> FlowParts:
    """The ``SITES``/``BLOCKS`` entries and ``run`` of ``flow``.  ``loops`` gives, per ``for``
    block, the ids of every step of its source body (:func:`loop_members` of the unoptimized
    flow); by default the optimized body's steps."""
    writer = _FlowWriter(flow, loops if loops is not None else loop_members(flow))
    sites = writer.sites()
    blocks = writer.blocks()
    run = writer.run()
    return FlowParts(sites=sites, blocks=blocks, run=run, used=writer.used)
