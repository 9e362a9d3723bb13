"""Test generation time (``tmc testgen`` in-process) for the 2,000-step linear workflow.

Prints the best-of-N wall time of :func:`tracemind.compiler.testgen.generate` on
``linear_workflow(2000)`` of bench/generate.py (compile in memory, IR analysis, every candidate
case run on the compiled module, fixtures and pytest module written), the compile time alone
for comparison, and the number of cases written.  A second line does the same for the
2,000-step branchy workflow.

Run: ``.venv/bin/python bench/bench_testgen.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import branchy_workflow, linear_workflow

from tracemind.compiler.bundle import compile_to_memory
from tracemind.compiler.testgen import TestgenResult, generate


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def measure(repeat: int, source: str, out: str) -> tuple[float, int]:
    """Best testgen time and the number of cases written."""
    results: list[TestgenResult] = []
    total = best_of(repeat, lambda: results.append(generate([source], out)))
    return total, sum(results[-1].files.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tm-bench-testgen-"))
    try:
        for name, text in (("linear-2000.wdl", linear_workflow(2_000)),
                           ("branchy-2000.wdl", branchy_workflow(2_000))):
            folder = work / name.removesuffix(".wdl")
            folder.mkdir()
            source = folder / name
            source.write_text(text)
            out = work / f"{name}.fixtures"
            total, cases = measure(args.repeat, str(source), str(out))
            compile_only = best_of(args.repeat,
                                   lambda path=str(source): compile_to_memory([path]))
            print(f"{name}: testgen {total:.3f} s (compile alone {compile_only:.3f} s), "
                  f"{cases} cases")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
