"""The step-call path: what a step implementation sees, and how a site's call is specialised.

Role: :class:`StepCall` is the ``call`` handed to a step kind's implementation (run id, step
id, site, seed, log, bundle access, cancellation) and, at the same time, the record of that
step's span while it runs (one object per step keeps the hot path cheap).  :func:`build_path`
composes a site's call path once: middleware around the whole step, then retry and timeout
around each attempt, then the implementation.

Input: a :class:`~tracemind.runtime.abi.StepSite`, the kind's implementation, the middleware
and the sleep function.  Output: a ``StepNext`` callable ``(call, args) -> result``.

Invariants:
- A site without ``@timeout`` and ``@retry`` and an executor without middleware call the
  implementation itself: no wrapper, no extra frame.
- Retries happen only for ``Exception``s whose ``retryable`` attribute is not False, never for
  ``asyncio.CancelledError``; the delay before attempt ``n + 1`` is
  ``backoff * factor ** (n - 1)``, drawn uniformly from ``[0, delay]`` with jitter, from a
  generator seeded by the step's seed.
- A timeout that expires raises :class:`StepTimeout` (``timed out after 5s``); a
  ``TimeoutError`` raised by the implementation itself passes through unchanged.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from .abi import StepSite
from .determinism import seed_for
from .spans import Span, SpanStatus

if TYPE_CHECKING:
    from ..stdlib.call import BundleAccess
    from .executor import RunContext

StepImpl = Callable[["StepCall", dict[str, Any]], Awaitable[Any]]
"""A step kind's implementation: ``async def impl(call, args) -> result record``."""
StepNext = Callable[["StepCall", dict[str, Any]], Awaitable[Any]]
Middleware = Callable[["StepCall", dict[str, Any], StepNext], Awaitable[Any]]
"""``async def mw(call, args, call_next)``: may inspect, replace or skip ``call_next``."""
StepLookup = Callable[[str], StepImpl]
Sleep = Callable[[float], Awaitable[None]]


class StepTimeout(TimeoutError):
    """An attempt ran longer than the step's ``@timeout``."""


class UnknownStepKind(LookupError):
    """A site's kind has no implementation in the executor's step registry."""


class StepCall:
    """One call of a step: what its implementation sees, and the record of its span."""

    __slots__ = ("_run", "_seed", "attempt", "end", "error", "occurrence", "parent_id", "site",
                 "span_id", "start", "status")

    def __init__(self, run: RunContext, site: StepSite, span_id: int, parent_id: int | None,
                 occurrence: int, start: float) -> None:
        self._run = run
        self._seed: int | None = None
        self.site = site
        self.span_id = span_id
        self.parent_id = parent_id
        self.occurrence = occurrence
        self.start = start
        self.end: float | None = None
        self.attempt = 1
        self.status: SpanStatus = "running"
        self.error: str | None = None

    @property
    def run_id(self) -> str:
        return self._run.run_id

    @property
    def step_id(self) -> str:
        return self.site.id

    @property
    def seed(self) -> int:
        """``seed_for(key, step id)``, the key being the run id or the run's explicit seed."""
        if self._seed is None:
            self._seed = seed_for(self._run.seed_key, self.site.id)
        return self._seed

    @property
    def bundle(self) -> BundleAccess | None:
        """The bundle services (``apply_policy``, ``run_flow``); None outside a bundle."""
        return self._run.services

    @property
    def cancelled(self) -> asyncio.Event:
        """Set when the run is cancelled through its handle."""
        return self._run.cancelled

    @property
    def recording(self) -> bool:
        """Whether anyone listens to the run's events (skip building costly ones if not)."""
        return bool(self._run.listeners)

    def log(self, level: str, message: str) -> None:
        """Write to the run's log (``RunResult.logs`` and a ``step.log`` event)."""
        self._run.log(self, level, message)

    def emit(self, kind: str, data: dict[str, Any]) -> None:
        """Send an event of this run to the listeners; ``data`` gains the span and step."""
        if self._run.listeners:
            self._run.emit(kind, {"span_id": self.span_id, "step": self.site.id, **data})

    def to_span(self) -> Span:
        run = self._run
        end = self.end
        site = self.site
        return Span(
            run_id=run.run_id, span_id=self.span_id, parent_id=self.parent_id, type="step",
            id=site.id, kind=site.kind, location=site.location, start=self.start, end=end,
            started_at=run.wall_at(self.start), ended_at=None if end is None else run.wall_at(end),
            status=self.status, attempts=self.attempt, occurrence=self.occurrence,
            error=self.error,
        )


def build_path(site: StepSite, impl: StepImpl, middleware: tuple[Middleware, ...],
               sleep: Sleep) -> StepNext:
    """The call path of ``site``: middleware (outermost first) around the attempts."""
    invoke = _attempts(site, impl, sleep)
    for layer in reversed(middleware):
        invoke = _wrap(layer, invoke)
    return invoke


def _attempts(site: StepSite, impl: StepImpl, sleep: Sleep) -> StepNext:
    timeout, retry = site.timeout, site.retry
    if retry is None and timeout is None:
        return impl
    if retry is None:
        assert timeout is not None

        async def with_timeout(call: StepCall, args: dict[str, Any]) -> Any:
            return await _timed(impl, call, args, timeout)

        return with_timeout

    async def with_retry(call: StepCall, args: dict[str, Any]) -> Any:
        failures = 0
        jitter: random.Random | None = None
        while True:
            call.attempt = failures + 1
            try:
                if timeout is None:
                    return await impl(call, args)
                return await _timed(impl, call, args, timeout)
            except Exception as exc:
                failures += 1
                if failures >= retry.attempts or getattr(exc, "retryable", True) is False:
                    raise
                delay = retry.delay(failures)
                if retry.jitter:
                    if jitter is None:
                        jitter = random.Random(call.seed)
                    delay = jitter.uniform(0.0, delay)
                call._run.retrying(call, exc, delay)
            await sleep(delay)

    return with_retry


async def _timed(impl: StepImpl, call: StepCall, args: dict[str, Any], seconds: float) -> Any:
    scope = asyncio.timeout(seconds)
    try:
        async with scope:
            return await impl(call, args)
    except TimeoutError:
        if scope.expired():
            raise StepTimeout(f"timed out after {seconds:g}s") from None
        raise


def _wrap(middleware: Middleware, call_next: StepNext) -> StepNext:
    async def wrapped(call: StepCall, args: dict[str, Any]) -> Any:
        return await middleware(call, args, call_next)

    return wrapped


def lookup_function(steps: Mapping[str, StepImpl] | StepLookup | None) -> StepLookup:
    """A kind -> implementation function over a mapping, a lookup function, or (None) the
    stdlib registry ``tracemind.stdlib.registry.implementation``."""
    if steps is None:
        import importlib

        registry = importlib.import_module("tracemind.stdlib.registry")
        lookup: StepLookup = registry.implementation
        return lookup
    if isinstance(steps, Mapping):
        table = dict(steps)

        def from_table(kind: str) -> StepImpl:
            try:
                return table[kind]
            except KeyError:
                raise UnknownStepKind(no_implementation(kind)) from None

        return from_table
    return steps


def no_implementation(kind: str) -> str:
    return (f"no implementation for step kind `{kind}`; install the plugin that provides it "
            "or recompile against this runtime's stdlib")
