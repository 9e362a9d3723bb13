"""``tm init``: a new TraceMind project from a template.

Input: a project name (also the directory, workflow and policy name) and a template name.
Output: a directory holding the sources, sample inputs, a README and a pytest test, which
``tmc lint``, ``tmc compile`` and ``tm run`` accept as created (the tests check all three).

Invariants: the name is validated before anything is written (it must be a valid workflow
name); an existing non-empty directory is never touched; files are written into a temporary
directory that is renamed into place, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")

TEMPLATES = ("minimal", "opcua")


class ScaffoldError(Exception):
    """A project cannot be created (bad name, directory in the way)."""


@dataclass(frozen=True, slots=True)
class Scaffold:
    root: Path
    files: tuple[str, ...]


_MINIMAL_WDL = """\
# A minimal TraceMind workflow: greet someone and count the letters of the greeting.
version: dsl/v1
workflow: @NAME@
description: A starting point; edit the steps and run it with `tm run`
inputs:
  who: string = "world"
  shout: bool = false
steps:
  - greeting(core.set):
      value: "hello, " + (upper($input.who) if $input.shout else $input.who)
  - log(core.log):
      message: $step.greeting.value
outputs:
  greeting: $step.greeting.value
  letters: len($step.greeting.value)
"""

_MINIMAL_INPUTS = '{"who": "TraceMind", "shout": false}\n'

_OPCUA_WDL = """\
# Read a temperature over OPC UA, let the policy decide, write back when it asks for it.
version: dsl/v1
workflow: @NAME@
description: Monitor a temperature and act on the policy's decision
inputs:
  endpoint: string = "opc.tcp://127.0.0.1:4840"
  nodes: list<string> = ["ns=2;i=2", "ns=2;i=5001"]
steps:
  - read(opcua.read):
      endpoint: $input.endpoint
      node_ids: $input.nodes
      @timeout: 10s
  - decide(policy.apply):
      policy: @NAME@
      values: $step.read.values
  - when $step.decide.action in ["WRITE_BACK", "SHUTDOWN"]:
      - write(opcua.write):
          endpoint: $input.endpoint
          node_id: $step.decide.target_node
          value: $step.decide.value
outputs:
  decision: $step.decide
  wrote: coalesce($step.write.status, "nothing")
"""

_OPCUA_PDL = """\
# The decision: act when the temperature reaches the active arm's threshold.
version: pdl/v1
policy: @NAME@
inputs:
  values: map<any>
arms:
  default:
    threshold: 75.0
    action_on_violation: WRITE_BACK
    target_node: "ns=2;i=5001"
epsilon: 0.0
evaluate:
  temp := coalesce(values["ns=2;i=2"], first_numeric(values))
  if temp >= arms.active.threshold:
    choose:
      exploit: action = arms.active.action_on_violation
      explore: random(["NONE", "WRITE_BACK"]) with p = epsilon
  else:
    action = "NONE"
emit:
  action: action
  target_node: arms.active.target_node
  value: 1
  reason: {temp: temp, threshold: arms.active.threshold}
"""

_OPCUA_INPUTS = '{"endpoint": "opc.tcp://127.0.0.1:4840", "nodes": ["ns=2;i=2", "ns=2;i=5001"]}\n'

_README = """\
# @NAME@

A TraceMind project created by `tm init --template @TEMPLATE@`.

- `@NAME@.wdl`: the workflow@POLICY_LINE@
- `inputs.json`: sample inputs
- `tests/test_@MODULE@.py`: a test that compiles and runs the workflow

```
tmc lint .                       # check the sources
tmc compile . -o build/bundle    # compile them into a bundle
tm run build/bundle -i @inputs.json
tm run @NAME@.wdl -i @inputs.json   # or compile in memory and run in one step
pytest tests/                    # run the project's test
```
@EXTRA@"""

_OPCUA_EXTRA = """
`tm run` needs an OPC UA server at the endpoint in `inputs.json` with the nodes `ns=2;i=2`
(the temperature) and `ns=2;i=5001` (written when the policy says `WRITE_BACK`). The test starts
such a server itself with asyncua.
"""

_MINIMAL_TEST = '''\
"""Compile and run @NAME@.wdl with the sample inputs."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_workflow_runs(tmp_path):
    bundle = tmp_path / "bundle"
    subprocess.run([str(BIN / "tmc"), "compile", str(ROOT), "-o", str(bundle)], check=True)
    inputs = "@" + str(ROOT / "inputs.json")
    run = subprocess.run([str(BIN / "tm"), "run", str(bundle), "-i", inputs],
                         capture_output=True, text=True, check=True)
    result = json.loads(run.stdout)
    assert result["status"] == "succeeded"
    assert result["outputs"]["greeting"] == "hello, TraceMind"
    assert result["outputs"]["letters"] == len("hello, TraceMind")
'''

_OPCUA_TEST = '''\
"""Compile @NAME@ and run it against a real OPC UA server started here (asyncua)."""

import asyncio
import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

from asyncua import Server, ua

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Plant:
    """An OPC UA server with the temperature node ns=2;i=2 and the command node ns=2;i=5001."""

    def __init__(self, temperature):
        self.port = _free_port()
        self.temperature = temperature
        self.command = None
        self.ready = threading.Event()
        self.stop = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    async def _serve(self):
        server = Server()
        await server.init()
        server.set_endpoint(f"opc.tcp://127.0.0.1:{self.port}")
        await server.register_namespace("urn:plant")
        objects = server.nodes.objects
        await objects.add_variable(ua.NodeId(2, 2), "temperature", float(self.temperature))
        command = await objects.add_variable(ua.NodeId(5001, 2), "command", 0)
        await command.set_writable()
        self.stop = asyncio.Event()
        async with server:
            self.ready.set()
            while not self.stop.is_set():
                self.command = await command.read_value()
                await asyncio.sleep(0.05)
            self.command = await command.read_value()

    def __enter__(self):
        self.thread.start()
        assert self.ready.wait(20), "OPC UA server did not start"
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(10)


def _run(bundle, endpoint):
    inputs = json.loads((ROOT / "inputs.json").read_text())
    inputs["endpoint"] = endpoint
    run = subprocess.run([str(BIN / "tm"), "run", str(bundle), "-i", json.dumps(inputs)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(run.stdout)


def test_hot_plant_is_written_and_cool_plant_is_not(tmp_path):
    bundle = tmp_path / "bundle"
    subprocess.run([str(BIN / "tmc"), "compile", str(ROOT), "-o", str(bundle)], check=True)
    with _Plant(80.0) as plant:
        result = _run(bundle, f"opc.tcp://127.0.0.1:{plant.port}")
    assert result["outputs"]["decision"]["action"] == "WRITE_BACK"
    assert plant.command == 1
    with _Plant(60.0) as plant:
        result = _run(bundle, f"opc.tcp://127.0.0.1:{plant.port}")
    assert result["outputs"]["decision"]["action"] == "NONE"
    assert plant.command == 0
'''


def _fill(text: str, **values: str) -> str:
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    return text


def project_files(name: str, template: str) -> dict[str, str]:
    """The files of a new project, by relative path."""
    if not _NAME.fullmatch(name):
        raise ScaffoldError(
            f"invalid project name `{name}`: use letters, digits, `_`, `.` and `-`, "
            "not starting with a digit or `-`"
        )
    if template not in TEMPLATES:
        raise ScaffoldError(f"unknown template `{template}`; choose one of "
                            + ", ".join(TEMPLATES))
    module = re.sub(r"[^A-Za-z0-9_]", "_", name)
    values = {"NAME": name, "MODULE": module, "TEMPLATE": template}
    if template == "minimal":
        files = {
            f"{name}.wdl": _fill(_MINIMAL_WDL, **values),
            "inputs.json": _MINIMAL_INPUTS,
            f"tests/test_{module}.py": _fill(_MINIMAL_TEST, **values),
        }
        readme = _fill(_README, POLICY_LINE="", EXTRA="", **values)
    else:
        files = {
            f"{name}.wdl": _fill(_OPCUA_WDL, **values),
            f"{name}.pdl": _fill(_OPCUA_PDL, **values),
            "inputs.json": _OPCUA_INPUTS,
            f"tests/test_{module}.py": _fill(_OPCUA_TEST, **values),
        }
        readme = _fill(_README, POLICY_LINE=f"\n- `{name}.pdl`: the policy it applies",
                       EXTRA=_OPCUA_EXTRA, **values)
    files["README.md"] = readme
    return files


def create_project(parent: Path, name: str, template: str = "minimal") -> Scaffold:
    """Write a new project ``parent/name``; raises :class:`ScaffoldError` on bad input."""
    files = project_files(name, template)
    root = parent / name
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise ScaffoldError(f"{root}: already exists and is not empty; choose another name "
                            "or remove it")
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=parent))
    try:
        for rel, text in sorted(files.items()):
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        if root.exists():
            root.rmdir()
        os.replace(staging, root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Scaffold(root, tuple(sorted(files)))
