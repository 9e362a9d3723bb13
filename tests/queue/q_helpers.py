"""Helpers for the task-queue tests: a settable clock, tiny bundles compiled from WDL, and the
entry points of the child processes (importable, so ``spawn`` children can run them)."""

from __future__ import annotations

import os
import sys
from typing import Any

FAIL_WDL = """\
version: dsl/v1
workflow: boom
steps:
  - stop(core.fail):
      message: "boom"
"""

SLEEP_WDL = """\
version: dsl/v1
workflow: nap
steps:
  - z(core.sleep):
      duration: 30s
"""


def worker_process(db: str, results: Any, start: Any, idle_exit: bool) -> None:
    """Child process: once ``start`` is set, drain the queue with the real worker loop;
    report the stats."""
    from tracemind.runtime.queue.worker import run_worker_process

    start.wait()
    stats = run_worker_process(db, None, exit_when_idle=idle_exit, visibility_timeout=60.0)
    results.put((os.getpid(), stats.succeeded, stats.failed, stats.lost))


def enqueue_forever(db: str, bundle: str, limit: int) -> None:
    """Child process: enqueue up to ``limit`` tasks, printing each id once acknowledged."""
    from tracemind.runtime.queue.sqlite import SqliteTaskQueue

    queue = SqliteTaskQueue(db)
    for n in range(limit):
        task_id = queue.enqueue("noop", {"n": n}, bundle=bundle)
        sys.stdout.write(f"{task_id} {n}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    enqueue_forever(sys.argv[1], sys.argv[2], int(sys.argv[3]))
