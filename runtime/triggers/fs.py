"""File-system triggers: enqueue a flow run for each new or changed file in a directory.

Role: :class:`FsWatcher` is polled (``poll``) by a loop; each poll lists the watched
directory (not recursively), keeps the regular files whose name matches the trigger's
``pattern`` (``fnmatch``), and fires for each file whose ``(size, mtime_ns)`` differs from the
one last fired for it.

The task's inputs are ``{"path": "<absolute path of the file>"}``: the flow must declare a
``path: string`` input.  The idempotency key is ``fs:<flow>:<path>:<mtime_ns>:<size>``.

State: what fired is recorded as ``trigger.fired`` events (``path``, ``size``, ``mtime_ns``)
and read back on start, so a restart does not fire again for unchanged files, and does fire
for files that appeared or changed while it was down.  A relative ``path`` is resolved against
the directory the watcher runs in.  A deleted file fires nothing.  Writers should write a file
elsewhere and rename it into the directory, or a poll may see it half-written (and fire again
when it changes).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from typing import Any

from . import FsTrigger
from .state import TriggerState


class FsWatcher:
    """Fires the fs triggers of one bundle into a task queue."""

    def __init__(self, triggers: Sequence[FsTrigger], queue: Any, bundle: str,
                 state: TriggerState, base: str | None = None) -> None:
        self.triggers = list(triggers)
        self.queue = queue
        self.bundle = bundle
        self.state = state
        self.base = base or os.getcwd()
        self.missing: set[str] = set()
        """Watched directories that did not exist at the last poll."""

    def directory(self, trigger: FsTrigger) -> str:
        return os.path.abspath(os.path.join(self.base, os.path.expanduser(trigger.path)))

    def poll(self) -> list[dict[str, Any]]:
        """One pass over every watched directory; the events recorded."""
        fired = []
        for trigger in self.triggers:
            directory = self.directory(trigger)
            try:
                entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
            except (FileNotFoundError, NotADirectoryError):
                self.missing.add(directory)
                continue
            self.missing.discard(directory)
            for entry in entries:
                if not fnmatch.fnmatch(entry.name, trigger.pattern):
                    continue
                try:
                    if not entry.is_file():
                        continue
                    stat = entry.stat()
                except FileNotFoundError:
                    continue
                path = os.path.join(directory, entry.name)
                seen = (stat.st_size, stat.st_mtime_ns)
                if self.state.files.get((trigger.flow, path)) == seen:
                    continue
                fired.append(self.fire(trigger, path, *seen))
        return fired

    def fire(self, trigger: FsTrigger, path: str, size: int, mtime_ns: int) -> dict[str, Any]:
        key = f"fs:{trigger.flow}:{path}:{mtime_ns}:{size}"
        task = self.queue.enqueue(trigger.flow, {"path": path}, bundle=self.bundle,
                                  idempotency_key=key)
        event = {"flow": trigger.flow, "kind": "fs", "path": path, "size": size,
                 "mtime_ns": mtime_ns, "task": int(task), "key": key}
        self.state.record(event)
        return event
