# Called by wdl_steps.wdl through flow.call; it has no expectations of its own.
version: dsl/v1
workflow: helper
inputs:
  url: string
steps:
  - get(http.get): {url: $input.url}
outputs:
  result: $step.get.status
