"""The step registry: stdlib implementations, plugin implementations and plugin signatures.

Plugins are real distributions as ``importlib.metadata`` reads them: a ``*.dist-info``
directory with METADATA and entry_points.txt, next to the plugin package, in a temporary
directory that the test puts on ``sys.path``.  ``sys.path`` is cut down to that directory and
the standard library while a test runs, so plugins installed in the virtual environment (say
the example plugin, after ``pip install -e examples/plugin-steps``) do not interfere.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_call import FakeCall

from tracemind.compiler import pipeline
from tracemind.compiler.kinds import default_registry
from tracemind.stdlib import registry
from tracemind.stdlib.registry import (
    PluginError,
    StepKindUnavailable,
    clear_plugin_caches,
    discover_plugin_signatures,
    implementation,
    scan_plugin_signatures,
)
from tracemind.stdlib.signatures import STDLIB

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "plugin-steps"

SCALE_KIND = {
    "name": "acme.scale",
    "doc": "Scale a number.",
    "pure": True,
    "args": [{"name": "value", "type": "float"},
             {"name": "factor", "type": "float", "default": 2.0}],
    "result": "{value: float}",
}

SCALE_STEPS = """
async def scale(call, args):
    return {"value": args["value"] * args.get("factor", 2.0)}

STEPS = {"acme.scale": scale}
"""


class Site:
    """A directory on sys.path holding plugin packages and their distributions."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.packages: list[str] = []

    def dist(self, name: str, entry_points: dict[str, str]) -> None:
        info = self.root / f"{name.replace('-', '_')}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n", encoding="utf-8"
        )
        lines = ["[tracemind.steps]", *(f"{k} = {v}" for k, v in entry_points.items())]
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")

    def package(self, name: str, *, kinds: Any = None, steps: str | None = None,
                init: str = "", raw_json: str | None = None) -> Path:
        folder = self.root / name
        folder.mkdir()
        self.packages.append(name)
        (folder / "__init__.py").write_text(init, encoding="utf-8")
        if steps is not None:
            (folder / "steps.py").write_text(textwrap.dedent(steps), encoding="utf-8")
        if raw_json is not None:
            (folder / "tracemind-steps.json").write_text(raw_json, encoding="utf-8")
        elif kinds is not None:
            (folder / "tracemind-steps.json").write_text(json.dumps(kinds), encoding="utf-8")
        return folder

    def plugin(self, dist: str, package: str, kinds: Any = None, steps: str | None = None,
               **options: Any) -> None:
        self.package(package, kinds=kinds, steps=steps, **options)
        self.dist(dist, {"steps": f"{package}.steps:STEPS"})


@pytest.fixture(scope="module")
def warm() -> None:
    """Import everything a lint needs while sys.path is whole (tests then cut it down)."""
    pipeline.lint([str(ROOT / "examples" / "compat")])
    import importlib.metadata  # noqa: F401


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warm: None) -> Iterator[Site]:
    root = tmp_path / "site"
    root.mkdir()
    stdlib = [p for p in sys.path if p.startswith(sys.base_prefix) and "-packages" not in p]
    monkeypatch.setattr(sys, "path", [str(root), *stdlib])
    clear_plugin_caches()
    made = Site(root)
    yield made
    clear_plugin_caches()
    for name in list(sys.modules):
        if name.split(".")[0] in made.packages:
            del sys.modules[name]


def run_impl(kind: str, args: dict[str, Any]) -> dict[str, Any]:
    impl = implementation(kind)

    async def go() -> dict[str, Any]:
        return await impl(FakeCall(), args)

    return asyncio.run(go())


# Stdlib implementations ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(STDLIB.names()))
def test_every_stdlib_kind_has_an_async_implementation_but_mcp_call(kind: str) -> None:
    if kind == "mcp.call":
        with pytest.raises(StepKindUnavailable) as info:
            implementation(kind)
        assert str(info.value) == (
            "step kind mcp.call has no implementation in this release; it arrives with MCP "
            "support"
        )
        return
    impl = implementation(kind)
    assert inspect.iscoroutinefunction(impl)
    assert implementation(kind) is impl


def test_core_kinds_run_through_the_registry() -> None:
    assert run_impl("core.set", {"value": [1, 2]}) == {"value": [1, 2]}


def test_a_core_kind_does_not_import_the_network_libraries() -> None:
    code = (
        "import sys\n"
        "from tracemind.stdlib.registry import implementation\n"
        "implementation('core.log'); implementation('core.set')\n"
        "print(sorted(m for m in ('asyncua', 'aiohttp') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


def test_unknown_kind(site: Site) -> None:
    with pytest.raises(StepKindUnavailable) as info:
        implementation("acme.nothing")
    assert str(info.value) == (
        "unknown step kind `acme.nothing`: neither the stdlib nor an installed plugin has it"
    )


# Plugin implementations ---------------------------------------------------------------------


def test_plugin_implementation_is_found_through_its_entry_point(site: Site) -> None:
    site.plugin("acme-steps", "acme_steps", [SCALE_KIND], SCALE_STEPS)
    assert run_impl("acme.scale", {"value": 3.0}) == {"value": 6.0}
    assert run_impl("acme.scale", {"value": 3.0, "factor": 0.5}) == {"value": 1.5}


def test_a_plugin_that_fails_to_import_is_named_when_its_kind_is_asked_for(site: Site) -> None:
    site.plugin("broken-steps", "broken_steps", [SCALE_KIND], SCALE_STEPS,
                init="raise RuntimeError('boom at import')\n")
    with pytest.raises(StepKindUnavailable) as info:
        implementation("acme.scale")
    message = str(info.value)
    assert "unknown step kind `acme.scale`" in message
    assert ("plugin broken-steps: cannot load entry point `steps = broken_steps.steps:STEPS` "
            "(RuntimeError: boom at import)") in message


def test_an_entry_point_that_is_not_a_mapping_is_reported(site: Site) -> None:
    site.plugin("odd-steps", "odd_steps", [SCALE_KIND], "STEPS = ['acme.scale']\n")
    with pytest.raises(StepKindUnavailable, match="must be a mapping from step kind to async "
                       "function, not list"):
        implementation("acme.scale")


def test_a_plugin_cannot_replace_a_stdlib_implementation(site: Site) -> None:
    site.plugin("evil-steps", "evil_steps", [], """
        async def log(call, args):
            return {"hijacked": True}
        STEPS = {"core.log": log}
    """)
    impl = implementation("core.log")
    assert impl.__module__ == "tracemind.stdlib.core"


def test_two_plugins_with_one_kind_clash(site: Site) -> None:
    site.plugin("one-steps", "one_steps", [SCALE_KIND], SCALE_STEPS)
    site.plugin("two-steps", "two_steps", [SCALE_KIND], SCALE_STEPS)
    with pytest.raises(StepKindUnavailable) as info:
        implementation("acme.scale")
    assert str(info.value) == (
        "step kind `acme.scale` is provided by two plugins, one-steps and two-steps; "
        "uninstall one"
    )


# Plugin signatures (compiler side) ----------------------------------------------------------


def test_signatures_are_read_without_importing_the_plugin(site: Site) -> None:
    # The package raises when imported: discovery must not import it.
    site.plugin("acme-steps", "acme_steps", [SCALE_KIND], SCALE_STEPS,
                init="raise RuntimeError('the compiler imported plugin code')\n")
    [kind] = discover_plugin_signatures()
    assert (kind.name, kind.origin, kind.pure, kind.result) == (
        "acme.scale", "acme-steps", True, "{value: float}"
    )
    assert [(a.name, a.type, a.required) for a in kind.args] == [
        ("value", "float", True), ("factor", "float", False)
    ]
    assert "acme_steps" not in sys.modules


def test_no_plugins_means_the_stdlib_registry(site: Site) -> None:
    assert discover_plugin_signatures() == []
    assert set(default_registry().names()) == set(STDLIB.names())


def test_entry_points_of_one_package_share_one_file(site: Site) -> None:
    site.package("multi_steps", kinds=[SCALE_KIND], steps=SCALE_STEPS)
    site.dist("multi-steps", {"a": "multi_steps.steps:STEPS", "b": "multi_steps:OTHER"})
    assert [k.name for k in discover_plugin_signatures()] == ["acme.scale"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"kinds": None}, "package `bad_steps` has no tracemind-steps.json (ship it as "
                          "package data next to its __init__.py"),
        ({"raw_json": "[{"}, "tracemind-steps.json: not valid JSON"),
        ({"kinds": {"name": "acme.scale"}}, "must hold a JSON list of step kinds, not an object"),
        ({"kinds": ["acme.scale"]}, "item 1 must be an object, not a string"),
        ({"kinds": [{**SCALE_KIND, "name": "scale"}]},
         "item 1: bad-steps: step kind name `scale` is not `package.operation`"),
        ({"kinds": [{**SCALE_KIND, "pure": "yes"}]}, "`pure` of `acme.scale` must be true or "
                                                     "false"),
        ({"kinds": [{**SCALE_KIND, "name": "core.log"}]},
         "plugin bad-steps: step kind `core.log` belongs to the stdlib"),
    ],
)
def test_broken_signature_files_are_reported(site: Site, options: dict[str, Any],
                                             message: str) -> None:
    site.plugin("bad-steps", "bad_steps", steps=SCALE_STEPS, **options)
    scan = scan_plugin_signatures()
    assert scan.kinds == ()
    [problem] = scan.problems
    assert problem.startswith("plugin bad-steps")
    assert message in problem
    with pytest.raises(PluginError, match="bad-steps"):
        discover_plugin_signatures()


def test_a_module_plugin_has_nowhere_to_keep_its_file(site: Site) -> None:
    (site.root / "lone_steps.py").write_text("STEPS = {}\n", encoding="utf-8")
    site.dist("lone-steps", {"steps": "lone_steps:STEPS"})
    [problem] = scan_plugin_signatures().problems
    assert "`lone_steps` is a module, not a package" in problem


def test_a_missing_package_is_reported(site: Site) -> None:
    site.dist("ghost-steps", {"steps": "ghost_steps.steps:STEPS"})
    [problem] = scan_plugin_signatures().problems
    assert problem == ("plugin ghost-steps (entry point `steps = ghost_steps.steps:STEPS`): "
                       "package `ghost_steps` is not installed")


def test_two_plugins_declaring_one_kind_are_reported(site: Site) -> None:
    site.plugin("one-steps", "one_steps", [SCALE_KIND], SCALE_STEPS)
    site.plugin("two-steps", "two_steps", [SCALE_KIND], SCALE_STEPS)
    scan = scan_plugin_signatures()
    assert [k.origin for k in scan.kinds] == ["one-steps"]
    assert scan.problems == (
        "plugin two-steps: step kind `acme.scale` is also declared by one-steps; uninstall one",
    )


def test_discovery_is_cached_per_sys_path(site: Site) -> None:
    assert discover_plugin_signatures() == []
    site.plugin("late-steps", "late_steps", [SCALE_KIND], SCALE_STEPS)
    assert discover_plugin_signatures() == []  # cached
    clear_plugin_caches()
    assert [k.name for k in discover_plugin_signatures()] == ["acme.scale"]


# The compiler uses them ----------------------------------------------------------------------

FLOW = """\
version: dsl/v1
workflow: scaled
inputs:
  x: float
steps:
  - s(acme.scale):
      value: $input.x
  - log(core.log):
      message: $step.s.value
outputs:
  y: $step.s.value
"""


def test_lint_checks_plugin_steps_against_their_signatures(site: Site, tmp_path: Path) -> None:
    flow = tmp_path / "scaled.wdl"
    flow.write_text(FLOW, encoding="utf-8")
    result = pipeline.lint([str(flow)])
    assert [d.code for d in result.diagnostics] == ["TM0211"]  # no plugin yet

    site.plugin("acme-steps", "acme_steps", [SCALE_KIND], SCALE_STEPS)
    clear_plugin_caches()
    result = pipeline.lint([str(flow)])
    assert result.diagnostics == []
    assert result.registry is not None and "acme.scale" in result.registry

    wrong = FLOW.replace("value: $input.x", 'value: $input.x\n      factor: "high"')
    flow.write_text(wrong, encoding="utf-8")
    assert [d.code for d in pipeline.lint([str(flow)]).diagnostics] == ["TM0302"]


def test_lint_refuses_to_run_with_a_broken_plugin(site: Site, tmp_path: Path) -> None:
    site.plugin("bad-steps", "bad_steps", raw_json="nope", steps=SCALE_STEPS)
    flow = tmp_path / "scaled.wdl"
    flow.write_text(FLOW, encoding="utf-8")
    with pytest.raises(pipeline.UsageError) as info:
        pipeline.lint([str(flow)])
    [message] = info.value.messages
    assert message.startswith("an installed step plugin is broken: plugin bad-steps: ")
    assert "not valid JSON" in message


# The worked example in examples/plugin-steps --------------------------------------------------


def _install_example_from_source(site: Site) -> None:
    """The example as pip would install it: its src/ on sys.path and its entry points."""
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))
    sys.path.insert(0, str(EXAMPLE / "src"))
    site.packages.append("tracemind_example_steps")
    site.dist(project["project"]["name"], project["project"]["entry-points"]["tracemind.steps"])


def test_the_example_plugin_lints_and_runs(site: Site) -> None:
    _install_example_from_source(site)
    kinds = {k.name: k for k in discover_plugin_signatures()}
    assert set(kinds) == {"example.scale", "example.upper"}
    assert {k.origin for k in kinds.values()} == {"tracemind-example-steps"}

    result = pipeline.lint([str(EXAMPLE / "flows")])
    assert result.files == 1 and result.diagnostics == []

    assert run_impl("example.scale", {"value": 100.0, "factor": 1.8, "offset": 32.0}) == {
        "value": 212.0
    }
    assert run_impl("example.scale", {"value": 2.0}) == {"value": 4.0}
    assert run_impl("example.upper", {"text": "fahrenheit"}) == {"text": "FAHRENHEIT"}


def test_the_example_readme_names_the_entry_point_group() -> None:
    readme = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    assert registry.ENTRY_POINT_GROUP in readme and registry.SIGNATURE_FILE in readme
    assert "pip install -e examples/plugin-steps" in readme
    assert os.path.isfile(EXAMPLE / "src" / "tracemind_example_steps" / registry.SIGNATURE_FILE)
