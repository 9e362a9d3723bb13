"""Rendering diagnostics at the edge: text with snippets, JSON and SARIF 2.1.0.

Input: sorted :class:`~.diagnostics.Diagnostic` objects and, for snippets, the
:class:`~.source.SourceFile` of each path.  Output: strings ready to write.

Invariants:
- Passes never format output; this module is the only place that turns diagnostics into text.
- Lines and columns are 1-based code points everywhere (SARIF ``columnKind`` says so); end
  columns are exclusive, as in :class:`~.source.Span` and SARIF regions.
- Source text echoed in a snippet is made safe for a terminal: control and bidirectional
  formatting characters are replaced, tabs expanded, very long lines cut around the span.
- JSON and SARIF are ASCII-only (non-ASCII is escaped) and deterministic for a given input.
"""

from __future__ import annotations

import json
import os
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePath
from typing import Any, TextIO
from urllib.parse import quote

from .codes import CODES, Severity
from .diagnostics import Diagnostic, Edit, Note
from .source import SourceFile, Span

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
SRCROOT = "%SRCROOT%"

SNIPPET_WIDTH = 120
"""Display cells of source shown per snippet line; longer lines are cut around the span."""

SNIPPET_CONTEXT = 40
"""Cells kept before the span when a long line is cut."""

TAB_WIDTH = 4

# Bidirectional formatting characters (the "Trojan Source" set) are shown replaced.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_REPLACEMENT = "\ufffd"

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_SEVERITY_COLOR = {
    Severity.ERROR: "\x1b[1;31m",
    Severity.WARNING: "\x1b[1;33m",
    Severity.NOTE: "\x1b[1;36m",
}
_GUTTER_COLOR = "\x1b[1;34m"
_HELP_COLOR = "\x1b[1;36m"


def use_color(stream: TextIO) -> bool:
    """Color only for a terminal, and never when ``NO_COLOR`` is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR", "") != "" or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def count(diagnostics: Iterable[Diagnostic]) -> tuple[int, int]:
    """(errors, warnings) among ``diagnostics``."""
    errors = warnings = 0
    for diagnostic in diagnostics:
        if diagnostic.severity is Severity.ERROR:
            errors += 1
        elif diagnostic.severity is Severity.WARNING:
            warnings += 1
    return errors, warnings


def summary_line(files: int, errors: int, warnings: int) -> str:
    """``2 errors, 1 warning in 3 files``."""
    return f"{plural(errors, 'error')}, {plural(warnings, 'warning')} in {plural(files, 'file')}"


# ---------------------------------------------------------------------------------------------
# Text


def safe_text(text: str) -> str:
    """``text`` with control and bidi characters replaced (messages can quote user input)."""
    if text.isprintable():
        return text
    return "".join(
        ch if ch == "\n" or not (unicodedata.category(ch) == "Cc" or ch in _BIDI)
        else _REPLACEMENT
        for ch in text
    )


def _cell(ch: str) -> tuple[str, int]:
    """How ``ch`` is shown in a snippet and how many terminal cells it takes."""
    if ch == "\t":
        return " " * TAB_WIDTH, TAB_WIDTH
    if ch in _BIDI or unicodedata.category(ch) == "Cc":
        return _REPLACEMENT, 1
    if unicodedata.combining(ch):
        return ch, 0
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return ch, 2
    return ch, 1


class _Painter:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, style: str, text: str) -> str:
        return f"{style}{text}{_RESET}" if self.color and text else text


def _snippet(source: SourceFile, span: Span, label: str, paint: _Painter, style: str) -> list[str]:
    """Gutter, source line and carets for ``span`` (multi-line spans: to the end of line one)."""
    if not 1 <= span.line <= source.line_count:
        return []
    line = source.line_text(span.line)
    first = min(max(span.column - 1, 0), len(line))
    last = span.end_column - 1 if span.end_line == span.line else len(line)
    last = max(last, first + 1)

    start = 0 if len(line) <= SNIPPET_WIDTH else max(0, first - SNIPPET_CONTEXT)
    shown: list[str] = []
    pad = width = 0
    carets = 0
    end = start
    while end < len(line) and width < SNIPPET_WIDTH:
        text, cells = _cell(line[end])
        shown.append(text)
        if end < first:
            pad += cells
        elif end < last:
            carets += cells
        width += cells
        end += 1
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(line) else ""
    if first >= end:
        pad = width
    carets = max(carets, 1)

    number = str(span.line)
    blank = " " * len(number)
    bar = paint(_GUTTER_COLOR, "|")
    marker = paint(style, "^" * carets + (f" {safe_text(label)}" if label else ""))
    return [
        f"{blank} {bar}",
        f"{paint(_GUTTER_COLOR, number)} {bar} {prefix}{''.join(shown)}{suffix}".rstrip(),
        f"{blank} {bar} {' ' * (pad + len(prefix))}{marker}",
    ]


def _span_text(source: SourceFile | None, span: Span) -> str | None:
    """The source text under ``span``, or None when it cannot be located."""
    if source is None or not (1 <= span.line <= span.end_line <= source.line_count):
        return None
    start = source.line_start(span.line) + span.column - 1
    end = source.line_start(span.end_line) + span.end_column - 1
    if not 0 <= start <= end <= len(source.text):
        return None
    return source.text[start:end]


def _inline(text: str) -> str:
    return safe_text(text.replace("\n", "\\n").replace("\t", "\\t"))


def _describe_edit(edit: Edit, source: SourceFile | None) -> str:
    span = edit.span
    where = f"{span.line}:{span.column}"
    empty = (span.line, span.column) == (span.end_line, span.end_column)
    old = "" if empty else _span_text(source, span)
    if old == "":
        return f"{where}: insert `{_inline(edit.text)}`"
    if not edit.text:
        return f"{where}: delete `{_inline(old)}`" if old is not None else f"{where}: delete"
    if old is None:
        return f"{where}: replace with `{_inline(edit.text)}`"
    return f"{where}: replace `{_inline(old)}` with `{_inline(edit.text)}`"


def _note_text(note: Note, default_path: str) -> str:
    if note.span is None:
        return safe_text(note.message)
    path = note.path or default_path
    return f"{path}:{note.span.line}:{note.span.column}: {safe_text(note.message)}"


def render_diagnostic(
    diagnostic: Diagnostic, source: SourceFile | None, *, color: bool = False
) -> str:
    """One diagnostic: header, snippet, notes, help and fix-its (no trailing newline)."""
    paint = _Painter(color)
    style = _SEVERITY_COLOR.get(diagnostic.severity, _BOLD)
    span = diagnostic.span
    head = paint(_BOLD, f"{diagnostic.path}:{span.line}:{span.column}:")
    kind = paint(style, f"{diagnostic.severity.value}[{diagnostic.code}]:")
    lines = [f"{head} {kind} {paint(_BOLD, safe_text(diagnostic.message))}"]
    # An internal error's span points at nothing; a snippet of line 1 would mislead.
    if source is not None and diagnostic.code != "TM0901":
        lines.extend(_snippet(source, span, diagnostic.label, paint, style))
    indent = " " * (len(str(span.line)) if len(lines) > 1 else 0)
    for note in diagnostic.notes:
        lines.append(f"{indent} = {paint(_BOLD, 'note:')} {_note_text(note, diagnostic.path)}")
    if diagnostic.help:
        lines.append(f"{indent} = {paint(_HELP_COLOR, 'help:')} {safe_text(diagnostic.help)}")
    for fix in diagnostic.fixes:
        lines.append(f"{indent} = {paint(_HELP_COLOR, 'fix:')} {safe_text(fix.message)}")
        lines.extend(f"{indent}{' ' * 8}{_describe_edit(edit, source)}" for edit in fix.edits)
    return "\n".join(lines)


def render_text(
    diagnostics: Sequence[Diagnostic],
    sources: Mapping[str, SourceFile],
    *,
    files: int | None = None,
    color: bool = False,
) -> str:
    """Every diagnostic followed by a blank line; then the summary line if ``files`` is given."""
    blocks = [
        render_diagnostic(d, sources.get(d.path), color=color) + "\n\n" for d in diagnostics
    ]
    if files is not None:
        blocks.append(summary_line(files, *count(diagnostics)) + "\n")
    return "".join(blocks)


# ---------------------------------------------------------------------------------------------
# JSON


def _position(span: Span) -> dict[str, int]:
    return {
        "line": span.line,
        "column": span.column,
        "end_line": span.end_line,
        "end_column": span.end_column,
    }


def diagnostic_json(diagnostic: Diagnostic) -> dict[str, Any]:
    """The JSON object of one diagnostic (required keys plus ``name``, ``help``, ``fixes``...).

    ``notes`` is a list of strings; notes that point somewhere are also in ``related`` with
    their path and position.
    """
    related = [
        {"message": note.message, "path": note.path or diagnostic.path, **_position(note.span)}
        for note in diagnostic.notes
        if note.span is not None
    ]
    return {
        "path": diagnostic.path,
        **_position(diagnostic.span),
        "severity": diagnostic.severity.value,
        "code": diagnostic.code,
        "name": diagnostic.name,
        "message": diagnostic.message,
        "label": diagnostic.label or None,
        "notes": [note.message for note in diagnostic.notes],
        "related": related,
        "help": diagnostic.help or None,
        "fixes": [
            {
                "message": fix.message,
                "edits": [{**_position(edit.span), "text": edit.text} for edit in fix.edits],
            }
            for fix in diagnostic.fixes
        ],
    }


def json_report(diagnostics: Sequence[Diagnostic], *, files: int) -> dict[str, Any]:
    errors, warnings = count(diagnostics)
    return {
        "diagnostics": [diagnostic_json(d) for d in diagnostics],
        "summary": {"files": files, "errors": errors, "warnings": warnings},
    }


def render_json(diagnostics: Sequence[Diagnostic], *, files: int) -> str:
    return json.dumps(json_report(diagnostics, files=files), indent=2) + "\n"


# ---------------------------------------------------------------------------------------------
# SARIF 2.1.0


_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}


def artifact_location(path: str) -> dict[str, str]:
    """A relative URI under ``%SRCROOT%`` (forward slashes, percent-encoded).

    An absolute path outside the working directory stays an absolute ``file:`` URI.
    """
    if os.path.isabs(path):
        relative = os.path.relpath(path)
        if relative == os.pardir or relative.startswith(os.pardir + os.sep):
            return {"uri": PurePath(path).as_uri()}
        path = relative
    normal = os.path.normpath(path).replace(os.sep, "/")
    return {"uri": quote(normal, safe="/"), "uriBaseId": SRCROOT}


def _region(span: Span) -> dict[str, int]:
    line = max(span.line, 1)
    column = max(span.column, 1)
    end_line = max(span.end_line, line)
    end_column = max(span.end_column, 1) if end_line > line else max(span.end_column, column)
    return {"startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column}


def _physical(path: str, span: Span) -> dict[str, Any]:
    return {"artifactLocation": artifact_location(path), "region": _region(span)}


def _sarif_result(diagnostic: Diagnostic, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": diagnostic.code,
        "ruleIndex": rule_index,
        "level": _SARIF_LEVEL[diagnostic.severity],
        "message": {"text": diagnostic.message},
        "locations": [{"physicalLocation": _physical(diagnostic.path, diagnostic.span)}],
    }
    located = [note for note in diagnostic.notes if note.span is not None]
    if located:
        result["relatedLocations"] = [
            {
                "id": number,
                "message": {"text": note.message},
                "physicalLocation": _physical(note.path or diagnostic.path, note.span),
            }
            for number, note in enumerate(located)
            if note.span is not None
        ]
    if diagnostic.fixes:
        result["fixes"] = [
            {
                "description": {"text": fix.message},
                "artifactChanges": [
                    {
                        "artifactLocation": artifact_location(diagnostic.path),
                        "replacements": [
                            {"deletedRegion": _region(edit.span)}
                            | ({"insertedContent": {"text": edit.text}} if edit.text else {})
                            for edit in fix.edits
                        ],
                    }
                ],
            }
            for fix in diagnostic.fixes
            if fix.edits
        ]
    properties: dict[str, Any] = {"name": diagnostic.name}
    notes = [note.message for note in diagnostic.notes if note.span is None]
    if notes:
        properties["notes"] = notes
    if diagnostic.label:
        properties["label"] = diagnostic.label
    if diagnostic.help:
        properties["help"] = diagnostic.help
    result["properties"] = properties
    return result


def sarif_log(
    diagnostics: Sequence[Diagnostic], *, tool_version: str, successful: bool = True
) -> dict[str, Any]:
    """The SARIF log object: one run of ``tmc`` with rules for the codes that appear.

    ``successful`` is false when the compiler itself failed (an internal error).
    """
    rule_ids = sorted({d.code for d in diagnostics})
    rule_index = {rule_id: index for index, rule_id in enumerate(rule_ids)}
    rules = []
    for rule_id in rule_ids:
        code = CODES[rule_id]
        rules.append(
            {
                "id": code.id,
                "name": code.name,
                "shortDescription": {"text": code.summary or code.name},
                "defaultConfiguration": {"level": _SARIF_LEVEL[code.severity]},
            }
        )
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": {"name": "tmc", "version": tool_version, "rules": rules}},
                "invocations": [{"executionSuccessful": successful}],
                "columnKind": "unicodeCodePoints",
                "results": [_sarif_result(d, rule_index[d.code]) for d in diagnostics],
            }
        ],
    }


def render_sarif(
    diagnostics: Sequence[Diagnostic], *, tool_version: str, successful: bool = True
) -> str:
    log = sarif_log(diagnostics, tool_version=tool_version, successful=successful)
    return json.dumps(log, indent=2) + "\n"
