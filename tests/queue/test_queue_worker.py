"""The worker loop: runs leased tasks through the bundle runner, acks, fails, loses leases;
two worker processes drain a queue with every task run exactly once."""

from __future__ import annotations

import asyncio
import multiprocessing
import random
from pathlib import Path

import pytest
from q_helpers import FAIL_WDL, SLEEP_WDL, worker_process

from tests.shared_helpers import NOOP_WDL, Clock, compile_bundle
from tracemind.runtime.queue import Task
from tracemind.runtime.queue.sqlite import SqliteTaskQueue
from tracemind.runtime.queue.worker import (
    default_runner_factory,
    process_task,
    run_worker,
)
from tracemind.runtime.runner import BundleRunner


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("bundles")
    return {"noop": compile_bundle(tmp, "noop", NOOP_WDL),
            "boom": compile_bundle(tmp, "boom", FAIL_WDL),
            "nap": compile_bundle(tmp, "nap", SLEEP_WDL)}


def test_worker_acks_successful_runs(tmp_path: Path, bundles: dict[str, str]) -> None:
    queue = SqliteTaskQueue(tmp_path / "queue.db")
    ids = [queue.enqueue("noop", {"n": n}, bundle=bundles["noop"]) for n in range(5)]
    stats = run_worker(queue, exit_when_idle=True, worker_id="w")
    assert (stats.succeeded, stats.failed, stats.lost) == (5, 0, 0)
    for n, task_id in enumerate(ids):
        result = queue.result(task_id)
        assert result["status"] == "succeeded" and result["outputs"] == {"n": n}
        assert result["run_id"] == f"task-{task_id}.1"
    assert queue.stats()["succeeded"] == 5


def test_failing_flow_is_retried_then_dead(tmp_path: Path, bundles: dict[str, str]) -> None:
    queue = SqliteTaskQueue(tmp_path / "queue.db")
    task_id = queue.enqueue("boom", {}, bundle=bundles["boom"], max_attempts=3, backoff=0)
    stats = run_worker(queue, exit_when_idle=True)
    assert stats.failed == 3
    dead = queue.dlq_show(task_id)
    assert len(dead.errors) == 3
    assert all("boom" in e["message"] and e["status"] == "failed" for e in dead.errors)


def test_bad_inputs_and_missing_flows_are_not_retried(tmp_path: Path,
                                                       bundles: dict[str, str]) -> None:
    queue = SqliteTaskQueue(tmp_path / "queue.db")
    bad_inputs = queue.enqueue("noop", {"n": "x"}, bundle=bundles["noop"])
    no_flow = queue.enqueue("nope", {}, bundle=bundles["noop"])
    no_bundle = queue.enqueue("noop", {"n": 1}, bundle=str(tmp_path / "missing"))
    stats = run_worker(queue, exit_when_idle=True)
    assert stats.failed == 3
    for task_id in (bad_inputs, no_flow, no_bundle):
        task = queue.dlq_show(task_id)
        assert task.attempts == 1 and task.errors[0]["kind"] == "permanent"
    assert "n" in queue.dlq_show(bad_inputs).errors[0]["message"]


def test_lost_lease_cancels_the_run_and_is_not_acked(tmp_path: Path,
                                                     bundles: dict[str, str]) -> None:
    clock = Clock()
    queue = SqliteTaskQueue(tmp_path / "queue.db", clock=clock)
    task_id = queue.enqueue("nap", {}, bundle=bundles["nap"])
    mine = queue.lease("slow", 10)
    assert mine is not None
    clock.advance(11)
    theirs = queue.lease("fast", 10)
    assert theirs is not None and theirs.lease_token is not None
    runners: dict[str, BundleRunner] = {}
    outcome = asyncio.run(process_task(queue, mine, runners, default_runner_factory, 0.01))
    assert outcome == ("lost", None)
    task = queue.get(task_id)
    assert task.state == "leased" and task.lease_owner == "fast"


def test_heartbeats_keep_a_long_run_leased(tmp_path: Path, bundles: dict[str, str]) -> None:
    queue = SqliteTaskQueue(tmp_path / "queue.db")
    queue.enqueue("noop", {"n": 1}, bundle=bundles["noop"])
    task = queue.lease("w", 60)
    assert isinstance(task, Task) and task.lease_token is not None
    beats: list[int] = []
    real = queue.heartbeat

    def counting(task_id: int, token: str, timeout: float | None = None) -> float:
        beats.append(task_id)
        return real(task_id, token, timeout)  # type: ignore[arg-type]

    queue.heartbeat = counting  # type: ignore[method-assign]

    def slow_factory(path: str) -> BundleRunner:
        async def slow_sleep(seconds: float) -> None:
            await asyncio.sleep(seconds)

        runner = default_runner_factory(path)
        original = runner.executor.run

        async def run(*args: object, **kwargs: object) -> object:
            await asyncio.sleep(0.2)
            return await original(*args, **kwargs)  # type: ignore[arg-type]

        runner.executor.run = run  # type: ignore[method-assign,assignment]
        return runner

    outcome = asyncio.run(process_task(queue, task, {}, slow_factory, 0.01))
    assert outcome == ("succeeded", None) and beats and set(beats) == {task.id}


def test_stop_event_stops_the_loop(tmp_path: Path, bundles: dict[str, str]) -> None:
    import threading

    queue = SqliteTaskQueue(tmp_path / "queue.db")
    stop = threading.Event()
    stop.set()
    queue.enqueue("noop", {"n": 1}, bundle=bundles["noop"])
    assert run_worker(queue, stop_event=stop).handled == 0
    assert run_worker(queue, max_tasks=1).succeeded == 1


def test_two_worker_processes_run_each_task_exactly_once(
        tmp_path: Path, bundles: dict[str, str]) -> None:
    db = str(tmp_path / "queue.db")
    queue = SqliteTaskQueue(db)
    ids = set()
    order = list(range(200))
    for n in order + random.Random(3).sample(order, 50):  # resubmits hit the same key
        ids.add(queue.enqueue("noop", {"n": n}, bundle=bundles["noop"],
                              idempotency_key=f"task-{n}"))
    assert len(ids) == 200
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start = context.Event()
    workers = [context.Process(target=worker_process, args=(db, results, start, True))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    start.set()
    reports = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert sum(r[1] for r in reports) == 200  # 200 runs in all: none twice
    assert sum(r[2] + r[3] for r in reports) == 0
    assert queue.stats() == {"pending": 0, "leased": 0, "succeeded": 200, "failed": 0,
                             "dead": 0}
    for task_id in ids:
        task = queue.get(task_id)
        assert task.attempts == 1 and task.result["outputs"] == task.inputs
        assert task.result["run_id"] == f"task-{task_id}.1"


def test_max_tasks_leaves_nothing_leased(tmp_path: Path, bundles: dict[str, str]) -> None:
    queue = SqliteTaskQueue(tmp_path / "queue.db")
    for n in range(3):
        queue.enqueue("noop", {"n": n}, bundle=bundles["noop"])
    assert run_worker(queue, max_tasks=2).succeeded == 2
    assert queue.stats() == {"pending": 1, "leased": 0, "succeeded": 2, "failed": 0, "dead": 0}
