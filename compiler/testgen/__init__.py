"""``tmc testgen``: sources -> fixture files and a pytest module that runs them.

Role: compile the sources in memory, analyse the IR of every flow and policy
(:mod:`.values`: thresholds, literals, keys; :mod:`.search`: variants, selection, seeds), run
each candidate on the compiled modules to record its expectations, and write one fixture file
per flow and per policy plus ``test_tracemind_fixtures.py`` (docs/testing.md).

Input: source paths (files or directories, as ``tmc compile`` takes them), an output
directory, an optimization level.  Output: the files in the directory and a
:class:`TestgenResult` (cases per target).

Invariants:
- Regeneration replaces: fixture files (``*.fixture.json`` in the fixture format) left over in
  the directory from an earlier run are removed, so no stale fixture survives.
- Expectations are observed on the compiled bundle at generation time with the same runtime
  functions ``tm test`` uses to check them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

TEST_MODULE = "test_tracemind_fixtures.py"
FIXTURE_SUFFIX = ".fixture.json"


@dataclass(slots=True)
class TestgenResult:
    """What was written: fixture file name -> number of cases, and the uncovered branches."""

    out: str
    files: dict[str, int] = field(default_factory=dict)
    uncovered: dict[str, list[str]] = field(default_factory=dict)


def generate(paths: Sequence[str], out: str, level: int = 1) -> TestgenResult:
    """Compile ``paths``, generate the cases and write them to ``out``.

    Raises :class:`~..bundle.CompileError` for sources with errors and
    :class:`~..pipeline.UsageError` for paths that name no sources.
    """
    from ... import __version__
    from ...runtime.bundle import load_bundle
    from ...runtime.ir_eval import branch_universe
    from ...runtime.testing import FORMAT, FORMAT_VERSION, ir_document
    from ..bundle import CompileError, compile_inputs
    from ..pipeline import resolve_inputs
    from .search import flow_cases, policy_cases, real_steps
    from .values import collect_pool

    inputs = resolve_inputs(paths)
    outcome = compile_inputs(inputs, level)
    if outcome.bundle is None:
        raise CompileError(outcome.result)
    bundle = load_bundle(outcome.bundle)
    manifest = outcome.bundle.manifest
    hashes = {s["path"]: s["sha256"] for s in manifest["sources"]}
    targets: list[tuple[str, dict[str, Any]]] = [
        *(("flow", e) for e in manifest["flows"]), *(("policy", e) for e in manifest["policies"])]
    documents = {(kind, str(e["id"])): ir_document(bundle, kind, str(e["id"]))
                 for kind, e in targets}
    pool = collect_pool(documents.values())
    result = TestgenResult(out)
    fixtures: dict[str, bytes] = {}
    for kind, entry in targets:
        target = str(entry["id"])
        document = documents[(kind, target)]
        if kind == "flow":
            cases = flow_cases(bundle, target, document, pool)
        else:
            cases = policy_cases(bundle, target, document, pool)
        universe = [b.id for b in branch_universe(document)]
        covered = {b for case in cases for b in case["covers"]}
        fixture: dict[str, Any] = {
            "format": FORMAT, "format_version": FORMAT_VERSION,
            "generated_by": f"tmc {__version__}", "kind": kind, "target": target,
            "source": entry["source"], "source_sha256": hashes.get(entry["source"]),
            "branches": universe, "cases": cases,
        }
        if kind == "flow":
            fixture["real_steps"] = real_steps(document)
        stem = os.path.basename(str(entry["module"])).removesuffix(".py")
        name = f"{kind}.{stem}{FIXTURE_SUFFIX}"
        fixtures[name] = (json.dumps(fixture, indent=2, ensure_ascii=False, allow_nan=False)
                          + "\n").encode("utf-8")
        result.files[name] = len(cases)
        missing = [b for b in universe if b not in covered]
        if missing:
            result.uncovered[name] = missing
    sources = [os.path.relpath(os.path.abspath(i.path), os.path.abspath(out)) for i in inputs]
    _write(out, fixtures, _test_module(sources, sorted(fixtures)))
    return result


def _write(out: str, fixtures: dict[str, bytes], module: bytes) -> None:
    from ...runtime.testing import FixtureError, load_fixture_file

    os.makedirs(out, exist_ok=True)
    for name in sorted(os.listdir(out)):
        path = os.path.join(out, name)
        if name.endswith(FIXTURE_SUFFIX) and name not in fixtures and os.path.isfile(path):
            try:
                load_fixture_file(path)
            except FixtureError:
                continue  # not ours: leave it
            os.remove(path)
    for name, data in {**fixtures, TEST_MODULE: module}.items():
        with open(os.path.join(out, name), "wb") as stream:
            stream.write(data)


def _test_module(sources: list[str], fixtures: list[str]) -> bytes:
    from ... import __version__

    text = f'''"""Generated by tmc {__version__} (`tmc testgen`).  Do not edit: run it again.

Runs every case of the fixture files next to this module against the bundle compiled from the
sources below (or the bundle named by the TM_TEST_BUNDLE environment variable).
"""

import os
import pathlib

import pytest

from tracemind.runtime.bundle import load_bundle
from tracemind.runtime.testing import check_case, load_fixture_file

HERE = pathlib.Path(__file__).resolve().parent
SOURCES = {sources!r}
FIXTURES = {fixtures!r}


@pytest.fixture(scope="module")
def bundle():
    target = os.environ.get("TM_TEST_BUNDLE")
    if target:
        return load_bundle(target)
    from tracemind.compiler.bundle import compile_to_memory

    return load_bundle(compile_to_memory([str(HERE / s) for s in SOURCES]))


def _cases():
    for name in FIXTURES:
        fixture = load_fixture_file(str(HERE / name))
        for case in fixture["cases"]:
            ident = f"{{fixture['kind']}}:{{fixture['target']}}:{{case['name']}}"
            yield pytest.param(fixture, case, name, id=ident)


@pytest.mark.parametrize(("fixture", "case", "file"), list(_cases()))
def test_case(bundle, fixture, case, file):
    result, _ = check_case(bundle, fixture, case, file)
    assert result.passed, result.problem or result.diff
'''
    return text.encode("utf-8")
