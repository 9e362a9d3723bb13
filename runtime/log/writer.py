"""The single writer of a segment log directory: appends records durably, with group commit.

Role: :class:`LogWriter` opens (or creates) a log directory, takes its writer lock, recovers the
tail (truncates a torn last record, reports corrupt records), and appends records.

Input: ``append(type, payload)`` / ``append_many([(type, payload), ...])`` from any thread;
a payload is bytes or a JSON-compatible value.  Output: the sequence numbers assigned.

Durability (``fsync`` policy):
- ``always``: each append writes and ``fdatasync``\\s before returning (serialised).
- ``batch`` (default): appends write under a lock, then wait until a sync covers them; the first
  waiter becomes the leader, waits ``window_ms`` for others to join, and runs one ``fdatasync``
  for every record written so far (group commit).
- ``never``: no sync on append (the OS writes back when it likes); ``close()`` still syncs.

Invariants:
- ``append`` returns only after the sync that covers its record (policies ``always``/``batch``).
- Sequence numbers are 1, 2, 3, ... with no gap in what this writer writes, and continue after the
  last valid record found on open.
- One writer per directory: ``fcntl.flock`` on ``DIR/LOCK``, held until ``close()``.
- A segment rotates when the next record would take it past ``segment_size`` (a segment holds at
  least one record); the old segment is synced before the new one is created, and the directory
  is synced after each segment is created.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from .format import OVERHEAD, Damage, encode, encode_type, list_segments, parse, segment_name

FsyncPolicy = Literal["always", "batch", "never"]
POLICIES: tuple[FsyncPolicy, ...] = ("always", "batch", "never")
DEFAULT_SEGMENT_SIZE = 64 * 1024 * 1024
LOCK_NAME = "LOCK"


class LogError(Exception):
    """A problem with a log directory (message: what, where, what to do)."""


class LogLockedError(LogError):
    """Another process (or writer) holds the directory's writer lock."""

    def __init__(self, directory: str, pid: int | None) -> None:
        holder = f"process {pid}" if pid is not None else "another process"
        super().__init__(
            f"{directory}: the log is already open for writing by {holder} (lock file "
            f"{os.path.join(directory, LOCK_NAME)}); stop that writer, or read the log with "
            "LogReader / `tm log tail`, which need no lock")
        self.directory = directory
        self.pid = pid


class LogClosedError(LogError):
    """An append after ``close()``."""


@dataclass(slots=True)
class OpenReport:
    """What the writer found when it opened the directory."""

    directory: str
    segments: int = 0
    records: int = 0
    last_seq: int = 0
    truncated: Damage | None = None
    """The torn tail that was cut off (segment, offset, length), if any."""
    damages: list[Damage] = field(default_factory=list)
    """Corrupt records found (and skipped) in the segments."""

    @property
    def clean(self) -> bool:
        return self.truncated is None and not self.damages


def encode_payload(payload: bytes | Any) -> bytes:
    """Bytes as they are; anything else as compact JSON (NaN and infinities refused)."""
    if isinstance(payload, bytes | bytearray | memoryview):
        return bytes(payload)
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def _fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LogWriter:
    """The writer of one log directory; use as a context manager or call :meth:`close`."""

    def __init__(self, directory: str | os.PathLike[str], *, fsync: FsyncPolicy = "batch",
                 segment_size: int = DEFAULT_SEGMENT_SIZE, window_ms: float = 0.0) -> None:
        if fsync not in POLICIES:
            raise ValueError(f"fsync policy must be one of {', '.join(POLICIES)}, got {fsync!r}")
        if segment_size < 1:
            raise ValueError(f"segment_size must be positive, got {segment_size}")
        self.directory = os.fspath(directory)
        self.policy: FsyncPolicy = fsync
        self.segment_size = segment_size
        self.window = max(0.0, window_ms) / 1000.0
        os.makedirs(self.directory, exist_ok=True)
        self._lock_fd = self._take_lock()
        self._cond = threading.Condition(threading.Lock())
        self._fd = -1
        self._size = 0
        self._syncing = False
        self._closed = False
        try:
            self.report = self._recover()
        except BaseException:
            self._release_lock()
            raise
        self._next = self.report.last_seq + 1
        self._written = self.report.last_seq
        self._synced = self.report.last_seq

    # -- lock ------------------------------------------------------------------------------

    def _take_lock(self) -> int:
        path = os.path.join(self.directory, LOCK_NAME)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                text = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
                pid: int | None = int(text) if text.isdigit() else None
            finally:
                os.close(fd)
            raise LogLockedError(self.directory, pid) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return fd

    def _release_lock(self) -> None:
        if self._lock_fd >= 0:
            with contextlib.suppress(OSError):
                os.ftruncate(self._lock_fd, 0)
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = -1

    # -- recovery --------------------------------------------------------------------------

    def _recover(self) -> OpenReport:
        report = OpenReport(self.directory)
        segments = list_segments(self.directory)
        report.segments = len(segments)
        for index, (first_seq, path) in enumerate(segments):
            with open(path, "rb") as stream:
                data = stream.read()
            parsed = parse(data, path)
            report.records += len(parsed.records)
            report.damages.extend(parsed.damages)
            if parsed.records:
                report.last_seq = max(report.last_seq, parsed.records[-1].seq)
            else:
                report.last_seq = max(report.last_seq, first_seq - 1)
            last = index == len(segments) - 1
            if parsed.torn is not None:
                if last:
                    report.truncated = parsed.torn
                    self._truncate(path, parsed.torn.offset)
                else:
                    report.damages.append(Damage(path, parsed.torn.offset, parsed.torn.length,
                                                 "corrupt", parsed.torn.reason))
            if last:
                self._open_tail(first_seq, path, report)
        return report

    def _truncate(self, path: str, offset: int) -> None:
        fd = os.open(path, os.O_RDWR)
        try:
            os.ftruncate(fd, offset)
            os.fsync(fd)
        finally:
            os.close(fd)

    def _open_tail(self, first_seq: int, path: str, report: OpenReport) -> None:
        size = os.path.getsize(path)
        if size == 0 and first_seq != report.last_seq + 1:
            os.unlink(path)  # an empty segment whose name would not match the next record
            _fsync_dir(self.directory)
            report.segments -= 1
            return
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        self._size = size

    # -- appending -------------------------------------------------------------------------

    def append(self, type_: str, payload: bytes | Any = b"") -> int:
        """Append one record and return its sequence number (durable per the policy)."""
        type_bytes = encode_type(type_)
        data = encode_payload(payload)
        with self._cond:
            self._check_open()
            self._make_room(OVERHEAD + len(type_bytes) + len(data))
            seq = self._next
            self._write(encode(seq, time.time_ns(), type_bytes, data))
            self._next = seq + 1
            self._written = seq
            if self.policy == "always":
                os.fdatasync(self._fd)
                self._synced = seq
            elif self.policy == "batch":
                self._wait_synced(seq)
        return seq

    def append_many(self, items: Iterable[tuple[str, bytes | Any]]) -> list[int]:
        """Append records with one write per segment and one sync; their seqs, in order.

        The records are consecutive unless another thread appends while this call waits to
        rotate a segment."""
        prepared = [(encode_type(t), encode_payload(p)) for t, p in items]
        seqs: list[int] = []
        if not prepared:
            return seqs
        with self._cond:
            self._check_open()
            now = time.time_ns()
            pending: list[bytes] = []
            pending_size = 0
            for type_bytes, data in prepared:
                size = OVERHEAD + len(type_bytes) + len(data)
                used = self._size + pending_size
                if self._fd < 0 or (used > 0 and used + size > self.segment_size):
                    self._flush(pending)
                    pending, pending_size = [], 0
                    self._make_room(size)
                seq = self._next + len(pending)
                pending.append(encode(seq, now, type_bytes, data))
                pending_size += size
                seqs.append(seq)
            self._flush(pending)
            if self.policy == "always":
                os.fdatasync(self._fd)
                self._synced = self._written
            elif self.policy == "batch":
                self._wait_synced(seqs[-1])
        return seqs

    def _flush(self, records: list[bytes]) -> None:
        if records:
            self._write(b"".join(records))
            self._next += len(records)
            self._written = self._next - 1

    def _check_open(self) -> None:
        if self._closed:
            raise LogClosedError(f"{self.directory}: the log writer is closed; open a new "
                                 "LogWriter to append")

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self._size += len(data)

    def _make_room(self, size: int) -> None:
        """Rotate (to a segment named ``self._next``) when there is no segment yet, or when
        ``size`` more bytes would overflow a non-empty one.  May wait for a running sync, so
        callers read ``self._next`` only after this returns."""
        while self._fd < 0 or (self._size > 0 and self._size + size > self.segment_size):
            if self._syncing:  # the leader is syncing the current descriptor: let it finish
                self._cond.wait()
                continue
            if self._fd >= 0:
                os.fdatasync(self._fd)  # the sealed segment is complete and durable
                self._synced = self._written
                os.close(self._fd)
                self._fd = -1
                self._cond.notify_all()
            path = os.path.join(self.directory, segment_name(self._next))
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o644)
            self._size = 0
            _fsync_dir(self.directory)

    def _wait_synced(self, seq: int) -> None:
        """Group commit (called holding the condition): return once a sync covers ``seq``."""
        cond = self._cond
        while self._synced < seq:
            if self._syncing:
                cond.wait()
                continue
            self._syncing = True
            try:
                if self.window:
                    cond.release()
                    try:
                        time.sleep(self.window)
                    finally:
                        cond.acquire()
                target, fd = self._written, self._fd
                cond.release()
                try:
                    os.fdatasync(fd)
                finally:
                    cond.acquire()
                self._synced = max(self._synced, target)
            finally:
                self._syncing = False
                cond.notify_all()

    # -- state and closing -----------------------------------------------------------------

    @property
    def last_seq(self) -> int:
        """The last sequence number written (0 for an empty log)."""
        return self._written

    def sync(self) -> None:
        """Make everything written so far durable, whatever the policy."""
        with self._cond:
            self._check_open()
            while self._syncing:
                self._cond.wait()
            if self._fd >= 0:
                os.fdatasync(self._fd)
            self._synced = self._written

    def close(self) -> None:
        """Sync, close the segment and release the lock; a second call does nothing."""
        with self._cond:
            if self._closed:
                return
            while self._syncing:
                self._cond.wait()
            self._closed = True
            try:
                if self._fd >= 0:
                    os.fsync(self._fd)
                    os.close(self._fd)
                    self._fd = -1
                self._synced = self._written
            finally:
                self._release_lock()
                self._cond.notify_all()

    def __enter__(self) -> LogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
