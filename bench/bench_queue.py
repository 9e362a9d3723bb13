"""Task queue throughput: enqueue, lease, run (no-op flow), ack, with 1, 2 and 4 workers.

(a) No-op tasks: N tasks are enqueued (one durable transaction each), then drained by 1, 2 and
    4 worker processes running the real worker loop (``run_worker``) on a bundle compiled from
    a one-step ``core.set`` flow.  Reported: enqueues/s, drain tasks/s (lease + run + ack) and
    end-to-end tasks/s (enqueue + drain).  Target: >= 2,000 tasks/s with one worker.
(b) I/O tasks: each flow sleeps 10 ms (``core.sleep``); drain tasks/s with 1 and 2 workers.
    Target: 2 workers >= 1.6x one worker.

Every figure is wall-clock time on this machine with ``synchronous=FULL`` (an fsync per
commit), so it depends on the disk under ``--dir`` (default: a temporary directory).
Usage: ``.venv/bin/python bench/bench_queue.py [-n TASKS] [--io-tasks N] [--dir DIR]``
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

from tracemind.compiler.bundle import compile_to_memory, write_bundle
from tracemind.runtime.queue.sqlite import SqliteTaskQueue
from tracemind.runtime.queue.worker import run_worker_process

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

IO_WDL = """\
version: dsl/v1
workflow: io
inputs:
  n: int
steps:
  - z(core.sleep):
      duration: 10ms
outputs:
  n: $input.n
"""

ONE_WORKER_TARGET = 2000.0
IO_SCALING_TARGET = 1.6


def _bundle(root: str, name: str, source: str) -> str:
    src = os.path.join(root, f"{name}-src")
    os.makedirs(src, exist_ok=True)
    path = os.path.join(src, f"{name}.wdl")
    with open(path, "w", encoding="utf-8") as stream:
        stream.write(source)
    out = os.path.join(root, f"{name}-bundle")
    write_bundle(compile_to_memory([path]), out)
    return out


def _worker(db: str, start: Any, done: Any) -> None:
    start.wait()
    stats = run_worker_process(db, None, exit_when_idle=True, visibility_timeout=60.0)
    done.put(stats.succeeded)


def _round(root: str, bundle: str, flow: str, tasks: int, workers: int) -> tuple[float, float]:
    """Enqueue ``tasks`` then drain them with ``workers`` processes: (enqueue s, drain s)."""
    db = os.path.join(root, f"queue-{flow}-{workers}.db")
    queue = SqliteTaskQueue(db)
    began = time.perf_counter()
    for n in range(tasks):
        queue.enqueue(flow, {"n": n}, bundle=bundle, idempotency_key=f"{flow}-{n}")
    enqueued = time.perf_counter() - began
    context = multiprocessing.get_context("spawn")
    start, done = context.Event(), context.Queue()
    procs = [context.Process(target=_worker, args=(db, start, done)) for _ in range(workers)]
    for proc in procs:
        proc.start()
    time.sleep(1.0)  # let every process import and open the queue before the clock starts
    began = time.perf_counter()
    start.set()
    ran = sum(done.get() for _ in procs)
    drained = time.perf_counter() - began
    for proc in procs:
        proc.join()
    stats = queue.stats()
    queue.close()
    if ran != tasks or stats["succeeded"] != tasks:
        raise SystemExit(f"bench: expected {tasks} succeeded tasks, got {ran} runs and {stats}")
    return enqueued, drained


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--tasks", type=int, default=4000)
    parser.add_argument("--io-tasks", type=int, default=400)
    parser.add_argument("--dir", help="where to put the queue files (default: a temp dir)")
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="bench-queue-", dir=args.dir)
    try:
        fs = subprocess.run(["df", "-T", root], capture_output=True, text=True).stdout
        kind = fs.splitlines()[-1].split()[1] if fs.strip() else "?"
        print(f"queue files in {root} ({kind}); {os.cpu_count()} CPUs; python "
              f"{sys.version.split()[0]}")
        noop = _bundle(root, "noop", NOOP_WDL)
        io = _bundle(root, "io", IO_WDL)
        ok = True
        print(f"(a) {args.tasks} no-op tasks")
        one = 0.0
        for workers in (1, 2, 4):
            enq, drain = _round(root, noop, "noop", args.tasks, workers)
            rate = args.tasks / drain
            one = one or rate
            print(f"  {workers} worker(s): enqueue {args.tasks / enq:8.0f}/s   drain "
                  f"{rate:8.0f} tasks/s ({rate / one:.2f}x)   end to end "
                  f"{args.tasks / (enq + drain):8.0f} tasks/s")
        verdict = "ok" if one >= ONE_WORKER_TARGET else "BELOW TARGET"
        print(f"  one worker drain {one:.0f} tasks/s, target >= {ONE_WORKER_TARGET:.0f}: "
              f"{verdict}")
        ok &= one >= ONE_WORKER_TARGET
        print(f"(b) {args.io_tasks} tasks of 10 ms I/O")
        rates = []
        for workers in (1, 2):
            _, drain = _round(root, io, "io", args.io_tasks, workers)
            rates.append(args.io_tasks / drain)
            print(f"  {workers} worker(s): {rates[-1]:8.0f} tasks/s")
        scaling = rates[1] / rates[0]
        verdict = "ok" if scaling >= IO_SCALING_TARGET else "BELOW TARGET"
        print(f"  2 workers / 1 worker = {scaling:.2f}x, target >= {IO_SCALING_TARGET}: "
              f"{verdict}")
        ok &= scaling >= IO_SCALING_TARGET
        return 0 if ok else 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
