"""The triggers' durable memory: ``trigger.fired`` events in a segment log.

Role: :class:`TriggerState` opens the log directory as its single writer, reads back every
``trigger.fired`` event on start, and keeps what the trigger loops need to not fire twice
across restarts: the last scheduled time per cron flow and the ``(size, mtime_ns)`` last fired
per fs flow and file.

Invariants: an event is appended (durably, ``fsync=batch``) after the task is enqueued; the
enqueue carries an idempotency key derived from the same facts, so a crash between the two
re-enqueues the same key on restart and the queue returns the first task: no double fire.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime
from typing import Any

from ..log import LogReader, LogWriter
from . import FIRED


class TriggerState:
    """What has fired, rebuilt from (and appended to) the log in ``directory``."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = os.fspath(directory)
        self._writer = LogWriter(self.directory)
        self._lock = threading.Lock()
        self.cron_last: dict[str, datetime] = {}
        """The last scheduled time fired, per cron flow (aware, UTC)."""
        self.files: dict[tuple[str, str], tuple[int, int]] = {}
        """``(size, mtime_ns)`` last fired, per ``(flow, absolute path)``."""
        self.fired = 0
        try:
            for record in LogReader(self.directory).scan(types=[FIRED]):
                self._apply(record.json())
        except BaseException:
            self._writer.close()
            raise

    def _apply(self, event: Any) -> None:
        if not isinstance(event, dict):
            return
        flow = str(event.get("flow", ""))
        kind = event.get("kind")
        if kind == "cron" and isinstance(event.get("scheduled"), str):
            when = datetime.fromisoformat(event["scheduled"])
            last = self.cron_last.get(flow)
            if last is None or when > last:
                self.cron_last[flow] = when
        elif kind == "fs" and isinstance(event.get("path"), str):
            self.files[(flow, event["path"])] = (int(event.get("size", -1)),
                                                 int(event.get("mtime_ns", -1)))

    def record(self, event: dict[str, Any]) -> None:
        """Append one ``trigger.fired`` event (thread-safe) and remember it."""
        self._writer.append(FIRED, event)
        with self._lock:
            self._apply(event)
            self.fired += 1

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> TriggerState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
