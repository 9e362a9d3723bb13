"""Segment log speed: appends (unsynced and durable), scans, against a raw write+fdatasync loop.

(a) Unsynced appends (policy ``never``) through ``append_many`` in batches of 1,000 records, and
    through single ``append`` calls.  Target: >= 1,000,000 records/s in batches.
(b) Durable appends with group commit (policy ``batch``) from 1 and from 8 producer threads,
    each ``append`` returning only after the fdatasync that covers it; and ``append_many`` in
    batches of 1,000 (one fdatasync per batch).  Target: >= 100,000 records/s.
(c) Scan: ``LogReader.scan()`` over everything written in (a).  Target: >= 1,000,000 records/s.
(d) The ratio of (b) to a raw loop of ``os.write`` + ``os.fdatasync`` per record of the same size
    in the same run (what a naive durable log costs on this disk).

Usage: ``.venv/bin/python bench/bench_log.py [-n RECORDS] [--durable N] [--dir DIR]``
(DIR should be on the disk to measure; default: a temporary directory).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from collections.abc import Callable

from tracemind.runtime.log import LogReader, LogWriter
from tracemind.runtime.log.format import OVERHEAD

PAYLOAD = b'{"run_id":"run-0001","step":"read_sensor","status":"ok","ms":1.25}'
TYPE = "step.finished"
BATCH = 1000


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>12,.0f} records/s  ({count:,} in {seconds:.3f} s)"


def timed(action: Callable[[], int]) -> tuple[int, float]:
    start = time.perf_counter()
    count = action()
    return count, time.perf_counter() - start


def unsynced_batches(directory: str, total: int) -> int:
    with LogWriter(directory, fsync="never") as writer:
        items = [(TYPE, PAYLOAD)] * BATCH
        for _ in range(total // BATCH):
            writer.append_many(items)
        return writer.last_seq


def unsynced_single(directory: str, total: int) -> int:
    with LogWriter(directory, fsync="never") as writer:
        for _ in range(total):
            writer.append(TYPE, PAYLOAD)
        return writer.last_seq


def durable(directory: str, total: int, producers: int) -> int:
    with LogWriter(directory, fsync="batch") as writer:
        def produce() -> None:
            for _ in range(total // producers):
                writer.append(TYPE, PAYLOAD)

        threads = [threading.Thread(target=produce) for _ in range(producers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return writer.last_seq


def durable_batches(directory: str, total: int) -> int:
    with LogWriter(directory, fsync="batch") as writer:
        items = [(TYPE, PAYLOAD)] * BATCH
        for _ in range(max(1, total // BATCH)):
            writer.append_many(items)
        return writer.last_seq


def raw_fdatasync(path: str, total: int) -> int:
    record = b"x" * (OVERHEAD + len(TYPE) + len(PAYLOAD))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        for _ in range(total):
            os.write(fd, record)
            os.fdatasync(fd)
    finally:
        os.close(fd)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1_000_000, help="unsynced records")
    parser.add_argument("--durable", type=int, default=4_000, help="durable records per test")
    parser.add_argument("--dir", help="where to write (default: a temporary directory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as root:
        def where(name: str) -> str:
            return os.path.join(root, name)

        print(f"record size: {OVERHEAD + len(TYPE) + len(PAYLOAD)} bytes; directory {root}")
        count, took = timed(lambda: unsynced_batches(where("a"), args.n))
        print(f"unsynced, append_many x{BATCH}:   {rate(count, took)}")
        single = max(1, args.n // 5)
        count, took = timed(lambda: unsynced_single(where("a1"), single))
        print(f"unsynced, append:              {rate(count, took)}")
        count, took = timed(lambda: sum(1 for _ in LogReader(where("a")).scan()))
        print(f"scan:                          {rate(count, took)}")
        raw_count, raw_took = timed(lambda: raw_fdatasync(where("raw.bin"), args.durable))
        raw_rate = raw_count / raw_took
        print(f"raw os.write+fdatasync:        {rate(raw_count, raw_took)}")
        for producers in (1, 8):
            count, took = timed(lambda p=producers: durable(where(f"d{p}"), args.durable, p))
            print(f"durable group commit, {producers} thr:  {rate(count, took)}  "
                  f"ratio to raw {count / took / raw_rate:.2f}x")
        total = args.durable * 25
        count, took = timed(lambda: durable_batches(where("db"), total))
        print(f"durable append_many x{BATCH}:     {rate(count, took)}  "
              f"ratio to raw {count / took / raw_rate:.2f}x")


if __name__ == "__main__":
    main()
