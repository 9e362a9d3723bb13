"""Loading a compiled bundle: verify it, then import its generated modules.

Role: open a bundle (a directory, a ``.zip``, or the in-memory files that
``tracemind.compiler.bundle.compile_to_memory`` returns), check ``manifest.json`` (required
keys, runtime ABI, the SHA-256 of every artifact), and expose its flows and policies with their
schemas; import a generated module only when it is first used.

Input: a path, or a mapping from relative POSIX path to bytes.
Output: :class:`Bundle`, or :class:`BundleError` naming what is wrong and what to do.

Invariants:
- Nothing runs from a bundle that failed verification: every artifact's bytes are read and
  hashed at load time, and modules are compiled from those very bytes (a file changed after
  loading is never executed).
- The bundle never lands on ``sys.path`` or in ``sys.modules``, and no bytecode is written into
  it; tracebacks name the generated file (``<bundle>/flows/x.py``) and show its lines.
- Artifact paths are relative and stay inside the bundle (no absolute paths, no ``..``).
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import CodeType, ModuleType
from typing import TYPE_CHECKING, Any

from .abi import ABI_VERSION
from .determinism import json_floats
from .schema import prepare_inputs

if TYPE_CHECKING:
    from .policy import PolicyRunner

MANIFEST = "manifest.json"
_RECOMPILE = "recompile it with `tmc compile`"


class BundleError(Exception):
    """A bundle the runtime refuses to load; the message says what and what to do."""


@dataclass(slots=True)
class FlowEntry:
    """One flow of a bundle, as the manifest describes it."""

    id: str
    module_path: str
    inputs_schema: dict[str, Any]
    outputs_schema: dict[str, Any]
    defaults: dict[str, Any]
    triggers: Any
    bundle: Bundle = field(repr=False)

    @property
    def module(self) -> ModuleType:
        """The generated module (imported on first use)."""
        module = self.bundle.module(self.module_path)
        found = getattr(module, "FLOW_ID", None)
        if found != self.id:
            raise BundleError(f"{self.bundle.where}: {self.module_path} defines flow "
                              f"{found!r}, but manifest.json lists it as {self.id!r}; "
                              f"{_RECOMPILE}")
        return module

    def prepare_inputs(self, raw: object) -> dict[str, Any]:
        """``raw`` validated against the flow's inputs schema, defaults filled in; raises
        :class:`~tracemind.runtime.schema.InputError`."""
        return prepare_inputs(self.inputs_schema, self.defaults, raw)


@dataclass(slots=True)
class PolicyEntry:
    """One policy of a bundle, as the manifest describes it."""

    id: str
    module_path: str
    arms: dict[str, Any]
    params: dict[str, Any]
    emit_schema: dict[str, Any]
    inputs_schema: dict[str, Any]
    defaults: dict[str, Any]
    bundle: Bundle = field(repr=False)
    _runner: PolicyRunner | None = field(default=None, repr=False)

    @property
    def module(self) -> ModuleType:
        module = self.bundle.module(self.module_path)
        found = getattr(module, "POLICY_ID", None)
        if found != self.id:
            raise BundleError(f"{self.bundle.where}: {self.module_path} defines policy "
                              f"{found!r}, but manifest.json lists it as {self.id!r}; "
                              f"{_RECOMPILE}")
        return module

    @property
    def runner(self) -> PolicyRunner:
        if self._runner is None:
            from .policy import PolicyRunner

            self._runner = PolicyRunner(self.module, self.id)
        return self._runner

    def prepare_inputs(self, raw: object) -> dict[str, Any]:
        return prepare_inputs(self.inputs_schema, self.defaults, raw)


class Bundle:
    """A verified bundle: its manifest, flows and policies."""

    def __init__(self, where: str, manifest: dict[str, Any], files: dict[str, bytes],
                 origin: str) -> None:
        self.where = where
        """How to name the bundle in messages (its path, or ``<memory>``)."""
        self.manifest = manifest
        self.name = str(manifest.get("name", ""))
        self.version = str(manifest.get("version", ""))
        self.tmc_version = str(manifest.get("tmc_version", ""))
        self.abi = int(manifest["abi"])
        self._files = files
        self._origin = origin
        self._modules: dict[str, ModuleType] = {}
        self.flows: dict[str, FlowEntry] = {}
        self.policies: dict[str, PolicyEntry] = {}
        for index, entry in enumerate(_list(manifest, "flows", where)):
            item = _object(entry, f"flows[{index}]", where)
            flow = FlowEntry(
                id=_text(item, "id", f"flows[{index}]", where),
                module_path=self._artifact(_text(item, "module", f"flows[{index}]", where)),
                inputs_schema=_schema(item.get("inputs_schema")),
                outputs_schema=_schema(item.get("outputs_schema")),
                defaults=dict(item.get("defaults") or {}),
                triggers=item.get("triggers"),
                bundle=self,
            )
            self.flows[flow.id] = flow
        for index, entry in enumerate(_list(manifest, "policies", where)):
            item = _object(entry, f"policies[{index}]", where)
            policy = PolicyEntry(
                id=_text(item, "id", f"policies[{index}]", where),
                module_path=self._artifact(_text(item, "module", f"policies[{index}]", where)),
                arms=dict(item.get("arms") or {}),
                params=dict(item.get("params") or {}),
                emit_schema=_schema(item.get("emit_schema")),
                inputs_schema=_schema(item.get("inputs_schema")),
                defaults=dict(item.get("defaults") or {}),
                bundle=self,
            )
            self.policies[policy.id] = policy

    def flow(self, flow_id: str | None = None) -> FlowEntry:
        """The flow ``flow_id``, or the only flow when ``flow_id`` is None."""
        if flow_id is None:
            if len(self.flows) == 1:
                return next(iter(self.flows.values()))
            if not self.flows:
                raise BundleError(f"{self.where}: the bundle has no flows")
            raise BundleError(f"{self.where}: the bundle has {len(self.flows)} flows; name one "
                              f"of: {', '.join(sorted(self.flows))}")
        try:
            return self.flows[flow_id]
        except KeyError:
            known = ", ".join(sorted(self.flows)) or "none"
            raise BundleError(f"{self.where}: no flow `{flow_id}` (flows: {known})") from None

    def policy(self, policy_id: str) -> PolicyEntry:
        try:
            return self.policies[policy_id]
        except KeyError:
            known = ", ".join(sorted(self.policies)) or "none"
            raise BundleError(
                f"{self.where}: no policy `{policy_id}` (policies: {known})"
            ) from None

    def file(self, path: str) -> bytes:
        """The verified bytes of artifact ``path`` (``KeyError`` if the bundle has none)."""
        return self._files[path]

    def module(self, path: str) -> ModuleType:
        """The generated module in artifact ``path``, imported once from its verified bytes."""
        module = self._modules.get(path)
        if module is None:
            module = self._modules[path] = self._import(path)
        return module

    def _artifact(self, path: str) -> str:
        if path not in self._files:
            raise BundleError(f"{self.where}: manifest.json names module {path}, which is not "
                              f"among its artifacts; {_RECOMPILE}")
        return path

    def _import(self, path: str) -> ModuleType:
        source = self._files[path]
        filename = f"{self._origin}/{path}"
        name = "tracemind_bundle." + path.removesuffix(".py").replace("/", ".")
        loader = _BytesLoader(source, filename)
        spec = importlib.machinery.ModuleSpec(name, loader, origin=filename)
        module = importlib.util.module_from_spec(spec)
        module.__file__ = filename
        try:
            loader.exec_module(module)
        except Exception as exc:
            raise BundleError(f"{self.where}: cannot load {path}: {type(exc).__name__}: {exc}; "
                              f"{_RECOMPILE} with a tmc that matches this runtime") from exc
        return module


class _BytesLoader(importlib.abc.InspectLoader):
    """Executes a module from bytes already verified; offers the source to tracebacks."""

    def __init__(self, source: bytes, filename: str) -> None:
        self._source = source
        self._filename = filename

    def get_source(self, fullname: str) -> str:
        return self._source.decode("utf-8")

    def get_code(self, fullname: str) -> CodeType:
        code: CodeType = compile(self._source, self._filename, "exec", dont_inherit=True)
        return code

    def exec_module(self, module: ModuleType) -> None:
        # The bytes are a generated module whose hash the manifest vouched for; running it is
        # the design (docs/internals.md), never user text.
        exec(self.get_code(module.__name__), module.__dict__)  # noqa: S102


def load_bundle(target: str | os.PathLike[str] | Mapping[str, bytes]) -> Bundle:
    """Load and verify a bundle directory, ``.zip`` file, or in-memory file mapping."""
    if isinstance(target, Mapping):
        return _verify("<memory>", dict(target), "<memory bundle>")
    path = os.fspath(target)
    if os.path.isdir(path):
        return _verify(path, _read_directory(path), os.path.abspath(path))
    if not os.path.exists(path):
        raise BundleError(f"{path}: no such bundle (expected a directory or a .zip written by "
                          "`tmc compile`)")
    if zipfile.is_zipfile(path):
        return _verify(path, _read_zip(path), os.path.abspath(path))
    raise BundleError(f"{path}: not a bundle (expected a directory or a .zip written by "
                      "`tmc compile`)")


def _read_directory(root: str) -> dict[str, bytes]:
    """The manifest and every artifact it lists, read from ``root``."""
    manifest_path = os.path.join(root, MANIFEST)
    try:
        with open(manifest_path, "rb") as stream:
            files = {MANIFEST: stream.read()}
    except FileNotFoundError:
        raise BundleError(f"{root}: no {MANIFEST}; this is not a bundle written by "
                          "`tmc compile`") from None
    except OSError as exc:
        raise BundleError(f"{manifest_path}: cannot read ({exc.strerror or exc})") from None
    for relative in _artifact_paths(_parse_manifest(root, files[MANIFEST]), root):
        try:
            with open(os.path.join(root, *relative.split("/")), "rb") as stream:
                files[relative] = stream.read()
        except FileNotFoundError:
            raise BundleError(f"{root}: artifact {relative} listed in {MANIFEST} is missing; "
                              f"the bundle is incomplete, {_RECOMPILE}") from None
        except OSError as exc:
            raise BundleError(f"{root}: cannot read {relative} ({exc.strerror or exc})") from None
    return files


def _read_zip(path: str) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if MANIFEST not in names:
                raise BundleError(f"{path}: no {MANIFEST} in the archive; this is not a bundle "
                                  "written by `tmc compile --zip`")
            files = {MANIFEST: archive.read(MANIFEST)}
            for relative in _artifact_paths(_parse_manifest(path, files[MANIFEST]), path):
                if relative not in names:
                    raise BundleError(f"{path}: artifact {relative} listed in {MANIFEST} is "
                                      f"missing from the archive; {_RECOMPILE}")
                files[relative] = archive.read(relative)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BundleError(f"{path}: cannot read the archive ({exc})") from None
    return files


def _verify(where: str, files: dict[str, bytes], origin: str) -> Bundle:
    if MANIFEST not in files:
        raise BundleError(f"{where}: no {MANIFEST}; this is not a bundle")
    manifest = _parse_manifest(where, files[MANIFEST])
    abi = manifest.get("abi")
    if not isinstance(abi, int) or isinstance(abi, bool):
        raise BundleError(f"{where}: {MANIFEST} has no valid `abi` (found {abi!r}); "
                          f"{_RECOMPILE}")
    if abi != ABI_VERSION:
        from .. import __version__

        raise BundleError(
            f"{where}: the bundle was compiled for runtime ABI {abi}, but this runtime "
            f"(tracemind {__version__}) implements ABI {ABI_VERSION}; {_RECOMPILE} from "
            f"tracemind {__version__}, or run it with a tracemind release that implements "
            f"ABI {abi}"
        )
    verified: dict[str, bytes] = {}
    for index, entry in enumerate(_list(manifest, "artifacts", where)):
        item = _object(entry, f"artifacts[{index}]", where)
        relative = _safe_path(_text(item, "path", f"artifacts[{index}]", where), where)
        expected = _text(item, "sha256", f"artifacts[{index}]", where).lower()
        data = files.get(relative)
        if data is None:
            raise BundleError(f"{where}: artifact {relative} listed in {MANIFEST} is missing; "
                              f"the bundle is incomplete, {_RECOMPILE}")
        found = hashlib.sha256(data).hexdigest()
        if found != expected.removeprefix("sha256:"):
            raise BundleError(
                f"{where}: artifact {relative} does not match {MANIFEST} (sha256 "
                f"{found[:12]}..., expected {expected.removeprefix('sha256:')[:12]}...): it was "
                f"modified after compilation; {_RECOMPILE} rather than editing the bundle"
            )
        verified[relative] = data
    return Bundle(where, manifest, verified, origin)


def _parse_manifest(where: str, data: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{where}: {MANIFEST} is not valid JSON ({exc}); {_RECOMPILE}") \
            from None
    if not isinstance(manifest, dict):
        raise BundleError(f"{where}: {MANIFEST} must hold a JSON object; {_RECOMPILE}")
    decoded: dict[str, Any] = json_floats(manifest)
    return decoded


def _artifact_paths(manifest: dict[str, Any], where: str) -> list[str]:
    paths = []
    for index, entry in enumerate(_list(manifest, "artifacts", where)):
        item = _object(entry, f"artifacts[{index}]", where)
        paths.append(_safe_path(_text(item, "path", f"artifacts[{index}]", where), where))
    return paths


def _safe_path(path: str, where: str) -> str:
    parts = path.split("/")
    if path.startswith("/") or "\\" in path or ":" in parts[0] or any(
        part in ("", ".", "..") for part in parts
    ):
        raise BundleError(f"{where}: {MANIFEST} lists the unsafe artifact path {path!r} "
                          "(paths must be relative and stay inside the bundle)")
    return path


def _list(manifest: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = manifest.get(key, [])
    if not isinstance(value, list):
        raise BundleError(f"{where}: {MANIFEST}: `{key}` must be a list; {_RECOMPILE}")
    return value


def _object(value: Any, what: str, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BundleError(f"{where}: {MANIFEST}: {what} must be an object; {_RECOMPILE}")
    return value


def _text(item: Mapping[str, Any], key: str, what: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise BundleError(f"{where}: {MANIFEST}: {what} has no `{key}`; {_RECOMPILE}")
    return value


def _schema(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}
