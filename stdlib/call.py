"""What a step implementation sees: the :class:`StepCall` protocol and the failure it raises.

Role: the contract between the executor (``tracemind.runtime``), which implements
:class:`StepCall` and :class:`BundleAccess`, and the step implementations in this package and in
plugins, which only use them.  Keeping the protocols here lets implementations be written and
tested without the runtime (the import direction is runtime -> stdlib, never back).

Input: nothing at import.  Output: the protocols, :data:`StepImpl` (the type of an
implementation), :class:`StepFailure` and two small argument helpers.

Invariants:
- An implementation is ``async def impl(call: StepCall, args: dict[str, Any]) -> dict[str, Any]``
  and returns the step's result record (a dict of JSON-compatible values).
- ``args`` holds the arguments the step binds in its source, already evaluated; an optional
  argument that the source leaves out may be absent, and the implementation applies its
  signature's default (helpers: :func:`arg_seconds`).
- An implementation reports an expected failure by raising :class:`StepFailure` (message, a
  machine-readable code, and whether retrying can help); any other exception is a failure too,
  reported with its type.  Cancellation is ``asyncio.CancelledError``, never a failure.
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import asyncio  # for annotations only: the compiler imports this module and asyncio is slow

__all__ = [
    "BundleAccess",
    "StepCall",
    "StepFailure",
    "StepImpl",
    "StepSiteInfo",
    "arg_seconds",
    "parse_duration",
]


class StepSiteInfo(Protocol):
    """Where a step stands in its source (the runtime's ``StepSite`` has these fields)."""

    @property
    def id(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def path(self) -> str: ...

    @property
    def line(self) -> int: ...

    @property
    def column(self) -> int: ...


class BundleAccess(Protocol):
    """The bundle a run belongs to, as ``policy.apply`` and ``flow.call`` need it."""

    async def apply_policy(
        self, name: str, inputs: dict[str, Any], *, seed: int, parent: StepCall
    ) -> dict[str, Any]:
        """Decide with policy ``name`` (validating ``inputs`` and filling their defaults, picking
        the active arm, seeding its ``DecisionRng`` with ``seed``); returns the emit record."""
        ...

    async def run_flow(
        self, name: str, inputs: dict[str, Any], *, parent: StepCall
    ) -> dict[str, Any]:
        """Run flow ``name`` of the bundle as a child of ``parent`` (validating ``inputs`` and
        filling their defaults); returns its outputs record."""
        ...


class StepCall(Protocol):
    """One call of a step implementation, given by the executor."""

    @property
    def run_id(self) -> str: ...

    @property
    def step_id(self) -> str: ...

    @property
    def site(self) -> StepSiteInfo: ...

    @property
    def seed(self) -> int:
        """``seed_for(run_id, step_id)``: the seed of anything random this step does."""
        ...

    @property
    def bundle(self) -> BundleAccess | None:
        """The run's bundle; None when a flow module runs on its own (then ``policy.apply``
        and ``flow.call`` fail with a clear message)."""
        ...

    @property
    def cancelled(self) -> asyncio.Event:
        """Set when the run is cancelled (for waits that task cancellation cannot reach)."""
        ...

    def log(self, level: str, message: str) -> None:
        """Write ``message`` to the run's log; ``level`` is debug, info, warning or error."""
        ...


StepImpl = Callable[[StepCall, dict[str, Any]], Awaitable[dict[str, Any]]]
"""The type of a step kind's implementation."""


class StepFailure(Exception):
    """An expected failure of a step: a message for people and a code for machines.

    ``code`` is short and stable (``failed``, ``http.connection``, ``opcua.bad_node_id``...);
    ``retryable`` is False when trying again cannot help (a bad argument, ``core.fail``), so the
    executor may skip the remaining ``@retry`` attempts.
    """

    def __init__(self, message: str, code: str = "failed", *, retryable: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable

    def __repr__(self) -> str:
        return f"StepFailure({self.message!r}, code={self.code!r})"


_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds of a duration's source text (``500ms``, ``1.5s``, ``2m``, ``1h``); ValueError
    when ``text`` is not one."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"`{text}` is not a duration (write e.g. 500ms, 5s, 2m or 1h)")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def arg_seconds(args: dict[str, Any], name: str, default: float) -> float:
    """Argument ``name`` as seconds: ``default`` when absent or null, a number as is, or a
    duration's text.  A negative, NaN or non-duration value is a non-retryable
    :class:`StepFailure` with code ``bad_argument``."""
    value = args.get(name)
    if value is None:
        return default
    seconds: float
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            message = f"argument `{name}`: {exc}"
            raise StepFailure(message, "bad_argument", retryable=False) from None
    else:
        raise StepFailure(
            f"argument `{name}` must be a duration, got {type(value).__name__}",
            "bad_argument",
            retryable=False,
        )
    if math.isnan(seconds) or seconds < 0:
        raise StepFailure(
            f"argument `{name}` must be a duration of zero or more seconds, got {seconds}",
            "bad_argument",
            retryable=False,
        )
    return seconds
