"""Helpers shared by the queue, trigger and worker tests: a hand-moved clock and small bundles
compiled from WDL text with the real compiler."""

from __future__ import annotations

from pathlib import Path

NOOP_WDL = """\
version: dsl/v1
workflow: noop
inputs:
  n: int
steps:
  - s(core.set):
      value: $input.n
outputs:
  n: $step.s.value
"""
"""A one-step flow returning its input ``n``."""


class Clock:
    """A clock the test moves by hand (epoch seconds)."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def compile_bundle(tmp: Path, name: str, *sources: str) -> str:
    """Compile the ``.wdl`` sources into one bundle under ``tmp``; its absolute path."""
    from tracemind.compiler.bundle import compile_to_memory, write_bundle

    src = tmp / f"{name}-src"
    src.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, source in enumerate(sources):
        path = src / (f"{name}.wdl" if len(sources) == 1 else f"{name}{index}.wdl")
        path.write_text(source, encoding="utf-8")
        paths.append(str(path))
    out = tmp / f"{name}-bundle"
    write_bundle(compile_to_memory(paths), str(out))
    return str(out)
