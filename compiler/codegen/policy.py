"""Policies: an IR :class:`~..ir.PolicyIR` -> the body of ``def decide(inputs, arm, params, rng)``.

Role: write the decision function of docs/internals.md ("Generated policy modules"): inputs and
the parameters it reads are bound to locals ``i_<name>``/``p_<name>`` at the start, variables are
locals ``v_<name>``, ``if``/``elif``/``else`` are Python's, a ``choose`` is one
``idx = rt_choose(rng, <choose id>, [p0, None, ...])`` draw followed by ``if idx == 0:`` ...
``else:`` over its options, and the emit block is the returned dict.

Input: an optimized policy.  Output: :class:`PolicyParts`.  Raises
:class:`~.expr.CodegenError` for what cannot be compiled.

Invariant: the checker guarantees every variable is assigned before it is read, so no variable
is initialised; the ``rng`` is touched only by ``random`` and ``choose``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import ir
from .expr import CodegenError, ExprCompiler, write_record_return
from .literal import mangle, py_str
from .writer import Writer


@dataclass(slots=True)
class PolicyParts:
    run: Writer
    used: set[str] = field(default_factory=set)


class _PolicyWriter:
    def __init__(self, policy: ir.PolicyIR) -> None:
        self.policy = policy
        self.x = ExprCompiler(rng="rng")
        self.w = Writer(depth=1)
        self.used: set[str] = {"DecisionRng"}

    def decide(self) -> Writer:
        self._statements(self.policy.body)
        self._emit()
        out = Writer()
        out.line("def decide(inputs: dict[str, object], arm: dict[str, object], "
                 "params: dict[str, object],")
        out.open("           rng: DecisionRng) -> dict[str, object]:")
        for decl in self.policy.inputs:
            if decl.name in self.x.inputs:
                out.line(f"{mangle('input', decl.name)} = inputs[{py_str(decl.name)}]",
                         decl.span)
        for name in self.policy.params:
            if name in self.x.params:
                out.line(f"{mangle('param', name)} = params[{py_str(name)}]")
        out.extend(self.w)
        out.close()
        self.used |= self.x.used
        return out

    def _statements(self, stmts: tuple[ir.PStmt, ...]) -> None:
        for stmt in stmts:
            match stmt:
                case ir.Assign(target=target, value=value):
                    self.w.line(f"{mangle('var', target)} = {self.x.compile(value)}", value.span)
                case ir.If(branches=branches, orelse=orelse):
                    for index, (cond, body) in enumerate(branches):
                        keyword = "if" if index == 0 else "elif"
                        self.w.open(f"{keyword} {self.x.compile(cond)}:", cond.span)
                        self._statements(body)
                        self.w.close()
                    if orelse is not None:
                        self.w.open("else:", stmt.span)
                        self._statements(orelse)
                        self.w.close()
                case ir.Choose():
                    self._choose(stmt)
                case _:  # pragma: no cover - the IR has no other statements
                    raise CodegenError(stmt.span, f"no code for {type(stmt).__name__}")

    def _choose(self, stmt: ir.Choose) -> None:
        w, x = self.w, self.x
        target = mangle("var", stmt.target)
        if not stmt.options:
            raise CodegenError(stmt.span, "`choose` has no options")
        probs = [x.compile(o.prob) if o.prob is not None else "None" for o in stmt.options]
        self.used.add("rt_choose")
        w.line(f"idx = rt_choose(rng, {py_str(stmt.id)}, [{', '.join(probs)}])", stmt.span)
        last = len(stmt.options) - 1
        for index, option in enumerate(stmt.options):
            if last > 0:
                if index == 0:
                    w.open("if idx == 0:", option.span)
                elif index < last:
                    w.open(f"elif idx == {index}:", option.span)
                else:
                    w.open("else:", option.span)
            w.line(f"{target} = {x.compile(option.value)}", option.value.span)
            if last > 0:
                w.close()

    def _emit(self) -> None:
        write_record_return(self.w, self.x, self.policy.emit)


def policy_parts(policy: ir.PolicyIR) -> PolicyParts:
    """The ``decide`` function of ``policy`` and the ABI names it uses."""
    writer = _PolicyWriter(policy)
    run = writer.decide()
    return PolicyParts(run=run, used=writer.used)
