# A thermostat that needs no outside services: readings come in as inputs, the policy decides,
# and the decision is logged and returned. Try it with `tm run` (see examples/README.md).
version: dsl/v1
workflow: thermostat
description: Decide whether to heat, cool or hold from a set of room readings
inputs:
  readings: map<float>
  room: string = "lab"
steps:
  - decide(policy.apply):
      policy: thermostat
      values: $input.readings
  - when $step.decide.action != "HOLD":
      - announce(core.log):
          message: $input.room + ": " + lower($step.decide.action) + " (at " + str($step.decide.temp) + ")"
    else:
      - quiet(core.log):
          message: $input.room + ": holding"
          level: "debug"
  - summary(core.set):
      value: {room: $input.room, action: $step.decide.action, delta: $step.decide.delta}
outputs:
  summary: $step.summary.value
  announced: $step.decide.action != "HOLD"
