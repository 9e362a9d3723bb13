"""Compile time (``tmc compile`` in-process) for large generated workflows.

Prints, for the linear and branchy workflows of bench/generate.py at 2,000 and 20,000 steps,
the best-of-N wall time of ``compile_to_memory`` (the whole pipeline: lint, lower, optimize,
generate the modules, IR JSON, graphs, manifest), the time of lint alone and the difference
(the back end: lower, optimize, codegen, bundle layout), the bundle's size, and the ratio
20,000 / 2,000.

Targets: the 2,000-step linear workflow under 0.5 s, the 20,000-step one under 5 s.
Run: ``.venv/bin/python bench/bench_compile.py [--repeat N] [--level 0|1|2]``.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import branchy_workflow, linear_workflow

from tracemind.compiler.bundle import compile_to_memory
from tracemind.compiler.pipeline import lint

TARGETS = {"linear-2000.wdl": 0.5, "linear-20000.wdl": 5.0}


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    """The best wall time of ``fn`` with the cycle collector paused, as ``compile_to_memory``
    runs (so that the lint column is comparable with the compile column)."""
    best = float("inf")
    for _ in range(repeat):
        gc.disable()
        try:
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
        finally:
            gc.enable()
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--level", type=int, choices=(0, 1, 2), default=1)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tm-bench-compile-"))
    cases = {
        "linear-2000.wdl": linear_workflow(2_000),
        "linear-20000.wdl": linear_workflow(20_000),
        "branchy-2000.wdl": branchy_workflow(2_000),
        "branchy-20000.wdl": branchy_workflow(20_000),
    }
    times: dict[str, float] = {}
    print(f"{'file':<20} {'compile':>10} {'lint':>9} {'back end':>9} {'bundle':>10}  target")
    for name, text in cases.items():
        path = work / name
        path.write_text(text, encoding="utf-8")
        bundle = compile_to_memory([str(path)], args.level)
        size = sum(len(data) for data in bundle.values())
        total = best_of(args.repeat, lambda p=str(path): compile_to_memory([p], args.level))
        linted = best_of(args.repeat, lambda p=str(path): lint([p]))
        times[name] = total
        target = TARGETS.get(name)
        verdict = "" if target is None else (
            f"< {target:g} s " + ("ok" if total < target else "MISSED"))
        print(f"{name:<20} {total:>9.3f}s {linted:>8.3f}s {total - linted:>8.3f}s "
              f"{size / 1e6:>8.1f}MB  {verdict}")
    for kind in ("linear", "branchy"):
        ratio = times[f"{kind}-20000.wdl"] / times[f"{kind}-2000.wdl"]
        print(f"ratio {kind} 20,000 / 2,000: {ratio:.1f} (linear scaling: about 10)")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("NO_COLOR", "1")
    raise SystemExit(main())
