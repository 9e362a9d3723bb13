"""A real OPC UA server (asyncua) for tests, on 127.0.0.1, running in a background thread.

Role: the plant of the original TraceMind example, so tests can run ``opcua.read`` and
``opcua.write`` (and whole flows) against a real server.  Because it runs on its own event
loop in its own thread, it serves in-process tests (``asyncio.run(...)`` in the test) and
subprocesses (``tm run``) alike.

Address space (namespace :data:`NAMESPACE_URI`, index 2), under the object ``Plant``:

=================  ===============  =======  =========  ==================================
node id            name             type     writable   initial value
=================  ===============  =======  =========  ==================================
``ns=2;i=2``       Temperature      Double   no         ``temperature`` (default 80.0)
``ns=2;i=5001``    Setpoint         Double   yes        ``setpoint`` (default 0.0)
``ns=2;i=5002``    Count            Int32    yes        0
``ns=2;i=5003``    Label            String   yes        ``"idle"``
``ns=2;i=5004``    Enabled          Boolean  yes        ``False``
=================  ===============  =======  =========  ==================================

Usage::

    with OpcUaTestServer(temperature=80.0) as server:      # starts in about a second
        server.endpoint                                     # "opc.tcp://127.0.0.1:<port>"
        server.read(SETPOINT)                               # a server-side read
        server.write(TEMPERATURE, 60.0)                     # change what clients will read
        server.reset()                                      # back to the initial values

In pytest, share one server per module (a module-scoped fixture) and call ``reset()`` in each
test that depends on values: starting and stopping take about a second each.

Invariants: the port is chosen by the OS (port 0) unless given; the server allows anonymous,
unencrypted sessions only; ``stop()`` is idempotent and always joins the thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar

from asyncua import Server, ua

NAMESPACE_URI = "urn:tracemind:test-plant"
TEMPERATURE = "ns=2;i=2"
SETPOINT = "ns=2;i=5001"
COUNT = "ns=2;i=5002"
LABEL = "ns=2;i=5003"
ENABLED = "ns=2;i=5004"

_T = TypeVar("_T")
_START_TIMEOUT = 30.0


class OpcUaTestServer:
    """One asyncua server in a daemon thread; see the module docstring."""

    def __init__(
        self,
        *,
        temperature: float = 80.0,
        setpoint: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        quiet: bool = True,
    ) -> None:
        self.host = host
        self.requested_port = port
        self.initial: dict[str, tuple[Any, ua.VariantType]] = {
            TEMPERATURE: (float(temperature), ua.VariantType.Double),
            SETPOINT: (float(setpoint), ua.VariantType.Double),
            COUNT: (0, ua.VariantType.Int32),
            LABEL: ("idle", ua.VariantType.String),
            ENABLED: (False, ua.VariantType.Boolean),
        }
        self.port = 0
        self._server: Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        if quiet:
            # asyncua logs every session at WARNING (requested timeout adjusted, no security).
            logging.getLogger("asyncua").setLevel(logging.ERROR)

    @property
    def endpoint(self) -> str:
        if not self.port:
            raise RuntimeError("the OPC UA test server is not running")
        return f"opc.tcp://{self.host}:{self.port}"

    def start(self) -> OpcUaTestServer:
        """Start serving; returns when the server accepts connections."""
        if self._thread is not None:
            return self
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="opcua-test-server", daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread
        try:
            self._run(self._start(), _START_TIMEOUT)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop serving and join the thread (safe to call twice)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            if self._server is not None:
                self._run(self._server.stop(), _START_TIMEOUT)
        finally:
            self._server = None
            self.port = 0
            loop.call_soon_threadsafe(loop.stop)
            thread.join(_START_TIMEOUT)
            loop.close()
            self._loop = self._thread = None

    def read(self, node_id: str) -> Any:
        """The node's current value, read on the server side."""
        return self._run(self._server_node(node_id).read_value())

    def write(self, node_id: str, value: Any) -> None:
        """Set the node's value on the server side, keeping the node's data type."""
        variant_type = self.initial[node_id][1]
        self._run(self._server_node(node_id).write_value(ua.Variant(value, variant_type)))

    def reset(self) -> None:
        """Every node back to its initial value."""
        for node_id, (value, _) in self.initial.items():
            self.write(node_id, value)

    def __enter__(self) -> OpcUaTestServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -----------------------------------------------------------------------------------------

    async def _start(self) -> None:
        server = Server()
        await server.init()
        server.set_endpoint(f"opc.tcp://{self.host}:{self.requested_port}")
        server.set_server_name("TraceMind test plant")
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        index = await server.register_namespace(NAMESPACE_URI)
        if index != 2:
            raise RuntimeError(f"namespace index is {index}, the node ids assume 2")
        plant = await server.nodes.objects.add_object(ua.NodeId(1, index), "Plant")
        names = {TEMPERATURE: "Temperature", SETPOINT: "Setpoint", COUNT: "Count",
                 LABEL: "Label", ENABLED: "Enabled"}
        for node_id, (value, variant_type) in self.initial.items():
            node = await plant.add_variable(
                ua.NodeId.from_string(node_id), names[node_id], ua.Variant(value, variant_type)
            )
            if node_id != TEMPERATURE:
                await node.set_writable()
        await server.start()
        assert server.bserver is not None
        self._server = server
        self.port = server.bserver.port

    def _server_node(self, node_id: str) -> Any:
        if self._server is None:
            raise RuntimeError("the OPC UA test server is not running")
        return self._server.get_node(node_id)

    def _run(self, coro: Coroutine[Any, Any, _T], timeout: float = 10.0) -> _T:
        if self._loop is None:
            coro.close()
            raise RuntimeError("the OPC UA test server is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)
