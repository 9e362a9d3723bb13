# parallel: one inner function per branch, run with ctx.gather.
version: dsl/v1
workflow: golden-parallel
steps:
  - parallel:
      - a(core.set):
          value: 1
      - b(core.set):
          value: 2
  - total(core.set):
      value: $step.a.value + $step.b.value
outputs:
  total: $step.total.value
