"""Helpers for the task-queue tests: a settable clock, tiny bundles compiled from WDL, and the
entry points of the child processes (importable, so ``spawn`` children can run them)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

NOOP_WDL = """\
version: dsl/v1
workflow: noop
inputs:
  n: int
steps:
  - s(core.set):
      value: $input.n
outputs:
  n: $step.s.value
"""

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


class Clock:
    """A clock the test moves by hand (epoch seconds)."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def compile_bundle(tmp: Path, name: str, source: str) -> str:
    """Compile ``source`` (one .wdl) with tmc and write the bundle; its absolute path."""
    from tracemind.compiler.bundle import compile_to_memory, write_bundle

    src = tmp / f"{name}-src"
    src.mkdir(parents=True, exist_ok=True)
    (src / f"{name}.wdl").write_text(source)
    out = tmp / f"{name}-bundle"
    write_bundle(compile_to_memory([str(src / f"{name}.wdl")]), str(out))
    return str(out)


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
