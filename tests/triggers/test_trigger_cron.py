"""Cron triggers: due times in a time zone, catch-up once, no double fire across restarts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.shared_helpers import Clock
from tracemind.runtime.queue.sqlite import SqliteTaskQueue
from tracemind.runtime.triggers import CronTrigger
from tracemind.runtime.triggers.cron import CronScheduler, latest_due, next_after
from tracemind.runtime.triggers.state import TriggerState

T0 = datetime(2026, 1, 1, 10, 2, tzinfo=UTC).timestamp()
TICK = CronTrigger("tick", "*/5 * * * *", "UTC")


def at(hour: int, minute: int, second: int = 0) -> float:
    return datetime(2026, 1, 1, hour, minute, second, tzinfo=UTC).timestamp()


def scheduler(tmp: Path, clock: Clock, trigger: CronTrigger = TICK) -> CronScheduler:
    queue = SqliteTaskQueue(tmp / "queue.db")
    return CronScheduler([trigger], queue, "/bundle", TriggerState(tmp / "log"), clock)


def test_latest_due_includes_an_exact_schedule_time() -> None:
    assert latest_due(TICK, at(10, 5)) == datetime(2026, 1, 1, 10, 5, tzinfo=UTC)
    assert latest_due(TICK, at(10, 9, 59)) == datetime(2026, 1, 1, 10, 5, tzinfo=UTC)
    assert next_after(TICK, at(10, 5)) == at(10, 10)


def test_time_zone_is_applied() -> None:
    daily = CronTrigger("d", "0 9 * * *", "Europe/Berlin")  # 09:00 CET = 08:00 UTC
    assert latest_due(daily, at(8, 30)) == datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    assert latest_due(daily, at(7, 59)) == datetime(2025, 12, 31, 8, 0, tzinfo=UTC)


def test_fires_once_per_schedule_time_and_not_for_the_past(tmp_path: Path) -> None:
    clock = Clock(T0)
    cron = scheduler(tmp_path, clock)
    assert cron.tick() == []  # 10:00 is before the first start: not fired
    clock.now = at(10, 5)
    [event] = cron.tick()
    assert event["scheduled"] == "2026-01-01T10:05:00+00:00"
    assert event["key"] == "cron:tick:2026-01-01T10:05:00+00:00"
    assert cron.tick() == []  # same time again: nothing
    clock.now = at(10, 9)
    assert cron.tick() == []
    clock.now = at(10, 10, 30)
    assert [e["scheduled"] for e in cron.tick()] == ["2026-01-01T10:10:00+00:00"]
    assert cron.queue.stats()["pending"] == 2
    task = cron.queue.get(event["task"])
    assert task.flow == "tick" and task.inputs == {} and task.bundle == "/bundle"
    assert cron.next_due() == at(10, 15)
    cron.state.close()


def test_restart_does_not_double_fire_and_catches_up_once(tmp_path: Path) -> None:
    clock = Clock(T0)
    cron = scheduler(tmp_path, clock)
    clock.now = at(10, 5)
    assert len(cron.tick()) == 1
    cron.state.close()
    # restart at the same time: the log says 10:05 fired
    cron = scheduler(tmp_path, clock)
    assert cron.tick() == []
    cron.state.close()
    # down from 10:06 to 10:27: 10:10 .. 10:25 missed, only 10:25 fires
    clock.now = at(10, 27)
    cron = scheduler(tmp_path, clock)
    assert [e["scheduled"] for e in cron.tick()] == ["2026-01-01T10:25:00+00:00"]
    assert cron.tick() == []
    assert cron.queue.stats()["pending"] == 2
    cron.state.close()


def test_crash_between_enqueue_and_log_does_not_double_fire(tmp_path: Path) -> None:
    clock = Clock(T0)
    cron = scheduler(tmp_path, clock)
    clock.now = at(10, 5)
    due = latest_due(TICK, clock.now)
    # simulate the crash: the task was enqueued, the event never reached the log
    key = f"cron:tick:{due.isoformat()}"
    first = cron.queue.enqueue("tick", {}, bundle="/bundle", idempotency_key=key)
    [event] = cron.tick()
    assert event["task"] == first
    assert cron.queue.stats()["pending"] == 1
    cron.state.close()
