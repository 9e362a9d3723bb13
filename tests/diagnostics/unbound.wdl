# A policy.apply step without `policy:` and no policy file with the same stem.
version: dsl/v0
workflow: unbound
steps:
  - decide(policy.apply):  # E: TM0212
      values: {}
outputs:
  decision: $step.decide.anything
