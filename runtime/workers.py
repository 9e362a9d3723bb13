"""``tm workers``: a supervisor that runs N worker processes over the task queue of a data dir.

Role: :func:`supervise` is ``tm workers start`` (foreground); :func:`stop` is ``tm workers
stop``.  Each worker process runs :func:`~tracemind.runtime.queue.worker.run_worker` against
``DIR/queue.db``.

Input: the data directory, the number of workers, the visibility timeout.
Output: the queue's state changes, and the event log: worker ``k`` owns the log directory
``DIR/log/worker-<k>/`` (a log has exactly one writer, so each worker process writes its own;
no events cross process boundaries).  It holds the executor's events (``run.*``, ``step.*``,
through :class:`~tracemind.runtime.log.EventLogListener`) and the queue events of the worker
loop (``task.leased``, ``task.acked``, ``task.retried``, ``task.dead-lettered``,
``task.lost``).

Invariants:
- Worker processes are started with the ``spawn`` context: the supervisor holds signal
  handlers and may hold threads and open files, which ``fork`` would copy into the child in an
  inconsistent state; ``spawn`` gives every worker a fresh interpreter (and behaves the same on
  every platform) for a start-up cost paid once per worker.
- ``DIR/workers.pid`` holds the supervisor's pid while it runs; it is written atomically
  (temporary file + ``os.replace``) and removed when the supervisor exits.  A pid file whose
  process is gone is stale: ``start`` replaces it, ``stop`` removes it and reports it.
- Stop (SIGTERM, SIGINT, or ``tm workers stop``): the supervisor sets the shared stop event;
  each worker finishes the task it is running, acks it, and exits.  A second signal kills the
  workers at once: their in-flight tasks are not acked, and the queue hands them out again
  when their leases expire (an attempt is used up; no task is lost).
- A worker process that dies while the supervisor runs is restarted under the same index
  (so with the same log directory: the dead writer's lock died with it).  The task it held
  comes back through lease expiry.
- Workers ignore SIGINT: Ctrl-C in a terminal reaches the whole process group, and the
  supervisor alone decides how the workers stop.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from multiprocessing.process import BaseProcess
from typing import Any

__all__ = ["PID_FILE", "WorkersError", "read_pid", "stop", "supervise", "worker_main"]

PID_FILE = "workers.pid"
RESTART_PAUSE = 0.5
"""Seconds between restarts of the same worker (a worker that dies at once does not spin)."""


class WorkersError(Exception):
    """A ``tm workers`` problem to report as a usage error (exit 2)."""


def worker_main(index: int, data: str, stop_event: Any, visibility_timeout: float) -> None:
    """Entry point of worker process ``index``: run the worker loop, logging to
    ``DIR/log/worker-<index>/``, until ``stop_event`` is set."""
    from .bundle import load_bundle
    from .log import EventLogListener, LogWriter
    from .queue.sqlite import SqliteTaskQueue
    from .queue.worker import run_worker
    from .runner import BundleRunner

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    writer = LogWriter(os.path.join(data, "log", f"worker-{index}"))
    listener = EventLogListener(writer)

    def runner_factory(bundle_path: str) -> BundleRunner:
        return BundleRunner(load_bundle(bundle_path), listeners=[listener])

    def on_event(kind: str, event: dict[str, Any]) -> None:
        payload = {"run_id": None, "at": time.time(), "data": event}
        writer.append(kind, json.dumps(payload, separators=(",", ":")).encode("utf-8"))

    queue = SqliteTaskQueue(os.path.join(data, "queue.db"))
    try:
        run_worker(queue, runner_factory, stop_event, worker_id=f"worker-{index}:{os.getpid()}",
                   visibility_timeout=visibility_timeout, on_event=on_event)
    finally:
        queue.close()
        writer.close()


def read_pid(data: str) -> int | None:
    """The pid in ``DIR/workers.pid``, or None when there is no (readable) pid file."""
    try:
        with open(os.path.join(data, PID_FILE), encoding="ascii") as stream:
            return int(stream.read().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped by its parent) is not running
        with open(f"/proc/{pid}/stat", encoding="ascii") as stream:
            return stream.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _write_pid(data: str) -> None:
    path = os.path.join(data, PID_FILE)
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="ascii") as stream:
        stream.write(f"{os.getpid()}\n")
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, path)


def supervise(data: str, count: int, visibility_timeout: float) -> int:
    """Run ``count`` worker processes until stopped; the exit code (0 after a clean stop)."""
    os.makedirs(data, exist_ok=True)
    running = read_pid(data)
    if running is not None and running != os.getpid() and _alive(running):
        raise WorkersError(f"workers are already running for {data} (supervisor pid "
                           f"{running}, {os.path.join(data, PID_FILE)}); stop them with "
                           f"`tm workers stop --data {data}`")
    context = multiprocessing.get_context("spawn")
    stop_event = context.Event()
    stopping = threading.Event()
    signals = 0
    procs: dict[int, BaseProcess] = {}

    def kill_all() -> None:
        for proc in list(procs.values()):
            if proc.pid is not None and proc.is_alive():
                with contextlib.suppress(OSError):
                    os.kill(proc.pid, signal.SIGKILL)

    def on_signal(signum: int, frame: object) -> None:
        nonlocal signals
        signals += 1
        stop_event.set()
        stopping.set()
        if signals > 1:
            kill_all()

    def start(index: int) -> None:
        proc = context.Process(target=worker_main, name=f"tm-worker-{index}",
                               args=(index, data, stop_event, visibility_timeout))
        proc.start()
        procs[index] = proc

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    _write_pid(data)
    try:
        for index in range(count):
            start(index)
        print(f"tm workers: {count} worker(s) running for {data} (supervisor pid "
              f"{os.getpid()})", file=sys.stderr, flush=True)
        while not stopping.wait(0.2):
            for index, proc in list(procs.items()):
                if not proc.is_alive() and not stopping.is_set():
                    print(f"tm workers: worker {index} (pid {proc.pid}) exited with "
                          f"{proc.exitcode}; restarting it", file=sys.stderr, flush=True)
                    proc.join()
                    time.sleep(RESTART_PAUSE)
                    if not stopping.is_set():
                        start(index)
        print("tm workers: stopping (finishing the tasks in progress; signal again to "
              "kill the workers)", file=sys.stderr, flush=True)
        for proc in procs.values():
            proc.join()
        return 0
    finally:
        kill_all()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if read_pid(data) == os.getpid():
            with contextlib.suppress(OSError):
                os.remove(os.path.join(data, PID_FILE))


def stop(data: str, timeout: float) -> str:
    """Signal the supervisor of ``data`` and wait for it to exit; what happened, as a line.

    After ``timeout`` seconds the supervisor is signalled again (the workers are killed; their
    tasks come back through lease expiry) and given as long again."""
    path = os.path.join(data, PID_FILE)
    pid = read_pid(data)
    if pid is None:
        raise WorkersError(f"no workers are running for {data} (no pid file {path})")
    if not _alive(pid):
        with contextlib.suppress(OSError):
            os.remove(path)
        raise WorkersError(f"no workers are running for {data} (removed the stale pid file "
                           f"{path}, which named process {pid})")

    def gone(deadline: float) -> bool:
        while time.monotonic() < deadline:
            if not _alive(pid) or read_pid(data) != pid:
                return True
            time.sleep(0.05)
        return False

    os.kill(pid, signal.SIGTERM)
    if gone(time.monotonic() + timeout):
        return f"stopped the workers of {data} (supervisor pid {pid})"
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if gone(time.monotonic() + timeout):
        return (f"killed the workers of {data} after {timeout:g}s (supervisor pid {pid}); "
                "their tasks return to the queue when their leases expire")
    raise WorkersError(f"the supervisor (pid {pid}) did not exit within {2 * timeout:g}s")
