"""``tmc compile``: sources -> a bundle (architecture.md, "Bundle"; docs/operations.md).

Role: run the whole pipeline (lint, lower, optimize, generate) over a set of sources and lay
out the bundle: ``manifest.json``, ``flows/<name>.py``, ``policies/<name>.py``,
``ir/flows/<name>.json``, ``ir/policies/<name>.json``, ``graphs/<name>.dot|json``,
``triggers.yaml`` and ``sourcemap.json``; then write it as a directory or a ``.zip``.

Input: source paths (files and directories) and an optimization level.
Output: :class:`InMemoryBundle` (also what ``tm run file.wdl`` loads), or files on disk.

Invariants:
- Reproducible: the bytes depend only on the sources' contents and relative paths and on the
  compiler, never on the working directory, the order of the paths, ``PYTHONHASHSEED`` or the
  clock (JSON with sorted keys, documents in source-path order, fixed zip timestamps and modes).
- Relocatable: every path in the bundle is relative to the common directory of the sources,
  with forward slashes.
- All-or-nothing: nothing is written unless everything compiled; the output is built beside
  OUT and swapped in with one rename (an atomic exchange for directories where the platform has
  one), and a directory is only replaced if it is empty or holds a bundle.
- Refuses to compile sources with errors (:class:`CompileError`); the compiler never imports
  user code, and the manifest's ``abi`` is :data:`TARGET_ABI` (the runtime's ``ABI_VERSION``,
  kept equal by a test, since the compiler does not import the runtime).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import __version__
from . import ir
from .codes import CODES, Severity
from .diagnostics import Diagnostic
from .pipeline import Input, LintResult, lint_inputs, lower_result, paused_gc, resolve_inputs

TARGET_ABI = 1
"""The runtime ABI the generated modules are written for (docs/internals.md)."""
FORMAT = "tracemind-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


class CompileError(Exception):
    """The sources have errors; ``diagnostics`` lists them (rendered in ``str()``)."""

    def __init__(self, result: LintResult) -> None:
        from .render import render_text

        self.result = result
        self.diagnostics = [d for d in result.diagnostics if d.severity is Severity.ERROR]
        super().__init__(render_text(result.diagnostics, result.sources, files=result.files,
                                     color=False).rstrip("\n"))


class BundleWriteError(Exception):
    """OUT cannot be written or replaced (a usage problem: exit 2)."""


class InMemoryBundle(Mapping[str, bytes]):
    """A compiled bundle in memory: relative POSIX path -> bytes (``manifest.json``
    included), plus the parsed :attr:`manifest`.  A mapping, so the runtime's
    ``load_bundle`` takes it as is."""

    __slots__ = ("files", "manifest")

    def __init__(self, files: dict[str, bytes], manifest: dict[str, Any]) -> None:
        self.files = files
        self.manifest = manifest

    def __getitem__(self, path: str) -> bytes:
        return self.files[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)

    @property
    def name(self) -> str:
        return str(self.manifest["name"])


@dataclass(slots=True)
class CompileOutcome:
    """What :func:`compile_inputs` produced: the lint result (warnings, or errors) and the
    bundle when there were no errors."""

    result: LintResult
    bundle: InMemoryBundle | None = None
    stats: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Names and paths


_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def module_names(ids: Sequence[str]) -> dict[str, str]:
    """A file-name stem per id: ``.``/``-`` become ``_``; ids whose stems collide (also
    case-insensitively, or with a reserved name) get a hash suffix.  Injective, stable."""
    stems = {i: _UNSAFE.sub("_", i)[:80] or "_" for i in ids}
    counts: dict[str, int] = {}
    for stem in stems.values():
        counts[stem.casefold()] = counts.get(stem.casefold(), 0) + 1
    names: dict[str, str] = {}
    for ident, stem in stems.items():
        clash = counts[stem.casefold()] > 1 or stem.startswith("__") or len(ident) > 80
        suffix = "_" + hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        names[ident] = stem + suffix if clash else stem
    return names


def relative_paths(paths: Sequence[str]) -> dict[str, str]:
    """Display path -> path relative to the common directory of all of them (``/``)."""
    absolute = {p: os.path.abspath(p) for p in paths}
    root = os.path.commonpath([os.path.dirname(a) for a in absolute.values()])
    return {p: os.path.relpath(a, root).replace(os.sep, "/") for p, a in absolute.items()}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------------------------
# Compiling


def compile_to_memory(paths: Sequence[str], level: int = 1) -> InMemoryBundle:
    """Compile ``paths`` (files or directories) into a bundle in memory.

    Raises :class:`CompileError` when the sources have errors and
    :class:`~.pipeline.UsageError` for paths that name no readable sources.
    """
    outcome = compile_inputs(resolve_inputs(paths), level)
    if outcome.bundle is None:
        raise CompileError(outcome.result)
    return outcome.bundle


def compile_inputs(inputs: Sequence[Input], level: int = 1) -> CompileOutcome:
    """Lint, lower, optimize and generate; no bundle when any error was found."""
    from .codegen import CodegenError
    from .codegen.flow import loop_members
    from .opt import optimize_flow, optimize_policy

    with paused_gc():
        result = lint_inputs(inputs)
        outcome = CompileOutcome(result)
        if result.errors or result.internal_errors:
            return outcome
        lowered = lower_result(result, None)
        if not lowered.ok:
            return outcome
        relative = relative_paths([i.path for i in inputs])
        flows: list[tuple[ir.Flow, dict[str, tuple[str, ...]]]] = []
        for path, flow in lowered.flows.items():
            loops = loop_members(flow)
            optimized = optimize_flow(dataclasses.replace(flow, path=relative[path]), level)
            flows.append((optimized, loops))
        policies = [optimize_policy(dataclasses.replace(p, path=relative[path]), level)
                    for path, p in lowered.policies.items()]
        flows.sort(key=lambda item: (item[0].path, item[0].id))
        policies.sort(key=lambda p: (p.path, p.id))
        try:
            files, manifest = _layout(flows, policies, relative, level)
        except CodegenError as exc:
            display = {v: k for k, v in relative.items()}
            path = display.get(exc.path, next(iter(relative)))
            result.diagnostics = sorted(
                [*result.diagnostics, Diagnostic(
                    code="TM0412", severity=Severity.ERROR, path=path, span=exc.span,
                    message=CODES["TM0412"].format(message=exc.message))],
                key=Diagnostic.sort_key)
            return outcome
    outcome.bundle = InMemoryBundle(files, manifest)
    outcome.stats = {"flows": len(flows), "policies": len(policies), "files": len(files)}
    return outcome


def _layout(
    flows: list[tuple[ir.Flow, dict[str, tuple[str, ...]]]],
    policies: list[ir.PolicyIR],
    relative: Mapping[str, str],
    level: int,
) -> tuple[dict[str, bytes], dict[str, Any]]:
    from .codegen import CodegenError, generate_flow, generate_policy
    from .codegen.ir_json import dumps, flow_json, json_safe, policy_json
    from .codegen.schema import input_defaults, inputs_schema, record_schema
    from .graph import graph_dot, graph_json
    from .plan import plan_flow

    files: dict[str, bytes] = {}
    kinds: dict[str, str] = {}
    sourcemap: dict[str, Any] = {}
    triggers: dict[str, Any] = {}

    def add(path: str, data: bytes, kind: str) -> None:
        files[path] = data
        kinds[path] = kind

    flow_names = module_names([f.id for f, _ in flows])
    policy_names = module_names([p.id for p in policies])
    flow_entries: list[dict[str, Any]] = []
    for flow, loops in flows:
        name = flow_names[flow.id]
        module_path, ir_path = f"flows/{name}.py", f"ir/flows/{name}.json"
        dot_path, graph_path = f"graphs/{name}.dot", f"graphs/{name}.json"
        try:
            module = generate_flow(flow, tmc_version=__version__, loops=loops)
        except CodegenError as exc:
            exc.path = flow.path
            raise
        add(module_path, module.text.encode("utf-8"), "flow")
        add(ir_path, dumps(flow_json(flow)), "ir")
        graph = graph_json(flow, plan_flow(flow))
        add(dot_path, graph_dot(flow, graph).encode("utf-8"), "graph-dot")
        add(graph_path, dumps(graph), "graph-json")
        sourcemap[module_path] = _sourcemap_entry(flow.path, module.source_map)
        typed = typed_triggers(flow.triggers)
        if typed:
            triggers[flow.id] = typed
        flow_entries.append({
            "id": flow.id, "module": module_path, "source": flow.path, "ir": ir_path,
            "graphs": {"dot": dot_path, "json": graph_path},
            "inputs_schema": inputs_schema(flow.inputs),
            "outputs_schema": record_schema(flow.output_type),
            "defaults": input_defaults(flow.inputs), "triggers": typed,
        })
    policy_entries: list[dict[str, Any]] = []
    for policy in policies:
        name = policy_names[policy.id]
        module_path, ir_path = f"policies/{name}.py", f"ir/policies/{name}.json"
        try:
            module = generate_policy(policy, tmc_version=__version__)
        except CodegenError as exc:
            exc.path = policy.path
            raise
        add(module_path, module.text.encode("utf-8"), "policy")
        add(ir_path, dumps(policy_json(policy)), "ir")
        sourcemap[module_path] = _sourcemap_entry(policy.path, module.source_map)
        policy_entries.append({
            "id": policy.id, "module": module_path, "source": policy.path, "ir": ir_path,
            "arms": policy.arms, "arm_order": list(policy.arms),
            "default_arm": next(iter(policy.arms), ""), "params": policy.params,
            "inputs_schema": inputs_schema(policy.inputs),
            "emit_schema": record_schema(policy.emit_type),
            "defaults": input_defaults(policy.inputs),
        })
    add("triggers.yaml", _triggers_yaml(triggers), "triggers")
    add("sourcemap.json", dumps({"format": "tracemind-sourcemap", "modules": sourcemap}),
        "sourcemap")
    sources = _sources(relative)
    digest = hashlib.sha256("".join(f"{s['path']}\0{s['sha256']}\n" for s in sources)
                            .encode("utf-8", "surrogatepass")).hexdigest()
    first = flows[0][0].id if flows else policies[0].id if policies else "bundle"
    manifest: dict[str, Any] = json_safe({
        "format": FORMAT, "format_version": FORMAT_VERSION, "name": first,
        "version": digest[:12], "tmc_version": __version__, "abi": TARGET_ABI,
        "optimization": level, "sources": sources,
        "artifacts": [{"path": p, "sha256": _sha256(files[p]), "kind": kinds[p]}
                      for p in sorted(files)],
        "flows": flow_entries, "policies": policy_entries,
    })
    files[MANIFEST] = dumps(manifest, indent=2)
    return dict(sorted(files.items())), manifest


def _sources(relative: Mapping[str, str]) -> list[dict[str, str]]:
    out = []
    for display, rel in relative.items():
        with open(display, "rb") as stream:
            out.append({"path": rel, "sha256": _sha256(stream.read())})
    return sorted(out, key=lambda s: s["path"])


def _sourcemap_entry(source: str, source_map: Mapping[int, tuple[int, int]]) -> dict[str, Any]:
    return {"source": source,
            "lines": [[line, *source_map[line]] for line in sorted(source_map)]}


def typed_triggers(triggers: Mapping[str, ir.Json]) -> dict[str, Any]:
    """Each trigger's fields with the defaults of its kind filled in (stdlib TRIGGER_KINDS)."""
    from ..stdlib.signatures import TRIGGER_KINDS

    typed: dict[str, Any] = {}
    for kind_name in sorted(triggers):
        given = triggers[kind_name]
        kind = TRIGGER_KINDS.get(kind_name)
        fields: dict[str, Any] = dict(given) if isinstance(given, dict) else {}
        if kind is not None:
            for spec in kind.fields:
                if not spec.required and spec.name not in fields:
                    fields[spec.name] = spec.default
        typed[kind_name] = dict(sorted(fields.items()))
    return typed


def _triggers_yaml(triggers: dict[str, Any]) -> bytes:
    import yaml

    body = yaml.safe_dump(triggers, sort_keys=True, allow_unicode=False,
                          default_flow_style=False) if triggers else "{}\n"
    header = "# Triggers of the bundle's flows, by flow id (generated by tmc).\n"
    return (header + body).encode("ascii")


# ---------------------------------------------------------------------------------------------
# Writing


def zip_bytes(files: Mapping[str, bytes]) -> bytes:
    """The bundle as a reproducible zip: sorted entries, fixed dates and modes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(files):
            info = zipfile.ZipInfo(path, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            archive.writestr(info, files[path], compresslevel=9)
    return buffer.getvalue()


def write_bundle(bundle: Mapping[str, bytes], out: str, *, as_zip: bool = False) -> None:
    """Write ``bundle`` to ``out`` (a directory, or a zip file), replacing it atomically.

    Missing parent directories are created (like ``mkdir -p``)."""
    out = os.path.abspath(out)
    parent = os.path.dirname(out)
    try:
        os.makedirs(parent, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise BundleWriteError(f"{parent}: is not a directory") from None
    except OSError as exc:
        raise BundleWriteError(f"{parent}: cannot create it ({exc.strerror})") from None
    if as_zip:
        if os.path.isdir(out):
            raise BundleWriteError(f"{out}: is a directory; name a .zip file")
        _write_file_atomic(out, zip_bytes(bundle))
        return
    _check_replaceable(out)
    temporary = tempfile.mkdtemp(prefix=f".{os.path.basename(out)}.", dir=parent)
    try:
        os.chmod(temporary, 0o755)
        for path in sorted(bundle):
            target = os.path.join(temporary, *path.split("/"))
            os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
            with open(target, "wb") as stream:
                stream.write(bundle[path])
            os.chmod(target, 0o644)
        _swap_directory(temporary, out)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise


def _check_replaceable(out: str) -> None:
    if not os.path.lexists(out):
        return
    if not os.path.isdir(out) or os.path.islink(out):
        raise BundleWriteError(f"{out}: exists and is not a directory; remove it or use --zip")
    if not os.listdir(out):
        return
    import json

    try:
        with open(os.path.join(out, MANIFEST), "rb") as stream:
            manifest = json.loads(stream.read().decode("utf-8"))
    except (OSError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleWriteError(f"{out}: exists and does not hold a bundle; refusing to replace "
                               "it (remove it or choose another -o)")


def _swap_directory(new: str, out: str) -> None:
    """Put directory ``new`` at ``out``; the old ``out`` (if any) is removed afterwards."""
    if not os.path.lexists(out):
        os.rename(new, out)
        return
    if _exchange(new, out):
        shutil.rmtree(new, ignore_errors=True)  # ``new`` now holds the old bundle
        return
    old = tempfile.mkdtemp(prefix=f".{os.path.basename(out)}.old.", dir=os.path.dirname(out))
    os.rmdir(old)
    os.rename(out, old)
    try:
        os.rename(new, out)
    except BaseException:
        os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: str, b: str) -> bool:
    """Swap two paths atomically with Linux ``renameat2(RENAME_EXCHANGE)``; False if absent."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return bool(renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b),
                          rename_exchange) == 0)


def _write_file_atomic(path: str, data: bytes) -> None:
    fd, temporary = tempfile.mkstemp(dir=os.path.dirname(path),
                                     prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
