"""Implementation of the ``flow.call`` step kind: run another flow of the bundle.

Role: a thin bridge to the runtime (``call.bundle.run_flow``), which validates the called
flow's inputs, fills their defaults and runs it as a child of this step (its spans and events
link to the calling run).

Input: ``args["flow"]``, the called flow's id (a name field, always passed), and
``args["inputs"]``, a map of the called flow's inputs (an empty map when left out).
Output: the called flow's outputs record.

Invariants: the step adds nothing to the outputs; a missing or ill-typed ``flow`` or
``inputs`` is a non-retryable :class:`~.call.StepFailure` with code ``bad_argument`` (and a run
without a bundle one with code ``no_bundle``); a failure
of the called flow propagates as the runtime raises it.
"""

from __future__ import annotations

from typing import Any, Final

from .builtins_impl import kind_name
from .call import StepCall, StepFailure, StepImpl

__all__ = ["KINDS", "flow_call"]


async def flow_call(call: StepCall, args: dict[str, Any]) -> dict[str, Any]:
    """``flow.call``: the outputs of flow ``flow`` run on ``inputs``."""
    name = args.get("flow")
    if not isinstance(name, str) or not name:
        raise StepFailure(
            f"flow.call: `flow` must name a flow of the bundle, got {kind_name(name)}",
            "bad_argument",
            retryable=False,
        )
    inputs = args.get("inputs", {})
    if not isinstance(inputs, dict):
        raise StepFailure(
            f"flow.call: `inputs` must be a map, got {kind_name(inputs)}",
            "bad_argument",
            retryable=False,
        )
    bundle = call.bundle
    if bundle is None:
        raise StepFailure(
            f"flow.call: cannot run flow `{name}`: this run has no bundle (run the flow from a "
            "compiled bundle)",
            "no_bundle",
            retryable=False,
        )
    return await bundle.run_flow(name, dict(inputs), parent=call)


KINDS: Final[dict[str, StepImpl]] = {"flow.call": flow_call}
"""Kind name -> implementation."""
