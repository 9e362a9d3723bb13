"""The core.* step kinds and the thin policy.apply / flow.call bridges."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from fake_call import FakeCall, RecordingBundle

from tracemind.stdlib.call import StepFailure, arg_seconds, parse_duration
from tracemind.stdlib.core import core_fail, core_log, core_set, core_sleep
from tracemind.stdlib.flow_call import flow_call
from tracemind.stdlib.policy_apply import policy_apply

Impl = Callable[[Any, dict[str, Any]], Awaitable[dict[str, Any]]]


def run(impl: Impl, args: dict[str, Any], **call: Any) -> tuple[dict[str, Any], FakeCall]:
    async def go() -> tuple[dict[str, Any], FakeCall]:
        fake = FakeCall(**call)
        return await impl(fake, args), fake

    return asyncio.run(go())


def fails(impl: Impl, args: dict[str, Any], **call: Any) -> StepFailure:
    with pytest.raises(StepFailure) as info:
        run(impl, args, **call)
    return info.value


# core.log -----------------------------------------------------------------------------------


def test_log_writes_through_the_call_at_info_by_default() -> None:
    result, call = run(core_log, {"message": "hello"})
    assert result == {}
    assert call.logs == [("info", "hello")]


@pytest.mark.parametrize(
    ("message", "text"),
    [({"temp": 80.0}, '{"temp": 80.0}'), (None, "null"), (True, "true"), (3, "3")],
)
def test_log_writes_other_values_as_json_text(message: Any, text: str) -> None:
    _, call = run(core_log, {"message": message, "level": "warning"})
    assert call.logs == [("warning", text)]


def test_log_refuses_an_unknown_level() -> None:
    failure = fails(core_log, {"message": "x", "level": "loud"})
    assert failure.code == "bad_argument" and not failure.retryable
    assert "debug, info, warning, error, got loud" in failure.message


# core.set / core.fail -----------------------------------------------------------------------


@pytest.mark.parametrize("value", [1, "x", None, [1, {"a": 2}], {"nested": {"k": [True]}}])
def test_set_returns_its_value_untouched(value: Any) -> None:
    result, _ = run(core_set, {"value": value})
    assert result == {"value": value}
    if isinstance(value, list | dict):
        assert result["value"] is value


def test_fail_raises_a_step_failure_with_message_and_code() -> None:
    failure = fails(core_fail, {"message": "temperature sensor offline", "code": "sensor"})
    assert (failure.message, failure.code, failure.retryable) == (
        "temperature sensor offline", "sensor", False
    )
    assert str(failure) == "temperature sensor offline"


def test_fail_code_defaults_to_failed() -> None:
    assert fails(core_fail, {"message": "stop"}).code == "failed"


# core.sleep ---------------------------------------------------------------------------------


def test_sleep_zero_returns_at_once() -> None:
    result, _ = run(core_sleep, {"duration": 0.0})
    assert result == {}


def test_sleep_waits_then_returns() -> None:
    result, _ = run(core_sleep, {"duration": 0.01})
    assert result == {}


def test_sleep_accepts_duration_text() -> None:
    result, _ = run(core_sleep, {"duration": "1ms"})
    assert result == {}


def test_sleep_ends_when_the_run_is_cancelled() -> None:
    async def go() -> None:
        call = FakeCall()
        task = asyncio.create_task(core_sleep(call, {"duration": 3600.0}))
        await asyncio.sleep(0)
        call.cancelled.set()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(go())


def test_sleep_forever_ends_when_the_run_is_cancelled() -> None:
    async def go() -> None:
        call = FakeCall()
        task = asyncio.create_task(core_sleep(call, {"duration": float("inf")}))
        await asyncio.sleep(0)
        assert not task.done()
        call.cancelled.set()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(go())


def test_sleep_on_a_cancelled_run_does_not_start() -> None:
    async def go() -> None:
        call = FakeCall()
        call.cancelled.set()
        with pytest.raises(asyncio.CancelledError):
            await core_sleep(call, {"duration": 0.0})

    asyncio.run(go())


def test_sleep_is_cancelled_by_task_cancellation() -> None:
    async def go() -> None:
        task = asyncio.create_task(core_sleep(FakeCall(), {"duration": 3600.0}))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(go())


@pytest.mark.parametrize(
    ("args", "message"),
    [({}, "argument `duration` is missing"),
     ({"duration": -1.0}, "zero or more seconds"),
     ({"duration": float("nan")}, "zero or more seconds"),
     ({"duration": "soon"}, "`soon` is not a duration"),
     ({"duration": True}, "must be a duration, got bool")],
)
def test_sleep_refuses_bad_durations(args: dict[str, Any], message: str) -> None:
    failure = fails(core_sleep, args)
    assert failure.code == "bad_argument" and not failure.retryable
    assert message in failure.message


@pytest.mark.parametrize(
    ("text", "seconds"), [("500ms", 0.5), ("5s", 5.0), ("1.5s", 1.5), ("2m", 120.0),
                          ("1h", 3600.0)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_arg_seconds_defaults() -> None:
    assert arg_seconds({}, "timeout", 10.0) == 10.0
    assert arg_seconds({"timeout": None}, "timeout", 10.0) == 10.0
    assert arg_seconds({"timeout": 3}, "timeout", 10.0) == 3.0


# policy.apply / flow.call -------------------------------------------------------------------


def test_policy_apply_hands_the_inputs_and_the_seed_to_the_bundle() -> None:
    bundle = RecordingBundle(decision={"action": "WRITE_BACK", "value": 1})
    values = {"ns=2;i=2": 80.0}
    result, call = run(policy_apply, {"policy": "plant-monitor", "values": values},
                       bundle=bundle, seed=1234)
    assert result == {"action": "WRITE_BACK", "value": 1}
    [(what, name, inputs, seed, parent)] = bundle.calls
    assert (what, name, inputs, seed) == ("apply_policy", "plant-monitor", {"values": values}, 1234)
    assert parent is call


def test_policy_apply_without_a_policy_id_is_a_generator_bug() -> None:
    failure = fails(policy_apply, {"values": {}}, bundle=RecordingBundle())
    assert failure.code == "bad_argument" and "no policy id" in failure.message


def test_policy_apply_without_a_bundle_says_so() -> None:
    failure = fails(policy_apply, {"policy": "p", "values": {}})
    assert failure.code == "no_bundle" and "`p`" in failure.message


def test_flow_call_runs_the_flow_as_a_child_of_the_step() -> None:
    bundle = RecordingBundle(outputs={"decision": "NONE"})
    result, call = run(flow_call, {"flow": "child", "inputs": {"n": 1}}, bundle=bundle)
    assert result == {"decision": "NONE"}
    [(what, name, inputs, parent)] = bundle.calls
    assert (what, name, inputs) == ("run_flow", "child", {"n": 1})
    assert parent is call


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [({"inputs": {}}, "bad_argument", "`flow` must name a flow"),
     ({"flow": "x", "inputs": [1]}, "bad_argument", "`inputs` must be a map, got list")],
)
def test_flow_call_refuses_bad_arguments(args: dict[str, Any], code: str, message: str) -> None:
    failure = fails(flow_call, args, bundle=RecordingBundle())
    assert failure.code == code and message in failure.message


def test_flow_call_without_a_bundle_says_so() -> None:
    failure = fails(flow_call, {"flow": "child", "inputs": {}})
    assert failure.code == "no_bundle" and "`child`" in failure.message
