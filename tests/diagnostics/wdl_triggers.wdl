# Trigger kinds, fields, cron schedules and time zones.
version: dsl/v1
workflow: triggers
triggers:
  cron: {schedule: "61 * * * *", timezone: Europe/Berln}  # E: TM0404 TM0403
  webhook:
    route: hooks/in  # E: TM0403
    method: post  # E: TM0403
    secret_env: "HOOK-SECRET"  # E: TM0403
    port: 8080  # E: TM0403
  fs: {pattern: 3}  # E: TM0403 TM0302
  smtp: {host: mail}  # E: TM0403
steps:
  - a(core.log): {message: "tick"}
