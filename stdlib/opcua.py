"""Implementations of the ``opcua.*`` step kinds: ``opcua.read`` and ``opcua.write`` (asyncua).

Role: read and write OPC UA variables of a server, one connection (anonymous, no security) per
step call.

Input: ``endpoint`` (``opc.tcp://host:port[/path]``); for ``opcua.read`` the ``node_ids`` to
read; for ``opcua.write`` one ``node_id`` and the ``value`` to write.  Node ids are OPC UA
strings such as ``ns=2;i=5001`` or ``ns=3;s=Line1.Temperature``.

Output: ``opcua.read`` -> ``{values: {node_id: value}}``, keyed by the node ids as written;
``opcua.write`` -> ``{status: "Good"}``.

Invariants:
- Values read are JSON-compatible: numbers, strings, bools and null as they are; arrays as
  lists; DateTime as ISO 8601 text; ByteString as base64 text; GUID, NodeId and QualifiedName
  as their text; LocalizedText as its text; a structure as a map of its fields.  A value whose
  status is Uncertain is returned and a warning is logged; a Bad status fails the step.
- A value is written with the variable's own data type: an int is written to a Double
  variable as 80.0, a float with no fractional part to an integer variable; a value that does
  not fit (a string for a Double, 300 for a Byte, true for an Int32) fails the step before
  anything is sent.
- Failures are :class:`~.call.StepFailure` with code ``opcua.bad_endpoint`` (not an
  ``opc.tcp://`` URL), ``opcua.bad_node_id`` (not a node id, or no such node),
  ``opcua.bad_value`` (the value does not fit the variable), ``opcua.write_refused`` (the node
  is not writable for us), ``opcua.connection`` (cannot connect or the connection broke),
  ``opcua.timeout`` or ``opcua.error`` (any other Bad status, named).  Only connection
  problems, timeouts and ``opcua.error`` are retryable.
- Nothing is kept between calls: each call connects, works and disconnects, also when it fails
  or is cancelled.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import json
import math
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final
from urllib.parse import urlsplit

from asyncua import ua
from asyncua.client.client import Client
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.uaerrors import UaError, UaStatusCodeError, UaStringParsingError

from .builtins_impl import b_str, kind_name
from .call import StepCall, StepFailure, StepImpl

__all__ = ["KINDS", "opcua_read", "opcua_write"]

REQUEST_TIMEOUT: Final = 5.0
"""Seconds to wait for the connection and for each OPC UA request (``@timeout`` bounds the
whole step)."""

_INT_RANGES: Final[dict[ua.VariantType, tuple[int, int]]] = {
    ua.VariantType.SByte: (-(2**7), 2**7 - 1),
    ua.VariantType.Byte: (0, 2**8 - 1),
    ua.VariantType.Int16: (-(2**15), 2**15 - 1),
    ua.VariantType.UInt16: (0, 2**16 - 1),
    ua.VariantType.Int32: (-(2**31), 2**31 - 1),
    ua.VariantType.UInt32: (0, 2**32 - 1),
    ua.VariantType.Int64: (-(2**63), 2**63 - 1),
    ua.VariantType.UInt64: (0, 2**64 - 1),
}
_FLOATS: Final = frozenset({ua.VariantType.Float, ua.VariantType.Double})
_NOT_FOUND: Final = frozenset({"BadNodeIdUnknown", "BadNodeIdInvalid"})
_REFUSED: Final = frozenset({"BadNotWritable", "BadUserAccessDenied", "BadWriteNotSupported"})
_BAD_VALUE: Final = frozenset({"BadTypeMismatch", "BadOutOfRange", "BadDataEncodingInvalid"})


async def opcua_read(call: StepCall, args: dict[str, Any]) -> dict[str, Any]:
    """``opcua.read``: the values of ``node_ids`` on ``endpoint``."""
    endpoint = _endpoint("opcua.read", args.get("endpoint"))
    raw_ids = args.get("node_ids")
    if not isinstance(raw_ids, list):
        raise StepFailure(
            f"opcua.read: `node_ids` must be a list of node ids, got {kind_name(raw_ids)}",
            "opcua.bad_node_id",
            retryable=False,
        )
    node_ids = [_node_id("opcua.read", item) for item in raw_ids]
    if not node_ids:
        return {"values": {}}
    values: dict[str, Any] = {}
    async with _connected("opcua.read", endpoint) as client:
        nodes = [client.get_node(node_id) for _, node_id in node_ids]
        try:
            results = await client.read_attributes(nodes, AttributeIds.Value)
        except UaStatusCodeError as exc:
            raise _status_failure("opcua.read", endpoint, None, exc.code) from None
        for (text, _), result in zip(node_ids, results, strict=True):
            status = result.StatusCode
            if status is not None and status.is_bad():
                raise _status_failure("opcua.read", endpoint, text, status.value)
            if status is not None and status.is_uncertain():
                call.log("warning", f"opcua.read: the value of {text} is uncertain ({status.name})")
            variant = result.Value
            values[text] = _plain(variant.Value if variant is not None else None)
    return {"values": values}


async def opcua_write(call: StepCall, args: dict[str, Any]) -> dict[str, Any]:
    """``opcua.write``: write ``value`` to ``node_id`` on ``endpoint``."""
    endpoint = _endpoint("opcua.write", args.get("endpoint"))
    text, node_id = _node_id("opcua.write", args.get("node_id"))
    value = args.get("value")
    async with _connected("opcua.write", endpoint) as client:
        node = client.get_node(node_id)
        try:
            variant_type = await node.read_data_type_as_variant_type()
            variant = _variant(text, value, variant_type)
            await node.write_value(ua.DataValue(variant))
        except UaStatusCodeError as exc:
            raise _status_failure("opcua.write", endpoint, text, exc.code) from None
    return {"status": "Good"}


def _endpoint(kind: str, value: object) -> str:
    if not isinstance(value, str):
        raise StepFailure(
            f"{kind}: `endpoint` must be a string, got {kind_name(value)}",
            "opcua.bad_endpoint",
            retryable=False,
        )
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise StepFailure(f"{kind}: `{value}` is not an OPC UA endpoint ({exc})",
                          "opcua.bad_endpoint", retryable=False) from None
    if parts.scheme != "opc.tcp" or not parts.hostname or port is None:
        raise StepFailure(
            f"{kind}: `{value}` is not an OPC UA endpoint; write opc.tcp://host:port",
            "opcua.bad_endpoint",
            retryable=False,
        )
    return value


def _node_id(kind: str, value: object) -> tuple[str, ua.NodeId]:
    if not isinstance(value, str):
        raise StepFailure(
            f"{kind}: a node id must be a string such as ns=2;i=5001, got {kind_name(value)}",
            "opcua.bad_node_id",
            retryable=False,
        )
    try:
        return value, ua.NodeId.from_string(value)
    except (UaStringParsingError, ValueError):
        raise StepFailure(
            f"{kind}: `{value}` is not an OPC UA node id (write e.g. ns=2;i=5001 or "
            "ns=3;s=Line1.Temperature)",
            "opcua.bad_node_id",
            retryable=False,
        ) from None


@asynccontextmanager
async def _connected(kind: str, endpoint: str) -> AsyncIterator[Client]:
    client = Client(endpoint, timeout=REQUEST_TIMEOUT)
    try:
        await client.connect()
    except TimeoutError:
        raise StepFailure(
            f"{kind}: no answer from {endpoint} within {REQUEST_TIMEOUT:g}s", "opcua.timeout"
        ) from None
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise StepFailure(f"{kind}: cannot connect to {endpoint} ({reason})",
                          "opcua.connection") from None
    except (UaError, EOFError) as exc:
        detail = str(exc) or type(exc).__name__
        raise StepFailure(
            f"{kind}: {endpoint} did not accept an OPC UA session ({detail})",
            "opcua.connection",
        ) from None
    try:
        yield client
    except TimeoutError:
        raise StepFailure(
            f"{kind}: {endpoint} did not answer within {REQUEST_TIMEOUT:g}s", "opcua.timeout"
        ) from None
    except (OSError, EOFError) as exc:
        raise StepFailure(f"{kind}: the connection to {endpoint} broke ({exc})",
                          "opcua.connection") from None
    finally:
        await client.disconnect()


def _status_failure(kind: str, endpoint: str, node: str | None, code: int) -> StepFailure:
    name = ua.StatusCode(ua.UInt32(code)).name
    where = f"node {node}" if node is not None else "the request"
    if name in _NOT_FOUND:
        return StepFailure(f"{kind}: node {node} does not exist on {endpoint} ({name})",
                           "opcua.bad_node_id", retryable=False)
    if name in _REFUSED:
        return StepFailure(f"{kind}: {endpoint} refused to write {where} ({name})",
                           "opcua.write_refused", retryable=False)
    if name in _BAD_VALUE:
        return StepFailure(f"{kind}: {endpoint} refused the value for {where} ({name})",
                           "opcua.bad_value", retryable=False)
    return StepFailure(f"{kind}: {endpoint} answered {name} for {where}", "opcua.error")


def _variant(node: str, value: object, variant_type: ua.VariantType) -> ua.Variant:
    """``value`` as a Variant of the variable's type; StepFailure when it does not fit."""
    if variant_type == ua.VariantType.Variant:
        return ua.Variant(value)
    if isinstance(value, list):
        return ua.Variant([_scalar(node, item, variant_type) for item in value], variant_type)
    return ua.Variant(_scalar(node, value, variant_type), variant_type)


def _scalar(node: str, value: object, variant_type: ua.VariantType) -> object:
    def misfit(detail: str = "") -> StepFailure:
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else b_str(value)
        what = "null" if value is None else f"{kind_name(value)} {shown}"
        return StepFailure(
            f"opcua.write: cannot write {what} to {node}, which holds "
            f"{variant_type.name} values{detail}",
            "opcua.bad_value",
            retryable=False,
        )

    number = isinstance(value, int | float) and not isinstance(value, bool)
    if variant_type == ua.VariantType.Boolean:
        if not isinstance(value, bool):
            raise misfit()
        return value
    if variant_type in _FLOATS:
        if not number:
            raise misfit()
        return float(value)  # type: ignore[arg-type]
    bounds = _INT_RANGES.get(variant_type)
    if bounds is not None:
        if isinstance(value, float) and number and math.isfinite(value) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise misfit()
        low, high = bounds
        if not low <= value <= high:
            raise misfit(f" (from {low} to {high})")
        return value
    if variant_type == ua.VariantType.String:
        if not isinstance(value, str):
            raise misfit()
        return value
    return value


def _plain(value: object) -> Any:
    """A read value as a JSON-compatible value (see the module docstring)."""
    if value is None or isinstance(value, str | float | bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, ua.LocalizedText):
        return value.Text
    if isinstance(value, ua.NodeId | ua.QualifiedName):
        return value.to_string()
    if isinstance(value, ua.StatusCode):
        return value.name
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return str(value)


KINDS: Final[dict[str, StepImpl]] = {"opcua.read": opcua_read, "opcua.write": opcua_write}
"""Kind name -> implementation."""
