"""The on-disk record format of the segment log, and the parser that validates it.

Role: encode one record to bytes, and parse a segment's bytes back into records, reporting
damage (corrupt records, a torn tail) with the byte offset where it starts.

Record layout (little-endian)::

    magic    4 bytes   b"\\xd7TL1"
    length   u32       payload length in bytes
    seq      u64       sequence number (1, 2, 3, ... across the whole log)
    time_ns  i64       wall clock, nanoseconds since the epoch
    tlen     u8        length of the type in bytes (1..255)
    type     tlen      UTF-8 event type (``step.finished``)
    payload  length    bytes (JSON for events)
    crc      u32       zlib.crc32 over everything above (header, type and payload)

Segment files are named by the sequence number of their first record, zero-padded to 20 digits:
``00000000000000000001.seg``.

Invariants:
- A record is valid only when its magic, its lengths and its CRC all check; nothing else in the
  bytes is trusted.
- After a corrupt record, parsing resynchronises at the next magic whose record validates, so one
  damaged byte loses exactly one record.
- Bytes at the end that do not form a complete record, with no valid record after them, are a
  *torn tail*: for a reader of a live log they are "not yet written"; a writer opening the log
  truncates them.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

MAGIC = b"\xd7TL1"
HEADER = struct.Struct("<4sIQqB")
CRC = struct.Struct("<I")
HEADER_SIZE = HEADER.size
OVERHEAD = HEADER_SIZE + CRC.size
MAX_PAYLOAD = 1 << 30
"""Largest payload accepted (1 GiB): a larger length field is corruption."""
CRC_RESIDUE = 0x2144DF1C
SEGMENT_SUFFIX = ".seg"
SEGMENT_DIGITS = 20

DamageKind = Literal["corrupt", "torn"]


class Record(NamedTuple):
    """One record as read back: its sequence number, time, type, payload and file offset."""

    seq: int
    time_ns: int
    type: str
    payload: bytes
    offset: int

    def json(self) -> Any:
        """The payload decoded as JSON."""
        import json

        return json.loads(self.payload)

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON object (payload decoded when it is JSON, else as text)."""
        import json

        try:
            payload: Any = json.loads(self.payload)
        except ValueError:
            payload = self.payload.decode("utf-8", "backslashreplace")
        return {"seq": self.seq, "time_ns": self.time_ns, "type": self.type,
                "payload": payload}


@dataclass(frozen=True, slots=True)
class Damage:
    """Bytes of a segment that are not valid records: where they start and how many there are."""

    segment: str
    """The segment file's path."""
    offset: int
    length: int
    kind: DamageKind
    reason: str

    def describe(self) -> str:
        what = "torn tail (incomplete last record)" if self.kind == "torn" else "corrupt record"
        return (f"{self.segment}: offset {self.offset}: {what}: {self.reason}; "
                f"{self.length} bytes skipped")

    def to_json(self) -> dict[str, Any]:
        return {"segment": self.segment, "offset": self.offset, "length": self.length,
                "kind": self.kind, "reason": self.reason}


@dataclass(slots=True)
class Parsed:
    """The result of parsing a segment's bytes from some offset."""

    records: list[Record]
    damages: list[Damage]
    end: int
    """Offset just after the last valid record (or of the start of a torn tail)."""
    torn: Damage | None
    """The torn tail, if the bytes end with an incomplete record."""


_TYPE_CACHE: dict[str, bytes] = {}


def encode_type(type_: str) -> bytes:
    """The type's UTF-8 bytes, checked (1..255 bytes)."""
    raw = _TYPE_CACHE.get(type_)
    if raw is None:
        raw = type_.encode("utf-8")
        if not 0 < len(raw) < 256:
            raise ValueError(f"an event type must be 1 to 255 UTF-8 bytes, got {len(raw)}: "
                             f"{type_[:40]!r}")
        if len(_TYPE_CACHE) < 4096:
            _TYPE_CACHE[type_] = raw
    return raw


def encode(seq: int, time_ns: int, type_bytes: bytes, payload: bytes) -> bytes:
    """The framed record (``type_bytes`` from :func:`encode_type`)."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"a payload must be at most {MAX_PAYLOAD} bytes, got {len(payload)}")
    body = HEADER.pack(MAGIC, len(payload), seq, time_ns, len(type_bytes)) + type_bytes + payload
    return body + CRC.pack(zlib.crc32(body))


def _check(data: bytes, pos: int, size: int) -> tuple[int, str]:
    """``(end, "")`` for a valid record at ``pos``, else ``(-1, reason)`` (``-2``: incomplete)."""
    if data[pos:pos + 4] != MAGIC:
        return -1, "bad magic"
    if pos + HEADER_SIZE > size:
        return -2, "incomplete header"
    _, length, _, _, tlen = HEADER.unpack_from(data, pos)
    if length > MAX_PAYLOAD or tlen == 0:
        return -1, "bad length"
    end = pos + HEADER_SIZE + tlen + length + 4
    if end > size:
        return -2, "record runs past the end of the segment"
    (crc,) = CRC.unpack_from(data, end - 4)
    if zlib.crc32(memoryview(data)[pos:end - 4]) != crc:
        return -1, "bad CRC"
    return end, ""


def _resync(data: bytes, pos: int, size: int) -> int:
    """The offset of the next valid record after ``pos``, or -1."""
    find = data.find
    at = find(MAGIC, pos + 1)
    while at != -1:
        if _check(data, at, size)[0] >= 0:
            return at
        at = find(MAGIC, at + 1)
    return -1


def parse(data: bytes, segment: str, start: int = 0, min_seq: int = 0,
          types: frozenset[str] | None = None) -> Parsed:
    """Parse ``data`` (a segment's bytes) from ``start``.

    Records with ``seq < min_seq`` or whose type is not in ``types`` are validated but not
    returned.  Damage is reported with its offset; parsing resumes at the next valid record.
    """
    records: list[Record] = []
    damages: list[Damage] = []
    torn: Damage | None = None
    size = len(data)
    pos = start
    unpack = HEADER.unpack_from
    crc32 = zlib.crc32
    view = memoryview(data)
    append = records.append
    new = tuple.__new__
    type_names: dict[bytes, str] = {}
    while pos < size:
        # Fast path: inline validation of a well-formed record.
        if pos + HEADER_SIZE <= size:
            magic, length, seq, time_ns, tlen = unpack(data, pos)
            tstart = pos + HEADER_SIZE
            pstart = tstart + tlen
            end = pstart + length + 4
            # CRC-32 residue: the CRC over a record including its own (little-endian) CRC
            # is a constant, which saves unpacking the stored CRC.
            if (magic == MAGIC and tlen and length <= MAX_PAYLOAD and end <= size
                    and crc32(view[pos:end]) == CRC_RESIDUE):
                if seq >= min_seq:
                    raw = data[tstart:pstart]
                    name = type_names.get(raw)
                    if name is None:
                        name = type_names[raw] = raw.decode("utf-8", "replace")
                    if types is None or name in types:
                        append(new(Record, (seq, time_ns, name, data[pstart:end - 4], pos)))
                pos = end
                continue
        _, reason = _check(data, pos, size)
        resume = _resync(data, pos, size)
        if resume == -1:
            torn = Damage(segment, pos, size - pos, "torn", reason)
            break
        damages.append(Damage(segment, pos, resume - pos, "corrupt", reason))
        pos = resume
    return Parsed(records, damages, pos, torn)


def segment_name(first_seq: int) -> str:
    return f"{first_seq:0{SEGMENT_DIGITS}d}{SEGMENT_SUFFIX}"


def list_segments(directory: str) -> list[tuple[int, str]]:
    """The segments of ``directory`` as ``(first_seq, path)``, in sequence order."""
    found: list[tuple[int, str]] = []
    for name in os.listdir(directory):
        stem = name[:-len(SEGMENT_SUFFIX)]
        if name.endswith(SEGMENT_SUFFIX) and len(stem) == SEGMENT_DIGITS and stem.isdigit():
            found.append((int(stem), os.path.join(directory, name)))
    found.sort()
    return found
