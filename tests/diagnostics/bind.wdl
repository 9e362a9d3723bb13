# policy.apply binding by file stem (bind.pdl) and by name; the result is the emit record.
version: dsl/v1
workflow: bind
inputs:
  endpoint: string
steps:
  - read(opcua.read): {endpoint: $input.endpoint, node_ids: ["ns=2;i=2"]}
  - decide(policy.apply):
      values: $step.read.values
  - named(policy.apply):
      policy: bind
      values: $step.read.values
  - wrongarg(policy.apply):  # E: TM0306
      vals: $step.read.values  # E: TM0305
  - missing(policy.apply):
      policy: bind-typo  # E: TM0212
      values: {}
  - when $step.decide.action in ["WRITE_BACK", "SHUTDOWN"]:
      - write(opcua.write):
          endpoint: $input.endpoint
          node_id: $step.decide.target_node
          value: $step.decide.reason.temp
  - when $step.decide.action:  # E: TM0303
      - note(core.log): {message: $step.decide.nope}  # E: TM0304
  - when $step.named.value == "x":  # E: TM0307
      - n2(core.log): {message: "x"}
  - typed(opcua.write):
      endpoint: $input.endpoint
      node_id: $step.decide.value  # E: TM0302
      value: 1
outputs:
  decision: $step.decide
  write: coalesce($step.write.status, "skipped")
