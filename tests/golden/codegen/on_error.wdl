# @on_error: <target>: a failure skips the steps up to the target.
version: dsl/v1
workflow: golden-on-error
steps:
  - risky(http.get):
      url: "http://localhost:1/"
      @on_error: report
  - use(core.log):
      message: $step.risky.body
  - report(core.log):
      message: coalesce($step.risky.body, "failed")
outputs:
  done: true
