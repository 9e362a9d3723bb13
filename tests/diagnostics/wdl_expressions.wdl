# Operators, builtins, indexing, fields and conditions in workflow expressions.
version: dsl/v1
workflow: expressions
inputs:
  name: string
  count: int
  ratio: float
  wait: duration
  tags: list<string>
  labels: map<string>
  maybe: int?
  config: {host: string, port: int}
steps:
  - ops(core.set):
      value: [$input.count + $input.ratio, $input.name + "x", $input.tags + ["a"], $input.wait * 2]
  - badops(core.set):
      value: $input.name + 1  # E: TM0307
  - neg(core.set): {value: -$input.name}  # E: TM0302
  - cmp(core.set): {value: $input.name < 3}  # E: TM0307
  - member(core.set): {value: [$input.name in $input.tags, "k" in $input.labels, "a" in $input.name]}
  - badin(core.set): {value: 1 in $input.tags}  # E: TM0307
  - logic(core.set): {value: $input.count and true}  # E: TM0302
  - notop(core.set): {value: not $input.name}  # E: TM0302
  - calls(core.set):
      value: [len($input.tags), lower($input.name), max($input.count, 2), round($input.ratio, 2)]
  - unknownfn(core.set): {value: lenght($input.tags)}  # E: TM0206
  - arity(core.set): {value: upper("a", "b")}  # E: TM0308
  - argtype(core.set): {value: lower($input.count)}  # E: TM0302
  - idx(core.set): {value: $input.tags["a"]}  # E: TM0302
  - notidx(core.set): {value: $input.count[0]}  # E: TM0309
  - field(core.set): {value: $input.config.hots}  # E: TM0304
  - strfield(core.set): {value: $input.name.size}  # E: TM0304
  - optional(core.set): {value: $input.maybe + 1}  # E: TM0307
  - optok(core.set): {value: coalesce($input.maybe, 0) + 1}
  - cond(core.set): {value: "a" if $input.count else "b"}  # E: TM0303
  - mixed(core.set): {value: 1 if $input.count > 0 else "b"}  # E: TM0302
  - when $input.name:  # E: TM0303
      - x(core.log): {message: 1}
  - when 1 > 2 and true:  # W: TM0603
      - y(core.log): {message: 1}
  - when not false:  # W: TM0603
      - z(core.log): {message: 1}
  - when $input.count > 2:
      - fine(core.log): {message: $step.ops.value[0]}
  - for t in $input.name:  # E: TM0302
      - u(core.log): {message: t}
outputs:
  total: $step.calls.value
  port: $input.config.port + 1
