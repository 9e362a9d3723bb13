version: dsl/v1
workflow: policy-only
steps:
  - pick(core.set):
      value: random([1, 2])  # E: TM0215
  - fine(core.set):
      value: max(1, 2)
