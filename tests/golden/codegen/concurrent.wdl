# -O2: adjacent independent pure steps run together.
version: dsl/v1
workflow: golden-concurrent
inputs:
  x: int = 2
steps:
  - square(core.set):
      value: $input.x * $input.x
  - cube(core.set):
      value: $input.x * $input.x * $input.x
  - sum(core.set):
      value: $step.square.value + $step.cube.value
outputs:
  sum: $step.sum.value
