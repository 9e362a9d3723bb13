"""opcua.read and opcua.write against a real asyncua server (tests/opcua_server.py).

One server serves the whole module (starting one takes about a second); tests that write
reset the values first.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import socket
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from fake_call import FakeCall
from opcua_server import COUNT, ENABLED, LABEL, SETPOINT, TEMPERATURE, OpcUaTestServer

from tracemind.stdlib.call import StepFailure
from tracemind.stdlib.opcua import opcua_read, opcua_write

Impl = Callable[[Any, dict[str, Any]], Awaitable[dict[str, Any]]]


@pytest.fixture(scope="module")
def server() -> Iterator[OpcUaTestServer]:
    with OpcUaTestServer(temperature=80.0) as running:
        yield running


@pytest.fixture
def plant(server: OpcUaTestServer) -> OpcUaTestServer:
    server.reset()
    return server


def run(impl: Impl, args: dict[str, Any]) -> tuple[dict[str, Any], FakeCall]:
    async def go() -> tuple[dict[str, Any], FakeCall]:
        call = FakeCall()
        return await impl(call, args), call

    return asyncio.run(go())


def fails(impl: Impl, args: dict[str, Any]) -> StepFailure:
    with pytest.raises(StepFailure) as info:
        run(impl, args)
    return info.value


def test_read_the_example_nodes(plant: OpcUaTestServer) -> None:
    result, call = run(opcua_read, {"endpoint": plant.endpoint,
                                    "node_ids": [TEMPERATURE, SETPOINT]})
    assert result == {"values": {TEMPERATURE: 80.0, SETPOINT: 0.0}}
    assert call.logs == []


def test_read_every_type_as_json_values(plant: OpcUaTestServer) -> None:
    result, _ = run(opcua_read, {"endpoint": plant.endpoint,
                                 "node_ids": [COUNT, LABEL, ENABLED]})
    assert result["values"] == {COUNT: 0, LABEL: "idle", ENABLED: False}
    assert type(result["values"][COUNT]) is int


def test_read_sees_server_side_changes(plant: OpcUaTestServer) -> None:
    plant.write(TEMPERATURE, 60.5)
    result, _ = run(opcua_read, {"endpoint": plant.endpoint, "node_ids": [TEMPERATURE]})
    assert result == {"values": {TEMPERATURE: 60.5}}


def test_read_no_nodes_needs_no_connection() -> None:
    result, _ = run(opcua_read, {"endpoint": "opc.tcp://127.0.0.1:1", "node_ids": []})
    assert result == {"values": {}}


def test_write_an_int_to_a_double_variable(plant: OpcUaTestServer) -> None:
    # The example's policy emits `value: 1` for the Double setpoint ns=2;i=5001.
    result, _ = run(opcua_write, {"endpoint": plant.endpoint, "node_id": SETPOINT, "value": 1})
    assert result == {"status": "Good"}
    assert plant.read(SETPOINT) == 1.0 and type(plant.read(SETPOINT)) is float


@pytest.mark.parametrize(
    ("node", "value", "stored"),
    [(COUNT, 7, 7), (COUNT, 7.0, 7), (LABEL, "running", "running"), (ENABLED, True, True),
     (SETPOINT, 72.5, 72.5)],
)
def test_write_converts_to_the_variable_type(
    plant: OpcUaTestServer, node: str, value: Any, stored: Any
) -> None:
    result, _ = run(opcua_write, {"endpoint": plant.endpoint, "node_id": node, "value": value})
    assert result == {"status": "Good"}
    assert plant.read(node) == stored and type(plant.read(node)) is type(stored)


@pytest.mark.parametrize(
    ("node", "value", "message"),
    [(COUNT, "x", "cannot write string \"x\" to ns=2;i=5002, which holds Int32 values"),
     (COUNT, 7.5, "cannot write float 7.5"),
     (COUNT, True, "cannot write bool true"),
     (COUNT, 2**31, "(from -2147483648 to 2147483647)"),
     (SETPOINT, "hot", "which holds Double values"),
     (SETPOINT, None, "cannot write null to ns=2;i=5001"),
     (ENABLED, 1, "which holds Boolean values"),
     (LABEL, 5, "which holds String values")],
)
def test_write_refuses_a_value_that_does_not_fit(
    plant: OpcUaTestServer, node: str, value: Any, message: str
) -> None:
    before = plant.read(node)
    failure = fails(opcua_write, {"endpoint": plant.endpoint, "node_id": node, "value": value})
    assert failure.code == "opcua.bad_value" and not failure.retryable
    assert message in failure.message
    assert plant.read(node) == before


def test_write_to_a_read_only_node_is_refused(plant: OpcUaTestServer) -> None:
    failure = fails(opcua_write, {"endpoint": plant.endpoint, "node_id": TEMPERATURE,
                                  "value": 1.0})
    assert failure.code == "opcua.write_refused" and not failure.retryable
    assert "refused to write node ns=2;i=2" in failure.message
    assert plant.read(TEMPERATURE) == 80.0


@pytest.mark.parametrize("impl", [opcua_read, opcua_write])
def test_unknown_node_is_a_bad_node_id(plant: OpcUaTestServer, impl: Impl) -> None:
    args = {"endpoint": plant.endpoint, "node_ids": [TEMPERATURE, "ns=2;i=999"],
            "node_id": "ns=2;i=999", "value": 1}
    failure = fails(impl, args)
    assert failure.code == "opcua.bad_node_id" and not failure.retryable
    assert f"node ns=2;i=999 does not exist on {plant.endpoint} (BadNodeIdUnknown)" in (
        failure.message
    )


@pytest.mark.parametrize("node", ["garbage", "ns=2;x=1", 5])
def test_malformed_node_id_fails_before_connecting(node: Any) -> None:
    args = {"endpoint": "opc.tcp://127.0.0.1:1", "node_ids": [node], "node_id": node,
            "value": 1}
    for impl in (opcua_read, opcua_write):
        failure = fails(impl, args)
        assert failure.code == "opcua.bad_node_id" and not failure.retryable
        assert "ns=2;i=5001" in failure.message  # the hint shows the syntax


@pytest.mark.parametrize(
    "endpoint", ["http://127.0.0.1:4840", "opc.tcp://", "opc.tcp://host", "localhost:4840",
                 "opc.tcp://host:port", 4840],
)
def test_bad_endpoint(endpoint: Any) -> None:
    failure = fails(opcua_read, {"endpoint": endpoint, "node_ids": [TEMPERATURE]})
    assert failure.code == "opcua.bad_endpoint" and not failure.retryable


def test_no_server_is_a_retryable_connection_failure() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    endpoint = f"opc.tcp://127.0.0.1:{port}"
    failure = fails(opcua_read, {"endpoint": endpoint, "node_ids": [TEMPERATURE]})
    assert failure.code == "opcua.connection" and failure.retryable
    assert f"cannot connect to {endpoint}" in failure.message


def test_node_ids_must_be_a_list() -> None:
    failure = fails(opcua_read, {"endpoint": "opc.tcp://127.0.0.1:1", "node_ids": TEMPERATURE})
    assert failure.code == "opcua.bad_node_id"
    assert "`node_ids` must be a list of node ids, got string" in failure.message


def test_values_read_become_json_values() -> None:
    from asyncua import ua

    from tracemind.stdlib.opcua import _plain

    stamp = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    guid = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert _plain([1, 2.5, "x", None, True]) == [1, 2.5, "x", None, True]
    assert _plain(stamp) == "2026-01-02T03:04:05+00:00"
    assert _plain(b"\x00\xff") == "AP8="
    assert _plain(guid) == "12345678-1234-5678-1234-567812345678"
    assert _plain(ua.LocalizedText("hot", "en")) == "hot"
    assert _plain(ua.NodeId(5001, 2)) == "ns=2;i=5001"
    assert _plain(ua.QualifiedName("Temperature", 2)) == "2:Temperature"
    assert _plain(ua.VariantType.Double) == 11 and type(_plain(ua.VariantType.Double)) is int
    assert _plain(ua.StatusCode(ua.StatusCodes.BadTypeMismatch)) == "BadTypeMismatch"
    assert _plain(ua.Range(Low=1.0, High=2.0)) == {"Low": 1.0, "High": 2.0}
    json.dumps(_plain([stamp, guid, ua.Range()]))
