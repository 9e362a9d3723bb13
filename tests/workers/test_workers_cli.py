"""``tm workers start|stop`` and ``tm run --detached``: N worker processes drain the queue, every
task runs exactly once, events reach DIR/log/worker-<k>/, a SIGKILLed worker's task is retried
and a dead worker is restarted; the pid file, stop and its errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.shared_helpers import NOOP_WDL, compile_bundle
from tracemind.runtime import cli
from tracemind.runtime.log import LogReader
from tracemind.runtime.queue import TaskId
from tracemind.runtime.queue.sqlite import SqliteTaskQueue

NAP_WDL = """\
version: dsl/v1
workflow: nap
steps:
  - z(core.sleep):
      duration: 500ms
"""

TM = [sys.executable, "-c", "import sys; from tracemind.runtime.cli import main; "
      "sys.exit(main())"]
WAIT = 60.0


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("bundles")
    return {"noop": compile_bundle(tmp, "noop", NOOP_WDL),
            "nap": compile_bundle(tmp, "nap", NAP_WDL)}


def tm(*argv: str, timeout: float = WAIT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TM, *argv], capture_output=True, text=True, timeout=timeout,
                          check=False)


def wait_for(what: str, condition: Callable[[], bool], timeout: float = WAIT) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.05)


def stats(data: str) -> dict[str, int]:
    queue = SqliteTaskQueue(os.path.join(data, "queue.db"))
    try:
        return queue.stats()
    finally:
        queue.close()


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def start(data: str, *options: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen([*TM, "workers", "start", "--data", data, *options],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started.append(proc)
        wait_for("the pid file", lambda: os.path.exists(os.path.join(data, "workers.pid"))
                 or proc.poll() is not None)
        assert proc.poll() is None, proc.communicate()
        return proc

    yield start
    for proc in started:  # never leave a supervisor (and its workers) behind
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.send_signal(signal.SIGTERM)
            proc.wait(WAIT)
        proc.communicate()


def log_records(data: str) -> list[tuple[str, dict[str, object]]]:
    records = []
    root = Path(data) / "log"
    for directory in sorted(root.iterdir()):
        assert directory.name.startswith("worker-")
        for record in LogReader(str(directory)).scan():
            records.append((record.type, json.loads(record.payload)))
    return records


def test_two_workers_run_every_task_exactly_once(
        tmp_path: Path, bundles: dict[str, str],
        supervisor: Callable[..., subprocess.Popen[str]],
        capsys: pytest.CaptureFixture[str]) -> None:
    data = str(tmp_path / "data")
    proc = supervisor(data, "-n", "2")
    pid = int(Path(data, "workers.pid").read_text())
    assert pid == proc.pid

    detached = tm("run", bundles["noop"], "-i", '{"n": 0}', "--detached", "--data", data,
                  "--idempotency-key", "task-0")
    assert detached.returncode == 0, detached.stderr
    ids = [int(detached.stdout)]
    for n in range(1, 100):
        assert cli.main(["run", bundles["noop"], "-i", json.dumps({"n": n}), "--detached",
                         "--data", data, "--idempotency-key", f"task-{n}"]) == 0
        ids.append(int(capsys.readouterr().out))
    assert cli.main(["run", bundles["noop"], "-i", '{"n": 7}', "--detached", "--data", data,
                     "--idempotency-key", "task-7"]) == 0
    assert int(capsys.readouterr().out) == ids[7]  # the key: no second task
    assert len(set(ids)) == 100

    def succeeded() -> bool:
        assert cli.main(["queue", "stats", "--format", "json", "--data", data]) == 0
        return bool(json.loads(capsys.readouterr().out)["succeeded"] == 100)

    wait_for("100 succeeded tasks", succeeded)
    stopped = tm("workers", "stop", "--data", data)
    assert stopped.returncode == 0, stopped.stderr
    assert proc.wait(WAIT) == 0
    assert not Path(data, "workers.pid").exists()

    queue = SqliteTaskQueue(os.path.join(data, "queue.db"))
    for n, task_id in enumerate(ids):
        task = queue.get(TaskId(task_id))
        assert task.attempts == 1, task
        assert queue.result(TaskId(task_id))["outputs"] == {"n": n}
    queue.close()

    records = log_records(data)
    assert {p.name for p in (Path(data) / "log").iterdir()} == {"worker-0", "worker-1"}
    acked = Counter(payload["data"]["task_id"] for kind, payload in records  # type: ignore[index]
                    if kind == "task.acked")
    leased = Counter(payload["data"]["task_id"] for kind, payload in records  # type: ignore[index]
                     if kind == "task.leased")
    assert acked == Counter(ids) and leased == Counter(ids)
    finished = Counter(payload["run_id"] for kind, payload in records if kind == "run.finished")
    assert finished == Counter(f"task-{task_id}.1" for task_id in ids)


def test_a_killed_worker_is_restarted_and_its_task_retried(
        tmp_path: Path, bundles: dict[str, str],
        supervisor: Callable[..., subprocess.Popen[str]]) -> None:
    data = str(tmp_path / "data")
    queue = SqliteTaskQueue(os.path.join(data, "queue.db"))
    ids = [queue.enqueue("nap", {}, bundle=bundles["nap"], idempotency_key=f"nap-{n}",
                         backoff=0.0) for n in range(4)]
    proc = supervisor(data, "-n", "1", "--visibility-timeout", "1.5")

    def leased() -> bool:
        return any(queue.get(task_id).state == "leased" for task_id in ids)

    wait_for("a leased task", leased)
    owner = next(task.lease_owner for task in map(queue.get, ids) if task.lease_owner)
    os.kill(int(owner.rsplit(":", 1)[1]), signal.SIGKILL)  # one worker: it holds a lease

    wait_for("4 succeeded tasks", lambda: stats(data)["succeeded"] == 4)
    retried = [task_id for task_id in ids if queue.get(task_id).attempts == 2]
    assert len(retried) == 1 and all(queue.get(t).attempts in (1, 2) for t in ids)
    queue.close()
    stopped = tm("workers", "stop", "--data", data)
    assert stopped.returncode == 0, stopped.stderr
    assert proc.wait(WAIT) == 0
    _, err = proc.communicate()
    assert "restarting it" in err
    acked = [payload["data"]["task_id"] for kind, payload in log_records(data)  # type: ignore[index]
             if kind == "task.acked"]
    assert sorted(acked) == sorted(ids)


def test_stop_without_workers_and_with_a_stale_pid_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    result = tm("workers", "stop", "--data", str(data))
    assert result.returncode == 2 and "no workers are running" in result.stderr
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    (data / "workers.pid").write_text(f"{child.pid}\n")
    result = tm("workers", "stop", "--data", str(data))
    assert result.returncode == 2 and "stale pid file" in result.stderr
    assert not (data / "workers.pid").exists()


def test_a_second_supervisor_is_refused(
        tmp_path: Path, supervisor: Callable[..., subprocess.Popen[str]]) -> None:
    data = str(tmp_path / "data")
    proc = supervisor(data, "-n", "1")
    second = tm("workers", "start", "--data", data)
    assert second.returncode == 2 and "already running" in second.stderr
    assert tm("workers", "stop", "--data", data).returncode == 0
    assert proc.wait(WAIT) == 0


def test_detached_run_refuses_sources_and_keys_need_detached(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "noop.wdl"
    source.write_text(NOOP_WDL)
    assert cli.main(["run", str(source), "--detached", "--data", str(tmp_path)]) == 2
    assert "compile it first" in capsys.readouterr().err
    assert cli.main(["run", str(source), "--idempotency-key", "k"]) == 2
    assert "--idempotency-key needs --detached" in capsys.readouterr().err
