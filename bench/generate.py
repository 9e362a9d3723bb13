"""Generators of large WDL and PDL documents for the benchmarks.

- ``linear_workflow(n)``: ``n`` steps in a chain; every step reads the previous one, each has
  a literal argument and a small expression, every tenth carries ``@timeout``/``@retry``.
- ``branchy_workflow(n)``: ``n`` steps in all, in ``when``/``else`` blocks (each followed by a
  step joining the branches with ``coalesce``), ``parallel`` blocks and ``for`` loops (each
  followed by a step reading the loop's list), so scoping and optional reads are exercised.
- ``policy(lines)``: a policy of about ``lines`` lines with arms, parameters, nested
  ``if``/``elif``/``else`` and ``choose`` blocks.

The output is valid: ``tmc lint`` reports no errors on any of them (a test checks it).
"""

from __future__ import annotations


def _step(i: int, prev: str | None, indent: str) -> list[str]:
    value = f"$step.{prev}.value + {i}" if prev else f"$input.base + {i}"
    lines = [
        f"{indent}- s{i}(core.set):",
        f"{indent}    value: {value}",
    ]
    if i % 10 == 0:
        lines += [f"{indent}    @timeout: 5s", f"{indent}    @retry: {{max: 3, backoff: 200ms}}"]
    return lines


_HEADER = [
    "version: dsl/v1",
    "workflow: bench-{kind}",
    "description: generated benchmark workflow",
    "inputs:",
    "  base: int = 1",
    "  items: list<int> = [1, 2, 3]",
    "steps:",
]


def linear_workflow(n: int) -> str:
    lines = [h.format(kind="linear") for h in _HEADER]
    prev = None
    for i in range(n):
        lines += _step(i, prev, "  ")
        prev = f"s{i}"
    lines += ["outputs:", f"  last: $step.{prev}.value" if prev else "  last: 0"]
    return "\n".join(lines) + "\n"


def branchy_workflow(n: int) -> str:
    lines = [h.format(kind="branchy") for h in _HEADER]
    prev: str | None = None
    i = 0
    group = 0
    while i < n:
        shape = group % 3
        group += 1
        if shape == 0 and i + 3 <= n:
            cond = f"$step.{prev}.value > 10" if prev else "$input.base > 10"
            lines.append(f"  - when {cond}:")
            lines += _step(i, prev, "      ")
            lines.append("    else:")
            lines += _step(i + 1, prev, "      ")
            joined = f"j{i}"
            lines += [
                f"  - {joined}(core.set):",
                f"      value: coalesce($step.s{i}.value, $step.s{i + 1}.value, 0)",
            ]
            prev = joined
            i += 3
        elif shape == 1 and i + 2 <= n:
            lines.append("  - parallel:")
            lines += _step(i, prev, "      ")
            lines += _step(i + 1, prev, "      ")
            prev = f"s{i + 1}"
            i += 2
        elif i + 2 <= n:
            lines.append("  - for item in $input.items:")
            lines += [f"      - s{i}(core.set):", "          value: item * 2"]
            lines += [f"  - n{i}(core.set):", f"      value: len($step.s{i})"]
            prev = f"n{i}"
            i += 2
        else:
            lines += _step(i, prev, "  ")
            prev = f"s{i}"
            i += 1
    lines += ["outputs:", f"  last: $step.{prev}.value" if prev else "  last: 0"]
    return "\n".join(lines) + "\n"


def policy(lines_wanted: int) -> str:
    lines = [
        "version: pdl/v1",
        "policy: bench-policy",
        "inputs:",
        "  values: map<float>",
        "arms:",
        '  default: {threshold: 75.0, action_on_violation: WRITE_BACK, target_node: "ns=2;i=1"}',
        '  cautious: {threshold: 65.0, action_on_violation: SHUTDOWN, target_node: "ns=2;i=1"}',
        "epsilon: 0.1",
        "evaluate:",
        '  temp := coalesce(values["ns=2;i=2"], first_numeric(values))',
        '  action = "NONE"',
        "  score = 0.0",
    ]
    i = 0
    while len(lines) < lines_wanted - 8:
        lines += [
            f"  if temp >= arms.active.threshold + {i}:",
            f"    score = score + {i}.5",
            "    choose:",
            "      exploit: action = arms.active.action_on_violation",
            '      explore: random(["NONE", "WRITE_BACK", "SHUTDOWN"]) with p = epsilon',
            f"  elif temp >= arms.active.threshold - {i % 7 + 1}:",
            f'    action = "WATCH" if score > {i} else action',
            "  else:",
            f"    score = max(score - 1, {i % 3}.0)",
        ]
        i += 1
    lines += [
        "emit:",
        "  action: action",
        "  target_node: arms.active.target_node",
        "  score: score",
        "  reason: {temp: temp, threshold: arms.active.threshold}",
    ]
    return "\n".join(lines) + "\n"


def workflow_of_lines(lines_wanted: int) -> str:
    """A linear workflow of about ``lines_wanted`` lines (for editor-latency figures)."""
    steps = max(1, (lines_wanted - 10) * 10 // 24)
    return linear_workflow(steps)
