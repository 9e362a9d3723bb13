"""The executor: runs a generated flow module's ``run(ctx, inputs)``.

Role: implement :class:`~tracemind.runtime.abi.FlowContext` for one run
(:class:`RunContext`): dispatch each step through its site's call path (see ``calls.py``),
apply ``@on_error``, run ``parallel`` branches, record spans, emit events, and turn the outcome
into a :class:`RunResult`.

Input: a generated flow module (see docs/internals.md), its inputs (already validated, defaults
filled), and the executor's configuration: step implementations (a mapping or a lookup function;
default: ``tracemind.stdlib.registry.implementation``), bundle services for ``policy.apply`` and
``flow.call``, step middleware, event listeners, and the clock/sleep functions (injectable, so
tests never wait).

Output: :class:`RunResult` (JSON-serialisable): status ``succeeded|failed|cancelled``, outputs,
the located error, spans, logs and timings.

Invariants:
- Call paths are built once per site and cached; a run checks once per module that every kind
  has an implementation, before any step runs.  A run without listeners builds no events.
- Spans: durations come from the monotonic clock; wall-clock times are the run's wall-clock
  start plus the monotonic offset, so they never jump within a run.  Span ids follow start
  order; a step that never ran gets a ``skipped`` span at the end of the run.
- ``asyncio.CancelledError`` is never swallowed by a step or a block; open spans end
  ``cancelled``.  Only a run cancelled through its :class:`RunHandle` ends with a ``cancelled``
  result instead of propagating the cancellation.
- Errors: a step failure ends the run at the step's location; any other exception raised by
  the generated code becomes a ``FlowError`` at the ``.wdl`` location of the expression; an
  exception from outside the generated code is a runtime bug and propagates.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any, Literal

from .abi import MISSING, BlockSite, Missing, Retry, StepFailed, StepSite, describe
from .calls import (
    Middleware,
    Sleep,
    StepCall,
    StepImpl,
    StepLookup,
    StepNext,
    UnknownStepKind,
    build_path,
    lookup_function,
    no_implementation,
)
from .sourcemap import locate
from .spans import (
    BLOCK_FINISHED,
    BLOCK_STARTED,
    RUN_ACCEPTED,
    RUN_FINISHED,
    STEP_FINISHED,
    STEP_LOG,
    STEP_RETRYING,
    STEP_STARTED,
    Event,
    Listener,
    Span,
    iso_time,
)

if TYPE_CHECKING:
    from ..stdlib.call import BundleAccess
    from ..stdlib.call import StepCall as StepCallProtocol
    from .abi import FlowContext

    def _conforms(run: RunContext, call: StepCall) -> tuple[FlowContext, StepCallProtocol]:
        """mypy checks here that the executor implements the two protocols."""
        return run, call

__all__ = [
    "Executor",
    "Middleware",
    "RunContext",
    "RunError",
    "RunHandle",
    "RunResult",
    "StepCall",
    "StepImpl",
    "StepNext",
]

RunStatus = Literal["succeeded", "failed", "cancelled"]


@dataclass(frozen=True, slots=True)
class RunError:
    """Why a run failed: a message and the source location (``path`` relative to the bundle's
    sources, 1-based ``line``/``column``; 0 when unknown)."""

    message: str
    path: str = ""
    line: int = 0
    column: int = 0
    step: str | None = None
    """The step that failed, when a step failure ended the run."""
    kind: Literal["step", "expression", "cancelled", "setup", "internal"] = "expression"

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}:{self.column}" if self.path else ""

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "location": self.location or None,
                "path": self.path or None, "line": self.line, "column": self.column,
                "step": self.step}


@dataclass(slots=True)
class RunResult:
    """The outcome of one run."""

    run_id: str
    flow: str
    status: RunStatus
    outputs: dict[str, Any] | None
    error: RunError | None
    records: list[StepCall | Span] = field(repr=False)
    logs: list[dict[str, Any]] = field(default_factory=list)
    seed: int | None = None
    started_at: float = 0.0
    """Wall clock (epoch seconds) at the start."""
    finished_at: float = 0.0
    start: float = 0.0
    """Monotonic clock at the start (span offsets are relative to it)."""
    duration: float = 0.0
    _spans: list[Span] | None = field(default=None, repr=False)

    @property
    def spans(self) -> list[Span]:
        """Every step and block span of the run, in start order."""
        if self._spans is None:
            self._spans = [r if isinstance(r, Span) else r.to_span() for r in self.records]
        return self._spans

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "flow": self.flow,
            "status": self.status,
            "outputs": _plain(self.outputs),
            "error": None if self.error is None else self.error.to_json(),
            "seed": self.seed,
            "started_at": iso_time(self.started_at),
            "finished_at": iso_time(self.finished_at),
            "duration": round(self.duration, 6),
            "spans": [span.to_json(self.start) for span in self.spans],
            "logs": self.logs,
        }


def _plain(value: Any) -> Any:
    """``value`` with absent step results (MISSING) as None, for JSON."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Missing):
        return None
    return value


class Executor:
    """Runs generated flow modules.  One executor serves many runs (call paths are cached)."""

    def __init__(
        self,
        steps: Mapping[str, StepImpl] | StepLookup | None = None,
        *,
        services: BundleAccess | None = None,
        middleware: Sequence[Middleware] = (),
        listeners: Sequence[Listener] = (),
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._lookup = lookup_function(steps)
        self.services = services
        self.middleware = tuple(middleware)
        self.listeners = list(listeners)
        self.clock = clock
        self.wall = wall
        self.sleep = sleep
        self.paths: dict[int, tuple[StepSite, StepNext]] = {}
        """id(site) -> (site, call path); the site is kept so its id is never reused."""
        self._checked: dict[int, tuple[ModuleType, RunError | None]] = {}

    async def run(
        self,
        module: ModuleType,
        inputs: dict[str, Any],
        *,
        run_id: str | None = None,
        seed: int | None = None,
    ) -> RunResult:
        """Run ``module`` to its end.  If the calling task is cancelled, the run's spans end
        ``cancelled``, listeners hear ``run.finished`` and ``CancelledError`` propagates."""
        run = RunContext(self, run_id or _new_run_id(), seed, _flow_id(module))
        return await self._execute(module, inputs, run, None)

    def start(
        self,
        module: ModuleType,
        inputs: dict[str, Any],
        *,
        run_id: str | None = None,
        seed: int | None = None,
    ) -> RunHandle:
        """Start a run as a task; the handle can cancel it and await its result."""
        handle = RunHandle(RunContext(self, run_id or _new_run_id(), seed, _flow_id(module)))
        handle.sites = getattr(module, "SITES", ())
        handle.task = asyncio.ensure_future(self._execute(module, inputs, handle.run, handle))
        return handle

    def path(self, site: StepSite) -> StepNext:
        """The call path of ``site`` (built on first use and cached, unless the site carries
        options computed at run time); ``UnknownStepKind`` if the kind has none."""
        entry = self.paths.get(id(site))
        if entry is not None and entry[0] is site:
            return entry[1]
        invoke = build_path(site, self._lookup(site.kind), self.middleware, self.sleep)
        if not isinstance(site, _DynamicSite):
            self.paths[id(site)] = (site, invoke)
        return invoke

    def check(self, module: ModuleType) -> RunError | None:
        """Why ``module`` cannot run here (a kind without implementation), or None."""
        entry = self._checked.get(id(module))
        if entry is not None and entry[0] is module:
            return entry[1]
        missing: dict[str, list[StepSite]] = {}
        for site in getattr(module, "SITES", ()):
            try:
                self.path(site)
            except LookupError:
                missing.setdefault(site.kind, []).append(site)
        error = _missing_kinds_error(missing) if missing else None
        self._checked[id(module)] = (module, error)
        return error

    async def _execute(
        self,
        module: ModuleType,
        inputs: dict[str, Any],
        run: RunContext,
        handle: RunHandle | None,
    ) -> RunResult:
        if run.listeners:
            run.emit(RUN_ACCEPTED, {"flow": run.flow, "inputs": inputs, "seed": run.seed})
        outputs: dict[str, Any] | None = None
        status: RunStatus = "failed"
        sites: Sequence[StepSite] = getattr(module, "SITES", ())
        cancelled: asyncio.CancelledError | None = None
        error = self.check(module)
        if error is None:
            try:
                outputs = await module.run(run, inputs)
                status = "succeeded"
            except StepFailed as exc:
                error = RunError(str(exc), exc.site.path, exc.site.line, exc.site.column,
                                 step=exc.site.id, kind="step")
            except asyncio.CancelledError as exc:
                status, cancelled = "cancelled", exc
                error = RunError("the run was cancelled", kind="cancelled")
            except Exception as exc:
                located = locate(exc, module)
                if located is None:
                    run.finish("failed", None, RunError(f"internal error: {describe(exc)}",
                                                        kind="internal"), sites)
                    raise
                error = RunError(located.message, located.path, located.line, located.column)
        result = run.finish(status, outputs, error, sites)
        if cancelled is not None:
            task = asyncio.current_task()
            if handle is None or not handle.cancel_requested or task is None:
                raise cancelled
            task.uncancel()
        return result


class RunHandle:
    """A run started with :meth:`Executor.start`."""

    def __init__(self, run: RunContext) -> None:
        self.run = run
        self.sites: Sequence[StepSite] = ()
        self.task: asyncio.Future[RunResult] | None = None
        self.cancel_requested = False

    @property
    def run_id(self) -> str:
        return self.run.run_id

    def cancel(self) -> None:
        """Cancel the run: steps see ``call.cancelled`` set, then ``CancelledError``."""
        self.cancel_requested = True
        self.run.cancelled.set()
        if self.task is not None:
            self.task.cancel()

    async def result(self) -> RunResult:
        """The run's result; a run cancelled through this handle ends ``cancelled``."""
        if self.task is None:
            raise RuntimeError("the run was not started")
        try:
            return await self.task
        except asyncio.CancelledError:
            if not (self.cancel_requested and self.task.cancelled()):
                raise
        # Cancelled before its first step: the task never ran, so record the outcome here.
        error = RunError("the run was cancelled", kind="cancelled")
        return self.run.finish("cancelled", None, error, self.sites)


class RunContext:
    """The state of one run: the ``ctx`` that generated code talks to (a ``FlowContext``)."""

    __slots__ = ("_cancelled", "clock", "executor", "flow", "listeners", "logs", "occurrences",
                 "open_blocks", "paths", "records", "run_id", "seed", "seed_key", "start",
                 "started_at")

    def __init__(self, executor: Executor, run_id: str, seed: int | None, flow: str) -> None:
        self.executor = executor
        self.paths = executor.paths
        self.listeners = executor.listeners
        self.clock = executor.clock
        self.run_id = run_id
        self.seed = seed
        self.seed_key = run_id if seed is None else str(seed)
        self.flow = flow
        self.records: list[StepCall | Span] = []
        self.logs: list[dict[str, Any]] = []
        self.open_blocks: dict[str, Span] = {}
        self.occurrences: dict[str, int] = {}
        self.started_at = executor.wall()
        self.start = self.clock()
        self._cancelled: asyncio.Event | None = None

    @property
    def services(self) -> BundleAccess | None:
        return self.executor.services

    @property
    def cancelled(self) -> asyncio.Event:
        if self._cancelled is None:
            self._cancelled = asyncio.Event()
        return self._cancelled

    def wall_at(self, monotonic: float) -> float:
        """The wall-clock time of a monotonic clock reading of this run."""
        return self.started_at + (monotonic - self.start)

    # -- FlowContext --------------------------------------------------------------------------

    async def step(self, site: StepSite, args: dict[str, Any], *,
                   timeout: float | None = None, retry: Retry | None = None) -> Any:
        entry = self.paths.get(id(site))
        if entry is not None and entry[0] is site and timeout is None and retry is None:
            invoke = entry[1]
        else:
            if timeout is not None or retry is not None:
                site = _with_options(site, timeout, retry)
            try:
                invoke = self.executor.path(site)
            except LookupError as exc:
                raise StepFailed(site, UnknownStepKind(no_implementation(site.kind))) from exc
        step_id = site.id
        occurrences = self.occurrences
        occurrence = occurrences.get(step_id, 0)
        occurrences[step_id] = occurrence + 1
        parent_id = None
        if site.parent is not None:
            block = self.open_blocks.get(site.parent)
            if block is not None:
                parent_id = block.span_id
        records = self.records
        call = StepCall(self, site, len(records) + 1, parent_id, occurrence, self.clock())
        records.append(call)
        listening = self.listeners
        if listening:
            self.emit(STEP_STARTED, {"span_id": call.span_id, "step": step_id, "kind": site.kind,
                                     "occurrence": occurrence, "args": args})
        try:
            result = await invoke(call, args)
        except asyncio.CancelledError:
            self._close(call, "cancelled", None)
            raise
        except Exception as exc:
            self._close(call, "failed", describe(exc))
            if site.on_error == "continue":
                return MISSING.of(step_id)
            raise StepFailed(site, exc) from exc
        call.end = self.clock()
        call.status = "ok"
        if listening:
            self._finished(call)
        return result

    async def gather(self, *branches: Awaitable[None]) -> None:
        if len(branches) == 1:
            await branches[0]
            return
        tasks = [asyncio.ensure_future(branch) for branch in branches]
        pending = set(tasks)
        failure: BaseException | None = None
        try:
            while pending and failure is None:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in tasks:  # branch order breaks ties between simultaneous failures
                    if task in done and not task.cancelled() and task.exception() is not None:
                        failure = task.exception()
                        break
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
                for task in pending:
                    if not task.cancelled():
                        task.exception()  # retrieved: only the first failure is raised
        if failure is not None:
            raise failure

    def block(self, site: BlockSite) -> _BlockScope:
        return _BlockScope(self, site)

    # -- recording ----------------------------------------------------------------------------

    def _close(self, call: StepCall, status: Literal["failed", "cancelled"],
               error: str | None) -> None:
        call.end = self.clock()
        call.status = status
        call.error = error
        if self.listeners:
            self._finished(call)

    def _finished(self, call: StepCall) -> None:
        duration = None if call.end is None else call.end - call.start
        self.emit(STEP_FINISHED, {"span_id": call.span_id, "step": call.site.id,
                                  "status": call.status, "attempts": call.attempt,
                                  "error": call.error, "duration": duration})

    def emit(self, kind: str, data: dict[str, Any]) -> None:
        if self.listeners:
            event = Event(kind, self.run_id, self.wall_at(self.clock()), data)
            for listener in self.listeners:
                listener(event)

    def log(self, call: StepCall, level: str, message: str) -> None:
        entry = {"at": iso_time(self.wall_at(self.clock())), "span_id": call.span_id,
                 "step": call.step_id, "level": level, "message": message}
        self.logs.append(entry)
        self.emit(STEP_LOG, entry)

    def retrying(self, call: StepCall, error: BaseException, delay: float) -> None:
        if self.listeners:
            self.emit(STEP_RETRYING, {"span_id": call.span_id, "step": call.step_id,
                                      "attempt": call.attempt, "error": describe(error),
                                      "delay": delay})

    def finish(
        self,
        status: RunStatus,
        outputs: dict[str, Any] | None,
        error: RunError | None,
        sites: Sequence[StepSite],
    ) -> RunResult:
        end = self.clock()
        records = self.records
        for record in records:
            if record.status == "running":
                record.status = "cancelled" if status == "cancelled" else "failed"
                record.end = end
                if isinstance(record, Span):
                    record.ended_at = self.wall_at(end)
        if len(self.occurrences) < len(sites):
            for site in sites:
                if site.id not in self.occurrences:
                    records.append(Span(
                        run_id=self.run_id, span_id=len(records) + 1,
                        parent_id=self._last_block(site.parent), type="step", id=site.id,
                        kind=site.kind, location=site.location, status="skipped",
                    ))
        result = RunResult(  # positional: a dataclass call with keywords costs 3x more
            self.run_id, self.flow, status, outputs, error, records, self.logs, self.seed,
            self.started_at, self.wall_at(end), self.start, end - self.start,
        )
        # The records point back at this context; dropping its own reference to them breaks
        # the cycle, so a finished run is freed by reference counting, not by the collector.
        self.records = []
        if self.listeners:
            self.emit(RUN_FINISHED, {"flow": self.flow, "status": status,
                                     "error": None if error is None else error.to_json(),
                                     "duration": result.duration})
        return result

    def _last_block(self, block_id: str | None) -> int | None:
        if block_id is None:
            return None
        for record in reversed(self.records):
            if isinstance(record, Span) and record.type == "block" and record.id == block_id:
                return record.span_id
        return None


class _BlockScope:
    """``async with ctx.block(site)``: a parent span for the steps inside."""

    __slots__ = ("run", "site", "span")

    def __init__(self, run: RunContext, site: BlockSite) -> None:
        self.run = run
        self.site = site
        self.span: Span | None = None

    async def __aenter__(self) -> None:
        run, site = self.run, self.site
        parent = None if site.parent is None else run.open_blocks.get(site.parent)
        start = run.clock()
        span = self.span = Span(
            run_id=run.run_id, span_id=len(run.records) + 1,
            parent_id=None if parent is None else parent.span_id, type="block", id=site.id,
            kind=site.kind, location=site.location, start=start, started_at=run.wall_at(start),
        )
        run.records.append(span)
        run.open_blocks[site.id] = span
        if run.listeners:
            run.emit(BLOCK_STARTED, {"span_id": span.span_id, "block": site.id,
                                     "kind": site.kind})

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        span, run = self.span, self.run
        if span is None:
            return
        if run.open_blocks.get(self.site.id) is span:
            del run.open_blocks[self.site.id]
        span.end = run.clock()
        span.ended_at = run.wall_at(span.end)
        if exc is None:
            span.status = "ok"
        elif isinstance(exc, asyncio.CancelledError):
            span.status = "cancelled"
        else:
            span.status, span.error = "failed", describe(exc)
        if run.listeners:
            run.emit(BLOCK_FINISHED, {"span_id": span.span_id, "block": span.id,
                                      "status": span.status, "duration": span.duration})


@dataclass(frozen=True, slots=True)
class _DynamicSite(StepSite):
    """A site whose ``@timeout``/``@retry`` were computed at run time (never cached)."""


def _with_options(site: StepSite, timeout: float | None, retry: Retry | None) -> StepSite:
    """``site`` with the options the generated code computed; a bad value is an error of
    the expression, reported at its location."""
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout >= 0
    ):
        raise ValueError(f"`@timeout` must be a duration of zero or more seconds, got "
                         f"{timeout!r}")
    if retry is not None and not isinstance(retry, Retry):
        raise TypeError(f"`@retry` must be a map with max, backoff and factor, got {retry!r}")
    return _DynamicSite(
        site.id, site.kind, site.path, site.line, site.column,
        site.timeout if timeout is None else float(timeout),
        site.retry if retry is None else retry, site.on_error, site.pure, site.parent,
        site.index,
    )


def _missing_kinds_error(missing: dict[str, list[StepSite]]) -> RunError:
    first = min((site for sites in missing.values() for site in sites), key=lambda s: s.index)
    kinds = ", ".join(f"`{kind}` (step {', '.join(s.id for s in sites)})"
                      for kind, sites in sorted(missing.items()))
    return RunError(
        f"no implementation for step kind {kinds}; install the plugin that provides it or "
        "recompile against this runtime's stdlib",
        first.path, first.line, first.column, step=first.id, kind="setup",
    )


def _flow_id(module: ModuleType) -> str:
    return str(getattr(module, "FLOW_ID", module.__name__))


def _new_run_id() -> str:
    import os

    return os.urandom(8).hex()
