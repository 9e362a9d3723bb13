"""Cron triggers: enqueue a flow run at each time of a cron schedule, in a time zone.

Role: :class:`CronScheduler` is polled (``tick``) by a loop that sleeps until ``next_due``; the
clock is injectable (epoch seconds), so tests move time by hand.

Catch-up policy: a tick fires the most recent scheduled time at or before now, if it is later
than the last time fired for that flow (read back from the ``trigger.fired`` events of the
log).  So after a restart (or a stalled loop) that missed several schedule times, the flow runs
once, for the most recent one; the older ones are skipped.  On the very first start (no event
for the flow), only times after the start count: nothing is fired for the past.

No double fire: each fire enqueues with idempotency key ``cron:<flow>:<scheduled>`` (the
scheduled time in ISO 8601, UTC) before the event is appended, so a crash between the two
re-enqueues the same key on restart, which the queue answers with the first task's id.

The enqueued task's inputs are ``{}``: the flow's input defaults apply.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter

from . import CronTrigger
from .state import TriggerState

Clock = Callable[[], float]


def latest_due(trigger: CronTrigger, now: float) -> datetime:
    """The latest scheduled time at or before ``now`` (aware, in UTC)."""
    local = datetime.fromtimestamp(now, ZoneInfo(trigger.timezone))
    # croniter's get_prev from a time on the schedule returns the time before it
    prev = croniter(trigger.schedule, local + timedelta(microseconds=1)).get_prev(datetime)
    return prev.astimezone(UTC)


def next_after(trigger: CronTrigger, now: float) -> float:
    """The first scheduled time strictly after ``now`` (epoch seconds)."""
    local = datetime.fromtimestamp(now, ZoneInfo(trigger.timezone))
    return float(croniter(trigger.schedule, local).get_next(float))


class CronScheduler:
    """Fires the cron triggers of one bundle into a task queue."""

    def __init__(self, triggers: Sequence[CronTrigger], queue: Any, bundle: str,
                 state: TriggerState, clock: Clock = time.time) -> None:
        self.triggers = list(triggers)
        self.queue = queue
        self.bundle = bundle
        self.state = state
        self.clock = clock
        self.started = datetime.fromtimestamp(clock(), UTC)
        """Times at or before this do not fire for a flow that has never fired."""

    def tick(self) -> list[dict[str, Any]]:
        """Fire every trigger that is due now; the events recorded."""
        now = self.clock()
        fired = []
        for trigger in self.triggers:
            due = latest_due(trigger, now)
            last = self.state.cron_last.get(trigger.flow)
            if due <= (last if last is not None else self.started):
                continue
            fired.append(self.fire(trigger, due))
        return fired

    def fire(self, trigger: CronTrigger, scheduled: datetime) -> dict[str, Any]:
        iso = scheduled.astimezone(UTC).isoformat()
        key = f"cron:{trigger.flow}:{iso}"
        task = self.queue.enqueue(trigger.flow, {}, bundle=self.bundle, idempotency_key=key)
        local = scheduled.astimezone(ZoneInfo(trigger.timezone)).isoformat()
        event = {"flow": trigger.flow, "kind": "cron", "scheduled": iso,
                 "scheduled_local": local, "task": int(task), "key": key}
        self.state.record(event)
        return event

    def next_due(self) -> float | None:
        """Epoch seconds of the next scheduled time of any trigger (None if there is none)."""
        now = self.clock()
        times = [next_after(trigger, now) for trigger in self.triggers]
        return min(times) if times else None
