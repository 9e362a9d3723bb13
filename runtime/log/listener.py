"""An executor listener that appends every run event to a segment log.

Role: the seam between the executor (``runtime.spans.Event``) and the log: pass
``EventLogListener(writer)`` in ``Executor(listeners=[...])``.

Input: events.  Output: one record per event; type = the event type (``step.finished``),
payload = JSON ``{"run_id", "at" (epoch seconds), "data"}`` (values JSON cannot
hold are written as their ``repr``).

Invariants:
- Listeners must not raise: a failed append is counted in ``failures`` and kept in
  ``last_error`` (the run goes on); callers that must not lose events check ``failures``.
- The append is durable per the writer's policy before the listener returns, so an event the
  executor has moved past is on disk (policies ``always``/``batch``).
"""

from __future__ import annotations

import json

from ..determinism import json_safe
from ..spans import Event
from .writer import LogWriter


class EventLogListener:
    """Appends each event to ``writer``; remembers the last sequence number written."""

    def __init__(self, writer: LogWriter) -> None:
        self.writer = writer
        self.last_seq = 0
        self.failures = 0
        self.last_error: BaseException | None = None

    def __call__(self, event: Event) -> None:
        try:
            payload = json.dumps(
                {"run_id": event.run_id, "at": event.at, "data": json_safe(event.data)},
                separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=repr)
            self.last_seq = self.writer.append(event.type, payload.encode("utf-8"))
        except Exception as exc:  # a listener must not raise (runtime.spans.Listener)
            self.failures += 1
            self.last_error = exc
