"""The policy runner: seeded, recorded, replayable decisions; located errors."""

from __future__ import annotations

import hashlib
import json

import pytest
from rt_helpers import PLANT_POLICY, generated, load_policy

from tracemind.runtime.abi import DecisionRng, FlowError, rt_choose, rt_coalesce, rt_iter
from tracemind.runtime.determinism import canonical_json, seed_for
from tracemind.runtime.policy import DecisionError, PolicyRunner

HOT = {"values": {"ns=2;i=2": 80.0, "ns=2;i=5001": 0}}
COOL = {"values": {"ns=2;i=2": 20.0}}


@pytest.fixture(scope="module")
def runner() -> PolicyRunner:
    return PolicyRunner(load_policy(PLANT_POLICY, "plant-monitor-v1"))


def test_same_seed_gives_the_same_decision_and_draws(runner: PolicyRunner) -> None:
    outcomes = {json.dumps(runner.decide(HOT, seed=seed).to_json()) for seed in [5] * 3}
    assert len(outcomes) == 1
    decisions = [runner.decide(HOT, seed=seed) for seed in range(200)]
    actions = {d.output["action"] for d in decisions}
    assert "WRITE_BACK" in actions and len(actions) > 1  # epsilon = 0.1 explores sometimes
    for decision in decisions:
        labels = [label for label, _ in decision.draws]
        assert labels[0] == "choose@20"
        if decision.draws[0][1] == 1:  # explored: a second draw picks the random action
            assert labels == ["choose@20", "random"]
            assert decision.output["action"] == decision.draws[1][1]
        else:
            assert labels == ["choose@20"] and decision.output["action"] == "WRITE_BACK"


def test_decision_records_everything_needed_to_replay(runner: PolicyRunner) -> None:
    decision = runner.decide(HOT, seed=42)
    data = json.loads(json.dumps(decision.to_json()))
    assert data["policy"] == "plant-monitor-v1" and data["arm"] == "default"
    assert data["seed"] == 42 and data["params"] == {"epsilon": 0.1}
    expected = hashlib.sha256(canonical_json(HOT).encode()).hexdigest()
    assert data["inputs_digest"] == f"sha256:{expected}"
    assert data["output"]["target_node"] == "ns=2;i=5001"
    assert data["output"]["reason"] == {"temp": 80.0, "threshold": 75.0}
    replayed = runner.decide(HOT, arm=data["arm"], params=data["params"], seed=data["seed"])
    assert replayed.to_json() == decision.to_json()


def test_without_a_draw_nothing_is_recorded(runner: PolicyRunner) -> None:
    decision = runner.decide(COOL, seed=1)
    assert decision.output["action"] == "NONE" and decision.draws == []
    assert runner.decide({"values": {"x": 72}}, seed=1).output["action"] == "WATCH"


def test_seed_comes_from_run_and_step_when_not_given(runner: PolicyRunner) -> None:
    decision = runner.decide(HOT, run_id="run-7", step_id="decide")
    assert decision.seed == seed_for("run-7", "decide")
    digest = hashlib.sha256(b"run-7/decide").digest()
    assert decision.seed == int.from_bytes(digest[:8], "big")
    fresh = runner.decide(HOT)
    assert 0 <= fresh.seed < 2**64


def test_arm_selection_and_parameter_overrides(runner: PolicyRunner) -> None:
    cautious = runner.decide({"values": {"ns=2;i=2": 70.0}}, arm="cautious", seed=3,
                             params={"epsilon": 0.0})
    assert cautious.arm == "cautious" and cautious.output["action"] == "SHUTDOWN"
    assert cautious.params == {"epsilon": 0.0}
    assert runner.params == {"epsilon": 0.1}  # the module's parameters are untouched
    always = runner.decide(HOT, params={"epsilon": 1.0}, seed=3)
    assert always.draws[0] == ("choose@20", 1)
    with pytest.raises(DecisionError, match=r"no arm `bold` \(its arms: default, cautious\)"):
        runner.decide(HOT, arm="bold")
    with pytest.raises(DecisionError, match="no parameter delta"):
        runner.decide(HOT, params={"delta": 1})


def test_policy_expression_errors_carry_the_pdl_location(runner: PolicyRunner) -> None:
    with pytest.raises(FlowError) as caught:
        runner.decide({"values": {"a": "hot"}}, seed=1)
    error = caught.value
    assert (error.path, error.line, error.column) == ("plant-monitor-v1.pdl", 18, 3)
    assert error.message.startswith("first_numeric(): none of the 1 values")
    assert str(error).startswith("plant-monitor-v1.pdl:18:3: ")


DIVIDE = generated('''
    POLICY_ID = "div"
    SOURCE_PATH = "div.pdl"
    SOURCE_MAP = @MAP
    ARMS = {}
    PARAMS = {}
    DEFAULT_ARM = ""


    def decide(inputs, arm, params, rng):
        ratio = inputs["a"] / inputs["b"]  # @src 4:11
        return {"ratio": ratio}
''')


def test_a_policy_without_arms_and_a_division_by_zero() -> None:
    runner = PolicyRunner(load_policy(DIVIDE, "div"))
    assert runner.decide({"a": 1, "b": 4}, seed=0).output == {"ratio": 0.25}
    assert runner.decide({"a": 1, "b": 4}, seed=0).arm == ""
    with pytest.raises(FlowError, match=r"^div.pdl:4:11: division by zero$"):
        runner.decide({"a": 1, "b": 0}, seed=0)
    with pytest.raises(DecisionError, match="has no arms"):
        runner.decide({"a": 1, "b": 4}, arm="x")


def test_rt_choose_draws_once_and_checks_probabilities() -> None:
    rng = DecisionRng(11)
    picks = [rt_choose(rng, "c", [0.25, None, 0.25]) for _ in range(400)]
    assert set(picks) == {0, 1, 2} and len(rng.draws) == 400
    assert 150 < picks.count(1) < 250
    assert rt_choose(DecisionRng(1), "c", [1.0, 0.0]) == 0
    with pytest.raises(ValueError, match="negative"):
        rt_choose(DecisionRng(1), "c", [-0.1, None])
    with pytest.raises(ValueError, match=r"sum to 1\.2, above 1"):
        rt_choose(DecisionRng(1), "c", [0.6, 0.6])
    with pytest.raises(ValueError, match="no option without `p` takes the rest"):
        rt_choose(DecisionRng(1), "c", [0.2, 0.3])


def test_rng_records_draws_and_is_lazy() -> None:
    rng = DecisionRng(9)
    assert rng.draws == [] and rng._random is None
    value = rng.random()
    item = rng.choice(["a", "b", "c"])
    assert rng.draws == [("random", value), ("random", item)]
    again = DecisionRng(9)
    assert (again.random(), again.choice(["a", "b", "c"])) == (value, item)


def test_rt_coalesce_and_rt_iter() -> None:
    values: dict[str, object] = {"a": None, "n": {"x": None}}
    assert rt_coalesce(lambda: values["missing"], lambda: values["a"], lambda: 3) == 3
    assert rt_coalesce(lambda: values["n"]["x"]["deep"], lambda: "null inside") == "null inside"  # type: ignore[index]
    assert rt_coalesce(lambda: [][1], lambda: None) is None
    with pytest.raises(TypeError):
        rt_coalesce(lambda: 1 + "x")  # type: ignore[operator]
    assert rt_iter([1, 2]) == [1, 2]
    with pytest.raises(TypeError, match="`for` needs a list, found map"):
        rt_iter({})
