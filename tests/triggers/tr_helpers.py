"""Helpers for the trigger tests: a settable clock and small bundles with triggers."""

from __future__ import annotations

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
