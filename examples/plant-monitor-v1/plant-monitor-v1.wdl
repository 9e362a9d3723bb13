# Plant monitor, v1 edition: read temperatures over OPC UA, let the policy decide,
# and write back only when the decision asks for it.
version: dsl/v1
workflow: plant-monitor-v1
description: Watch a furnace and cool it down when it runs hot
triggers:
  cron: {schedule: "*/5 * * * *", timezone: UTC}
inputs:
  endpoint: string = "opc.tcp://localhost:4840"
  nodes: list<string> = ["ns=2;i=2", "ns=2;i=5001"]

steps:
  - read(opcua.read):
      endpoint: $input.endpoint
      node_ids: $input.nodes
      @timeout: 5s
      @retry: {max: 3, backoff: 200ms, factor: 2.0}
  - decide(policy.apply):
      policy: plant-monitor-v1
      values: $step.read.values
  # Act only on the two decisions that change the plant.
  - when $step.decide.action in ["WRITE_BACK", "SHUTDOWN"]:
      - write(opcua.write):
          endpoint: $input.endpoint
          node_id: $step.decide.target_node
          value: $step.decide.value
    else:
      - note(core.log):
          message: "no action: " + $step.decide.action
          level: "debug"

outputs:
  decision: $step.decide
  wrote: coalesce($step.write.status, "skipped")
