"""The optimizer: a table of passes, each with the level that enables it.

``-O0`` runs nothing, ``-O1`` (the default) folds constants, drops dead branches and simplifies
guards, ``-O2`` also prunes unused pure steps and groups independent pure steps to run
concurrently.  Passes only rewrite; they never report.  No pass moves a run-time error earlier
(each pass module says why).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .. import ir
from .concurrency import concurrency_flow
from .dead import drop_dead_flow, drop_dead_policy
from .fold import fold_flow, fold_policy
from .guards import simplify_flow, simplify_policy
from .prune import prune_flow

DEFAULT_LEVEL = 1
LEVELS = (0, 1, 2)


@dataclass(frozen=True, slots=True)
class Pass:
    name: str
    level: int
    flow: Callable[[ir.Flow], ir.Flow] | None = None
    policy: Callable[[ir.PolicyIR], ir.PolicyIR] | None = None


PASSES: tuple[Pass, ...] = (
    Pass("fold-constants", 1, fold_flow, fold_policy),
    Pass("drop-dead-branches", 1, drop_dead_flow, drop_dead_policy),
    Pass("simplify-guards", 1, simplify_flow, simplify_policy),
    Pass("prune-unused-pure-steps", 2, prune_flow),
    Pass("concurrency-levels", 2, concurrency_flow),
)


def optimize_flow(flow: ir.Flow, level: int = DEFAULT_LEVEL) -> ir.Flow:
    for p in PASSES:
        if p.level <= level and p.flow is not None:
            flow = p.flow(flow)
    return flow


def optimize_policy(policy: ir.PolicyIR, level: int = DEFAULT_LEVEL) -> ir.PolicyIR:
    for p in PASSES:
        if p.level <= level and p.policy is not None:
            policy = p.policy(policy)
    return policy
