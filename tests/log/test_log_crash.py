"""Crash safety: a writer killed with SIGKILL loses no acknowledged record."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tracemind.runtime.log import LogReader, LogWriter

CHILD = """
import sys, threading
from tracemind.runtime.log import LogWriter
writer = LogWriter(sys.argv[1], fsync=sys.argv[2], segment_size=2000, window_ms=0.2)
print("READY", writer.last_seq, flush=True)
out = threading.Lock()

def produce(worker):
    for k in range(100000):
        seq = writer.append("t.event", {"w": worker, "k": k, "pad": "x" * (k % 50)})
        with out:
            sys.stdout.write(f"{seq}\\n")
            sys.stdout.flush()

threads = [threading.Thread(target=produce, args=(w,)) for w in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
"""


@pytest.mark.parametrize("policy", ["batch", "always"])
def test_sigkill_loses_no_acknowledged_record(tmp_path: Path, policy: str) -> None:
    directory = tmp_path / "log"
    rng = random.Random(f"sigkill-{policy}")
    acknowledged: set[int] = set()
    for _ in range(3):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(directory), policy],
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None
        ready = child.stdout.readline().split()
        assert ready[0] == "READY"
        assert int(ready[1]) >= max(acknowledged, default=0)
        stop_after = rng.randint(5, 150)
        seen = 0
        while seen < stop_after:
            line = child.stdout.readline()
            assert line.endswith("\n"), "the child stopped before being killed"
            acknowledged.add(int(line))
            seen += 1
        os.kill(child.pid, signal.SIGKILL)
        rest = child.stdout.read()
        child.wait(timeout=60)
        assert child.returncode == -signal.SIGKILL
        acknowledged.update(int(line) for line in rest.split("\n")[:-1] if line)

        with LogWriter(directory) as writer:  # recovery: truncates a torn tail, if any
            assert writer.report.damages == []
            last = writer.report.last_seq
        seqs = [record.seq for record in LogReader(directory).scan()]
        assert seqs == list(range(1, last + 1))
        assert acknowledged <= set(seqs)
        assert LogReader(directory).verify().ok
    with LogWriter(directory) as writer:
        assert writer.append("t.after") == max(seqs) + 1
