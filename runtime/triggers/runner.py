"""``tm triggers run``: the cron and fs loops and the webhook server of one bundle.

Role: open the queue (``DATA/queue.db``) and the triggers' log (``DATA/log/triggers/``, a log
directory of its own so that it never competes with another component for the single-writer
lock of ``DATA/log``), then run until ``stop`` is set (SIGTERM or SIGINT in the CLI).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from . import CronTrigger, FsTrigger, Trigger, WebhookTrigger
from .cron import CronScheduler
from .fs import FsWatcher
from .state import TriggerState

MAX_SLEEP = 60.0


def log_directory(data: str) -> str:
    return os.path.join(data, "log", "triggers")


async def run_triggers(bundle: Any, bundle_path: str, triggers: Sequence[Trigger], data: str,
                       stop: asyncio.Event, *, host: str = "127.0.0.1", port: int = 8080,
                       poll_interval: float = 2.0) -> int:
    """Run every trigger until ``stop`` is set; the number of fires."""
    from ..queue.sqlite import SqliteTaskQueue

    os.makedirs(data, exist_ok=True)
    queue = SqliteTaskQueue(os.path.join(data, "queue.db"))
    state = TriggerState(log_directory(data))
    runner = None
    try:
        crons = [t for t in triggers if isinstance(t, CronTrigger)]
        files = [t for t in triggers if isinstance(t, FsTrigger)]
        hooks = [t for t in triggers if isinstance(t, WebhookTrigger)]
        loops = []
        if crons:
            loops.append(asyncio.create_task(
                _cron_loop(CronScheduler(crons, queue, bundle_path, state), stop)))
        if files:
            loops.append(asyncio.create_task(
                _fs_loop(FsWatcher(files, queue, bundle_path, state), stop, poll_interval)))
        if hooks:
            from aiohttp import web

            from .webhook import build_app

            runner = web.AppRunner(build_app(hooks, queue, bundle, bundle_path, state))
            await runner.setup()
            await web.TCPSite(runner, host, port).start()
            print(f"tm triggers: webhooks on http://{host}:{port}", file=sys.stderr)
        await stop.wait()
        for task in loops:
            await task
        return state.fired
    finally:
        if runner is not None:
            await runner.cleanup()
        state.close()
        queue.close()


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=max(0.0, seconds))


async def _guard(kind: str, call: Callable[[], object]) -> None:
    """Run one pass in a thread; an error is reported and the loop carries on."""
    try:
        await asyncio.to_thread(call)
    except Exception as exc:
        print(f"tm triggers: {kind} pass failed: {type(exc).__name__}: {exc}", file=sys.stderr)


async def _cron_loop(scheduler: CronScheduler, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await _guard("cron", scheduler.tick)
        due = scheduler.next_due()
        delay = MAX_SLEEP if due is None else min(MAX_SLEEP, due - scheduler.clock() + 0.01)
        await _wait(stop, delay)


async def _fs_loop(watcher: FsWatcher, stop: asyncio.Event, interval: float) -> None:
    while not stop.is_set():
        await _guard("fs", watcher.poll)
        await _wait(stop, interval)
