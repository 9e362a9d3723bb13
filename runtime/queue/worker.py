"""The worker loop: lease a task, run its flow through the bundle runner, ack or fail.

Role: one worker in one process (or thread).  ``tm workers start -n N`` (later) launches one
:func:`run_worker` per process; every worker opens its own connection to the queue.

Input: a :class:`~tracemind.runtime.queue.TaskQueue`, a ``runner_factory`` mapping a bundle
path to a :class:`~tracemind.runtime.runner.BundleRunner` (cached per bundle by the loop), and a
stop signal (``threading.Event`` or ``multiprocessing.Event``).
Output: :class:`WorkerStats` when the stop signal is set (or ``max_tasks`` were handled); the
effects are the queue's state changes.

Invariants:
- While a flow runs, the lease is extended every ``heartbeat_interval`` seconds (default a third
  of the visibility timeout).  When a heartbeat finds the lease lost, the run is cancelled and
  nothing is acked: the task belongs to whoever holds the new lease.
- A run that ends ``succeeded`` is acked with ``{"run_id", "status", "outputs"}``; any other
  ending is a failed attempt (retried by the queue).  Inputs that do not match the flow's
  schema, or a bundle that cannot be loaded or lacks the flow, fail without retry: retrying
  cannot help, so the task goes straight to the DLQ.
- The stop signal is checked between tasks; a task in progress is finished first.  After a
  success the worker acks and leases its next task in one transaction (``ack_and_lease``: one
  durable commit per task instead of two); it does so only while it will keep running, and a
  task leased that way is always run before the loop ends.
- A lost lease (:class:`~tracemind.runtime.queue.LeaseLost`) never stops the loop.
- With ``on_event``, the loop reports what it did to the queue as ``(type, data)`` after each
  change is durable: ``task.leased``, ``task.acked``, ``task.retried``, ``task.dead-lettered``
  and ``task.lost`` (data: ``task_id``, ``flow``, ``attempt``, ``worker``, plus ``run_id`` or
  ``message``).  The queue itself knows nothing of the event log; ``runtime.workers`` writes
  these events to it.  A raising callback is the caller's bug: it propagates.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from . import LeaseLost, Task, TaskQueue

if TYPE_CHECKING:
    from ..runner import BundleRunner

__all__ = [
    "StopSignal",
    "WorkerStats",
    "default_runner_factory",
    "process_task",
    "run_worker",
    "run_worker_process",
]

DEFAULT_VISIBILITY_TIMEOUT = 30.0
DEFAULT_POLL_INTERVAL = 0.05

QueueEvent = Callable[[str, dict[str, Any]], None]
"""``on_event(type, data)``: a queue state change made by the worker loop."""


class StopSignal(Protocol):
    """What the loop needs of a ``threading.Event`` / ``multiprocessing.Event``."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


@dataclass(slots=True)
class WorkerStats:
    """What one worker did."""

    succeeded: int = 0
    failed: int = 0
    lost: int = 0
    """Tasks whose lease was lost while they ran (not acked by this worker)."""

    @property
    def handled(self) -> int:
        return self.succeeded + self.failed + self.lost


class _Permanent(Exception):
    """A failure that retrying cannot fix (bad inputs, missing flow or bundle)."""


def default_runner_factory(bundle_path: str) -> BundleRunner:
    """A runner for the bundle at ``bundle_path`` with the standard step kinds."""
    from ..bundle import load_bundle
    from ..runner import BundleRunner

    return BundleRunner(load_bundle(bundle_path))


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_worker(
    queue: TaskQueue,
    runner_factory: Callable[[str], BundleRunner] = default_runner_factory,
    stop_event: StopSignal | None = None,
    *,
    worker_id: str | None = None,
    visibility_timeout: float = DEFAULT_VISIBILITY_TIMEOUT,
    heartbeat_interval: float | None = None,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    max_tasks: int | None = None,
    exit_when_idle: bool = False,
    on_event: QueueEvent | None = None,
) -> WorkerStats:
    """Lease and run tasks until ``stop_event`` is set (or ``max_tasks`` were handled, or, with
    ``exit_when_idle``, no task is ready)."""
    me = worker_id or default_worker_id()
    beat = heartbeat_interval if heartbeat_interval is not None else visibility_timeout / 3
    return asyncio.run(_loop(queue, runner_factory, stop_event, me, visibility_timeout, beat,
                             poll_interval, max_tasks, exit_when_idle, on_event))


async def _loop(
    queue: TaskQueue,
    runner_factory: Callable[[str], BundleRunner],
    stop_event: StopSignal | None,
    me: str,
    visibility_timeout: float,
    beat: float,
    poll_interval: float,
    max_tasks: int | None,
    exit_when_idle: bool,
    on_event: QueueEvent | None = None,
) -> WorkerStats:
    """The loop of :func:`run_worker`, in one event loop (one task at a time, so the queue's
    blocking calls hold up nothing else)."""
    runners: dict[str, BundleRunner] = {}
    stats = WorkerStats()
    task: Task | None = None  # leased together with the last ack, so it must be run

    def more() -> bool:
        return (stop_event is None or not stop_event.is_set()) and (
            max_tasks is None or stats.handled < max_tasks)

    while task is not None or more():
        if task is None:
            task = queue.lease(me, visibility_timeout)
            if task is None:
                if exit_when_idle:
                    break
                if stop_event is not None:
                    stop_event.wait(poll_interval)
                else:
                    await asyncio.sleep(poll_interval)
                continue
            _emit(on_event, "task.leased", task, me)
        current, task = task, None
        last = max_tasks is not None and stats.handled + 1 >= max_tasks
        outcome, task = await process_task(
            queue, current, runners, runner_factory, beat,
            then_lease=None if last or not more() else (me, visibility_timeout),
            on_event=on_event)
        if task is not None:
            _emit(on_event, "task.leased", task, me)
        if outcome == "succeeded":
            stats.succeeded += 1
        elif outcome == "failed":
            stats.failed += 1
        else:
            stats.lost += 1
    return stats


async def process_task(
    queue: TaskQueue,
    task: Task,
    runners: dict[str, BundleRunner],
    runner_factory: Callable[[str], BundleRunner],
    heartbeat_interval: float,
    *,
    then_lease: tuple[str, float] | None = None,
    on_event: QueueEvent | None = None,
) -> tuple[str, Task | None]:
    """Run one leased task to its ack or fail: ``"succeeded"``, ``"failed"`` or ``"lost"``.

    With ``then_lease`` (worker id, visibility timeout), a successful run is acked and the next
    task leased in one transaction; that task is returned and must be run by the caller."""
    assert task.lease_token is not None
    token = task.lease_token
    run = asyncio.ensure_future(_run(task, runners, runner_factory))
    lost = False
    while not run.done():
        await asyncio.wait({run}, timeout=heartbeat_interval)
        if run.done():
            break
        try:
            queue.heartbeat(task.id, token)
        except LeaseLost:
            lost = True
            run.cancel()
            await asyncio.gather(run, return_exceptions=True)
            break
    owner = task.lease_owner or ""
    if lost:
        _emit(on_event, "task.lost", task, owner)
        return "lost", None

    def failed(error: dict[str, Any], retry: bool = True) -> tuple[str, Task | None]:
        after = queue.fail(task.id, token, error, retry=retry)
        _emit(on_event, "task.dead-lettered" if after.state == "dead" else "task.retried",
              task, owner, message=str(error.get("message", "")))
        return "failed", None

    try:
        try:
            result = run.result()
        except _Permanent as exc:
            return failed({"message": str(exc), "kind": "permanent"}, retry=False)
        except Exception as exc:
            return failed({"message": f"{type(exc).__name__}: {exc}", "kind": "internal"})
        if result.get("status") == "succeeded":
            if then_lease is None:
                queue.ack(task.id, token, result)
                following = None
            else:
                following = queue.ack_and_lease(task.id, token, result, *then_lease)
            _emit(on_event, "task.acked", task, owner, run_id=result.get("run_id"))
            return "succeeded", following
        return failed(result)
    except LeaseLost:
        _emit(on_event, "task.lost", task, owner)
        return "lost", None


def _emit(on_event: QueueEvent | None, kind: str, task: Task, worker: str,
          **extra: Any) -> None:
    if on_event is not None:
        on_event(kind, {"task_id": task.id, "flow": task.flow, "attempt": task.attempts,
                        "worker": worker, **extra})


async def _run(task: Task, runners: dict[str, BundleRunner],
               runner_factory: Callable[[str], BundleRunner]) -> dict[str, Any]:
    from ..bundle import BundleError
    from ..determinism import json_safe
    from ..executor import _plain
    from ..schema import InputError

    try:
        runner = runners.get(task.bundle)
        if runner is None:
            runner = runners[task.bundle] = runner_factory(task.bundle)
        flow = runner.bundle.flow(task.flow)
        prepared = flow.prepare_inputs(task.inputs)
    except BundleError as exc:
        raise _Permanent(str(exc)) from None
    except InputError as exc:
        raise _Permanent("; ".join(exc.errors)) from None
    result = await runner.executor.run(flow.module, prepared, run_id=f"task-{task.id}."
                                       f"{task.attempts}")
    if result.status == "succeeded":
        return {"run_id": result.run_id, "status": result.status,
                "outputs": json_safe(_plain(result.outputs))}
    error = result.error
    location = error.location if error is not None else None
    message = error.message if error is not None else f"run ended {result.status}"
    return {"run_id": result.run_id, "status": result.status,
            "message": f"{location}: {message}" if location else message}


def run_worker_process(
    queue_path: str,
    stop_event: StopSignal | None = None,
    **options: Any,
) -> WorkerStats:
    """:func:`run_worker` against the SQLite queue at ``queue_path`` with the default runner
    factory: a picklable entry point for ``multiprocessing`` (one worker per process)."""
    from .sqlite import SqliteTaskQueue

    queue = SqliteTaskQueue(queue_path)
    try:
        return run_worker(queue, default_runner_factory, stop_event, **options)
    finally:
        queue.close()
