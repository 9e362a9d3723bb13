"""Implementation of the ``policy.apply`` step kind: one decision of a policy of the bundle.

Role: a thin bridge to the runtime's policy engine (``call.bundle.apply_policy``), which
validates the inputs, picks the active arm, seeds the decision's ``DecisionRng`` with
``call.seed``, runs the generated ``decide`` and records the decision with its draws.

Input: ``args["policy"]``, the id of the bound policy (the code generator resolves the v0
default, the PDL with the workflow's file stem, and always passes it), and the policy's inputs
as the other arguments (``values`` by default).  Output: the policy's emit record.

Invariants: the step adds nothing to the decision; a missing or non-string ``policy`` is a
non-retryable :class:`~.call.StepFailure` (code ``bad_argument``: a code generator bug, since
the checker binds every ``policy.apply``); so is a run without a bundle (code ``no_bundle``).
"""

from __future__ import annotations

from typing import Any, Final

from .builtins_impl import kind_name
from .call import StepCall, StepFailure, StepImpl

__all__ = ["KINDS", "policy_apply"]


async def policy_apply(call: StepCall, args: dict[str, Any]) -> dict[str, Any]:
    """``policy.apply``: the emit record of the bound policy's decision on the inputs."""
    inputs = dict(args)
    name = inputs.pop("policy", None)
    if not isinstance(name, str) or not name:
        raise StepFailure(
            "policy.apply: the step's arguments hold no policy id under `policy` "
            f"(got {kind_name(name)}); the bundle was generated wrongly",
            "bad_argument",
            retryable=False,
        )
    bundle = call.bundle
    if bundle is None:
        raise StepFailure(
            f"policy.apply: cannot apply policy `{name}`: this run has no bundle (run the flow "
            "from a compiled bundle)",
            "no_bundle",
            retryable=False,
        )
    return await bundle.apply_policy(name, inputs, seed=call.seed, parent=call)


KINDS: Final[dict[str, StepImpl]] = {"policy.apply": policy_apply}
"""Kind name -> implementation."""
