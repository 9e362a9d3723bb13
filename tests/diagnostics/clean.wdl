# A v1 workflow using every block form; it checks clean.
version: dsl/v1
workflow: clean
description: every block form, checked clean
triggers:
  webhook: {route: /hooks/clean, method: POST}
inputs:
  endpoint: string
  nodes: list<string>
  limit: int = 3
  pause: duration = 250ms
steps:
  - read(opcua.read):
      endpoint: $input.endpoint
      node_ids: $input.nodes
      @timeout: 5s
      @retry: {max: 3, backoff: 200ms, factor: 2.0}
      @on_error: report
  - decide(policy.apply):
      policy: clean
      values: $step.read.values
  - when $step.decide.action in ["WRITE_BACK", "SHUTDOWN"]:
      - write(opcua.write):
          endpoint: $input.endpoint
          node_id: $step.decide.target_node
          value: $step.decide.value
    else:
      - idle(core.log): {message: "no action", level: "info"}
  - parallel:
      - a(http.get): {url: "https://example.com/a", headers: {Accept: "application/json"}}
      - b(http.post): {url: "https://example.com/b", json: {node: $step.decide.target_node}}
  - for node in $input.nodes:
      - r(opcua.read): {endpoint: $input.endpoint, node_ids: [node]}
      - keep(core.set): {value: {node: node, values: $step.r.values}}
  - pause(core.sleep): {duration: $input.pause * 2}
  - summary(core.set):
      value:
        statuses: [$step.a.status, $step.b.status]
        written: coalesce($step.write.status, "skipped")
        count: len($step.keep)
        first: $step.keep[0].value.node if len($step.keep) > 0 else "none"
        big: len($step.keep) > $input.limit
  - tool(mcp.call): {server: "local", tool: "echo", arguments: {text: "hi"}}
  - report(core.log): {message: $step.summary.value}
outputs:
  decision: $step.decide
  summary: $step.summary.value
  tool_failed: $step.tool.is_error
