"""``tm triggers validate`` (good and bad configuration) and ``run_triggers`` end to end."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from tr_helpers import CRON_WDL, FILES_WDL, HOOK_WDL

from tests.shared_helpers import compile_bundle
from tracemind.runtime import cli
from tracemind.runtime.bundle import load_bundle
from tracemind.runtime.log import LogReader
from tracemind.runtime.queue.sqlite import SqliteTaskQueue
from tracemind.runtime.triggers import load_triggers
from tracemind.runtime.triggers.runner import log_directory, run_triggers


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> str:
    return compile_bundle(tmp_path_factory.mktemp("cli"), "all", CRON_WDL, HOOK_WDL, FILES_WDL)


def tm(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_validate_prints_each_flows_triggers(bundle: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = tm(capsys, "triggers", "validate", bundle)
    assert status == 0, err
    assert out.splitlines() == [
        "files: fs ./incoming '*.json'",
        "hook: webhook POST /hooks/hook, secret from $TM_TEST_HOOK_SECRET",
        "tick: cron '*/5 * * * *' (Europe/Berlin)",
    ]


@pytest.mark.parametrize(("kind", "fields", "message"), [
    ("cron", {"schedule": "not a schedule", "timezone": "UTC"}, "invalid cron schedule"),
    ("cron", {"schedule": "* * * * *", "timezone": "Mars/Olympus"}, "unknown time zone"),
    ("webhook", {"route": "hooks", "method": "POST"}, "route 'hooks' must start"),
    ("webhook", {"route": "/h", "method": "post"}, "unknown HTTP method"),
    ("fs", {"pattern": "*"}, "`path` is required"),
    ("smoke", {}, "unknown trigger kind"),
])
def test_validate_names_the_flow_and_kind_of_a_bad_trigger(
        tmp_path: Path, bundle: str, capsys: pytest.CaptureFixture[str], kind: str,
        fields: dict[str, str], message: str) -> None:
    import shutil

    copy = tmp_path / "bad"
    shutil.copytree(bundle, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    for flow in manifest["flows"]:
        if flow["id"] == "tick":
            flow["triggers"] = {kind: fields}
    (copy / "manifest.json").write_text(json.dumps(manifest))
    status, _, err = tm(capsys, "triggers", "validate", str(copy))
    assert status == 1
    assert f"flow 'tick', {kind} trigger: {message}" in err


def test_validate_refuses_a_source_file(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = tm(capsys, "triggers", "validate", str(tmp_path / "x.wdl"))
    assert status == 2 and "compile it first" in err


def test_run_triggers_fires_fs_into_the_queue_and_log(tmp_path: Path, bundle: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "incoming").mkdir()
    (tmp_path / "incoming" / "a.json").write_text("{}")
    loaded = load_bundle(bundle)
    files = [t for t in load_triggers(loaded) if t.kind == "fs"]
    data = tmp_path / "data"

    async def main() -> int:
        stop = asyncio.Event()
        run = asyncio.create_task(run_triggers(loaded, bundle, files, str(data), stop,
                                               poll_interval=0.01))
        while not (data / "queue.db").exists() or \
                SqliteTaskQueue(data / "queue.db").stats()["pending"] == 0:
            assert not run.done()
            await asyncio.sleep(0.01)
        stop.set()
        return await run

    assert asyncio.run(asyncio.wait_for(main(), 30)) == 1
    [record] = LogReader(log_directory(str(data))).scan()
    assert record.type == "trigger.fired"
    assert record.json()["path"] == str(tmp_path / "incoming" / "a.json")


def test_run_refuses_to_start_without_the_webhook_secret(
        tmp_path: Path, bundle: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TM_TEST_HOOK_SECRET", raising=False)
    status, _, err = tm(capsys, "triggers", "run", bundle, "--data", str(tmp_path / "d"),
                        "--port", "0")
    assert status == 2
    assert "flow 'hook', webhook trigger: environment variable TM_TEST_HOOK_SECRET" in err
