# Poll a fleet of services in parallel, check each node's metrics, and summarise.
version: dsl/v1
workflow: fleet-health
description: Check the health endpoints of a fleet and report the unhealthy ones
triggers:
  webhook: {route: /hooks/fleet-health, method: POST, secret_env: FLEET_HOOK_SECRET}
  fs: {path: ./incoming, pattern: "*.json"}
inputs:
  base_url: string
  services: list<string> = ["api", "worker"]
  grace: duration = 2s
steps:
  - parallel:
      - api(http.get):
          url: $input.base_url + "/api/healthz"
          @timeout: 5s
      - worker(http.get):
          url: $input.base_url + "/worker/healthz"
          @timeout: 5s
          @on_error: continue
  - for service in $input.services:
      - probe(http.get):
          url: $input.base_url + "/" + service + "/metrics"
          timeout: $input.grace
  - summary(core.set):
      value: {api: $step.api.status == 200, checked: len($step.probe)}
  - when not $step.summary.value.api:
      - alert(http.post):
          url: $input.base_url + "/alerts"
          json: {service: "api", status: $step.api.status}
      - stop(core.fail):
          message: "api is down"
          code: "api-down"
outputs:
  summary: $step.summary.value
