"""Running what a bundle holds: flows with validated inputs, and policy decisions.

Role: the glue between a loaded :class:`~tracemind.runtime.bundle.Bundle`, the
:class:`~tracemind.runtime.executor.Executor` and the
:class:`~tracemind.runtime.policy.PolicyRunner`; it is also the ``call.bundle`` that
``policy.apply`` and ``flow.call`` use (the ``BundleAccess`` protocol of
``tracemind.stdlib.call``).

Input: a bundle, a flow or policy id, raw JSON inputs, and run options.
Output: :class:`~tracemind.runtime.executor.RunResult` and
:class:`~tracemind.runtime.policy.Decision`; :class:`~tracemind.runtime.schema.InputError` for
inputs that do not match the schema (raised before anything runs).

Invariants:
- Inputs are validated and defaults filled before a run or a decision starts.
- A decision made by a step is seeded with the step's seed and, when anyone listens, emitted as
  a ``decision.made`` event with its draws, so it can be audited and replayed.
- A flow called by a step runs as a child run ``<run id>/<step id>`` (``.N`` for the N-th call
  of the same step in the run), seeded from the calling step; nesting deeper than
  :data:`MAX_FLOW_DEPTH` fails (a ``flow.call`` cycle).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..stdlib.call import StepFailure
from .calls import Middleware, Sleep, StepCall, StepImpl, StepLookup
from .executor import Executor, RunResult
from .spans import DECISION_MADE, Listener

if TYPE_CHECKING:
    from ..stdlib.call import StepCall as StepCallProtocol
    from .bundle import Bundle
    from .policy import Decision

MAX_FLOW_DEPTH = 16


class BundleRunner:
    """Runs the flows and decides the policies of one bundle."""

    def __init__(
        self,
        bundle: Bundle,
        *,
        steps: Mapping[str, StepImpl] | StepLookup | None = None,
        middleware: Sequence[Middleware] = (),
        listeners: Sequence[Listener] = (),
        arms: Mapping[str, str] | None = None,
        clock: Callable[[], float] | None = None,
        wall: Callable[[], float] | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self.bundle = bundle
        self.active_arms = dict(arms or {})
        """Policy id -> the arm its decisions use (default: the policy's default arm)."""
        self.executor = Executor(steps, services=self, middleware=middleware,
                                 listeners=listeners)
        if clock is not None:
            self.executor.clock = clock
        if wall is not None:
            self.executor.wall = wall
        if sleep is not None:
            self.executor.sleep = sleep

    async def run(
        self,
        flow_id: str | None,
        inputs: object,
        *,
        run_id: str | None = None,
        seed: int | None = None,
    ) -> RunResult:
        """Validate ``inputs`` (raising ``InputError``) and run flow ``flow_id`` (None: the
        bundle's only flow)."""
        flow = self.bundle.flow(flow_id)
        prepared = flow.prepare_inputs(inputs)
        return await self.executor.run(flow.module, prepared, run_id=run_id, seed=seed)

    def decide(
        self,
        policy_id: str,
        inputs: object,
        *,
        arm: str | None = None,
        params: Mapping[str, Any] | None = None,
        seed: int | None = None,
    ) -> Decision:
        """Validate ``inputs`` (raising ``InputError``) and decide once with ``policy_id``."""
        policy = self.bundle.policy(policy_id)
        prepared = policy.prepare_inputs(inputs)
        chosen = arm if arm is not None else self.active_arms.get(policy_id)
        return policy.runner.decide(prepared, arm=chosen, params=params, seed=seed)

    # -- BundleAccess (for policy.apply and flow.call) -----------------------------------------

    async def apply_policy(
        self, name: str, inputs: dict[str, Any], *, seed: int, parent: StepCallProtocol
    ) -> dict[str, Any]:
        from .schema import InputError

        try:
            decision = self.decide(name, inputs, seed=seed)
        except InputError as exc:
            raise StepFailure(f"policy `{name}`: {'; '.join(exc.errors)}", "bad_argument",
                              retryable=False) from None
        if isinstance(parent, StepCall) and parent.recording:
            parent.emit(DECISION_MADE, decision.to_json())
        return decision.output

    async def run_flow(
        self, name: str, inputs: dict[str, Any], *, parent: StepCallProtocol
    ) -> dict[str, Any]:
        from .schema import InputError

        depth = parent.run_id.count("/") + 1
        if depth > MAX_FLOW_DEPTH:
            raise StepFailure(f"flow.call: flows nested {depth} deep (is there a flow.call "
                              "cycle?)", "too_deep", retryable=False)
        flow = self.bundle.flow(name)
        try:
            prepared = flow.prepare_inputs(inputs)
        except InputError as exc:
            raise StepFailure(f"flow `{name}`: {'; '.join(exc.errors)}", "bad_argument",
                              retryable=False) from None
        occurrence = parent.occurrence if isinstance(parent, StepCall) else 0
        child_id = f"{parent.run_id}/{parent.step_id}" + (f".{occurrence}" if occurrence else "")
        result = await self.executor.run(flow.module, prepared, run_id=child_id, seed=parent.seed)
        if result.status != "succeeded" or result.outputs is None:
            error = result.error
            where = f" at {error.location}" if error is not None and error.location else ""
            message = error.message if error is not None else result.status
            raise StepFailure(f"flow `{name}` (run {child_id}) failed{where}: {message}",
                              "flow_failed")
        return result.outputs
