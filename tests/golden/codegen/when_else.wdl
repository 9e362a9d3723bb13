# when/else: each branch in its block; the other branch's step stays absent.
version: dsl/v1
workflow: golden-when
inputs:
  level: int
steps:
  - when $input.level > 3:
      - alarm(core.log):
          message: "high"
    else:
      - calm(core.log):
          message: "low"
outputs:
  level: $input.level
