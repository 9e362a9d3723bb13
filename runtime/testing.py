"""Running test fixtures against a bundle: observations, failures with diffs, branch coverage.

Role: the engine of ``tm test`` and of the pytest modules that ``tmc testgen`` writes.  A
fixture file (docs/testing.md) holds the cases of one flow or policy; each case has inputs, a
seed, mocked results for the steps with external effects, and expectations.  Running a case
*observes* the bundle (:func:`observe_flow`, :func:`observe_policy`) and compares the
observation with the expectation; ``tmc testgen`` uses the same functions to compute the
expectations at generation time, so generation and checking cannot drift apart.

Input: a loaded :class:`~.bundle.Bundle` and fixture files.  Output: :class:`TestReport`
(cases passed and failed, with a unified diff per failure, and branch coverage over every
flow and policy of the bundle).

Invariants:
- Mocks are step implementations: a step with a mock returns a copy of the recorded result (or
  raises a non-retryable ``StepFailure`` for an error-path case); the steps the fixture lists
  in ``real_steps`` (pure steps, ``policy.apply``, ``flow.call``) run their real
  implementation; any other step fails with "no mock", so a test never reaches the network.
- Retries never sleep: the executor's ``sleep`` is a no-op.
- Never imports the compiler.
"""

from __future__ import annotations

import asyncio
import copy
import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..stdlib.call import StepFailure
from .bundle import Bundle, BundleError
from .calls import StepCall, StepImpl, StepLookup
from .determinism import json_floats, json_safe
from .ir_eval import Branch, branch_universe, flow_branches_taken, trace_policy
from .policy import DecisionError

FORMAT = "tracemind-fixtures"
FORMAT_VERSION = 1
INTERNAL_KINDS = frozenset({"policy.apply", "flow.call"})
"""Kinds that run bundle code, never outside services: ``testgen`` runs them for real."""


class FixtureError(Exception):
    """A fixture file that cannot be read or is not in the fixture format (a usage error)."""


@dataclass(slots=True)
class Observation:
    """What one case did: the JSON compared with ``expect``, and the branches it took."""

    actual: dict[str, Any]
    branches: set[str]
    problem: str | None = None
    """Set when coverage could not be traced faithfully (the interpreter disagreed)."""


@dataclass(slots=True)
class CaseResult:
    file: str
    kind: str
    target: str
    name: str
    passed: bool
    diff: str = ""
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "kind": self.kind, "target": self.target, "name": self.name,
                "passed": self.passed, "diff": self.diff or None, "problem": self.problem}


@dataclass(slots=True)
class Coverage:
    """Branch coverage over the sources of a bundle; keys are ``<source path>:<branch id>``."""

    universe: dict[str, Branch] = field(default_factory=dict)
    covered: set[str] = field(default_factory=set)

    @property
    def percent(self) -> float:
        if not self.universe:
            return 100.0
        return 100.0 * len(self.covered & set(self.universe)) / len(self.universe)

    def missing(self) -> list[Branch]:
        return [b for key, b in self.universe.items() if key not in self.covered]

    def to_json(self) -> dict[str, Any]:
        sources: dict[str, dict[str, int]] = {}
        for key, branch in self.universe.items():
            entry = sources.setdefault(branch.path, {"branches": 0, "covered": 0})
            entry["branches"] += 1
            entry["covered"] += key in self.covered
        return {"branches": len(self.universe), "covered": len(self.covered & set(self.universe)),
                "percent": round(self.percent, 1), "sources": sources,
                "missing": [b.to_json() for b in self.missing()]}


@dataclass(slots=True)
class TestReport:
    cases: list[CaseResult]
    coverage: Coverage

    @property
    def passed(self) -> int:
        return sum(1 for c in self.cases if c.passed)

    @property
    def failed(self) -> int:
        return len(self.cases) - self.passed

    def to_json(self) -> dict[str, Any]:
        return {"passed": self.passed, "failed": self.failed,
                "cases": [c.to_json() for c in self.cases], "coverage": self.coverage.to_json()}


# ---------------------------------------------------------------------------------------------
# Fixture files


def load_fixture_file(path: str) -> dict[str, Any]:
    """The parsed fixture file at ``path``; :class:`FixtureError` if it is not one."""
    try:
        with open(path, encoding="utf-8") as stream:
            data = json.load(stream)
    except OSError as exc:
        raise FixtureError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise FixtureError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise FixtureError(f"{path}: not a fixture file (expected \"format\": \"{FORMAT}\"; "
                           "write one with `tmc testgen`)")
    if data.get("format_version") != FORMAT_VERSION:
        raise FixtureError(f"{path}: fixture format version {data.get('format_version')!r}, "
                           f"this runtime reads {FORMAT_VERSION}; regenerate with `tmc testgen`")
    if data.get("kind") not in ("flow", "policy") or not isinstance(data.get("cases"), list):
        raise FixtureError(f"{path}: needs \"kind\" (flow or policy) and a \"cases\" list")
    return data


def ir_document(bundle: Bundle, kind: str, target: str) -> dict[str, Any]:
    """The IR JSON of flow or policy ``target`` of ``bundle``."""
    section = "flows" if kind == "flow" else "policies"
    for entry in bundle.manifest.get(section, []):
        if isinstance(entry, dict) and entry.get("id") == target:
            data: dict[str, Any] = json.loads(bundle.file(str(entry["ir"])))
            return data
    raise BundleError(f"{bundle.where}: no {kind} `{target}` with IR in the bundle")


def normalise(value: Any) -> Any:
    """``value`` as JSON would give it back (tuples as lists, non-finite floats tagged)."""
    return json.loads(json.dumps(json_safe(value), allow_nan=False))


# ---------------------------------------------------------------------------------------------
# Observing a case


def _mock_lookup(mocks: Mapping[str, Any], real_steps: frozenset[str]) -> StepLookup:
    from ..stdlib.registry import implementation

    def lookup(kind: str) -> StepImpl:
        try:
            real: StepImpl | None = implementation(kind)
        except LookupError:
            real = None

        async def impl(call: StepCall, args: dict[str, Any]) -> Any:
            mock = mocks.get(call.step_id)
            if isinstance(mock, dict) and "error" in mock:
                error = mock["error"] or {}
                raise StepFailure(str(error.get("message", "mocked failure")),
                                  str(error.get("code", "failed")), retryable=False)
            if isinstance(mock, dict) and "result" in mock:
                return json_floats(copy.deepcopy(mock["result"]))
            if call.step_id in real_steps and real is not None:
                return await real(call, args)
            raise StepFailure(f"step `{call.step_id}` ({kind}) has no mock in the fixture",
                              "no_mock", retryable=False)

        return impl

    return lookup


async def _no_sleep(seconds: float) -> None:
    return None


async def observe_flow(bundle: Bundle, flow_id: str, case: Mapping[str, Any],
                       real_steps: Sequence[str] = (),
                       document: Mapping[str, Any] | None = None) -> Observation:
    """Run flow ``flow_id`` with the case's inputs, seed and mocks."""
    from .runner import BundleRunner
    from .schema import InputError

    runner = BundleRunner(bundle, steps=_mock_lookup(case.get("mocks") or {},
                                                     frozenset(real_steps)),
                          sleep=_no_sleep)
    try:
        result = await runner.run(flow_id, json_floats(case.get("inputs") or {}),
                                  run_id=f"test/{case.get('name', 'case')}",
                                  seed=int(case.get("seed", 0)))
    except InputError as exc:
        return Observation({"input_error": list(exc.errors)}, set())
    counts: dict[str, str] = {}
    for span in result.spans:
        if span.type == "step" and counts.get(span.id) not in ("ok", "failed"):
            counts[span.id] = span.status
    sites = [site.id for site in getattr(bundle.flow(flow_id).module, "SITES", ())]
    error = None
    if result.error is not None:
        error = {"kind": result.error.kind, "message": result.error.message,
                 "location": result.error.location or None, "step": result.error.step}
    actual = {
        "status": result.status,
        "outputs": normalise(result.to_json()["outputs"]),
        "error": error,
        "ran": [s for s in sites if counts.get(s) in ("ok", "failed")],
        "failed": [s for s in sites if counts.get(s) == "failed"],
        "not_run": [s for s in sites if counts.get(s) not in ("ok", "failed")],
    }
    doc = document if document is not None else ir_document(bundle, "flow", flow_id)
    branches = flow_branches_taken(doc, result.spans, result.status == "succeeded")
    return Observation(actual, branches)


def observe_policy(bundle: Bundle, policy_id: str, case: Mapping[str, Any],
                   document: Mapping[str, Any] | None = None) -> Observation:
    """Decide once with the case's inputs, arm and seed; trace branches with the IR."""
    from .abi import FlowError
    from .schema import InputError

    entry = bundle.policy(policy_id)
    try:
        inputs = entry.prepare_inputs(json_floats(case.get("inputs") or {}))
    except InputError as exc:
        return Observation({"input_error": list(exc.errors)}, set())
    seed = int(case.get("seed", 0))
    arm = case.get("arm")
    runner = entry.runner
    output: Any = None
    error = None
    draws: list[Any] = []
    try:
        decision = runner.decide(inputs, arm=arm, seed=seed)
        output, draws = decision.output, decision.draws
    except FlowError as exc:
        error = {"message": exc.message, "location": f"{exc.path}:{exc.line}:{exc.column}"}
    actual: dict[str, Any] = ({"output": normalise(output), "draws": normalise(draws)}
                              if error is None else {"error": error})
    doc = document if document is not None else ir_document(bundle, "policy", policy_id)
    arm_values = runner.arms.get(arm if arm is not None else runner.default_arm, {})
    trace = trace_policy(doc, inputs, arm_values, runner.params, seed)
    problem = None
    if (trace.error is None) != (error is None) or (
            error is None and (normalise(trace.output) != actual["output"]
                               or normalise(trace.draws) != actual["draws"])):
        problem = ("branch coverage of this case is unreliable: the IR interpreter disagrees "
                   "with the generated code")
    return Observation(actual, set(trace.branches), problem)


# ---------------------------------------------------------------------------------------------
# Checking fixtures


def diff_json(expected: Any, actual: Any) -> str:
    """A unified diff of two JSON values (empty when equal)."""
    want = json.dumps(expected, indent=2, sort_keys=True).splitlines()
    got = json.dumps(actual, indent=2, sort_keys=True).splitlines()
    return "\n".join(difflib.unified_diff(want, got, "expected", "actual", lineterm=""))


def check_case(bundle: Bundle, fixture: Mapping[str, Any], case: Mapping[str, Any],
               file: str = "") -> tuple[CaseResult, set[str]]:
    """Run one case and compare; returns the result and the branches it took."""
    kind, target = str(fixture["kind"]), str(fixture["target"])
    name = str(case.get("name", "?"))
    try:
        document = ir_document(bundle, kind, target)
        if kind == "flow":
            seen = asyncio.run(observe_flow(bundle, target, case,
                                            fixture.get("real_steps") or (), document))
        else:
            seen = observe_policy(bundle, target, case, document)
    except (BundleError, DecisionError) as exc:
        return CaseResult(file, kind, target, name, False, problem=str(exc)), set()
    expected = normalise(case.get("expect"))
    diff = diff_json(expected, seen.actual) if expected != seen.actual else ""
    result = CaseResult(file, kind, target, name, not diff and seen.problem is None, diff,
                        seen.problem)
    return result, seen.branches


def bundle_coverage(bundle: Bundle) -> Coverage:
    """The branch universe of every flow and policy of ``bundle``, nothing covered yet."""
    coverage = Coverage()
    for kind, ids in (("flow", bundle.flows), ("policy", bundle.policies)):
        for target in ids:
            for branch in branch_universe(ir_document(bundle, kind, target)):
                coverage.universe[f"{branch.path}:{branch.id}"] = branch
    return coverage


def run_fixture_files(bundle: Bundle, paths: Sequence[str]) -> TestReport:
    """Check every case of the fixture files ``paths`` against ``bundle``."""
    fixtures = [(path, load_fixture_file(path)) for path in paths]
    coverage = bundle_coverage(bundle)
    report = TestReport([], coverage)
    for path, fixture in fixtures:
        source = _source_path(bundle, str(fixture["kind"]), str(fixture["target"]))
        for case in fixture["cases"]:
            result, branches = check_case(bundle, fixture, case, path)
            report.cases.append(result)
            coverage.covered.update(f"{source}:{b}" for b in branches)
    return report


def _source_path(bundle: Bundle, kind: str, target: str) -> str:
    for entry in bundle.manifest.get("flows" if kind == "flow" else "policies", []):
        if isinstance(entry, dict) and entry.get("id") == target:
            return str(entry.get("source", ""))
    return ""


def render_text(report: TestReport, *, coverage: bool) -> str:
    """The human report: one line per case, diffs of failures, totals, coverage."""
    lines: list[str] = []
    for case in report.cases:
        status = "PASS" if case.passed else "FAIL"
        lines.append(f"{status} {case.kind} {case.target}: {case.name}")
        if case.problem:
            lines.append(f"    {case.problem}")
        lines.extend(f"    {line}" for line in case.diff.splitlines())
    lines.append(f"{report.passed} passed, {report.failed} failed")
    if coverage:
        cov = report.coverage
        covered = len(cov.covered & set(cov.universe))
        lines.append(f"branch coverage: {covered}/{len(cov.universe)} ({cov.percent:.1f}%)")
        for path, entry in sorted(cov.to_json()["sources"].items()):
            lines.append(f"  {path}: {entry['covered']}/{entry['branches']}")
        for branch in cov.missing():
            lines.append(f"  not covered: {branch.path}:{branch.line}:{branch.column} "
                         f"{branch.id} ({branch.label})")
    return "\n".join(lines) + "\n"
