"""fs triggers: new and changed files fire once, also across restarts."""

from __future__ import annotations

import os
from pathlib import Path

from tracemind.runtime.queue.sqlite import SqliteTaskQueue
from tracemind.runtime.triggers import FsTrigger
from tracemind.runtime.triggers.fs import FsWatcher
from tracemind.runtime.triggers.state import TriggerState

TRIGGER = FsTrigger("files", "incoming", "*.json")


def watcher(tmp: Path) -> FsWatcher:
    queue = SqliteTaskQueue(tmp / "queue.db")
    return FsWatcher([TRIGGER], queue, "/bundle", TriggerState(tmp / "log"), base=str(tmp))


def test_new_and_changed_files_fire_once(tmp_path: Path) -> None:
    fs = watcher(tmp_path)
    assert fs.poll() == []
    assert fs.missing == {str(tmp_path / "incoming")}
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "a.json").write_text("{}")
    (incoming / "b.txt").write_text("no")
    (incoming / "sub.json").mkdir()
    [event] = fs.poll()
    path = str(incoming / "a.json")
    assert event["path"] == path and event["size"] == 2
    task = fs.queue.get(event["task"])
    assert task.inputs == {"path": path} and task.flow == "files"
    assert fs.poll() == []
    (incoming / "a.json").write_text('{"x": 1}')
    os.utime(incoming / "a.json", ns=(1, 1))  # a distinct mtime, whatever the clock does
    [changed] = fs.poll()
    assert changed["path"] == path and changed["mtime_ns"] == 1
    assert fs.queue.stats()["pending"] == 2
    fs.state.close()


def test_restart_fires_only_new_or_changed_files(tmp_path: Path) -> None:
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "a.json").write_text("{}")
    fs = watcher(tmp_path)
    assert len(fs.poll()) == 1
    fs.state.close()
    (incoming / "b.json").write_text("{}")
    fs = watcher(tmp_path)
    assert [e["path"] for e in fs.poll()] == [str(incoming / "b.json")]
    assert fs.poll() == []
    fs.state.close()


def test_crash_before_the_log_append_reuses_the_task(tmp_path: Path) -> None:
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "a.json").write_text("{}")
    fs = watcher(tmp_path)
    st = (incoming / "a.json").stat()
    path = str(incoming / "a.json")
    first = fs.queue.enqueue("files", {"path": path}, bundle="/bundle",
                             idempotency_key=f"fs:files:{path}:{st.st_mtime_ns}:{st.st_size}")
    [event] = fs.poll()
    assert event["task"] == first and fs.queue.stats()["pending"] == 1
    fs.state.close()
