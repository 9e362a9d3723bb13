# Step visibility: sequence, when/else, parallel, for; $input and $step references.
version: dsl/v1
workflow: scoping
inputs:
  endpoint: string
  nodes: list<string>
  limit: int = 10
  spare: string  # W: TM0605
steps:
  - early(core.log): {message: $step.late.status}  # E: TM0204
  - self(core.log): {message: $step.self}  # E: TM0204
  - typo(core.log): {message: $step.raed}  # E: TM0203
  - inp(core.log): {message: $input.nodez}  # E: TM0202
  - bare(core.log): {message: $step}  # E: TM0201
  - read(opcua.read):
      endpoint: $input.endpoint
      node_ids: $input.nodes
  - when len($step.read.values) > $input.limit:
      - w(opcua.write):
          endpoint: $input.endpoint
          node_id: "ns=2;i=1"
          value: $step.read.values
    else:
      - other(core.log): {message: $step.w.status}  # E: TM0204
  - direct(core.log): {message: $step.w.status}  # E: TM0205
  - passed(core.log): {message: $step.w}  # E: TM0205
  - defaulted(core.log): {message: coalesce($step.w.status, $step.other.nothing, "none")}  # E: TM0304
  - typed(core.set): {value: coalesce($step.w.status, "none")}
  - use(core.log): {message: $step.typed.value + "!"}
  - parallel:
      - a(http.get): {url: "https://example.com/a"}
      - b(http.get): {url: $step.a.body}  # E: TM0204
      - c(http.get): {url: $step.read.values["x"]}
  - after(core.log): {message: $step.a.body + $step.b.body}
  - for node in $input.nodes:
      - r(opcua.read): {endpoint: $input.endpoint, node_ids: [node]}
      - s(core.set): {value: $step.r.values[node]}
  - loop(core.log): {message: $step.r[0].values}
  - loopfield(core.log): {message: $step.r.values}  # E: TM0304
  - var(core.log): {message: node}  # E: TM0207
  - late(opcua.write): {endpoint: $input.endpoint, node_id: "n", value: 1}
outputs:
  reads: $step.r
  status: $step.late.status
  missing: $step.nope  # E: TM0203
