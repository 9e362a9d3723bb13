"""Helpers for the runtime tests: modules in the generated style, bundles, fake clocks, stubs.

Generated-style module text marks source positions with ``# @src LINE:COL`` at the end of a
line; :func:`generated` turns the markers into the module's ``SOURCE_MAP`` (on one line, so
line numbers do not move).  Bundles are built in memory (:func:`bundle_files`) and can be
written to a directory or a zip.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import textwrap
import zipfile
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from tracemind.runtime.abi import ABI_VERSION
from tracemind.runtime.bundle import load_bundle

_MARK = re.compile(r"#\s*@src\s+(\d+):(\d+)\s*$")


def generated(text: str) -> str:
    """``text`` (dedented) with ``SOURCE_MAP = @MAP`` replaced by the map of its markers."""
    text = textwrap.dedent(text).lstrip("\n")
    mapping: dict[int, tuple[int, int]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _MARK.search(line)
        if match:
            mapping[number] = (int(match.group(1)), int(match.group(2)))
    return text.replace("@MAP", repr(mapping))


def bundle_files(
    flows: Mapping[str, str] = {},
    policies: Mapping[str, str] = {},
    *,
    flow_meta: Mapping[str, Mapping[str, Any]] = {},
    policy_meta: Mapping[str, Mapping[str, Any]] = {},
    abi: int = ABI_VERSION,
    extra: Mapping[str, bytes] = {},
) -> dict[str, bytes]:
    """The files of a bundle holding the given module texts, with a consistent manifest."""
    files: dict[str, bytes] = {}
    artifacts = []
    manifest_flows = []
    manifest_policies = []
    for flow_id, text in flows.items():
        path = f"flows/{flow_id}.py"
        files[path] = text.encode()
        artifacts.append({"path": path, "sha256": _sha(files[path]), "kind": "flow"})
        meta = dict(flow_meta.get(flow_id, {}))
        manifest_flows.append({
            "id": flow_id, "module": path,
            "inputs_schema": meta.pop("inputs_schema", {"type": "object", "properties": {},
                                                       "additionalProperties": False}),
            "outputs_schema": meta.pop("outputs_schema", {"type": "object"}),
            "defaults": meta.pop("defaults", {}), "triggers": meta.pop("triggers", {}),
            **meta,
        })
    for policy_id, text in policies.items():
        path = f"policies/{policy_id}.py"
        files[path] = text.encode()
        artifacts.append({"path": path, "sha256": _sha(files[path]), "kind": "policy"})
        meta = dict(policy_meta.get(policy_id, {}))
        manifest_policies.append({
            "id": policy_id, "module": path, "arms": meta.pop("arms", {}),
            "params": meta.pop("params", {}), "emit_schema": meta.pop("emit_schema", {}),
            "inputs_schema": meta.pop("inputs_schema", {}), **meta,
        })
    for path, data in extra.items():
        files[path] = data
        artifacts.append({"path": path, "sha256": _sha(data), "kind": "ir"})
    manifest = {
        "name": "test-bundle", "version": "1.0", "tmc_version": "0.1.0", "abi": abi,
        "sources": [], "artifacts": artifacts, "flows": manifest_flows,
        "policies": manifest_policies,
    }
    files["manifest.json"] = json.dumps(manifest, indent=2).encode()
    return files


def write_directory(files: Mapping[str, bytes], root: Path) -> Path:
    for relative, data in files.items():
        target = root.joinpath(*relative.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root


def write_zip(files: Mapping[str, bytes], path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for relative, data in files.items():
            archive.writestr(relative, data)
    return path


def load_flow(text: str, flow_id: str = "f") -> ModuleType:
    """A generated-style flow module, loaded through the bundle loader from memory."""
    return load_bundle(bundle_files({flow_id: text})).flow(flow_id).module


def load_policy(text: str, policy_id: str = "p") -> ModuleType:
    return load_bundle(bundle_files(policies={policy_id: text})).policy(policy_id).module


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FakeClock:
    """A monotonic clock and a sleep that advances it instead of waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return 1_700_000_000.0 + self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


# ---------------------------------------------------------------------------------------------
# Step implementations for tests (the executor takes them as a mapping)


async def echo(call: Any, args: dict[str, Any]) -> dict[str, Any]:
    return {"value": args.get("value")}


async def boom(call: Any, args: dict[str, Any]) -> dict[str, Any]:
    raise RuntimeError(args.get("message", "boom"))


async def hang(call: Any, args: dict[str, Any]) -> dict[str, Any]:
    await asyncio.Event().wait()
    return {}


class Flaky:
    """Fails ``failures`` times, then returns ``{"value": attempt}``."""

    def __init__(self, failures: int, *, retryable: bool = True) -> None:
        self.failures = failures
        self.calls = 0
        self.retryable = retryable

    async def __call__(self, call: Any, args: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        if self.calls <= self.failures:
            error = RuntimeError(f"attempt {self.calls} failed")
            error.retryable = self.retryable  # type: ignore[attr-defined]
            raise error
        return {"value": call.attempt}


STEPS = {"t.echo": echo, "t.boom": boom, "t.hang": hang}


# ---------------------------------------------------------------------------------------------
# A policy in the generated style, equivalent to examples/plant-monitor-v1/plant-monitor-v1.pdl

PLANT_POLICY = generated('''
    """Generated by tmc from plant-monitor-v1.pdl (hand-written stand-in for the tests)."""

    from tracemind.runtime.abi import b_first_numeric, b_random, rt_choose, rt_coalesce

    POLICY_ID = "plant-monitor-v1"
    SOURCE_PATH = "plant-monitor-v1.pdl"
    SOURCE_MAP = @MAP
    ARMS = {
        "default": {"threshold": 75.0, "action_on_violation": "WRITE_BACK",
                    "target_node": "ns=2;i=5001"},
        "cautious": {"threshold": 65.0, "action_on_violation": "SHUTDOWN",
                     "target_node": "ns=2;i=5001"},
    }
    PARAMS = {"epsilon": 0.1}
    DEFAULT_ARM = "default"
    INPUTS = {"type": "object", "properties": {"values": {"type": "object"}},
              "required": ["values"], "additionalProperties": False}
    EMIT = {"type": "object"}


    def decide(inputs, arm, params, rng):
        values = inputs["values"]
        temp = rt_coalesce(lambda: values["ns=2;i=2"], lambda: b_first_numeric(values))  # @src 18:3
        if temp >= arm["threshold"]:  # @src 19:3
            if rt_choose(rng, "choose@20", [None, params["epsilon"]]) == 0:  # @src 20:5
                action = arm["action_on_violation"]  # @src 21:7
            else:
                action = b_random(rng, ["NONE", "WRITE_BACK", "SHUTDOWN"])  # @src 22:7
        elif temp >= arm["threshold"] - 5:  # @src 23:3
            action = "WATCH"  # @src 24:5
        else:
            action = "NONE"  # @src 26:5
        return {  # @src 27:1
            "action": action,
            "target_node": arm["target_node"],
            "value": 1,
            "reason": {"temp": temp, "threshold": arm["threshold"]},
        }
''')
