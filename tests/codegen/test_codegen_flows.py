"""Generated flows behave as the language says, run with a fake context (no executor)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cg_helpers import FakeContext, compile_texts, module_of, run_flow

from tracemind.runtime.abi import MISSING, MissingValue, Retry, StepSite


def _set(site: StepSite, args: dict[str, Any]) -> Any:
    return {"value": args.get("value"), "status": "ok"}


def _flow(tmp_path: Path, text: str, level: int = 1, name: str = "f") -> Any:
    bundle = compile_texts(tmp_path, {f"{name}.wdl": text}, level)
    return module_of(bundle, "flows", name)


WHEN_IN_FOR = """
    version: dsl/v1
    workflow: f
    inputs:
      items: list<int> = [1, 5, 2]
    steps:
      - for item in $input.items:
          - when item > 3:
              - big(core.set):
                  value: item
            else:
              - small(core.set):
                  value: item
    outputs:
      big: $step.big
      small: $step.small
"""


@pytest.mark.parametrize("level", [0, 1, 2])
def test_for_body_steps_of_a_branch_not_taken_are_absent_in_that_iteration(
    tmp_path: Path, level: int
) -> None:
    module = _flow(tmp_path, WHEN_IN_FOR, level)
    out = run_flow(module, {"items": [1, 5, 2]}, FakeContext(_set))
    assert [x == MISSING for x in out["big"]] == [True, False, True]
    assert [x["value"] if x != MISSING else None for x in out["small"]] == [1, None, 2]


DEAD_BRANCH_IN_FOR = """
    version: dsl/v1
    workflow: f
    inputs:
      items: list<int> = [1, 2]
    steps:
      - for item in $input.items:
          - when 1 > 2:
              - x(core.set):
                  value: item
      - n(core.set):
          value: len($step.x)
    outputs:
      n: $step.n.value
"""


@pytest.mark.parametrize("level", [0, 1, 2])
def test_a_removed_branch_in_a_for_still_yields_one_item_per_iteration(
    tmp_path: Path, level: int
) -> None:
    module = _flow(tmp_path, DEAD_BRANCH_IN_FOR, level)
    assert run_flow(module, {"items": [1, 2, 3]}, FakeContext(_set)) == {"n": 3}


JUMP = """
    version: dsl/v1
    workflow: f
    inputs:
      items: list<int> = [1, 2]
    steps:
      - a(core.log):
          message: "a"
          @on_error: d
      - when true:
          - b(core.set):
              value: "b"
      - c(core.log):
          message: "c"
      - d(core.set):
          value: 1
      - for item in $input.items:
          - e(core.log):
              message: "e"
              @on_error: g
          - f(core.log):
              message: "f"
          - g(core.set):
              value: item
    outputs:
      b: coalesce($step.b.value, "skipped")
      f: $step.f
      g: $step.g
"""


@pytest.mark.parametrize("level", [0, 2])
def test_on_error_jump_skips_to_its_target(tmp_path: Path, level: int) -> None:
    module = _flow(tmp_path, JUMP, level)
    ctx = FakeContext(_set, fail={"a"})
    out = run_flow(module, {"items": [1, 2]}, ctx)
    assert ctx.ran == ["a", "d", "e", "f", "g", "e", "f", "g"]
    assert out["b"] == "skipped"
    ctx = FakeContext(_set, fail={"e"})
    out = run_flow(module, {"items": [1, 2]}, ctx)
    assert ctx.ran == ["a", "b", "c", "d", "e", "g", "e", "g"]
    assert out["f"] == [MISSING, MISSING]
    assert [g["value"] for g in out["g"]] == [1, 2]


def test_a_failed_jump_in_one_iteration_does_not_skip_the_next(tmp_path: Path) -> None:
    module = _flow(tmp_path, JUMP)
    calls = {"n": 0}

    class FailFirstE(FakeContext):
        async def step(self, site: StepSite, args: dict[str, Any], **options: Any) -> Any:
            if site.id == "e":
                calls["n"] += 1
                self.fail = {"e"} if calls["n"] == 1 else set()
            return await super().step(site, args, **options)

    ctx = FailFirstE(_set)
    out = run_flow(module, {"items": [1, 2]}, ctx)
    assert ctx.ran == ["a", "b", "c", "d", "e", "g", "e", "f", "g"]
    assert out["f"][0] == MISSING and out["f"][1] != MISSING


PARALLEL = """
    version: dsl/v1
    workflow: f
    steps:
      - parallel:
          - a(core.set):
              value: 1
          - when true:
              - b(core.set):
                  value: 2
              - c(core.set):
                  value: $step.b.value + 1
          - for i in [1, 2]:
              - d(core.set):
                  value: i
      - e(core.set):
          value: [$step.a.value, coalesce($step.c.value, 0), len($step.d)]
    outputs:
      e: $step.e.value
"""


@pytest.mark.parametrize("level", [0, 1, 2])
def test_parallel_branches_set_the_results_read_after_the_block(
    tmp_path: Path, level: int
) -> None:
    module = _flow(tmp_path, PARALLEL, level)
    ctx = FakeContext(_set)
    assert run_flow(module, {}, ctx) == {"e": [1, 3, 2]}
    assert ctx.blocks == ["parallel@4:3", "when@7:7", "for@12:7"]


CONCURRENT = """
    version: dsl/v1
    workflow: f
    steps:
      - a(core.set):
          value: 1
      - b(core.set):
          value: 2
      - c(core.set):
          value: $step.a.value + $step.b.value
    outputs:
      c: $step.c.value
"""


def test_concurrent_pure_steps_at_O2(tmp_path: Path) -> None:
    bundle = compile_texts(tmp_path, {"f.wdl": CONCURRENT}, 2)
    text = bundle["flows/f.py"].decode()
    assert "async def conc_a() -> None:" in text and "await ctx.gather(conc_a(), conc_b())" in text
    module = module_of(bundle, "flows", "f")
    assert run_flow(module, {}, FakeContext(_set)) == {"c": 3}


SHADOW = """
    version: dsl/v1
    workflow: f
    steps:
      - for x in [1, 2]:
          - for x in [10, 20]:
              - inner(core.set):
                  value: x
          - outer(core.set):
              value: x
    outputs:
      inner: $step.inner
      outer: $step.outer
"""


def test_an_inner_for_variable_does_not_clobber_the_outer_one(tmp_path: Path) -> None:
    module = _flow(tmp_path, SHADOW)
    out = run_flow(module, {}, FakeContext(_set))
    assert [o["value"] for o in out["outer"]] == [1, 2]
    assert [[i["value"] for i in row] for row in out["inner"]] == [[10, 20], [10, 20]]


OPTIONS = """
    version: dsl/v1
    workflow: f
    inputs:
      wait: duration = 2s
      tries: int = 4
      policy: {max: int?, backoff: duration?} = {max: 2}
    steps:
      - a(core.log):
          message: "a"
          @timeout: 5s
          @retry: {max: 3, backoff: 200ms}
      - b(core.log):
          message: "b"
          @timeout: $input.wait
          @retry: {max: $input.tries}
      - c(core.log):
          message: "c"
          @retry: $input.policy
    outputs:
      ok: true
"""


def test_constant_options_go_to_the_site_and_others_to_the_call(tmp_path: Path) -> None:
    module = _flow(tmp_path, OPTIONS)
    a, b, c = module.SITES
    assert (a.timeout, a.retry) == (5.0, Retry(attempts=3, backoff=0.2, factor=2.0))
    assert (b.timeout, b.retry, c.retry) == (None, None, None)
    ctx = FakeContext(_set)
    run_flow(module, {"wait": 1.5, "tries": 4, "policy": {"max": 2}}, ctx)
    options = {step_id: opts for step_id, _, opts in ctx.calls}
    assert options["a"] == {}
    assert options["b"] == {"timeout": 1.5, "retry": Retry(attempts=4, backoff=0.0, factor=2.0)}
    assert options["c"] == {"retry": Retry(attempts=2, backoff=0.0, factor=2.0)}


def test_reading_a_step_that_did_not_run_names_it(tmp_path: Path) -> None:
    text = """
        version: dsl/v1
        workflow: f
        steps:
          - a(http.get):
              url: "http://localhost/"
              @on_error: continue
          - b(core.log):
              message: coalesce($step.a.body, "none")
        outputs:
          a: $step.a
    """
    module = _flow(tmp_path, text)
    ctx = FakeContext(_set, fail={"a"})
    out = run_flow(module, {}, ctx)
    assert ctx.calls[1][1] == {"message": "none"}
    with pytest.raises(MissingValue, match="step `a` did not run"):
        out["a"]["body"]


def test_policy_and_flow_names_are_passed_to_their_steps(tmp_path: Path) -> None:
    files = {
        "main.wdl": """
            version: dsl/v1
            workflow: main
            steps:
              - decide(policy.apply):
                  policy: p.one
                  values: {"a": 1.0}
              - sub(flow.call):
                  flow: helper-flow
                  inputs: {}
            outputs:
              action: $step.decide.action
        """,
        "helper.wdl": """
            version: dsl/v1
            workflow: helper-flow
            steps:
              - x(core.set):
                  value: 1
            outputs:
              x: $step.x.value
        """,
        "p.pdl": """
            version: pdl/v1
            policy: p.one
            evaluate:
              action = "go"
            emit:
              action: action
        """,
    }
    bundle = compile_texts(tmp_path, files)
    module = module_of(bundle, "flows", "main")
    ctx = FakeContext(lambda site, args: {"action": "go", "x": 1})
    run_flow(module, {}, ctx)
    assert ctx.calls[0][1] == {"policy": "p.one", "values": {"a": 1.0}}
    assert ctx.calls[1][1] == {"flow": "helper-flow", "inputs": {}}
