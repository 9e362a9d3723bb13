"""Case selection: variants of a base case, run on the compiled bundle, kept by what they add.

Role: build the cases of one flow or policy.  The *slots* of a case are the inputs and the
mocked results of the steps with external effects (typed by the step's result type).  The base
case puts a neutral value in every slot (inputs with a default are left out); each variant
changes one slot to one alternative from :mod:`.values`, or makes one ``@on_error`` step fail,
or selects another arm.  Every candidate runs on the compiled module
(``tracemind.runtime.testing``), and its observation becomes its expectation.

A candidate is kept when it covers a branch no kept case covers, when its category is one the
issue asks for by name (boundary, null, empty list, default, error path, arm) and its inputs
differ from every kept case, or when it behaves differently from every kept case.  Branches
still uncovered (a ``choose`` option, a ``when`` that depends on a draw) are then searched for
by trying seeds on the kept cases.

Input: a loaded runtime bundle, the IR JSON of the target, the value pool.  Output: case dicts
(``name``, ``why``, ``inputs``, ``seed``, ``arm``, ``mocks``, ``expect``, ``covers``).

Invariants: no two cases have the same inputs, mocks, seed and arm; at most
:data:`MAX_CASES` cases per target; deterministic.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable, Mapping
from typing import Any

from ...runtime.bundle import Bundle
from ...runtime.ir_eval import branch_universe
from ...runtime.testing import INTERNAL_KINDS, Observation, observe_flow, observe_policy
from .values import Pool, Variant, base_value, parse_type, variants

MAX_CASES = 40
FLOW_SEEDS = 32
POLICY_SEEDS = 256
NO_EFFECT_KINDS = frozenset({"core.log", "core.fail"})
"""Non-pure kinds without external effects: they run for real in tests."""
NAMED_CATEGORIES = frozenset({"null", "empty", "default", "error", "arm"})
"""Kept for distinct inputs even when they behave like a kept case (inputs slots only)."""

Case = dict[str, Any]
Setter = Callable[[Case, Any], None]
Slot = tuple[str, Setter, list[Variant], bool]
"""(label, setter, alternatives, whether the slot is an input)."""


def steps_of(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every step node of a flow's IR JSON, in document order."""
    out: list[Mapping[str, Any]] = []
    stack: list[Any] = list(reversed(document.get("body", [])))
    while stack:
        node = stack.pop()
        if node.get("node") == "step":
            out.append(node)
        for key in ("then", "else", "branches", "body", "steps"):
            children = node.get(key)
            if isinstance(children, list):
                stack.extend(reversed(children))
    return out


def real_steps(document: Mapping[str, Any]) -> list[str]:
    """Steps that run their real implementation in tests (pure or without external effects)."""
    return [str(s["id"]) for s in steps_of(document)
            if s.get("pure") or s.get("kind") in INTERNAL_KINDS | NO_EFFECT_KINDS]


class _Selector:
    """Keeps candidates by coverage, category and behaviour; see the module docstring."""

    def __init__(self, universe: set[str],
                 observe: Callable[[Case], Observation]) -> None:
        self.universe = universe
        self.observe = observe
        self.cases: list[Case] = []
        self.covered: set[str] = set()
        self._keys: set[str] = set()
        self._behaviours: set[str] = set()
        self._inputs: set[str] = set()
        self._seen: dict[str, Observation] = {}

    def _observe(self, case: Case) -> Observation:
        key = self.key(case)
        if key not in self._seen:
            self._seen[key] = self.observe(case)
        return self._seen[key]

    def offer_group(self, cases: list[tuple[Case, str]]) -> None:
        """Offer the boundary values of one threshold: all are kept when they do not all
        behave alike (the threshold decides something), else each on its own merits."""
        behaviours = {json.dumps(self._observe(c).actual, sort_keys=True) for c, _ in cases}
        for case, category in cases:
            self.offer(case, "boundary" if len(behaviours) > 1 else category,
                       force=len(behaviours) > 1)

    @staticmethod
    def key(case: Case) -> str:
        return json.dumps([case["inputs"], case.get("mocks"), case["seed"], case.get("arm")],
                          sort_keys=True)

    def offer(self, case: Case, category: str, *, only_new_branches: bool = False,
              force: bool = False) -> bool:
        if len(self.cases) >= MAX_CASES:
            return False
        key = self.key(case)
        if key in self._keys:
            return False
        seen = self._observe(case)
        if seen.problem is not None:
            return False
        new_branches = seen.branches - self.covered
        behaviour = json.dumps(seen.actual, sort_keys=True)
        inputs = json.dumps([case["inputs"], case.get("mocks"), case.get("arm")],
                            sort_keys=True)
        keep = bool(new_branches) or (not only_new_branches and (
            (category in NAMED_CATEGORIES and inputs not in self._inputs)
            or behaviour not in self._behaviours))
        if not keep:
            return False
        self._keys.add(key)
        self._behaviours.add(behaviour)
        self._inputs.add(inputs)
        self.covered |= seen.branches
        case["expect"] = seen.actual
        case["covers"] = sorted(seen.branches)
        self.cases.append(case)
        return True

    def search_seeds(self, limit: int) -> None:
        """Try seeds on the kept cases until no branch is left uncovered (or seeds run out)."""
        for case in list(self.cases):
            for seed in range(1, limit):
                if not self.universe - self.covered or len(self.cases) >= MAX_CASES:
                    return
                candidate = {**copy.deepcopy(case), "seed": seed}
                candidate["why"] = [*case["why"], f"seed {seed}"]
                candidate["name"] = f"{case['name']}, seed {seed}"
                self.offer(candidate, "seed", only_new_branches=True)


def _name_cases(cases: list[Case]) -> list[Case]:
    seen: dict[str, int] = {}
    for case in cases:
        name = case["name"]
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            case["name"] = f"{name} #{seen[name]}"
    return cases


def _setter(section: str, name: str, wrap: bool) -> Setter:
    def put(case: Case, value: Any) -> None:
        case[section][name] = {"result": value} if wrap else value

    return put


def _input_slots(document: Mapping[str, Any], pool: Pool, base: Case) -> list[Slot]:
    slots: list[Slot] = []
    for item in document.get("inputs", []):
        name = str(item["name"])
        typ = parse_type(str(item["type"]))
        put = _setter("inputs", name, wrap=False)

        alternatives = variants(typ, pool)
        if item.get("has_default"):
            alternatives = [("explicit value", "value", base_value(typ), ""), *alternatives]
        slots.append((f"input {name}", put, alternatives, True))
        if not item.get("has_default"):
            base["inputs"][name] = base_value(typ)
    return slots


def _offer_slots(selector: _Selector, base: Case, slots: list[Slot]) -> None:
    """One variant per alternative of each slot; boundary triples offered together."""
    for label, put, alternatives, is_input in slots:
        groups: dict[str, list[tuple[Case, str]]] = {}
        for text, category, value, group in alternatives:
            case = copy.deepcopy(base)
            put(case, copy.deepcopy(value))
            case["name"] = f"{label}: {text}"
            case["why"] = [f"{label}: {text}"]
            if not is_input and category in NAMED_CATEGORIES:
                category = "value"
            if group:
                groups.setdefault(group, []).append((case, category))
            else:
                selector.offer(case, category)
        for members in groups.values():
            selector.offer_group(members)


def flow_cases(bundle: Bundle, flow_id: str, document: Mapping[str, Any],
               pool: Pool) -> list[Case]:
    """The selected cases of flow ``flow_id``."""
    real = real_steps(document)
    mocked = [s for s in steps_of(document) if str(s["id"]) not in real]
    base: Case = {"name": "base", "why": ["neutral values"], "inputs": {}, "seed": 0,
                  "mocks": {}}
    slots = _input_slots(document, pool, base)
    for step in mocked:
        step_id = str(step["id"])
        typ = parse_type(str(step.get("result", "any")))
        base["mocks"][step_id] = {"result": base_value(typ)}
        slots.append((f"step {step_id} result", _setter("mocks", step_id, wrap=True),
                      variants(typ, pool), False))
    universe = {b.id for b in branch_universe(document)}

    def observe(case: Case) -> Observation:
        return asyncio.run(observe_flow(bundle, flow_id, case, real, document))

    selector = _Selector(universe, observe)
    selector.offer(copy.deepcopy(base), "base")
    _offer_slots(selector, base, slots)
    for step in steps_of(document):
        if step.get("on_error", "fail") != "fail":
            case = copy.deepcopy(base)
            case["mocks"][str(step["id"])] = {
                "error": {"message": f"mocked failure of {step['id']}", "code": "mocked"}}
            case["name"] = f"step {step['id']} fails (@on_error: {step['on_error']})"
            case["why"] = [case["name"]]
            selector.offer(case, "error")
    # A flow draws only inside the policies (and flows) it calls: without them seeds are moot.
    if any(s.get("kind") in INTERNAL_KINDS for s in steps_of(document)):
        selector.search_seeds(FLOW_SEEDS)
    return _name_cases(selector.cases)


def policy_cases(bundle: Bundle, policy_id: str, document: Mapping[str, Any],
                 pool: Pool) -> list[Case]:
    """The selected cases of policy ``policy_id``."""
    base: Case = {"name": "base", "why": ["neutral values"], "inputs": {}, "seed": 0,
                  "arm": None}
    slots = _input_slots(document, pool, base)
    universe = {b.id for b in branch_universe(document)}

    def observe(case: Case) -> Observation:
        return observe_policy(bundle, policy_id, case, document)

    selector = _Selector(universe, observe)
    selector.offer(copy.deepcopy(base), "base")
    _offer_slots(selector, base, slots)
    arms = list(document.get("arms") or {})
    for arm in arms[1:]:
        for index, kept in enumerate(list(selector.cases)):
            case = {**copy.deepcopy(kept), "arm": arm, "name": f"{kept['name']}, arm {arm}"}
            case["why"] = [*kept["why"], f"arm {arm}"]
            selector.offer(case, "arm", only_new_branches=index > 0)
    selector.search_seeds(POLICY_SEEDS)
    return _name_cases(selector.cases)
