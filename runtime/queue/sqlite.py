"""The embedded task queue: one SQLite file (stdlib ``sqlite3``, WAL mode).

Role: the default :class:`~tracemind.runtime.queue.TaskQueue`, shared by every process and
thread that opens the same file (``DIR/queue.db`` of the data directory).

Input: the database path; an injectable ``clock`` (epoch seconds) and ``rng`` (retry jitter)
for tests.
Output: the :class:`~tracemind.runtime.queue.TaskQueue` operations.

Invariants:
- ``journal_mode=WAL`` and ``synchronous=FULL``: a transaction is on disk when ``COMMIT``
  returns, so an enqueue is acknowledged only once it is durable; a killed process loses
  nothing it was told was stored.
- Every write is one ``BEGIN IMMEDIATE`` transaction (the database's write lock is taken up
  front, so two workers never read the same ready task and both take it); ``busy_timeout``
  makes concurrent writers wait instead of failing.
- One connection per process and thread, opened lazily (a forked or spawned child opens its
  own; the queue object itself pickles as its path and options).
- The schema version is kept in ``schema_version``; a file written by a newer version is
  refused with a clear error instead of being misread.
- Lease expiry is handled when leasing: an expired lease with attempts left becomes ``failed``
  (retry due now) with a ``lease expired`` entry in its error history; without attempts left,
  the task goes to the DLQ.  A new lease always gets a new token.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from . import (
    DEFAULT_BACKOFF,
    DEFAULT_MAX_ATTEMPTS,
    STATES,
    LeaseLost,
    QueueError,
    Task,
    TaskId,
    TaskNotFound,
    TaskState,
)

__all__ = ["MAX_RETRY_DELAY", "SCHEMA_VERSION", "SqliteTaskQueue", "retry_delay"]

SCHEMA_VERSION = 1
MAX_RETRY_DELAY = 3600.0
"""No retry waits longer than an hour, however many attempts came before."""
BUSY_TIMEOUT_MS = 30_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    flow TEXT NOT NULL,
    bundle TEXT NOT NULL,
    inputs TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    backoff REAL NOT NULL,
    run_at REAL NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    lease_token TEXT,
    lease_owner TEXT,
    lease_expires REAL,
    result TEXT,
    errors TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS tasks_ready ON tasks (run_at, id)
    WHERE state IN ('pending', 'failed');
CREATE INDEX IF NOT EXISTS tasks_leases ON tasks (lease_expires) WHERE state = 'leased';
CREATE INDEX IF NOT EXISTS tasks_state ON tasks (state);
"""

_COLUMNS = ("id, flow, bundle, inputs, idempotency_key, state, attempts, max_attempts, backoff, "
            "run_at, created_at, lease_token, lease_owner, lease_expires, result, errors")


def retry_delay(backoff: float, attempt: int, rng: random.Random) -> float:
    """Seconds before retrying after failed attempt number ``attempt`` (1-based):
    ``backoff * 2**(attempt-1)``, capped at :data:`MAX_RETRY_DELAY`, with "equal jitter" (a
    uniform draw from the upper half), so failing workers do not retry in lockstep."""
    delay = min(backoff * 2.0 ** max(attempt - 1, 0), MAX_RETRY_DELAY)
    return delay / 2 + rng.uniform(0.0, delay / 2)


class SqliteTaskQueue:
    """A :class:`~tracemind.runtime.queue.TaskQueue` in one SQLite file."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
    ) -> None:
        self.path = os.path.abspath(os.fspath(path))
        self.clock = clock
        self.rng = rng if rng is not None else random.Random()
        self.busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._connect()  # fail early (bad path, newer schema) and create the schema

    # -- connections ---------------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "clock": self.clock, "rng": self.rng,
                "busy_timeout_ms": self.busy_timeout_ms}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"], clock=state["clock"], rng=state["rng"],  # type: ignore[misc]
                      busy_timeout_ms=state["busy_timeout_ms"])

    def _connect(self) -> sqlite3.Connection:
        """This process's and thread's connection, opened (and the schema checked) once."""
        local = self._local
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is not None and getattr(local, "pid", None) == os.getpid():
            return conn
        directory = os.path.dirname(self.path)
        try:
            os.makedirs(directory, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout_ms / 1000,
                                   isolation_level=None, check_same_thread=True)
        except (OSError, sqlite3.Error) as exc:
            raise QueueError(f"{self.path}: cannot open the queue ({exc})") from None
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise QueueError(f"{self.path}: the queue needs WAL mode, the file system "
                                 f"gave {mode!r}")
            conn.execute("PRAGMA synchronous = FULL")
            self._migrate(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise QueueError(f"{self.path}: not a usable queue database ({exc})") from None
        except BaseException:
            conn.close()
            raise
        local.conn = conn
        local.pid = os.getpid()
        return conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            tables = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "schema_version" in tables:
                row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
                version = row[0] if row is not None else None
                if version is not None and version > SCHEMA_VERSION:
                    raise QueueError(
                        f"{self.path}: the queue was written by a newer TraceMind (schema "
                        f"version {version}, this one reads up to {SCHEMA_VERSION})")
                if version == SCHEMA_VERSION:
                    conn.execute("COMMIT")
                    return
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("DELETE FROM schema_version")
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            conn.close()
        self._local.conn = None

    def _write(self) -> _Transaction:
        return _Transaction(self._connect())

    # -- producers -----------------------------------------------------------------------------

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
        if not flow:
            raise QueueError("enqueue: the flow id is empty")
        if not bundle:
            raise QueueError("enqueue: the bundle path is empty")
        if max_attempts < 1:
            raise QueueError(f"enqueue: max_attempts must be at least 1, got {max_attempts}")
        if backoff < 0:
            raise QueueError(f"enqueue: backoff must not be negative, got {backoff}")
        try:
            encoded = json.dumps(inputs, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise QueueError(f"enqueue: the inputs are not JSON ({exc})") from None
        now = self.clock()
        with self._write() as conn:
            if idempotency_key is not None:
                row = conn.execute("SELECT id FROM tasks WHERE idempotency_key = ?",
                                   (idempotency_key,)).fetchone()
                if row is not None:
                    return TaskId(row[0])
            cursor = conn.execute(
                "INSERT INTO tasks (flow, bundle, inputs, idempotency_key, state, max_attempts, "
                "backoff, run_at, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)",
                (flow, bundle, encoded, idempotency_key, max_attempts, float(backoff),
                 now if run_at is None else float(run_at), now, now))
            task_id = cursor.lastrowid
        assert task_id is not None
        return TaskId(task_id)

    # -- workers -------------------------------------------------------------------------------

    def lease(self, worker_id: str, visibility_timeout: float) -> Task | None:
        if visibility_timeout <= 0:
            raise QueueError(f"lease: visibility_timeout must be positive, got "
                             f"{visibility_timeout}")
        with self._write() as conn:
            return self._lease_in(conn, worker_id, visibility_timeout, self.clock())

    def _lease_in(self, conn: sqlite3.Connection, worker_id: str, visibility_timeout: float,
                  now: float) -> Task | None:
        token = secrets.token_hex(16)
        self._expire(conn, now)
        row = conn.execute(
            "UPDATE tasks SET state = 'leased', attempts = attempts + 1, lease_token = ?, "
            "lease_owner = ?, lease_expires = ?, updated_at = ? "
            "WHERE id = (SELECT id FROM tasks INDEXED BY tasks_ready "
            "WHERE state IN ('pending', 'failed') "
            "AND run_at <= ? ORDER BY run_at, id LIMIT 1) "
            f"RETURNING {_COLUMNS}",
            (token, worker_id, now + visibility_timeout, now, now)).fetchone()
        return None if row is None else _task(row)

    def _expire(self, conn: sqlite3.Connection, now: float) -> None:
        """Turn expired leases into retries due now (or DLQ entries when no attempt is left);
        the lost attempt is recorded in the error history."""
        expired = conn.execute(
            "SELECT id, attempts, max_attempts, lease_owner, errors FROM tasks "
            "INDEXED BY tasks_leases WHERE state = 'leased' AND lease_expires <= ?",
            (now,)).fetchall()
        for task_id, attempts, max_attempts, owner, errors in expired:
            history = json.loads(errors)
            history.append({"attempt": attempts, "at": now, "worker": owner,
                            "message": "lease expired (the worker stopped heartbeating)"})
            state = "dead" if attempts >= max_attempts else "failed"
            conn.execute(
                "UPDATE tasks SET state = ?, run_at = ?, lease_token = NULL, "
                "lease_owner = NULL, lease_expires = NULL, errors = ?, updated_at = ? "
                "WHERE id = ?", (state, now, json.dumps(history), now, task_id))

    def heartbeat(self, task_id: TaskId, lease_token: str,
                  visibility_timeout: float | None = None) -> float:
        timeout = visibility_timeout
        now = self.clock()
        with self._write() as conn:
            if timeout is None:
                row = conn.execute("SELECT lease_expires - updated_at FROM tasks WHERE id = ? "
                                   "AND state = 'leased' AND lease_token = ?",
                                   (task_id, lease_token)).fetchone()
                if row is None:
                    raise self._lost(conn, task_id, "heartbeat")
                timeout = float(row[0])
            expires = now + timeout
            cursor = conn.execute(
                "UPDATE tasks SET lease_expires = ?, updated_at = ? WHERE id = ? "
                "AND state = 'leased' AND lease_token = ?",
                (expires, now, task_id, lease_token))
            if cursor.rowcount != 1:
                raise self._lost(conn, task_id, "heartbeat")
        return expires

    def ack(self, task_id: TaskId, lease_token: str, result: Any = None) -> None:
        now = self.clock()
        with self._write() as conn:
            self._ack_in(conn, task_id, lease_token, result, now)

    def ack_and_lease(self, task_id: TaskId, lease_token: str, result: Any, worker_id: str,
                      visibility_timeout: float) -> Task | None:
        if visibility_timeout <= 0:
            raise QueueError(f"lease: visibility_timeout must be positive, got "
                             f"{visibility_timeout}")
        now = self.clock()
        with self._write() as conn:
            self._ack_in(conn, task_id, lease_token, result, now)
            return self._lease_in(conn, worker_id, visibility_timeout, now)

    def _ack_in(self, conn: sqlite3.Connection, task_id: TaskId, lease_token: str,
                result: Any, now: float) -> None:
        try:
            encoded = json.dumps(result, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise QueueError(f"ack: the result of task {task_id} is not JSON ({exc})") from None
        cursor = conn.execute(
            "UPDATE tasks SET state = 'succeeded', result = ?, lease_token = NULL, "
            "lease_expires = NULL, updated_at = ? WHERE id = ? AND state = 'leased' "
            "AND lease_token = ?", (encoded, now, task_id, lease_token))
        if cursor.rowcount != 1:
            raise self._lost(conn, task_id, "ack")

    def fail(self, task_id: TaskId, lease_token: str, error: str | Mapping[str, Any], *,
             retry: bool = True) -> Task:
        now = self.clock()
        with self._write() as conn:
            row = conn.execute(
                "SELECT attempts, max_attempts, backoff, lease_owner, errors FROM tasks "
                "WHERE id = ? AND state = 'leased' AND lease_token = ?",
                (task_id, lease_token)).fetchone()
            if row is None:
                raise self._lost(conn, task_id, "fail")
            attempts, max_attempts, backoff, owner, errors = row
            entry: dict[str, Any] = {"attempt": attempts, "at": now, "worker": owner}
            if isinstance(error, str):
                entry["message"] = error
            else:
                entry.update(error)
                entry.setdefault("message", "failed")
            history = json.loads(errors)
            history.append(entry)
            if retry and attempts < max_attempts:
                state, run_at = "failed", now + retry_delay(backoff, attempts, self.rng)
            else:
                state, run_at = "dead", now
            try:
                encoded = json.dumps(history, ensure_ascii=False, allow_nan=False,
                                     default=str)
            except ValueError as exc:
                raise QueueError(f"fail: the error of task {task_id} is not JSON ({exc})") \
                    from None
            updated = conn.execute(
                "UPDATE tasks SET state = ?, run_at = ?, lease_token = NULL, "
                "lease_owner = NULL, lease_expires = NULL, errors = ?, updated_at = ? "
                f"WHERE id = ? RETURNING {_COLUMNS}",
                (state, run_at, encoded, now, task_id)).fetchone()
        return _task(updated)

    def _lost(self, conn: sqlite3.Connection, task_id: TaskId, operation: str) -> QueueError:
        row = conn.execute("SELECT state FROM tasks WHERE id = ?", (task_id,)).fetchone()
        if row is None:
            return TaskNotFound(f"{operation}: no task {task_id}")
        return LeaseLost(f"{operation}: the lease on task {task_id} was lost (the task is "
                         f"now {row[0]}; the lease expired and was taken over, or the task "
                         "was already completed)")

    # -- reading -------------------------------------------------------------------------------

    def get(self, task_id: TaskId) -> Task:
        row = self._connect().execute(f"SELECT {_COLUMNS} FROM tasks WHERE id = ?",
                                      (task_id,)).fetchone()
        if row is None:
            raise TaskNotFound(f"no task {task_id}")
        return _task(row)

    def result(self, task_id: TaskId) -> Any:
        task = self.get(task_id)
        return task.result if task.state == "succeeded" else None

    def stats(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(STATES, 0)
        for state, count in self._connect().execute(
                "SELECT state, COUNT(*) FROM tasks GROUP BY state"):
            counts[state] = count
        return counts

    # -- dead-letter queue ---------------------------------------------------------------------

    def dlq_list(self) -> list[Task]:
        return [_task(row) for row in self._connect().execute(
            f"SELECT {_COLUMNS} FROM tasks WHERE state = 'dead' ORDER BY updated_at, id")]

    def dlq_show(self, task_id: TaskId) -> Task:
        task = self.get(task_id)
        if task.state != "dead":
            raise TaskNotFound(f"task {task_id} is not in the DLQ (it is {task.state})")
        return task

    def requeue(self, task_id: TaskId) -> Task:
        now = self.clock()
        with self._write() as conn:
            row = conn.execute(
                "UPDATE tasks SET state = 'pending', attempts = 0, run_at = ?, updated_at = ? "
                f"WHERE id = ? AND state = 'dead' RETURNING {_COLUMNS}",
                (now, now, task_id)).fetchone()
            if row is None:
                found = conn.execute("SELECT state FROM tasks WHERE id = ?",
                                     (task_id,)).fetchone()
                if found is None:
                    raise TaskNotFound(f"no task {task_id}")
                raise TaskNotFound(f"task {task_id} is not in the DLQ (it is {found[0]})")
        return _task(row)

    def purge(self) -> int:
        with self._write() as conn:
            return conn.execute("DELETE FROM tasks WHERE state = 'dead'").rowcount


class _Transaction:
    """``with``: ``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on an exception)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        if kind is None:
            self.conn.execute("COMMIT")
        else:
            self.conn.execute("ROLLBACK")


def _task(row: tuple[Any, ...]) -> Task:
    (task_id, flow, bundle, inputs, key, state, attempts, max_attempts, backoff, run_at,
     created_at, token, owner, expires, result, errors) = row
    state_name: TaskState = state
    return Task(
        id=TaskId(task_id), flow=flow, bundle=bundle, inputs=json.loads(inputs),
        state=state_name, attempts=attempts, max_attempts=max_attempts, backoff=backoff,
        run_at=run_at, created_at=created_at, idempotency_key=key, lease_token=token,
        lease_owner=owner, lease_expires=expires,
        result=None if result is None else json.loads(result),
        errors=tuple(json.loads(errors)))
