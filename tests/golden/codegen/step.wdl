# One step: arguments, a constant @timeout and @retry.
version: dsl/v1
workflow: golden-step
inputs:
  url: string
steps:
  - fetch(http.get):
      url: $input.url + "/status"
      @timeout: 5s
      @retry: {max: 3, backoff: 200ms}
outputs:
  status: $step.fetch.status
