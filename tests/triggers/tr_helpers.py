"""Helpers for the trigger tests: a settable clock and small bundles with triggers."""

from __future__ import annotations

from pathlib import Path

CRON_WDL = """\
version: dsl/v1
workflow: tick
triggers:
  cron: {schedule: "*/5 * * * *", timezone: Europe/Berlin}
inputs:
  n: int = 1
steps:
  - s(core.set):
      value: $input.n
outputs:
  n: $step.s.value
"""

HOOK_WDL = """\
version: dsl/v1
workflow: hook
triggers:
  webhook: {route: /hooks/hook, method: POST, secret_env: TM_TEST_HOOK_SECRET}
inputs:
  n: int
steps:
  - s(core.set):
      value: $input.n
outputs:
  n: $step.s.value
"""

OPEN_WDL = """\
version: dsl/v1
workflow: open
triggers:
  webhook: {route: /hooks/open, idempotency_key: delivery}
inputs:
  n: int = 0
steps:
  - s(core.set):
      value: $input.n
outputs:
  n: $step.s.value
"""

FILES_WDL = """\
version: dsl/v1
workflow: files
triggers:
  fs: {path: ./incoming, pattern: "*.json"}
inputs:
  path: string
steps:
  - s(core.set):
      value: $input.path
outputs:
  path: $step.s.value
"""


class Clock:
    """A clock the test moves by hand (epoch seconds)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def compile_bundle(tmp: Path, name: str, *sources: str) -> str:
    """Compile the ``.wdl`` sources into one bundle; its absolute path."""
    from tracemind.compiler.bundle import compile_to_memory, write_bundle

    src = tmp / f"{name}-src"
    src.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, source in enumerate(sources):
        path = src / f"{name}{index}.wdl"
        path.write_text(source)
        paths.append(str(path))
    out = tmp / f"{name}-bundle"
    write_bundle(compile_to_memory(paths), str(out))
    return str(out)
