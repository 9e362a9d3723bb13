"""The durable task queue: the interface every queue backend implements.

Role: hands flow runs ("tasks") from producers (``tm enqueue``, triggers, the HTTP API) to
workers, surviving crashes of either side.  :class:`TaskQueue` is the contract; the embedded
default is :class:`~tracemind.runtime.queue.sqlite.SqliteTaskQueue` (``DIR/queue.db``); a
PostgreSQL backend can implement the same protocol later.

Input: a flow id, its JSON inputs, the absolute path of the bundle that holds the flow, and
scheduling options (idempotency key, earliest start, attempts, backoff).
Output: :class:`Task` records handed out under a lease, stats, and the dead-letter queue (DLQ).

Invariants (every backend):
- ``enqueue`` returns only once the task is durable: an acknowledged task is never lost.
- A second ``enqueue`` with the same idempotency key returns the first task's id, whatever
  state that task is in.
- A task is leased by at most one worker at a time; every lease has a fresh ``lease_token`` and
  ``heartbeat``/``ack``/``fail`` with a stale token raise :class:`LeaseLost` (a worker whose
  lease expired can never complete someone else's lease).
- Every lease counts as an attempt, so a worker that crashes mid-task uses up an attempt; when
  the visibility timeout passes, the task is leasable again (or dead if no attempt is left).
- ``fail`` retries with exponential backoff and jitter until ``max_attempts``, then moves the
  task to the DLQ with its whole error history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NewType, Protocol, runtime_checkable

__all__ = [
    "DEFAULT_BACKOFF",
    "DEFAULT_MAX_ATTEMPTS",
    "STATES",
    "LeaseLost",
    "QueueError",
    "Task",
    "TaskId",
    "TaskNotFound",
    "TaskQueue",
    "TaskState",
]

TaskId = NewType("TaskId", int)
TaskState = Literal["pending", "leased", "succeeded", "failed", "dead"]
STATES: tuple[TaskState, ...] = ("pending", "leased", "succeeded", "failed", "dead")
"""``failed``: the last attempt failed and a retry is scheduled (leasable at ``run_at``)."""

DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_BACKOFF = 1.0
"""Seconds before the first retry; doubled on each further attempt (with jitter)."""


class QueueError(Exception):
    """A queue operation that cannot be done (bad argument, unknown task, lost lease)."""


class TaskNotFound(QueueError, KeyError):
    """No task with that id (or, for DLQ operations, no such task in the DLQ)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "task not found"


class LeaseLost(QueueError):
    """The caller's lease on a task is gone: it expired and was taken, or it was completed."""


@dataclass(frozen=True, slots=True)
class Task:
    """One task as stored; a leased task carries the lease's token, owner and expiry."""

    id: TaskId
    flow: str
    bundle: str
    inputs: Any
    state: TaskState
    attempts: int
    max_attempts: int
    backoff: float
    run_at: float
    created_at: float
    idempotency_key: str | None = None
    lease_token: str | None = None
    lease_owner: str | None = None
    lease_expires: float | None = None
    result: Any = None
    errors: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    """One entry per failed attempt: ``attempt``, ``at``, ``message`` (and details)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "flow": self.flow, "bundle": self.bundle, "inputs": self.inputs,
            "state": self.state, "attempts": self.attempts,
            "max_attempts": self.max_attempts, "backoff": self.backoff,
            "run_at": self.run_at, "created_at": self.created_at,
            "idempotency_key": self.idempotency_key, "lease_owner": self.lease_owner,
            "lease_expires": self.lease_expires, "result": self.result,
            "errors": [dict(entry) for entry in self.errors],
        }


@runtime_checkable
class TaskQueue(Protocol):
    """The operations every queue backend provides (see the module invariants)."""

    def enqueue(
        self,
        flow: str,
        inputs: Any,
        *,
        bundle: str,
        idempotency_key: str | None = None,
        run_at: float | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        backoff: float = DEFAULT_BACKOFF,
    ) -> TaskId:
        """Store a task durably and return its id (the first task's id for a repeated key).
        ``run_at`` (epoch seconds, default now) is when it becomes leasable."""
        ...

    def lease(self, worker_id: str, visibility_timeout: float) -> Task | None:
        """Atomically take the next ready task (by ``run_at``, then id) for
        ``visibility_timeout`` seconds, or None when no task is ready."""
        ...

    def heartbeat(self, task_id: TaskId, lease_token: str,
                  visibility_timeout: float | None = None) -> float:
        """Extend the lease (by its visibility timeout, or the one given) and return the new
        expiry; :class:`LeaseLost` when the lease is gone."""
        ...

    def ack(self, task_id: TaskId, lease_token: str, result: Any = None) -> None:
        """Mark the leased task succeeded with ``result``; :class:`LeaseLost` if gone."""
        ...

    def ack_and_lease(self, task_id: TaskId, lease_token: str, result: Any, worker_id: str,
                      visibility_timeout: float) -> Task | None:
        """``ack`` then ``lease`` in one transaction (one durable commit instead of two): a
        busy worker's fast path.  :class:`LeaseLost` (and no new lease) if the ack fails."""
        ...

    def fail(self, task_id: TaskId, lease_token: str, error: str | Mapping[str, Any], *,
             retry: bool = True) -> Task:
        """Record a failed attempt: schedule a retry, or (no attempts left, or ``retry`` is
        False) move the task to the DLQ.  Returns the task as stored afterwards."""
        ...

    def get(self, task_id: TaskId) -> Task:
        """The task (:class:`TaskNotFound` if unknown)."""
        ...

    def result(self, task_id: TaskId) -> Any:
        """The result of a succeeded task, None while it has not succeeded."""
        ...

    def stats(self) -> dict[str, int]:
        """The number of tasks in each state: ``pending``, ``leased``, ``succeeded``,
        ``failed`` (retry scheduled) and ``dead`` (in the DLQ)."""
        ...

    def dlq_list(self) -> list[Task]:
        """The tasks in the DLQ, oldest first."""
        ...

    def dlq_show(self, task_id: TaskId) -> Task:
        """One task of the DLQ (:class:`TaskNotFound` if it is not there)."""
        ...

    def requeue(self, task_id: TaskId) -> Task:
        """Move a DLQ task back to pending with fresh attempts (its error history kept)."""
        ...

    def purge(self) -> int:
        """Delete every task in the DLQ; return how many."""
        ...

    def close(self) -> None:
        """Release this process's (thread's) connection."""
        ...
