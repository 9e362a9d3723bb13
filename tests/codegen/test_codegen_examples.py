"""Every example compiles, and runs to the same result at -O0 and -O2 (through the runtime:
``load_bundle`` + ``BundleRunner``), with deterministic stand-ins for the step kinds that
reach the outside world (HTTP, OPC UA, the example plugin)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tracemind.compiler.bundle import compile_to_memory
from tracemind.runtime.bundle import load_bundle
from tracemind.runtime.runner import BundleRunner
from tracemind.stdlib import registry

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DIRS = sorted({p.parent for p in (ROOT / "examples").rglob("*.wdl")})


async def _http(call: Any, args: dict[str, Any]) -> dict[str, Any]:
    healthy = "worker" not in str(args.get("url"))
    return {"status": 200 if healthy else 503, "headers": {}, "body": "ok", "json": None}


async def _opcua_read(call: Any, args: dict[str, Any]) -> dict[str, Any]:
    return {"values": {node: 70.0 + index * 10 for index, node in enumerate(args["node_ids"])}}


async def _opcua_write(call: Any, args: dict[str, Any]) -> dict[str, Any]:
    return {"status": "Good"}


async def _scale(call: Any, args: dict[str, Any]) -> dict[str, Any]:
    return {"value": args["value"] * args.get("factor", 2.0) + args.get("offset", 0.0)}


async def _upper(call: Any, args: dict[str, Any]) -> dict[str, Any]:
    return {"text": str(args["text"]).upper()}


STAND_INS = {"http.get": _http, "http.post": _http, "opcua.read": _opcua_read,
             "opcua.write": _opcua_write, "example.scale": _scale, "example.upper": _upper}


def _lookup(kind: str) -> Any:
    return STAND_INS.get(kind) or registry.implementation(kind)


def _sample(schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    return {"string": "http://example.test", "integer": 1, "number": 21.5, "boolean": True,
            "array": [], "object": {}}.get(kind)


def _inputs(directory: Path, flow: dict[str, Any]) -> dict[str, Any]:
    given = directory / "input.json"
    if given.exists():
        return dict(json.loads(given.read_text(encoding="utf-8")))
    schema = flow["inputs_schema"]
    return {name: _sample(schema["properties"][name]) for name in schema.get("required", [])}


def _run_all(directory: Path, level: int) -> dict[str, Any]:
    bundle = compile_to_memory([str(directory)], level)
    runner = BundleRunner(load_bundle(bundle), steps=_lookup)
    results = {}
    for flow in bundle.manifest["flows"]:
        result = asyncio.run(runner.run(flow["id"], _inputs(directory, flow), run_id="r",
                                        seed=7))
        outcome = result.to_json()
        results[flow["id"]] = {"status": outcome["status"], "outputs": outcome["outputs"],
                               "error": outcome["error"]}
    return results


@pytest.mark.parametrize("directory", EXAMPLE_DIRS, ids=lambda p: str(p.relative_to(ROOT)))
def test_examples_give_the_same_results_at_O0_and_O2(directory: Path) -> None:
    unoptimized = _run_all(directory, 0)
    assert unoptimized, f"no flows in {directory}"
    assert _run_all(directory, 2) == unoptimized
    assert _run_all(directory, 1) == unoptimized


@pytest.mark.parametrize("temp", [60.0, 90.0])
def test_the_compat_example_writes_back_only_when_the_policy_asks(
    temp: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def read(call: Any, args: dict[str, Any]) -> dict[str, Any]:
        return {"values": {node: temp for node in args["node_ids"]}}

    monkeypatch.setitem(STAND_INS, "opcua.read", read)
    directory = ROOT / "examples" / "compat"
    bundle = compile_to_memory([str(directory)])
    runner = BundleRunner(load_bundle(bundle), steps=_lookup)
    actions = set()
    for seed in range(12):
        result = asyncio.run(runner.run(None, _inputs(directory, {}), seed=seed))
        assert result.status == "succeeded"
        assert result.outputs is not None
        action = result.outputs["decision"]["action"]
        actions.add(action)
        (write,) = [span for span in result.spans if span.id == "write"]
        assert (write.status == "ok") == (action in ("WRITE_BACK", "SHUTDOWN"))
    assert actions == ({"NONE"} if temp < 75 else actions | {"WRITE_BACK"})
