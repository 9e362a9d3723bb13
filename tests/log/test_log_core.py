"""The segment log: round trip, rotation, lock, recovery, resynchronisation, scan and follow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tracemind.runtime.cli import main
from tracemind.runtime.log import LogLockedError, LogReader, LogWriter
from tracemind.runtime.log.format import HEADER_SIZE, encode, encode_type, list_segments


def fill(directory: Path, count: int, **options: object) -> None:
    with LogWriter(directory, **options) as writer:  # type: ignore[arg-type]
        for index in range(count):
            writer.append("t.event", {"i": index})


def test_round_trip_bytes_and_json(tmp_path: Path) -> None:
    with LogWriter(tmp_path / "log") as writer:
        assert writer.report.clean and writer.report.last_seq == 0
        assert writer.append("a", b"\x00raw") == 1
        assert writer.append("step.finished", {"x": [1, 2.5, "é"]}) == 2
        assert writer.append_many([("b", {"n": 1}), ("b", {"n": 2})]) == [3, 4]
    records = list(LogReader(tmp_path / "log").scan())
    assert [r.seq for r in records] == [1, 2, 3, 4]
    assert records[0].payload == b"\x00raw" and records[0].type == "a"
    assert records[1].json() == {"x": [1, 2.5, "é"]}
    assert records[1].time_ns > 0
    with LogWriter(tmp_path / "log") as writer:  # reopen continues the sequence
        assert writer.report.records == 4 and writer.append("c") == 5


def test_rotation_names_segments_by_first_seq_and_scan_seeks(tmp_path: Path) -> None:
    directory = tmp_path / "log"
    fill(directory, 100, segment_size=600)
    segments = list_segments(str(directory))
    assert len(segments) > 5
    assert os.path.basename(segments[0][1]) == "00000000000000000001.seg"
    reader = LogReader(directory)
    for first, path in segments:
        assert reader_first(path) == first
        assert os.path.getsize(path) <= 600
    assert [r.seq for r in reader.scan()] == list(range(1, 101))
    assert [r.seq for r in reader.scan(from_seq=57)] == list(range(57, 101))
    assert [r.json()["i"] for r in reader.scan(from_seq=100)] == [99]
    assert list(reader.scan(from_seq=101)) == []
    with LogWriter(directory, segment_size=600) as writer:
        assert writer.append_many([("t.event", {"i": i}) for i in range(100, 150)])[-1] == 150
    assert [r.seq for r in reader.scan(from_seq=90)] == list(range(90, 151))
    assert LogReader(directory).verify().ok


def reader_first(path: str) -> int:
    records = list(LogReader(os.path.dirname(path)).scan())
    return next(r.seq for r in records if r.offset == 0 and _in(path, r.seq))


def _in(path: str, seq: int) -> bool:
    segments = list_segments(os.path.dirname(path))
    firsts = [first for first, _ in segments]
    index = max(i for i, first in enumerate(firsts) if first <= seq)
    return segments[index][1] == path


def test_scan_filters_types(tmp_path: Path) -> None:
    with LogWriter(tmp_path) as writer:
        writer.append_many([("a", {}), ("b", {}), ("a", {}), ("c", {})])
    assert [r.seq for r in LogReader(tmp_path).scan(types=["a", "c"])] == [1, 3, 4]


LOCKER = """
import sys, time
from tracemind.runtime.log import LogWriter, LogLockedError
try:
    LogWriter(sys.argv[1])
except LogLockedError as exc:
    print("LOCKED", exc.pid, str(exc))
    sys.exit(0)
print("OPENED")
"""


def test_second_writer_in_another_process_gets_a_clear_error(tmp_path: Path) -> None:
    directory = tmp_path / "log"
    with LogWriter(directory) as writer:
        writer.append("a")
        out = subprocess.run([sys.executable, "-c", LOCKER, str(directory)],
                             capture_output=True, text=True, timeout=60, check=True).stdout
        assert out.startswith(f"LOCKED {os.getpid()} ")
        assert str(directory) in out and "already open for writing" in out
        with pytest.raises(LogLockedError):
            LogWriter(directory)
    out = subprocess.run([sys.executable, "-c", LOCKER, str(directory)],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.strip() == "OPENED"


def test_torn_tail_is_truncated_and_reported(tmp_path: Path) -> None:
    directory = tmp_path / "log"
    fill(directory, 5)
    path = list_segments(str(directory))[-1][1]
    intact = os.path.getsize(path)
    partial = encode(6, 0, encode_type("t.event"), b'{"i":5}')[:HEADER_SIZE + 3]
    with open(path, "ab") as stream:
        stream.write(partial)
    reader = LogReader(directory)
    assert [r.seq for r in reader.scan()] == [1, 2, 3, 4, 5]  # not yet there, for a reader
    assert not reader.verify().ok
    with LogWriter(directory) as writer:
        torn = writer.report.truncated
        assert torn is not None and torn.segment == path and torn.offset == intact
        assert torn.length == len(partial) and writer.report.damages == []
        assert writer.append("t.event", {"i": 5}) == 6
    assert os.path.getsize(path) > intact
    assert [r.seq for r in reader.scan()] == [1, 2, 3, 4, 5, 6]
    assert reader.verify().ok


@pytest.mark.parametrize("where", ["magic", "length", "seq", "payload", "crc"])
def test_one_flipped_byte_loses_exactly_one_record(
        tmp_path: Path, where: str, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "log"
    fill(directory, 20)
    path = list_segments(str(directory))[0][1]
    victim = next(r for r in LogReader(directory).scan() if r.seq == 10)
    size = HEADER_SIZE + len(victim.type) + len(victim.payload) + 4
    delta = {"magic": 1, "length": 5, "seq": 9, "payload": size - 6, "crc": size - 1}[where]
    data = bytearray(Path(path).read_bytes())
    data[victim.offset + delta] ^= 0x40
    Path(path).write_bytes(bytes(data))

    assert [r.seq for r in LogReader(directory).scan()] == [*range(1, 10), *range(11, 21)]
    code = main(["log", "verify", str(directory)])
    out = capsys.readouterr().out
    assert code == 1
    assert f"{path}: offset {victim.offset}: corrupt record" in out
    assert main(["log", "verify", str(directory), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [(d["segment"], d["offset"], d["length"]) for d in report["damages"]] == [
        (path, victim.offset, size)]
    with LogWriter(directory) as writer:  # reported on open, appends continue after 20
        assert [d.offset for d in writer.report.damages] == [victim.offset]
        assert writer.append("t.event") == 21


def test_cli_stats_tail_and_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "log"
    with LogWriter(directory, segment_size=300) as writer:
        writer.append_many([("a" if i % 2 else "b", {"i": i}) for i in range(12)])
    assert main(["log", "stats", str(directory), "--format", "json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["records"] == 12 and stats["first_seq"] == 1 and stats["last_seq"] == 12
    assert stats["segments"] == len(list_segments(str(directory))) > 1
    assert main(["log", "verify", str(directory)]) == 0
    assert "12 records" in capsys.readouterr().out
    assert main(["log", "tail", str(directory), "-n", "3", "--type", "a"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(x["seq"], x["type"], x["payload"]["i"]) for x in lines] == [
        (8, "a", 7), (10, "a", 9), (12, "a", 11)]
    assert main(["log", "stats", str(tmp_path / "missing")]) == 2
    assert "no such log directory" in capsys.readouterr().err


APPENDER = """
import sys, time
from tracemind.runtime.log import LogWriter
with LogWriter(sys.argv[1], segment_size=400) as writer:
    for i in range(int(sys.argv[2])):
        writer.append("t.event", {"i": i})
        time.sleep(0.002)
"""


def test_follow_sees_records_appended_by_another_process(tmp_path: Path) -> None:
    directory = tmp_path / "log"
    fill(directory, 3, segment_size=400)
    stop = threading.Event()
    seen: list[int] = []

    def consume() -> None:
        for record in LogReader(directory).follow(from_seq=2, stop=stop, poll=0.01):
            seen.append(record.seq)
            if record.seq == 3 + 60:
                stop.set()

    thread = threading.Thread(target=consume)
    thread.start()
    subprocess.run([sys.executable, "-c", APPENDER, str(directory), "60"], check=True,
                   timeout=120)
    thread.join(timeout=60)
    stop.set()
    assert not thread.is_alive()
    assert seen == list(range(2, 64))
    assert len(list_segments(str(directory))) > 2


def test_group_commit_threads_get_distinct_increasing_seqs(tmp_path: Path) -> None:
    directory = tmp_path / "log"
    results: dict[int, list[int]] = {}
    with LogWriter(directory, fsync="batch", window_ms=0.5, segment_size=4096) as writer:
        def produce(worker: int) -> None:
            results[worker] = [writer.append("t", {"w": worker, "k": k}) for k in range(50)]

        threads = [threading.Thread(target=produce, args=(w,)) for w in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    for seqs in results.values():
        assert seqs == sorted(seqs)
    everything = sorted(seq for seqs in results.values() for seq in seqs)
    assert everything == list(range(1, 401))
    records = list(LogReader(directory).scan())
    assert [r.seq for r in records] == everything
    by_seq = {r.seq: r.json() for r in records}
    for worker, seqs in results.items():
        assert [by_seq[s] for s in seqs] == [{"w": worker, "k": k} for k in range(50)]


@pytest.mark.parametrize("policy", ["always", "never"])
def test_other_policies_round_trip(tmp_path: Path, policy: str) -> None:
    fill(tmp_path, 30, fsync=policy, segment_size=500)
    assert [r.seq for r in LogReader(tmp_path).scan()] == list(range(1, 31))
    with pytest.raises(ValueError, match="fsync policy"):
        LogWriter(tmp_path / "x", fsync="sometimes")  # type: ignore[arg-type]
