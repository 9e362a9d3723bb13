"""The one place that sequences the compiler's phases.

Input: paths as given on the command line (files and directories).  Output: a
:class:`LintResult` holding every diagnostic of the run (sorted), the decoded
:class:`~.source.SourceFile` and the parsed document of each file, keyed by display path.

Phases, in order: ``discover`` (paths -> :class:`Input` list, or usage errors), ``load``
(bytes -> text: size limit, NUL bytes, UTF-8, BOM, line endings, empty files), ``parse``
(one document per file) and ``check`` (all documents together, because bindings such as
``policy.apply`` cross files).

Invariants:
- Display paths are the command-line text, joined with the path under a named directory by
  ``os.path.join``; the same string names the file in every diagnostic and output.
- Text handed to the parser has LF line endings only and no byte-order mark.  Dropping the
  ``\\r`` of a CRLF pair never changes a line or column, so spans stay right.
- An unexpected exception inside a phase becomes a TM0901 diagnostic for the file that was
  being processed (recorded in :attr:`LintResult.internal_errors`), so one crash does not hide
  the other files' results.  ``KeyboardInterrupt`` and other non-``Exception`` errors pass.
- Phases are imported lazily, so importing this module costs nothing.
"""

from __future__ import annotations

import contextlib
import gc
import os
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from .codes import CODES, Severity
from .diagnostics import Diagnostic, Note, Sink
from .source import NO_SPAN, SourceFile, Span

if TYPE_CHECKING:
    from ..stdlib.signatures import Registry
    from . import ir
    from .check import CheckResult
    from .nodes import Document

MAX_FILE_BYTES = 8 * 1024 * 1024
"""Larger files are refused before decoding (TM0113)."""

LANGUAGES: dict[str, str] = {".wdl": "wdl", ".pdl": "pdl"}
"""Source suffix (compared in lowercase) -> language name for the parser."""

SKIPPED_DIRS = frozenset({"node_modules", "__pycache__"})
"""Directory names never entered while walking (hidden directories are skipped too)."""

REPORT_HINT = "this is a bug in tmc; please report it with the input that caused it"

_T = TypeVar("_T")


class UsageError(Exception):
    """Bad command-line input (missing path, wrong file type, unreadable file): exit 2."""

    def __init__(self, messages: Sequence[str]) -> None:
        super().__init__("\n".join(messages))
        self.messages = list(messages)


@dataclass(frozen=True, slots=True)
class Input:
    """One source file to process: its display path (also the path opened) and language."""

    path: str
    lang: str


@dataclass(frozen=True, slots=True)
class Loaded:
    """A decoded source plus what ``tmc fmt`` needs to write it back in the same encoding."""

    source: SourceFile
    bom: bool
    crlf: bool


@dataclass(frozen=True, slots=True)
class InternalError:
    """A crash inside a phase: which file, which phase, and the formatted traceback."""

    path: str
    phase: str
    error: str
    traceback: str


@dataclass(slots=True)
class LintResult:
    """Everything a run produced.  ``diagnostics`` is sorted by path and position."""

    diagnostics: list[Diagnostic]
    files: int
    sources: dict[str, SourceFile] = field(default_factory=dict)
    documents: dict[str, Document] = field(default_factory=dict)
    internal_errors: list[InternalError] = field(default_factory=list)
    check_result: CheckResult | None = None
    registry: Registry | None = None
    """The step kinds the check used (stdlib plus installed plugins); None before checking."""

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.WARNING)


# ---------------------------------------------------------------------------------------------
# Discovery


def language_of(path: str) -> str | None:
    """``"wdl"`` or ``"pdl"`` from the file suffix, else None."""
    return LANGUAGES.get(os.path.splitext(path)[1].lower())


def discover(paths: Sequence[str]) -> tuple[list[Input], list[str]]:
    """Expand ``paths`` into source inputs; the second item lists usage errors.

    Directories are walked recursively in sorted order, collecting ``.wdl`` and ``.pdl`` files
    and skipping hidden entries and :data:`SKIPPED_DIRS`.  A file reached twice is kept once.
    """
    inputs: list[Input] = []
    errors: list[str] = []
    seen: set[str] = set()

    def add(path: str, lang: str) -> None:
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            inputs.append(Input(path, lang))

    for given in paths:
        if os.path.isdir(given):
            found = _walk(given, errors)
            if not found:
                errors.append(f"no .wdl or .pdl files under {given}")
            for path in found:
                lang = language_of(path)
                assert lang is not None
                add(path, lang)
        elif os.path.isfile(given):
            lang = language_of(given)
            if lang is None:
                errors.append(
                    f"{given}: not a WDL or PDL source; name a .wdl or .pdl file or a directory"
                )
            else:
                add(given, lang)
        elif os.path.lexists(given) and not os.path.exists(given):
            errors.append(f"{given}: broken symbolic link")
        elif os.path.exists(given):
            errors.append(f"{given}: not a regular file or directory")
        else:
            errors.append(f"{given}: no such file or directory")
    return inputs, errors


def _walk(top: str, errors: list[str]) -> list[str]:
    """Source files under ``top``, as ``os.path.join(top, relative)``, in sorted order."""
    relative: list[tuple[str, ...]] = []

    def on_error(exc: OSError) -> None:
        errors.append(f"{exc.filename}: cannot read directory ({exc.strerror})")

    for dirpath, dirnames, filenames in os.walk(top, onerror=on_error):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in SKIPPED_DIRS]
        rel_dir = os.path.relpath(dirpath, top)
        parts: tuple[str, ...] = () if rel_dir == os.curdir else tuple(rel_dir.split(os.sep))
        for name in filenames:
            if name.startswith(".") or language_of(name) is None:
                continue
            if os.path.isfile(os.path.join(dirpath, name)):
                relative.append((*parts, name))
    relative.sort()
    return [os.path.join(top, *parts) for parts in relative]


# ---------------------------------------------------------------------------------------------
# Loading


def read_source(file: Input, sink: Sink) -> Loaded | None:
    """Read and decode ``file``; problems with its content are reported into ``sink``.

    Raises :class:`UsageError` when the file cannot be read at all.
    """
    try:
        with open(file.path, "rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
            size = max(len(data), os.fstat(stream.fileno()).st_size)
    except OSError as exc:
        raise UsageError([f"{file.path}: cannot read ({exc.strerror or exc})"]) from exc
    if size > MAX_FILE_BYTES:
        sink.report(
            "TM0113",
            file.path,
            NO_SPAN,
            size=f"{size:,}",
            limit=f"{MAX_FILE_BYTES // (1024 * 1024)} MiB",
            help="split the document into several files",
        )
        return None
    return decode(file.path, data, sink)


def load(file: Input, sink: Sink) -> SourceFile | None:
    """The decoded :class:`SourceFile` of ``file``, or None after reporting why not."""
    loaded = read_source(file, sink)
    return loaded.source if loaded is not None else None


_UTF8_BOM = b"\xef\xbb\xbf"
_FOREIGN_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)
_SAVE_AS_UTF8 = "save the file as UTF-8 (for example `iconv -f LATIN1 -t UTF-8`)"


def decode(path: str, data: bytes, sink: Sink) -> Loaded | None:
    """Turn the bytes of a source file into text for the parser (see the module invariants)."""
    for mark, encoding in _FOREIGN_BOMS:
        if data.startswith(mark):
            sink.report(
                "TM0108",
                path,
                NO_SPAN,
                detail=f"it starts with a {encoding} byte-order mark",
                help=f"save the file as UTF-8 (for example `iconv -f {encoding} -t UTF-8`)",
            )
            return None
    nul = data.find(b"\x00")
    if nul != -1:
        sink.report("TM0109", path, _byte_span(data, nul))
        return None
    bom = data.startswith(_UTF8_BOM)
    body = data[len(_UTF8_BOM) :] if bom else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + (len(_UTF8_BOM) if bom else 0)
        sink.report(
            "TM0108",
            path,
            _byte_span(body, exc.start),
            detail=f"{exc.reason} 0x{body[exc.start]:02X} at byte offset {offset}",
            help=_SAVE_AS_UTF8,
        )
        return None
    first_newline = text.find("\n")
    crlf = first_newline > 0 and text[first_newline - 1] == "\r"
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        sink.report(
            "TM0110",
            path,
            NO_SPAN,
            help="start the document with `version: dsl/v1` (workflow) or `version: pdl/v1`",
        )
        return None
    return Loaded(SourceFile(path, text), bom, crlf)


def _byte_span(data: bytes, offset: int) -> Span:
    """The one-character span at byte ``offset``, in code-point columns of the valid prefix."""
    line = data.count(b"\n", 0, offset) + 1
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    return Span(line, column, line, column + 1)


# ---------------------------------------------------------------------------------------------
# Running phases


class _Run:
    """State of one run over a set of inputs: the sink and what each phase produced."""

    def __init__(
        self, inputs: Sequence[Input], *, strict: bool, texts: Mapping[str, str] | None = None
    ) -> None:
        self.inputs = list(inputs)
        self.strict = strict
        self.texts: Mapping[str, str] = texts or {}
        self.sink = Sink(strict=strict)
        self.sources: dict[str, SourceFile] = {}
        self.documents: dict[str, Document] = {}
        self.internal_errors: list[InternalError] = []
        self.check_result: CheckResult | None = None
        self.registry: Registry | None = None

    def guarded(self, phase: str, path: str, call: Callable[[], _T]) -> _T | None:
        """``call()``; an exception becomes a TM0901 for ``path`` and the result is None."""
        try:
            return call()
        except UsageError:
            raise
        except Exception as exc:
            self.crashed(phase, path, exc)
            return None

    def crashed(self, phase: str, path: str, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"
        if len(error) > 200:
            error = error[:197] + "..."
        trace = "".join(traceback.format_exception(exc, limit=-12))
        self.internal_errors.append(InternalError(path, phase, error, trace))
        # Added directly: a crash must be reported even when the file hit the diagnostic cap.
        self.sink.add(
            Diagnostic(
                code="TM0901",
                severity=Severity.ERROR,
                path=path,
                span=NO_SPAN,
                message=CODES["TM0901"].format(detail=f"the {phase} phase crashed ({error})"),
                notes=(Note(REPORT_HINT),),
                help="run again with TMC_DEBUG=1 to see the traceback",
            )
        )

    def load_all(self) -> None:
        unreadable: list[str] = []
        for file in self.inputs:
            text = self.texts.get(file.path)
            if text is not None:
                data = text.encode("utf-8", "surrogatepass")
                decoding = partial(decode, file.path, data, self.sink)
                loaded = self.guarded("load", file.path, decoding)
                if loaded is not None:
                    self.sources[file.path] = loaded.source
                continue
            try:
                source = self.guarded("load", file.path, partial(load, file, self.sink))
            except UsageError as exc:
                unreadable.extend(exc.messages)
                continue
            if source is not None:
                self.sources[file.path] = source
        if unreadable:
            raise UsageError(unreadable)

    def parse_all(self) -> None:
        from .parse import parse_document

        for file in self.inputs:
            source = self.sources.get(file.path)
            if source is None:
                continue
            document = self.guarded(
                "parse", file.path, partial(parse_document, source, self.sink, file.lang)
            )
            if document is not None:
                self.documents[file.path] = document

    def check_all(self) -> None:
        from ..stdlib.registry import PluginError
        from .check import check
        from .kinds import default_registry

        units = [(self.sources[path], doc) for path, doc in self.documents.items()]
        if not units:
            return
        try:
            self.registry = default_registry()
        except PluginError as exc:
            raise UsageError(
                [f"an installed step plugin is broken: {line}" for line in str(exc).splitlines()]
            ) from None
        try:
            self.check_result = check(units, self.sink, strict=self.strict, registry=self.registry)
        except Exception as exc:
            for path in self._crashing_units(units) or [units[0][0].display_path]:
                self.crashed("check", path, exc)

    def _crashing_units(self, units: list[tuple[SourceFile, Document]]) -> list[str]:
        """Which files make the checker crash on their own (to blame the right one)."""
        from .check import check

        culprits: list[str] = []
        for unit in units:
            try:
                check([unit], Sink(strict=self.strict), strict=self.strict, registry=self.registry)
            except Exception:
                culprits.append(unit[0].display_path)
        return culprits

    def result(self) -> LintResult:
        return LintResult(
            diagnostics=self.sink.diagnostics(),
            files=len(self.inputs),
            sources=self.sources,
            documents=self.documents,
            internal_errors=self.internal_errors,
            check_result=self.check_result,
            registry=self.registry,
        )


def resolve_inputs(paths: Sequence[str]) -> list[Input]:
    """:func:`discover`, raising :class:`UsageError` if it found any problem."""
    inputs, errors = discover(paths)
    if errors:
        raise UsageError(errors)
    return inputs


def parse_inputs(inputs: Sequence[Input]) -> LintResult:
    """Load and parse ``inputs`` (no checking): what ``tmc dump --stage ast`` needs."""
    run = _Run(inputs, strict=False)
    run.load_all()
    run.parse_all()
    return run.result()


def parse_only(paths: Sequence[str]) -> LintResult:
    """Discover, load and parse ``paths``; raises :class:`UsageError` on bad paths."""
    return parse_inputs(resolve_inputs(paths))


def lint_inputs(
    inputs: Sequence[Input], *, strict: bool = False, texts: Mapping[str, str] | None = None
) -> LintResult:
    """Load, parse and check ``inputs`` together (cross-file checks need them in one run).

    ``texts`` maps display paths to text to use instead of the file on disk (the editor's
    unsaved buffers, for the language server); such a file need not exist.
    """
    # The collector is paused: the phases build many small objects that all stay alive to the
    # end of the run; collecting them repeatedly costs up to a third of the time on large files.
    with paused_gc():
        run = _Run(inputs, strict=strict, texts=texts)
        run.load_all()
        run.parse_all()
        run.check_all()
        return run.result()


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Disable the cyclic garbage collector inside the block (nesting is safe)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def lint(paths: Sequence[str], *, strict: bool = False) -> LintResult:
    """``tmc lint``: discover ``paths`` then load, parse and check every file in one run.

    Raises :class:`UsageError` for paths that name no sources or cannot be read.
    """
    return lint_inputs(resolve_inputs(paths), strict=strict)


# ---------------------------------------------------------------------------------------------
# Back end: lowering and optimization


@dataclass(slots=True)
class IRResult:
    """The IR of every document of a run that checked without errors."""

    lint: LintResult
    flows: dict[str, ir.Flow] = field(default_factory=dict)
    """Display path -> flow (one per workflow document)."""
    policies: dict[str, ir.PolicyIR] = field(default_factory=dict)
    """Display path -> policy."""

    @property
    def ok(self) -> bool:
        return self.lint.errors == 0


def lower_result(result: LintResult, level: int | None) -> IRResult:
    """Lower (and, unless ``level`` is None, optimize) the documents of a clean lint run.

    A run with errors yields no IR: the compiler refuses to compile what lint rejects.  A
    construct that checks but cannot be compiled becomes a TM0412 diagnostic.
    """
    from . import nodes
    from .lower import LowerError, lower_policy, lower_workflow
    from .opt import optimize_flow, optimize_policy

    out = IRResult(result)
    if result.errors or result.check_result is None:
        return out
    checked = result.check_result
    problems: list[Diagnostic] = []
    for path, document in result.documents.items():
        try:
            if isinstance(document, nodes.Workflow):
                flow = (lower_workflow(path, document, checked, result.registry)
                        if result.registry is not None
                        else lower_workflow(path, document, checked))
                out.flows[path] = optimize_flow(flow, level) if level is not None else flow
            else:
                policy = lower_policy(path, document, checked)
                out.policies[path] = (optimize_policy(policy, level) if level is not None
                                      else policy)
        except LowerError as exc:
            problems.append(Diagnostic(code="TM0412", severity=Severity.ERROR, path=exc.path,
                                       span=exc.span,
                                       message=CODES["TM0412"].format(message=exc.message)))
    if problems:
        result.diagnostics = sorted([*result.diagnostics, *problems], key=Diagnostic.sort_key)
        out.flows.clear()
        out.policies.clear()
    return out


def project_inputs(path: str) -> list[Input]:
    """``path`` first, then the other sources in the same directory (not below it), so that
    bindings across files (``policy.apply`` by file stem, ``flow.call``) resolve."""
    inputs = resolve_inputs([path])
    folder = os.path.dirname(path)
    seen = {os.path.normpath(i.path) for i in inputs}
    for name in sorted(os.listdir(folder or ".")):
        lang = language_of(name)
        candidate = os.path.join(folder, name)
        if lang is None or not os.path.isfile(candidate):
            continue
        if os.path.normpath(candidate) not in seen:
            seen.add(os.path.normpath(candidate))
            inputs.append(Input(candidate, lang))
    return inputs
