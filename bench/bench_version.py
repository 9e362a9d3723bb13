"""Cold start-up of ``tmc --version``: a new process each run, best of N and median.

Input: the ``tmc`` console script (default: next to this interpreter, else on PATH).
Output: one line per figure and a verdict against the 0.15 s target; exit status 1 when the
median misses the target, so CI can run it as a check.

Usage: ``.venv/bin/python bench/bench_version.py [-n RUNS] [--tmc PATH]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

TARGET_SECONDS = 0.15


def find_tmc() -> str:
    beside = os.path.join(os.path.dirname(sys.executable), "tmc")
    if os.path.exists(beside):
        return beside
    found = shutil.which("tmc")
    if found is None:
        raise SystemExit("tmc is not installed: run `bash scripts/setup.sh` first")
    return found


def time_once(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-n", "--runs", type=int, default=20, help="timed runs (default 20)")
    parser.add_argument("--tmc", default=None, help="path of the tmc script to time")
    args = parser.parse_args(argv)
    command = [args.tmc or find_tmc(), "--version"]
    time_once(command)  # warm the file-system cache; every timed run is still a new process
    times = sorted(time_once(command) for _ in range(max(args.runs, 1)))
    best, median = times[0], statistics.median(times)
    verdict = "ok" if median < TARGET_SECONDS else "TOO SLOW"
    print(f"tmc --version, {len(times)} cold runs of {command[0]}")
    print(f"  best   {best * 1000:7.1f} ms")
    print(f"  median {median * 1000:7.1f} ms")
    print(f"  worst  {times[-1] * 1000:7.1f} ms")
    print(f"  target {TARGET_SECONDS * 1000:7.1f} ms (median): {verdict}")
    return 0 if median < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
