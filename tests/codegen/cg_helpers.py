"""Helpers for code generation tests: compile sources from text, load generated modules, and
run flows with a small fake ``FlowContext`` (no executor needed)."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from tracemind.compiler.bundle import InMemoryBundle, compile_to_memory
from tracemind.runtime.abi import MISSING, BlockSite, StepFailed, StepSite

StepFn = Callable[[StepSite, dict[str, Any]], Any]


def write_sources(root: Path, files: dict[str, str]) -> list[str]:
    """Write ``name -> text`` (dedented) under ``root``; the paths, in the given order."""
    paths = []
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        paths.append(str(path))
    return paths


def compile_texts(root: Path, files: dict[str, str], level: int = 1) -> InMemoryBundle:
    return compile_to_memory(write_sources(root, files), level)


def load_module(text: str | bytes, name: str = "generated") -> ModuleType:
    """Execute generated source in a fresh module (as the runtime's loader does)."""
    module = ModuleType(name)
    code = compile(text, f"<{name}>", "exec", dont_inherit=True)
    exec(code, module.__dict__)  # noqa: S102 - the generated module under test
    return module


def module_of(bundle: InMemoryBundle, kind: str, ident: str) -> ModuleType:
    """The generated module of flow or policy ``ident`` (``kind``: flows|policies)."""
    for entry in bundle.manifest[kind]:
        if entry["id"] == ident:
            return load_module(bundle[entry["module"]], entry["module"])
    raise KeyError(ident)


class FakeContext:
    """Runs steps with ``impl(site, args)``; records calls; ``fail`` ids raise StepFailed
    (or return MISSING for ``@on_error: continue``)."""

    def __init__(self, impl: StepFn | None = None, fail: set[str] | None = None) -> None:
        self.impl = impl or (lambda site, args: {"echo": args})
        self.fail = fail or set()
        self.calls: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        self.blocks: list[str] = []

    async def step(self, site: StepSite, args: dict[str, Any], **options: Any) -> Any:
        self.calls.append((site.id, args, options))
        if site.id in self.fail:
            if site.on_error == "continue":
                return MISSING.of(site.id)
            raise StepFailed(site, RuntimeError("boom"))
        return self.impl(site, args)

    async def gather(self, *branches: Awaitable[None]) -> None:
        await asyncio.gather(*branches)

    @asynccontextmanager
    async def _block(self, site: BlockSite) -> Any:
        self.blocks.append(site.id)
        yield

    def block(self, site: BlockSite) -> Any:
        return self._block(site)

    @property
    def ran(self) -> list[str]:
        return [step_id for step_id, _, _ in self.calls]


def run_flow(module: ModuleType, inputs: dict[str, Any], ctx: FakeContext) -> Any:
    result: Any = asyncio.run(module.run(ctx, inputs))
    return result
