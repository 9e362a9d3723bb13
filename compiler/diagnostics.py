"""Diagnostics as data, and the one sink every phase reports into.

A :class:`Diagnostic` carries its code, severity, path, span, message, notes, a help line and
optional fix-its (text edits).  The :class:`Sink` collects them per file, drops exact
duplicates, caps the count per file and hands them out sorted by position.  Rendering (text,
JSON, SARIF, LSP) lives in ``render`` and the language server: passes never format output.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .codes import CODES, Severity
from .source import Span

MAX_PER_FILE = 200


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the text in ``span`` with ``text``."""

    span: Span
    text: str


@dataclass(frozen=True, slots=True)
class Fix:
    """A fix-it: a short description and the edits that carry it out."""

    message: str
    edits: tuple[Edit, ...]


@dataclass(frozen=True, slots=True)
class Note:
    """A secondary message, optionally pointing at another span (and file)."""

    message: str
    span: Span | None = None
    path: str | None = None


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    severity: Severity
    path: str
    span: Span
    message: str
    label: str = ""
    notes: tuple[Note, ...] = ()
    help: str = ""
    fixes: tuple[Fix, ...] = ()

    @property
    def name(self) -> str:
        return CODES[self.code].name

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.span.line, self.span.column, self.code, self.message)


@dataclass(slots=True)
class Sink:
    """Collects diagnostics; de-duplicates, caps per file and sorts on the way out."""

    max_per_file: int = MAX_PER_FILE
    strict: bool = False
    _items: list[Diagnostic] = field(default_factory=list)
    _seen: set[tuple[str, str, int, int, str]] = field(default_factory=set)
    _per_file: dict[str, int] = field(default_factory=dict)
    _capped: dict[str, Span] = field(default_factory=dict)

    def report(
        self,
        code_id: str,
        path: str,
        span: Span,
        *,
        label: str = "",
        notes: tuple[Note, ...] | list[Note] = (),
        help: str = "",
        fixes: tuple[Fix, ...] | list[Fix] = (),
        severity: Severity | None = None,
        **fields: object,
    ) -> None:
        """Report ``code_id`` at ``span``; ``fields`` fill the code's message template."""
        code = CODES[code_id]
        message = code.format(**fields)
        key = (path, code_id, span.line, span.column, message)
        if key in self._seen:
            return
        count = self._per_file.get(path, 0)
        if count >= self.max_per_file:
            self._capped.setdefault(path, span)
            return
        self._seen.add(key)
        self._per_file[path] = count + 1
        self._items.append(
            Diagnostic(
                code=code_id,
                severity=severity or code.severity,
                path=path,
                span=span,
                message=message,
                label=label,
                notes=tuple(notes),
                help=help,
                fixes=tuple(fixes),
            )
        )

    def add(self, diagnostic: Diagnostic) -> None:
        """Add a ready-made diagnostic (used when merging results)."""
        key = (
            diagnostic.path,
            diagnostic.code,
            diagnostic.span.line,
            diagnostic.span.column,
            diagnostic.message,
        )
        if key not in self._seen:
            self._seen.add(key)
            self._items.append(diagnostic)

    def diagnostics(self) -> list[Diagnostic]:
        """Everything reported, sorted by file and position, with cap notices appended."""
        items = list(self._items)
        for path, span in self._capped.items():
            items.append(
                Diagnostic(
                    code="TM0117",
                    severity=Severity.ERROR,
                    path=path,
                    span=span,
                    message=CODES["TM0117"].format(limit=self.max_per_file),
                )
            )
        items.sort(key=Diagnostic.sort_key)
        return items

    def full(self, path: str) -> bool:
        """Whether ``path`` has reached the cap (further reports are dropped)."""
        return self._per_file.get(path, 0) >= self.max_per_file
