"""The policy runner: one decision of a generated policy module.

Role: call a policy module's ``decide(inputs, arm, params, rng)`` with the selected arm, the
effective parameters and a seeded :class:`~tracemind.runtime.abi.DecisionRng`, and return a
:class:`Decision` that records everything needed to replay it.

Input: a generated policy module (see docs/internals.md), validated inputs, and optionally an
arm name, parameter overrides and a seed (else ``seed_for(run_id, step_id)``, else a fresh
random seed, recorded in the decision).

Output: :class:`Decision` (policy id, arm, seed, inputs digest, draws, output record, params),
JSON-serialisable; errors of the policy's expressions become a
:class:`~tracemind.runtime.abi.FlowError` with the ``.pdl`` location.

Invariants:
- Deterministic: the same inputs, arm, params and seed give the same draws and output.
- The hot path costs a dict merge only when parameters are overridden, and the inputs digest
  (canonical JSON + SHA-256) is computed on first use, not per decision; callers must not
  mutate the inputs of a decision they keep.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from .abi import DecisionRng, describe
from .determinism import digest, seed_for
from .sourcemap import locate

DecideFunction = Callable[
    [dict[str, Any], dict[str, Any], dict[str, Any], DecisionRng], dict[str, Any]
]


class DecisionError(ValueError):
    """A decision that cannot be made as asked (unknown arm or parameter); a usage error."""


class PolicyInternalError(RuntimeError):
    """A policy module raised an error that its own code did not cause (a runtime bug)."""


class Decision:
    """One decision: what was decided, from what, and with which draws."""

    __slots__ = ("_digest", "arm", "draws", "inputs", "output", "params", "policy", "seed")

    def __init__(
        self,
        policy: str,
        arm: str,
        seed: int,
        inputs: dict[str, Any],
        draws: list[tuple[str, Any]],
        output: dict[str, Any],
        params: dict[str, Any],
    ) -> None:
        self.policy = policy
        self.arm = arm
        self.seed = seed
        self.inputs = inputs
        self.draws = draws
        self.output = output
        self.params = params
        self._digest: str | None = None

    @property
    def inputs_digest(self) -> str:
        """``sha256:<hex>`` of the canonical JSON of the inputs."""
        if self._digest is None:
            self._digest = digest(self.inputs)
        return self._digest

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "arm": self.arm,
            "seed": self.seed,
            "inputs_digest": self.inputs_digest,
            "draws": [[label, value] for label, value in self.draws],
            "output": self.output,
            "params": self.params,
        }


class PolicyRunner:
    """Makes decisions with one policy module."""

    __slots__ = ("_decide", "arms", "default_arm", "module", "params", "policy_id")

    def __init__(self, module: ModuleType, policy_id: str | None = None) -> None:
        self.module = module
        self.policy_id = policy_id or str(getattr(module, "POLICY_ID", module.__name__))
        self.arms: Mapping[str, dict[str, Any]] = getattr(module, "ARMS", {})
        self.params: dict[str, Any] = dict(getattr(module, "PARAMS", {}))
        self.default_arm = str(getattr(module, "DEFAULT_ARM", ""))
        self._decide: DecideFunction = module.decide

    def decide(
        self,
        inputs: dict[str, Any],
        *,
        arm: str | None = None,
        params: Mapping[str, Any] | None = None,
        seed: int | None = None,
        run_id: str | None = None,
        step_id: str | None = None,
    ) -> Decision:
        """Decide once.  ``inputs`` must already be validated (see ``schema.prepare_inputs``).

        Raises :class:`DecisionError` for an unknown arm or parameter and
        :class:`~tracemind.runtime.abi.FlowError` for an error of the policy's expressions.
        """
        arm_name = self.default_arm if arm is None else arm
        arm_values = self.arms.get(arm_name)
        if arm_values is None:
            if arm_name or self.arms:
                raise DecisionError(self._unknown_arm(arm_name))
            arm_values = {}
        effective = self.params if not params else self._merged(params)
        if seed is None:
            if run_id is not None:
                seed = seed_for(run_id, step_id if step_id is not None else self.policy_id)
            else:
                seed = int.from_bytes(os.urandom(8), "big")
        rng = DecisionRng(seed)
        try:
            output = self._decide(inputs, arm_values, effective, rng)
        except Exception as exc:
            located = locate(exc, self.module)
            if located is None:
                raise PolicyInternalError(
                    f"policy `{self.policy_id}` failed outside its code: {describe(exc)}"
                ) from exc
            raise located from exc
        return Decision(self.policy_id, arm_name, seed, inputs, rng.draws, output, effective)

    def _merged(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(overrides) - set(self.params))
        if unknown:
            known = ", ".join(sorted(self.params)) or "none"
            raise DecisionError(
                f"policy `{self.policy_id}` has no parameter {', '.join(unknown)} "
                f"(its parameters: {known})"
            )
        return {**self.params, **overrides}

    def _unknown_arm(self, name: str) -> str:
        if not self.arms:
            return f"policy `{self.policy_id}` has no arms; do not select one (got `{name}`)"
        known = ", ".join(self.arms)
        return f"policy `{self.policy_id}` has no arm `{name}` (its arms: {known})"
