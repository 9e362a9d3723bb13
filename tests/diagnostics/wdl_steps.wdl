# Step kinds, ids, arguments and options.
version: dsl/v1
workflow: steps
inputs:
  url: string
  retries: int = "three"  # E: TM0302
  ratio: flaot = 1.0  # E: TM0301
steps:
  - fetch(http.get):
      url: $input.url
      timeout: 5  # E: TM0302
      verbose: true  # E: TM0305
      @timeout: 5s
      @retry: {max: $input.retries, backoff: 200ms, factor: 2.0}
      @on_error: cleanup
  - post(http.post):  # E: TM0306
      json: {a: 1}
      @timeout: "5s"  # E: TM0302
      @retry: {max: 3, jitter: 1}  # E: TM0304
      @on_error: fetch  # E: TM0409
  - typo(core.lgo): {message: 1}  # E: TM0211
  - parallel(core.log): {message: 1}  # E: TM0210
  - fetch(core.log): {message: 1}  # E: TM0209
  - retry(core.log):
      message: "x"
      level: 3  # E: TM0302
      @retry: 3  # E: TM0302
      @on_error: cleanp  # E: TM0409
  - set(core.set): {value: [1, 2, 3]}
  - sum(core.log): {message: sum($step.set.value) + $input.ratio}
  - never(core.fail): {message: "stop", code: "E1"}
  - flow(flow.call):
      flow: helper
      inputs: {url: $input.url}
  - far(flow.call):  # E: TM0306
      inputs: {}
  - elsewhere(flow.call):
      flow: not-here  # W: TM0608
      inputs: {}
  - cleanup(core.log): {message: $step.flow.result}
  - loose(core.log):
      policy: "p"  # E: TM0305
      message: 1
