"""The event-sourced segment log: append-only binary segments with group commit.

Role: the durable history of the runtime.  :class:`LogWriter` appends (one per directory, under
a lock), :class:`LogReader` scans, follows, verifies and counts (any number, no lock),
:class:`EventLogListener` appends the executor's events.

Input: a directory.  Output: records ``(seq, time_ns, type, payload)``.

Invariants: see :mod:`.format` (record framing, resynchronisation), :mod:`.writer`
(durability, locking, recovery) and :mod:`.reader` (readers beside a live writer).
"""

from __future__ import annotations

from .format import Damage, Record
from .listener import EventLogListener
from .reader import LogReader, LogStats, VerifyReport
from .writer import (
    DEFAULT_SEGMENT_SIZE,
    FsyncPolicy,
    LogClosedError,
    LogError,
    LogLockedError,
    LogWriter,
    OpenReport,
)

__all__ = [
    "DEFAULT_SEGMENT_SIZE",
    "Damage",
    "EventLogListener",
    "FsyncPolicy",
    "LogClosedError",
    "LogError",
    "LogLockedError",
    "LogReader",
    "LogStats",
    "LogWriter",
    "OpenReport",
    "Record",
    "VerifyReport",
]
