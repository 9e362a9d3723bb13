"""Readers of a segment log directory: scan, follow, verify and stats, without any lock.

Role: :class:`LogReader` reads records across segments while a writer (in this or another
process) may be appending.

Input: a log directory.  Output: :class:`~.format.Record`\\s in sequence order, and reports
(:class:`VerifyReport`, :class:`LogStats`).

Invariants:
- Readers never write and never lock; any number of them may run beside the writer.
- An incomplete record at the end of the last segment is "not yet written": scan stops before
  it and follow waits for it.  Corrupt records are skipped (``verify`` reports them).
- ``scan(from_seq=N)`` starts at the last segment whose first sequence number is <= N (found by
  bisection over the segment names), never reading the earlier ones.
"""

from __future__ import annotations

import bisect
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .format import Damage, Record, list_segments, parse


@dataclass(slots=True)
class VerifyReport:
    """Every damage found in a directory, with the totals."""

    directory: str
    segments: int = 0
    records: int = 0
    damages: list[Damage] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.damages

    def to_json(self) -> dict[str, Any]:
        return {"directory": self.directory, "ok": self.ok, "segments": self.segments,
                "records": self.records, "damages": [d.to_json() for d in self.damages]}


@dataclass(slots=True)
class LogStats:
    directory: str
    records: int = 0
    segments: int = 0
    bytes: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    damages: int = 0
    types: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"directory": self.directory, "records": self.records,
                "segments": self.segments, "bytes": self.bytes, "first_seq": self.first_seq,
                "last_seq": self.last_seq, "damages": self.damages,
                "types": dict(sorted(self.types.items()))}


def _read(path: str, offset: int = 0) -> bytes:
    try:
        with open(path, "rb") as stream:
            if offset:
                stream.seek(offset)
            return stream.read()
    except FileNotFoundError:
        return b""


class LogReader:
    """Reads a log directory (which must exist)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = os.fspath(directory)
        if not os.path.isdir(self.directory):
            from .writer import LogError

            raise LogError(f"{self.directory}: no such log directory; check the path (a "
                           "writer creates it on first open)")

    def segments(self) -> list[tuple[int, str]]:
        """``(first_seq, path)`` of each segment, in order."""
        return list_segments(self.directory)

    def scan(self, from_seq: int = 1, types: Iterable[str] | None = None) -> Iterator[Record]:
        """The records with ``seq >= from_seq`` (and of ``types``, if given), in order."""
        wanted = frozenset(types) if types is not None else None
        segments = self.segments()
        firsts = [first for first, _ in segments]
        start = max(0, bisect.bisect_right(firsts, from_seq) - 1)
        for _, path in segments[start:]:
            parsed = parse(_read(path), path, min_seq=from_seq, types=wanted)
            yield from parsed.records

    def follow(self, from_seq: int | None = None, types: Iterable[str] | None = None,
               stop: threading.Event | None = None, poll: float = 0.05) -> Iterator[Record]:
        """The records from ``from_seq`` (default: those appended from now on), then each new
        record as it is appended, until ``stop`` is set (checked between polls)."""
        wanted = frozenset(types) if types is not None else None
        stop = stop or threading.Event()
        segments = self.segments()
        if from_seq is None:
            index = len(segments) - 1
            offset = 0
            if segments:
                path = segments[-1][1]
                offset = parse(_read(path), path).end
            min_seq = 0
        else:
            firsts = [first for first, _ in segments]
            index = max(0, bisect.bisect_right(firsts, from_seq) - 1)
            offset = 0
            min_seq = from_seq
        current: str | None = segments[index][1] if segments and index >= 0 else None
        while not stop.is_set():
            segments = self.segments()
            if current is None:
                if not segments:
                    stop.wait(poll)
                    continue
                current, offset = segments[0][1], 0
            paths = [path for _, path in segments]
            sealed = current in paths and paths.index(current) < len(paths) - 1
            parsed = parse(_read(current, offset), current, min_seq=min_seq, types=wanted)
            # offsets of the parse are relative to ``offset``; records keep file offsets
            for record in parsed.records:
                yield record._replace(offset=record.offset + offset)
            offset += parsed.end
            if sealed:
                nxt = paths.index(current) + 1
                current, offset = paths[nxt], 0
                continue
            if parsed.end == 0:  # nothing new (or only an incomplete tail): wait
                stop.wait(poll)

    def verify(self) -> VerifyReport:
        """Every damage in every segment: corrupt records, and a torn tail (which the next
        writer to open the log truncates)."""
        report = VerifyReport(self.directory)
        last_seq = 0
        for first_seq, path in self.segments():
            report.segments += 1
            parsed = parse(_read(path), path)
            report.records += len(parsed.records)
            report.damages.extend(parsed.damages)
            if parsed.torn is not None:
                report.damages.append(parsed.torn)
            for record in parsed.records:
                if record.seq <= last_seq:
                    report.damages.append(Damage(
                        path, record.offset, 0, "corrupt",
                        f"sequence number {record.seq} does not follow {last_seq}"))
                last_seq = max(last_seq, record.seq)
            if parsed.records and parsed.records[0].seq != first_seq:
                report.damages.append(Damage(
                    path, parsed.records[0].offset, 0, "corrupt",
                    f"first record has sequence number {parsed.records[0].seq}, but the "
                    f"segment is named for {first_seq}"))
        report.damages.sort(key=lambda d: (d.segment, d.offset))
        return report

    def stats(self) -> LogStats:
        stats = LogStats(self.directory)
        for _, path in self.segments():
            stats.segments += 1
            data = _read(path)
            stats.bytes += len(data)
            parsed = parse(data, path)
            stats.damages += len(parsed.damages) + (parsed.torn is not None)
            stats.records += len(parsed.records)
            for record in parsed.records:
                stats.types[record.type] = stats.types.get(record.type, 0) + 1
            if parsed.records:
                if stats.first_seq is None:
                    stats.first_seq = parsed.records[0].seq
                stats.last_seq = parsed.records[-1].seq
        return stats

    def tail(self, count: int, types: Iterable[str] | None = None) -> list[Record]:
        """The last ``count`` records (of ``types``, if given)."""
        wanted = frozenset(types) if types is not None else None
        found: list[Record] = []
        for _, path in reversed(self.segments()):
            records = parse(_read(path), path, types=wanted).records
            found = records[-count:] + found if count else found
            if len(found) >= count:
                break
        return found[-count:] if count else []
