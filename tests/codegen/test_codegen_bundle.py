"""``tmc compile``: the bundle's layout and manifest, and its properties (reproducible,
relocatable, all-or-nothing, refusing sources with errors)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
from cg_helpers import write_sources

from tracemind.compiler import cli
from tracemind.compiler.bundle import (
    TARGET_ABI,
    CompileError,
    compile_to_memory,
    module_names,
)
from tracemind.runtime.abi import ABI_VERSION
from tracemind.runtime.bundle import load_bundle

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def test_target_abi_is_the_runtime_abi() -> None:
    assert TARGET_ABI == ABI_VERSION


def _copy_examples(target: Path) -> Path:
    for name in ("compat", "fleet-health", "plant-monitor-v1"):
        shutil.copytree(EXAMPLES / name, target / name)
    return target


def test_manifest_describes_every_artifact(tmp_path: Path) -> None:
    src = _copy_examples(tmp_path / "src")
    bundle = compile_to_memory([str(src)])
    manifest = json.loads(bundle["manifest.json"])
    assert manifest == bundle.manifest
    assert manifest["format"] == "tracemind-bundle" and manifest["abi"] == 1
    assert manifest["name"] == "plant-monitor"  # the first workflow in source-path order
    assert [s["path"] for s in manifest["sources"]] == [
        "compat/plant-monitor.pdl", "compat/plant-monitor.wdl", "fleet-health/fleet-health.wdl",
        "plant-monitor-v1/plant-monitor-v1.pdl", "plant-monitor-v1/plant-monitor-v1.wdl"]
    listed = {a["path"]: a for a in manifest["artifacts"]}
    assert set(listed) == set(bundle) - {"manifest.json"}
    for path, artifact in listed.items():
        assert artifact["sha256"] == hashlib.sha256(bundle[path]).hexdigest()
    flows = {f["id"]: f for f in manifest["flows"]}
    assert flows["plant-monitor"]["module"] == "flows/plant_monitor.py"
    fleet = flows["fleet-health"]
    assert fleet["inputs_schema"]["properties"]["grace"] == {
        "type": "number", "x-tm-type": "duration", "default": 2.0}
    assert fleet["defaults"] == {"services": ["api", "worker"], "grace": 2.0}
    assert fleet["triggers"]["webhook"]["method"] == "POST"
    jsonschema.Draft202012Validator.check_schema(fleet["inputs_schema"])
    jsonschema.validate({"base_url": "http://x"}, fleet["inputs_schema"])
    policies = {p["id"]: p for p in manifest["policies"]}
    assert policies["plant-monitor-v1"]["default_arm"] == "default"
    assert policies["plant-monitor-v1"]["arm_order"] == ["default", "cautious"]
    for path in bundle:
        if path.endswith(".py"):
            compile(bundle[path], path, "exec", dont_inherit=True)
    loaded = load_bundle(bundle)
    assert set(loaded.flows) == {"plant-monitor", "fleet-health", "plant-monitor-v1"}
    assert loaded.flow("fleet-health").module.FLOW_ID == "fleet-health"


def test_module_names_are_safe_and_distinct() -> None:
    names = module_names(["a.b", "a-b", "a_b", "A_B", "plant-monitor", "__init__", "x" * 300])
    assert names["plant-monitor"] == "plant_monitor"
    assert len(set(names.values())) == len(names)
    assert len({n.casefold() for n in names.values()}) == len(names)
    assert all(n.isidentifier() and len(n) < 100 for n in names.values())
    assert names["__init__"] != "__init__"


COMPILE_SCRIPT = (
    "import sys\n"
    "from tracemind.compiler import cli\n"
    "sys.exit(cli.main(sys.argv[1:]))\n"
)


def _compile_in_subprocess(cwd: Path, args: list[str], seed: str) -> None:
    env = dict(os.environ, PYTHONHASHSEED=seed, NO_COLOR="1")
    subprocess.run([sys.executable, "-c", COMPILE_SCRIPT, "compile", *args], cwd=cwd, env=env,
                   check=True, capture_output=True)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_bundles_are_byte_for_byte_reproducible_and_relocatable(tmp_path: Path) -> None:
    first = _copy_examples(tmp_path / "one" / "src")
    second = _copy_examples(tmp_path / "elsewhere" / "deeper" / "src")
    _compile_in_subprocess(tmp_path / "one", ["src", "-o", "out"], "1")
    _compile_in_subprocess(second, [str(second / "fleet-health"), str(second / "compat"),
                                    str(second / "plant-monitor-v1"), "-o",
                                    str(tmp_path / "out2")], "12345")
    _compile_in_subprocess(tmp_path / "one", ["src", "-o", "b.zip", "--zip"], "2")
    _compile_in_subprocess(tmp_path, [str(second), "-o", "b2.zip", "--zip"], "99")
    one, two = _tree(tmp_path / "one" / "out"), _tree(tmp_path / "out2")
    assert one == two and len(one) > 10
    assert (tmp_path / "one" / "b.zip").read_bytes() == (tmp_path / "b2.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "b2.zip") as archive:
        assert {i.filename: archive.read(i) for i in archive.infolist()} == one
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    for data in one.values():
        for leak in (str(tmp_path), str(first), str(ROOT), os.getcwd(), "\\\\"):
            assert leak.encode() not in data
    assert first.exists()


def test_an_error_leaves_an_existing_bundle_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_sources(tmp_path / "good", {"a.wdl": """
        version: dsl/v1
        workflow: a
        steps:
          - x(core.set):
              value: 1
        outputs:
          x: $step.x.value
    """})
    out = tmp_path / "out"
    assert cli.main(["compile", *good, "-o", str(out)]) == 0
    before = _tree(out)
    bad = write_sources(tmp_path / "bad", {"a.wdl": """
        version: dsl/v1
        workflow: a
        steps:
          - x(core.set):
              value: $step.nope.value
        outputs:
          x: $step.x.value
    """})
    assert cli.main(["compile", *bad, "-o", str(out)]) == 1
    assert "error[TM02" in capsys.readouterr().err
    assert _tree(out) == before
    assert cli.main(["compile", *bad, "-o", str(tmp_path / "b.zip"), "--zip"]) == 1
    assert not (tmp_path / "b.zip").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad", "good", "out"]
    assert cli.main(["compile", *good, "-o", str(out), "-O2"]) == 0
    assert json.loads((out / "manifest.json").read_bytes())["optimization"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad", "good", "out"]


def test_refuses_to_replace_what_is_not_a_bundle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_sources(tmp_path, {"a.wdl": """
        version: dsl/v1
        workflow: a
        steps:
          - x(core.set):
              value: 1
        outputs:
          x: $step.x.value
    """})
    keep = tmp_path / "precious"
    keep.mkdir()
    (keep / "notes.txt").write_text("keep me")
    assert cli.main(["compile", *good, "-o", str(keep)]) == 2
    assert "does not hold a bundle" in capsys.readouterr().err
    assert (keep / "notes.txt").read_text() == "keep me"


def test_two_workflows_with_one_id_name_both_files(tmp_path: Path) -> None:
    text = """
        version: dsl/v1
        workflow: same
        steps:
          - x(core.set):
              value: 1
        outputs:
          x: $step.x.value
    """
    paths = write_sources(tmp_path, {"one.wdl": text, "two.wdl": text})
    with pytest.raises(CompileError) as error:
        compile_to_memory(paths)
    (duplicate,) = [d for d in error.value.diagnostics if d.code == "TM0214"]
    message = str(error.value)
    assert "one.wdl" in message and "two.wdl" in message
    assert duplicate.path.endswith(("one.wdl", "two.wdl"))
