# Every trigger kind with valid fields: no diagnostics.
version: dsl/v1
workflow: triggers-ok
triggers:
  cron: {schedule: "*/5 * * * *", timezone: Europe/Berlin}
  webhook: {route: /hooks/in, method: POST, secret_env: HOOK_SECRET, idempotency_key: X-Id}
  fs: {path: ./incoming, pattern: "*.json"}
steps:
  - a(core.log): {message: "tick", level: "debug"}
