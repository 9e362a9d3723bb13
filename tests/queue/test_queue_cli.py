"""``tm enqueue``, ``tm queue stats`` and ``tm dlq``: exit codes, output and JSON shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.shared_helpers import NOOP_WDL, compile_bundle
from tracemind.runtime import cli
from tracemind.runtime.queue import TaskId
from tracemind.runtime.queue.sqlite import SqliteTaskQueue

STATES = ["pending", "leased", "succeeded", "failed", "dead"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> str:
    return compile_bundle(tmp_path_factory.mktemp("cli"), "noop", NOOP_WDL)


def tm(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_enqueue_prints_the_id_and_repeats_it_for_a_key(
        tmp_path: Path, bundle: str, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(tmp_path / "data")
    status, out, _ = tm(capsys, "enqueue", bundle, "noop", "-i", '{"n": 1}',
                        "--idempotency-key", "k", "--data", data)
    assert status == 0 and out.strip() == "1"
    status, out, _ = tm(capsys, "enqueue", bundle, "noop", "-i", '{"n": 2}',
                        "--idempotency-key", "k", "--data", data)
    assert status == 0 and out.strip() == "1"
    status, out, _ = tm(capsys, "enqueue", bundle, "noop", "-i", '{"n": 3}', "--data", data)
    assert status == 0 and out.strip() == "2"
    task = SqliteTaskQueue(Path(data) / "queue.db").get(TaskId(1))
    assert task.bundle == bundle and task.inputs == {"n": 1} and task.flow == "noop"


def test_enqueue_stores_an_absolute_bundle_path(
        tmp_path: Path, bundle: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(bundle).parent)
    monkeypatch.setenv("TM_DATA", str(tmp_path / "env-data"))
    status, out, _ = tm(capsys, "enqueue", Path(bundle).name, "noop", "-i", '{"n": 1}',
                        "--delay", "60")
    assert status == 0
    queue = SqliteTaskQueue(tmp_path / "env-data" / "queue.db")
    assert queue.get(TaskId(int(out))).bundle == bundle
    assert queue.lease("w", 10) is None  # delayed


def test_default_data_directory(tmp_path: Path, bundle: str, capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TM_DATA", raising=False)
    assert tm(capsys, "enqueue", bundle, "noop", "-i", '{"n": 1}')[0] == 0
    assert (tmp_path / ".tracemind" / "queue.db").is_file()


@pytest.mark.parametrize(("argv", "message"), [
    (["{src}", "noop"], "compile it first"),
    (["{bundle}", "nope"], "nope"),
    (["{bundle}", "noop", "-i", '{"n": "x"}'], "n"),
    (["{bundle}", "noop", "-i", "{"], "not valid JSON"),
    (["{missing}", "noop"], "missing"),
    (["{bundle}", "noop", "--max-attempts", "0"], "--max-attempts"),
])
def test_enqueue_usage_errors(tmp_path: Path, bundle: str, argv: list[str], message: str,
                              capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "noop.wdl"
    src.write_text(NOOP_WDL)
    values = {"src": str(src), "bundle": bundle, "missing": str(tmp_path / "missing")}
    args = [values.get(a[1:-1], a) if a[:1] == "{" and a[-1:] == "}" else a for a in argv]
    status, out, err = tm(capsys, "enqueue", *args, "--data", str(tmp_path / "d"))
    assert status == 2 and out == "" and message in err
    assert err.startswith("tm enqueue: error:")


def test_queue_stats_and_dlq(tmp_path: Path, bundle: str,
                             capsys: pytest.CaptureFixture[str]) -> None:
    data = str(tmp_path / "data")
    status, out, _ = tm(capsys, "queue", "stats", "--data", data, "--format", "json")
    assert status == 0 and json.loads(out) == dict.fromkeys(STATES, 0)
    for n in range(3):
        tm(capsys, "enqueue", bundle, "noop", "-i", json.dumps({"n": n}), "--data", data,
           "--max-attempts", "1")
    queue = SqliteTaskQueue(Path(data) / "queue.db")
    for _ in range(2):
        task = queue.lease("w", 30)
        assert task is not None and task.lease_token is not None
        queue.fail(task.id, task.lease_token, "it broke")
    status, out, _ = tm(capsys, "queue", "stats", "--data", data, "--format", "json")
    assert json.loads(out) == {"pending": 1, "leased": 0, "succeeded": 0, "failed": 0,
                               "dead": 2}
    status, out, _ = tm(capsys, "queue", "stats", "--data", data)
    assert status == 0 and out.split() == ["pending", "1", "leased", "0", "succeeded", "0",
                                           "failed", "0", "dead", "2"]

    status, out, _ = tm(capsys, "dlq", "ls", "--data", data)
    assert status == 0 and len(out.splitlines()) == 2 and "it broke" in out
    status, out, _ = tm(capsys, "dlq", "ls", "--data", data, "--format", "json")
    listed = json.loads(out)
    assert [t["id"] for t in listed] == [1, 2] and listed[0]["state"] == "dead"
    status, out, _ = tm(capsys, "dlq", "show", "1", "--data", data)
    shown = json.loads(out)
    assert status == 0 and shown["errors"][0]["message"] == "it broke"
    assert {"id", "flow", "bundle", "inputs", "attempts", "errors", "state"} <= set(shown)

    status, _, err = tm(capsys, "dlq", "show", "3", "--data", data)
    assert status == 2 and "not in the DLQ" in err
    status, _, err = tm(capsys, "dlq", "requeue", "99", "--data", data)
    assert status == 2 and "no task 99" in err
    status, out, _ = tm(capsys, "dlq", "requeue", "1", "--data", data)
    assert status == 0 and "requeued task 1" in out
    status, out, _ = tm(capsys, "dlq", "purge", "--data", data)
    assert status == 0 and "purged 1 task" in out
    status, out, _ = tm(capsys, "dlq", "ls", "--data", data)
    assert status == 0 and "empty" in out
    assert json.loads(tm(capsys, "queue", "stats", "--data", data, "--format",
                         "json")[1]) == {"pending": 2, "leased": 0, "succeeded": 0,
                                         "failed": 0, "dead": 0}


def test_missing_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert tm(capsys, "dlq")[0] == 2
    assert tm(capsys, "queue")[0] == 2
    assert tm(capsys, "dlq", "show", "x")[0] == 2
