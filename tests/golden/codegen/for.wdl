# for: per-item results collected in a list; a step under `when` is reset each iteration.
version: dsl/v1
workflow: golden-for
inputs:
  items: list<int> = [1, 2, 3]
steps:
  - for item in $input.items:
      - double(core.set):
          value: item * 2
      - when item > 1:
          - big(core.set):
              value: item
  - count(core.set):
      value: len($step.double)
outputs:
  count: $step.count.value
