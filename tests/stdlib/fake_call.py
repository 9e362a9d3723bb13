"""A minimal StepCall for testing step implementations without the runtime.

It implements the ``tracemind.stdlib.call.StepCall`` protocol with plain attributes: the logs
go to a list, ``bundle`` is whatever the test passes (a recording stand-in or None).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Site:
    id: str = "step"
    kind: str = "core.log"
    path: str = "flow.wdl"
    line: int = 1
    column: int = 1


@dataclass
class FakeCall:
    run_id: str = "run-1"
    step_id: str = "step"
    seed: int = 42
    bundle: Any = None
    site: Site = field(default_factory=Site)
    logs: list[tuple[str, str]] = field(default_factory=list)
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)

    def log(self, level: str, message: str) -> None:
        self.logs.append((level, message))


@dataclass
class RecordingBundle:
    """Records what policy.apply and flow.call ask of the bundle and answers fixed records."""

    decision: dict[str, Any] = field(default_factory=lambda: {"action": "NONE"})
    outputs: dict[str, Any] = field(default_factory=lambda: {"ok": True})
    calls: list[tuple[Any, ...]] = field(default_factory=list)

    async def apply_policy(
        self, name: str, inputs: dict[str, Any], *, seed: int, parent: Any
    ) -> dict[str, Any]:
        self.calls.append(("apply_policy", name, inputs, seed, parent))
        return self.decision

    async def run_flow(self, name: str, inputs: dict[str, Any], *, parent: Any) -> dict[str, Any]:
        self.calls.append(("run_flow", name, inputs, parent))
        return self.outputs
