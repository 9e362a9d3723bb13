"""Acceptance: the original TraceMind example compiles and runs against a real OPC UA server.

The three files of ``examples/compat`` (byte for byte the upstream v1.1.1 example) are compiled
with ``tmc compile`` and run with ``tm run``, both as real subprocesses, against an asyncua
server on 127.0.0.1 that holds the temperature node ``ns=2;i=2`` and the command node
``ns=2;i=5001``:

- at 80.0, with a seed whose ``choose`` draw takes the ``exploit`` option (the explore draw not
  taken), the decision is WRITE_BACK for ``ns=2;i=5001`` and the ``write`` step writes 1 there;
- at 60.0 the decision is NONE, the ``write`` step does not run and the node keeps its value;
- the decision's ``reason`` record holds ``temp`` and ``threshold``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.opcua_server import SETPOINT, TEMPERATURE, OpcUaTestServer
from tracemind.runtime.bundle import load_bundle
from tracemind.runtime.determinism import seed_for
from tracemind.runtime.policy import PolicyRunner

ROOT = Path(__file__).resolve().parents[2]
COMPAT = ROOT / "examples" / "compat"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def plant() -> Iterator[OpcUaTestServer]:
    with OpcUaTestServer(temperature=80.0, setpoint=0.0) as server:
        yield server


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("compat")
    for name in ("plant-monitor.wdl", "plant-monitor.pdl", "input.json"):
        shutil.copyfile(COMPAT / name, work / name)
    out = work / "bundle"
    subprocess.run([str(BIN / "tmc"), "compile", str(work), "-o", str(out)], check=True,
                   cwd=work)
    return out


def _exploit_seed(bundle: Path) -> int:
    """A run seed whose `decide` step draws the exploit option of the policy's choose."""
    runner = PolicyRunner(load_bundle(str(bundle)).policy("plant-monitor").module)
    for n in range(100):
        decision = runner.decide({"values": {TEMPERATURE: 80.0, SETPOINT: 0.0}},
                                 seed=seed_for(str(n), "decide"))
        if decision.draws and decision.draws[0][1] == 0:
            return n
    raise AssertionError("no seed among 100 takes the exploit option")


def _run(bundle: Path, endpoint: str, seed: int) -> dict[str, object]:
    inputs = json.loads((COMPAT / "input.json").read_text())
    inputs["endpoint"] = endpoint
    proc = subprocess.run(
        [str(BIN / "tm"), "run", str(bundle), "-i", json.dumps(inputs), "--seed", str(seed)],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def _ran(result: dict[str, object]) -> dict[str, str]:
    spans = result["spans"]
    assert isinstance(spans, list)
    return {s["id"]: s["status"] for s in spans if s.get("type") == "step"}


def test_hot_plant_writes_back(plant: OpcUaTestServer, bundle: Path) -> None:
    plant.reset()
    seed = _exploit_seed(bundle)
    result = _run(bundle, plant.endpoint, seed)
    assert result["status"] == "succeeded"
    outputs = result["outputs"]
    assert isinstance(outputs, dict)
    decision = outputs["decision"]
    assert decision["action"] == "WRITE_BACK"
    assert decision["target_node"] == "ns=2;i=5001"
    assert decision["value"] == 1
    assert decision["reason"] == {"temp": 80.0, "threshold": 75.0}
    assert _ran(result)["write"] == "ok"
    assert plant.read(SETPOINT) == 1.0


def test_cool_plant_is_left_alone(plant: OpcUaTestServer, bundle: Path) -> None:
    plant.reset()
    plant.write(TEMPERATURE, 60.0)
    result = _run(bundle, plant.endpoint, 0)
    assert result["status"] == "succeeded"
    outputs = result["outputs"]
    assert isinstance(outputs, dict)
    assert outputs["decision"]["action"] == "NONE"
    assert outputs["decision"]["reason"] == {"temp": 60.0, "threshold": 75.0}
    assert _ran(result).get("write") in (None, "skipped")
    assert plant.read(SETPOINT) == 0.0
