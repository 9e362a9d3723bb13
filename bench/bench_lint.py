"""Lint time for large generated documents, in-process and through the CLI.

Prints, for linear and branchy workflows of 2,000 and 20,000 steps and a 500-line policy, the
best-of-N wall time of ``tmc lint`` in-process (``pipeline.lint``) and as a subprocess, and the
ratio 20,000 / 2,000 (linear scaling means a ratio near 10; the target is <= 12).

Targets on the 2-core reference machines: 2,000-step lint under 0.3 s in-process; a 500-line
file under 50 ms.  Run: ``.venv/bin/python bench/bench_lint.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import branchy_workflow, linear_workflow, policy, workflow_of_lines

from tracemind.compiler.pipeline import lint


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tmc = shutil.which("tmc") or str(Path(sys.executable).with_name("tmc"))
    work = Path(tempfile.mkdtemp(prefix="tm-bench-"))
    cases: dict[str, str] = {
        "linear-2000.wdl": linear_workflow(2_000),
        "linear-20000.wdl": linear_workflow(20_000),
        "branchy-2000.wdl": branchy_workflow(2_000),
        "branchy-20000.wdl": branchy_workflow(20_000),
        "policy-500.pdl": policy(500),
        "workflow-500.wdl": workflow_of_lines(500),
    }
    times: dict[str, float] = {}
    print(f"{'file':<20} {'lines':>7} {'in-process':>12} {'cli':>10}  errors")
    for name, text in cases.items():
        path = work / name
        path.write_text(text, encoding="utf-8")
        result = lint([str(path)])
        in_process = best_of(args.repeat, lambda p=str(path): lint([p]))
        cli = best_of(args.repeat, lambda p=str(path): subprocess.run(
            [tmc, "lint", "--format", "json", p], capture_output=True, check=False))
        times[name] = in_process
        lines = text.count("\n")
        print(f"{name:<20} {lines:>7} {in_process * 1000:>10.1f}ms {cli * 1000:>8.1f}ms  "
              f"{result.errors}")
    for kind in ("linear", "branchy"):
        ratio = times[f"{kind}-20000.wdl"] / times[f"{kind}-2000.wdl"]
        print(f"ratio {kind} 20,000 / 2,000: {ratio:.1f} (target <= 12)")
    print(f"2,000-step lint in-process: {times['linear-2000.wdl'] * 1000:.0f} ms linear, "
          f"{times['branchy-2000.wdl'] * 1000:.0f} ms branchy (target < 300 ms)")
    print(f"500-line files: policy {times['policy-500.pdl'] * 1000:.1f} ms, workflow "
          f"{times['workflow-500.wdl'] * 1000:.1f} ms (target < 50 ms)")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("NO_COLOR", "1")
    raise SystemExit(main())
