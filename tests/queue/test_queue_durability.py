"""Durability: every id a producer was given survives a SIGKILL of the producer."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

from tracemind.runtime.queue import TaskId
from tracemind.runtime.queue.sqlite import SqliteTaskQueue

HELPERS = Path(__file__).with_name("q_helpers.py")


def test_acknowledged_enqueues_survive_sigkill(tmp_path: Path) -> None:
    db = str(tmp_path / "queue.db")
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    acknowledged: dict[int, int] = {}
    for _ in range(4):
        kill_after = rng.randint(1, 150)
        child = subprocess.Popen(
            [sys.executable, str(HELPERS), db, "/bundles/b", "100000"],
            stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None
        for seen, line in enumerate(child.stdout, start=1):
            task_id, n = line.split()
            acknowledged[int(task_id)] = int(n)
            if seen == kill_after:
                child.send_signal(signal.SIGKILL)
                break
        # Lines already written were acknowledged too: read them up to EOF.
        for line in child.stdout:
            task_id, n = line.split()
            acknowledged[int(task_id)] = int(n)
        child.wait()
        assert child.returncode == -signal.SIGKILL
    queue = SqliteTaskQueue(db)
    for task_id, n in acknowledged.items():
        task = queue.get(TaskId(task_id))
        assert task.inputs == {"n": n} and task.state == "pending"
    assert queue.stats()["pending"] >= len(acknowledged)
