"""The SQLite task queue: round trips, idempotency, delays, leases, retries, DLQ, schema."""

from __future__ import annotations

import pickle
import random
import sqlite3
from pathlib import Path

import pytest

from tests.shared_helpers import Clock
from tracemind.runtime.queue import LeaseLost, QueueError, TaskId, TaskNotFound, TaskQueue
from tracemind.runtime.queue.sqlite import SCHEMA_VERSION, SqliteTaskQueue, retry_delay

BUNDLE = "/bundles/b"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def queue(tmp_path: Path, clock: Clock) -> SqliteTaskQueue:
    return SqliteTaskQueue(tmp_path / "data" / "queue.db", clock=clock, rng=random.Random(7))


def test_implements_the_interface(queue: SqliteTaskQueue) -> None:
    assert isinstance(queue, TaskQueue)


def test_wal_and_full_sync(queue: SqliteTaskQueue) -> None:
    conn = queue._connect()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]


def test_enqueue_lease_ack_round_trip(queue: SqliteTaskQueue) -> None:
    first = queue.enqueue("f", {"x": 1}, bundle=BUNDLE)
    second = queue.enqueue("g", [1, 2], bundle=BUNDLE)
    assert first != second
    assert queue.stats() == {"pending": 2, "leased": 0, "succeeded": 0, "failed": 0, "dead": 0}
    task = queue.lease("w1", 30)
    assert task is not None and task.id == first
    assert (task.flow, task.inputs, task.bundle, task.state) == ("f", {"x": 1}, BUNDLE, "leased")
    assert task.attempts == 1 and task.lease_owner == "w1" and task.lease_token
    assert queue.stats()["leased"] == 1
    assert queue.result(first) is None
    queue.ack(first, task.lease_token, {"ok": True})
    assert queue.result(first) == {"ok": True}
    assert queue.get(first).state == "succeeded"
    other = queue.lease("w1", 30)
    assert other is not None and other.id == second
    assert queue.lease("w1", 30) is None


def test_idempotency_key_returns_the_first_id_and_its_result(queue: SqliteTaskQueue) -> None:
    first = queue.enqueue("f", {"x": 1}, bundle=BUNDLE, idempotency_key="k")
    assert queue.enqueue("f", {"x": 2}, bundle=BUNDLE, idempotency_key="k") == first
    assert queue.stats()["pending"] == 1
    task = queue.lease("w", 30)
    assert task is not None and task.lease_token is not None
    queue.ack(task.id, task.lease_token, {"n": 1})
    again = queue.enqueue("f", {"x": 3}, bundle=BUNDLE, idempotency_key="k")
    assert again == first and queue.result(again) == {"n": 1}
    assert queue.get(first).inputs == {"x": 1}
    assert queue.enqueue("f", {}, bundle=BUNDLE, idempotency_key="other") != first


def test_delayed_task_waits_for_run_at(queue: SqliteTaskQueue, clock: Clock) -> None:
    late = queue.enqueue("f", {}, bundle=BUNDLE, run_at=clock.now + 60)
    assert queue.lease("w", 30) is None
    clock.advance(59.9)
    assert queue.lease("w", 30) is None
    clock.advance(0.1)
    task = queue.lease("w", 30)
    assert task is not None and task.id == late


def test_ready_order_is_run_at_then_id(queue: SqliteTaskQueue, clock: Clock) -> None:
    a = queue.enqueue("f", {}, bundle=BUNDLE, run_at=clock.now - 1)
    b = queue.enqueue("f", {}, bundle=BUNDLE, run_at=clock.now - 5)
    c = queue.enqueue("f", {}, bundle=BUNDLE)
    order = []
    while (task := queue.lease("w", 30)) is not None:
        order.append(task.id)
    assert order == [b, a, c]


def test_expired_lease_is_leased_again_and_counts_an_attempt(
        queue: SqliteTaskQueue, clock: Clock) -> None:
    task_id = queue.enqueue("f", {}, bundle=BUNDLE)
    first = queue.lease("crashed", 10)
    assert first is not None
    clock.advance(9)
    assert queue.lease("w2", 10) is None
    clock.advance(1)
    second = queue.lease("w2", 10)
    assert second is not None and second.id == task_id
    assert second.attempts == 2 and second.lease_token != first.lease_token
    assert second.errors[-1]["worker"] == "crashed"
    assert "lease expired" in second.errors[-1]["message"]


def test_expired_lease_without_attempts_left_goes_to_the_dlq(
        queue: SqliteTaskQueue, clock: Clock) -> None:
    task_id = queue.enqueue("f", {}, bundle=BUNDLE, max_attempts=1)
    assert queue.lease("crashed", 10) is not None
    clock.advance(11)
    assert queue.lease("w2", 10) is None
    assert [t.id for t in queue.dlq_list()] == [task_id]


def test_heartbeat_extends_the_lease(queue: SqliteTaskQueue, clock: Clock) -> None:
    queue.enqueue("f", {}, bundle=BUNDLE)
    task = queue.lease("w", 10)
    assert task is not None and task.lease_token is not None
    for _ in range(5):
        clock.advance(8)
        assert queue.heartbeat(task.id, task.lease_token) == clock.now + 10
    assert queue.lease("w2", 10) is None
    assert queue.heartbeat(task.id, task.lease_token, 100) == clock.now + 100


def test_stale_lease_token_cannot_ack_or_heartbeat(queue: SqliteTaskQueue,
                                                   clock: Clock) -> None:
    queue.enqueue("f", {}, bundle=BUNDLE)
    stale = queue.lease("slow", 10)
    assert stale is not None and stale.lease_token is not None
    clock.advance(11)
    fresh = queue.lease("w2", 10)
    assert fresh is not None and fresh.lease_token is not None
    with pytest.raises(LeaseLost, match="lease on task"):
        queue.ack(stale.id, stale.lease_token, "late")
    with pytest.raises(LeaseLost):
        queue.heartbeat(stale.id, stale.lease_token)
    with pytest.raises(LeaseLost):
        queue.fail(stale.id, stale.lease_token, "late")
    queue.ack(fresh.id, fresh.lease_token, "mine")
    assert queue.result(fresh.id) == "mine"
    with pytest.raises(LeaseLost):
        queue.ack(fresh.id, fresh.lease_token, "twice")
    with pytest.raises(TaskNotFound):
        queue.ack(TaskId(999), "x")


def test_retries_with_backoff_then_dlq_with_history(queue: SqliteTaskQueue,
                                                    clock: Clock) -> None:
    task_id = queue.enqueue("f", {}, bundle=BUNDLE, max_attempts=4, backoff=2.0)
    for attempt in range(1, 5):
        task = queue.lease("w", 30)
        assert task is not None and task.lease_token is not None
        assert task.attempts == attempt
        after = queue.fail(task.id, task.lease_token, {"message": f"bad {attempt}", "code": 7})
        if attempt < 4:
            assert after.state == "failed"
            assert queue.stats()["failed"] == 1
            full = 2.0 * 2 ** (attempt - 1)
            delay = after.run_at - clock.now
            assert full / 2 <= delay <= full
            clock.advance(delay - 0.001)
            assert queue.lease("w", 30) is None
            clock.advance(0.001)
        else:
            assert after.state == "dead"
    assert queue.stats()["dead"] == 1
    dead = queue.dlq_show(task_id)
    assert [e["message"] for e in dead.errors] == ["bad 1", "bad 2", "bad 3", "bad 4"]
    assert [e["attempt"] for e in dead.errors] == [1, 2, 3, 4]
    assert all(e["code"] == 7 and e["worker"] == "w" for e in dead.errors)


def test_fail_without_retry_goes_straight_to_the_dlq(queue: SqliteTaskQueue) -> None:
    task_id = queue.enqueue("f", {}, bundle=BUNDLE, max_attempts=5)
    task = queue.lease("w", 30)
    assert task is not None and task.lease_token is not None
    assert queue.fail(task_id, task.lease_token, "bad inputs", retry=False).state == "dead"
    assert queue.dlq_show(task_id).errors[0]["message"] == "bad inputs"


def test_retry_delay_is_capped_and_jittered() -> None:
    rng = random.Random(1)
    delays = [retry_delay(1.0, 3, rng) for _ in range(200)]
    assert all(2.0 <= d <= 4.0 for d in delays) and len(set(delays)) > 100
    assert retry_delay(1.0, 100, rng) <= 3600.0


def test_requeue_and_purge(queue: SqliteTaskQueue) -> None:
    ids = [queue.enqueue("f", {"i": i}, bundle=BUNDLE, max_attempts=1) for i in range(3)]
    for _ in ids:
        task = queue.lease("w", 30)
        assert task is not None and task.lease_token is not None
        queue.fail(task.id, task.lease_token, "nope")
    assert [t.id for t in queue.dlq_list()] == ids
    back = queue.requeue(ids[0])
    assert (back.state, back.attempts, len(back.errors)) == ("pending", 0, 1)
    with pytest.raises(TaskNotFound, match="not in the DLQ"):
        queue.requeue(ids[0])
    with pytest.raises(TaskNotFound, match="not in the DLQ"):
        queue.dlq_show(ids[0])
    with pytest.raises(TaskNotFound, match="no task 999"):
        queue.requeue(TaskId(999))
    again = queue.lease("w", 30)
    assert again is not None and again.id == ids[0] and again.attempts == 1
    assert queue.purge() == 2
    assert queue.dlq_list() == [] and queue.purge() == 0
    with pytest.raises(TaskNotFound):
        queue.get(ids[1])


def test_bad_arguments_are_refused(queue: SqliteTaskQueue) -> None:
    with pytest.raises(QueueError, match="max_attempts"):
        queue.enqueue("f", {}, bundle=BUNDLE, max_attempts=0)
    with pytest.raises(QueueError, match="not JSON"):
        queue.enqueue("f", {"x": float("nan")}, bundle=BUNDLE)
    with pytest.raises(QueueError, match="not JSON"):
        queue.enqueue("f", {"x": object()}, bundle=BUNDLE)
    with pytest.raises(QueueError, match="visibility_timeout"):
        queue.lease("w", 0)
    assert queue.stats()["pending"] == 0


def test_reopen_and_pickle_keep_the_tasks(tmp_path: Path, queue: SqliteTaskQueue) -> None:
    task_id = queue.enqueue("f", {"x": 1}, bundle=BUNDLE)
    queue.close()
    reopened = SqliteTaskQueue(queue.path)
    assert reopened.get(task_id).inputs == {"x": 1}
    copy = pickle.loads(pickle.dumps(reopened))
    assert copy.get(task_id).flow == "f"


def test_newer_schema_and_garbage_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "queue.db"
    SqliteTaskQueue(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(QueueError, match="newer TraceMind"):
        SqliteTaskQueue(path)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(QueueError, match="not a usable queue"):
        SqliteTaskQueue(junk)


def test_ack_and_lease_is_one_step(queue: SqliteTaskQueue, clock: Clock) -> None:
    a = queue.enqueue("f", {}, bundle=BUNDLE)
    b = queue.enqueue("f", {}, bundle=BUNDLE)
    first = queue.lease("w", 30)
    assert first is not None and first.lease_token is not None
    second = queue.ack_and_lease(a, first.lease_token, "ra", "w", 30)
    assert second is not None and second.id == b and second.state == "leased"
    assert queue.result(a) == "ra"
    assert second.lease_token is not None
    assert queue.ack_and_lease(b, second.lease_token, "rb", "w", 30) is None
    assert queue.stats()["succeeded"] == 2
    c = queue.enqueue("f", {}, bundle=BUNDLE)
    with pytest.raises(LeaseLost):
        queue.ack_and_lease(b, second.lease_token, "again", "w", 30)
    assert queue.get(c).state == "pending"  # the failed ack leased nothing
