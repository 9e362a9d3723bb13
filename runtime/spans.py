"""Trace spans and run events: what a run records about itself.

Role: :class:`Span` is one step attempt series or one block of a run, with its parent, timings
and outcome; :class:`Event` is one notification to listeners (run accepted, step started, step
finished, decision made, ...), the seam where an event log plugs in.

Input: values filled in by the executor.  Output: objects with a ``to_json()`` view.

Invariants:
- Durations come from the monotonic clock; ``started_at``/``ended_at`` are wall-clock epoch
  seconds, rendered as ISO-8601 UTC in JSON.
- ``status`` is ``running`` only while the span is open; a finished span is ``ok``, ``failed``,
  ``skipped`` or ``cancelled``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

SpanStatus = Literal["running", "ok", "failed", "skipped", "cancelled"]

RUN_ACCEPTED = "run.accepted"
RUN_FINISHED = "run.finished"
STEP_STARTED = "step.started"
STEP_RETRYING = "step.retrying"
STEP_FINISHED = "step.finished"
STEP_LOG = "step.log"
BLOCK_STARTED = "block.started"
BLOCK_FINISHED = "block.finished"
DECISION_MADE = "decision.made"


@dataclass(slots=True, kw_only=True)
class Span:
    """One step (all its attempts) or one block of a run."""

    run_id: str
    span_id: int
    parent_id: int | None
    type: Literal["step", "block"]
    id: str
    """The step id or block id of the source."""
    kind: str
    """The step kind (``opcua.read``) or block kind (``when``, ``parallel``, ...)."""
    location: str
    start: float | None = None
    """Monotonic clock at start (None for a skipped step)."""
    end: float | None = None
    started_at: float | None = None
    """Wall clock (epoch seconds) at start."""
    ended_at: float | None = None
    status: SpanStatus = "running"
    attempts: int = 0
    occurrence: int = 0
    """How many earlier spans this run has for the same step (iterations of a ``for``)."""
    error: str | None = None

    @property
    def duration(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return self.end - self.start

    def to_json(self, run_start: float | None = None) -> dict[str, Any]:
        """The span as JSON; ``offset`` is seconds since ``run_start`` (monotonic)."""
        offset = None
        if run_start is not None and self.start is not None:
            offset = round(self.start - run_start, 6)
        duration = self.duration
        data: dict[str, Any] = {
            "span_id": self.span_id,
            "parent_id": self.parent_id,
            "type": self.type,
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "location": self.location,
            "started_at": iso_time(self.started_at),
            "ended_at": iso_time(self.ended_at),
            "offset": offset,
            "duration": None if duration is None else round(duration, 6),
        }
        if self.type == "step":
            data["attempts"] = self.attempts
            data["occurrence"] = self.occurrence
        data["error"] = self.error
        return data


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened in a run, in the order it happened.

    ``type`` is one of the ``RUN_*``/``STEP_*``/``BLOCK_*``/``DECISION_MADE`` names of this
    module; ``data`` is JSON-compatible.
    """

    type: str
    run_id: str
    at: float
    """Wall clock (epoch seconds)."""
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "run_id": self.run_id, "at": iso_time(self.at),
                "data": self.data}


Listener = Callable[[Event], None]
"""Called synchronously for every event of a run; it must be quick and must not raise."""


def iso_time(epoch: float | None) -> str | None:
    """``2025-01-02T03:04:05.678Z`` for an epoch time (UTC, milliseconds)."""
    if epoch is None:
        return None
    import time

    seconds = int(epoch)
    millis = round((epoch - seconds) * 1000)
    if millis == 1000:
        seconds, millis = seconds + 1, 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"
