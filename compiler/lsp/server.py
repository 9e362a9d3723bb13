"""``tmc lsp``: the language server, wiring pygls to the compiler.

Role: keep the editor's open documents, check them (debounced while typing) and publish the
same diagnostics as ``tmc lint``; answer hover, definition, completion, document symbols,
formatting (``tmc fmt``) and code actions (the diagnostics' fix-its).  The answers themselves
come from ``analysis.py`` and ``complete.py`` as plain data; this module converts positions
(``positions.py``) and builds the LSP types.

Input: LSP messages over stdio.  Output: LSP responses and notifications.

Invariants:
- A document is checked with its group (``workspace.py``): the sources of its directory on
  disk and the open documents there; after a check every open document of the group gets its
  diagnostics, so editing a policy updates the workflows bound to it.
- Requests see the current text: a document whose version was not checked yet is checked
  before answering.
- All checking runs on the event loop's thread, one check at a time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import TextDocument

from ... import __version__
from ..codes import Severity
from ..diagnostics import Diagnostic
from ..pipeline import language_of
from ..source import SourceFile, Span
from .analysis import Lookup, Symbol, document_symbols
from .complete import complete
from .positions import UTF16, PositionMap
from .workspace import Snapshot, check_group

log = logging.getLogger(__name__)

DEBOUNCE_SECONDS = 0.03
"""How long typing must pause before a changed document is checked."""

_SEVERITY = {
    Severity.ERROR: lsp.DiagnosticSeverity.Error,
    Severity.WARNING: lsp.DiagnosticSeverity.Warning,
    Severity.NOTE: lsp.DiagnosticSeverity.Information,
}


def path_of(uri: str) -> str:
    return to_fs_path(uri) or uri


def uri_of(path: str) -> str:
    return from_fs_path(path) or path


class TmcLanguageServer(LanguageServer):
    """The server's state: the last snapshot of each open document and pending checks."""

    def __init__(self, debounce: float = DEBOUNCE_SECONDS) -> None:
        super().__init__("tmc", __version__)
        self.debounce = debounce
        self.snapshots: dict[str, Snapshot] = {}
        """Open document path -> the last check of its group."""
        self.checked: dict[str, int | None] = {}
        """Open document path -> the version of its text that the snapshot holds."""
        self.pending: dict[str, asyncio.TimerHandle] = {}

    # -- documents -----------------------------------------------------------------------------

    @property
    def encoding(self) -> str:
        chosen = self.workspace.position_encoding
        if isinstance(chosen, lsp.PositionEncodingKind):
            return chosen.value
        return str(chosen) if chosen else UTF16

    def open_documents(self) -> dict[str, TextDocument]:
        """Open documents by URI (pygls leaves its mapping untyped)."""
        documents: dict[str, TextDocument] = self.workspace.text_documents
        return documents

    def document(self, path: str) -> TextDocument | None:
        return self.open_documents().get(uri_of(path))

    def open_texts(self) -> dict[str, str]:
        return {path_of(uri): doc.source for uri, doc in self.open_documents().items()}

    def text_of(self, path: str) -> str | None:
        """The editor's text of ``path`` if it is open, else the checked text of it."""
        doc = self.document(path)
        if doc is not None:
            return doc.source
        for snapshot in self.snapshots.values():
            source = snapshot.source(path)
            if source is not None:
                return source.text
        return None

    def positions(self, path: str) -> PositionMap:
        return PositionMap(self.text_of(path) or "", self.encoding)

    def schedule(self, path: str) -> None:
        """Check ``path`` once typing has paused for :attr:`debounce` seconds."""
        self.cancel(path)
        loop = asyncio.get_running_loop()
        self.pending[path] = loop.call_later(self.debounce, self.refresh, path)

    def cancel(self, path: str) -> None:
        handle = self.pending.pop(path, None)
        if handle is not None:
            handle.cancel()

    def refresh(self, path: str) -> Snapshot | None:
        """Check the group of ``path`` now and publish the diagnostics of its open documents."""
        self.cancel(path)
        if language_of(path) is None:
            return None
        texts = self.open_texts()
        try:
            snapshot = check_group(path, texts)
        except Exception:
            log.exception("checking %s failed", path)
            return None
        for member in snapshot.paths:
            if member not in texts:
                continue
            self.cancel(member)
            doc = self.document(member)
            self.snapshots[member] = snapshot
            self.checked[member] = doc.version if doc is not None else None
            self.publish(member, snapshot)
        return snapshot

    def publish(self, path: str, snapshot: Snapshot) -> None:
        positions = self.positions(path)
        items = [to_lsp_diagnostic(d, positions) for d in snapshot.diagnostics(path)]
        doc = self.document(path)
        self.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(
                uri=uri_of(path), diagnostics=items, version=doc.version if doc else None
            )
        )

    def current(self, uri: str) -> Snapshot | None:
        """The snapshot of ``uri``'s current text (checking it first if it changed)."""
        path = path_of(uri)
        doc = self.open_documents().get(uri)
        snapshot = self.snapshots.get(path)
        if snapshot is None or (doc is not None and self.checked.get(path) != doc.version):
            snapshot = self.refresh(path) or snapshot
        return snapshot

    def closed(self, uri: str) -> None:
        path = path_of(uri)
        self.cancel(path)
        self.snapshots.pop(path, None)
        self.checked.pop(path, None)
        self.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )


# ---------------------------------------------------------------------------------------------
# Conversions


def to_range(span: Span, positions: PositionMap) -> lsp.Range:
    start, end = positions.span_to_lsp(span)
    return lsp.Range(lsp.Position(*start), lsp.Position(*end))


def to_lsp_diagnostic(d: Diagnostic, positions: PositionMap) -> lsp.Diagnostic:
    """The message is ``tmc lint``'s; notes and the help line follow it on their own lines."""
    extra = [f"note: {note.message}" for note in d.notes if note.span is None]
    if d.help:
        extra.append(f"help: {d.help}")
    related = [
        lsp.DiagnosticRelatedInformation(
            location=lsp.Location(uri_of(note.path or d.path), to_range(note.span, positions)),
            message=note.message,
        )
        for note in d.notes
        if note.span is not None and (note.path or d.path) == d.path
    ]
    return lsp.Diagnostic(
        range=to_range(d.span, positions),
        message="\n".join([d.message, *extra]),
        severity=_SEVERITY.get(d.severity, lsp.DiagnosticSeverity.Error),
        code=d.code,
        source="tmc",
        related_information=related or None,
    )


def to_document_symbol(symbol: Symbol, positions: PositionMap) -> lsp.DocumentSymbol:
    return lsp.DocumentSymbol(
        name=symbol.name,
        kind=lsp.SymbolKind[symbol.kind],
        range=to_range(symbol.span, positions),
        selection_range=to_range(symbol.selection, positions),
        detail=symbol.detail or None,
        children=[to_document_symbol(kid, positions) for kid in symbol.children] or None,
    )


def _overlaps(a: lsp.Range, b: lsp.Range) -> bool:
    def key(p: lsp.Position) -> tuple[int, int]:
        return p.line, p.character

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


# ---------------------------------------------------------------------------------------------
# Features


def build_server(debounce: float = DEBOUNCE_SECONDS) -> TmcLanguageServer:
    server = TmcLanguageServer(debounce)

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: TmcLanguageServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls.refresh(path_of(params.text_document.uri))

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: TmcLanguageServer, params: lsp.DidChangeTextDocumentParams) -> None:
        ls.schedule(path_of(params.text_document.uri))

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: TmcLanguageServer, params: lsp.DidSaveTextDocumentParams) -> None:
        ls.refresh(path_of(params.text_document.uri))

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: TmcLanguageServer, params: lsp.DidCloseTextDocumentParams) -> None:
        ls.closed(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: TmcLanguageServer, params: lsp.HoverParams) -> lsp.Hover | None:
        uri, path = params.text_document.uri, path_of(params.text_document.uri)
        snapshot = ls.current(uri)
        if snapshot is None:
            return None
        positions = ls.positions(path)
        info = Lookup(snapshot, path).hover(
            *positions.from_lsp(params.position.line, params.position.character)
        )
        if info is None:
            return None
        return lsp.Hover(
            contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=info.markdown),
            range=to_range(info.span, positions),
        )

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: TmcLanguageServer, params: lsp.DefinitionParams) -> lsp.Location | None:
        uri, path = params.text_document.uri, path_of(params.text_document.uri)
        snapshot = ls.current(uri)
        if snapshot is None:
            return None
        here = ls.positions(path).from_lsp(params.position.line, params.position.character)
        target = Lookup(snapshot, path).definition(*here)
        if target is None:
            return None
        return lsp.Location(uri_of(target.path), to_range(target.span, ls.positions(target.path)))

    @server.feature(
        lsp.TEXT_DOCUMENT_COMPLETION,
        lsp.CompletionOptions(trigger_characters=[".", "$", "("]),
    )
    def completion(ls: TmcLanguageServer, params: lsp.CompletionParams) -> lsp.CompletionList:
        uri, path = params.text_document.uri, path_of(params.text_document.uri)
        snapshot = ls.current(uri)
        positions = ls.positions(path)
        line, column = positions.from_lsp(params.position.line, params.position.character)
        lines = [positions.line_text(i) for i in range(1, line + 1)]
        items = [
            lsp.CompletionItem(
                label=item.label,
                kind=lsp.CompletionItemKind[item.kind],
                detail=item.detail or None,
                documentation=(
                    lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=item.documentation)
                    if item.documentation else None
                ),
            )
            for item in complete(snapshot, path, lines, line, column)
        ]
        return lsp.CompletionList(is_incomplete=False, items=items)

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def symbols(
        ls: TmcLanguageServer, params: lsp.DocumentSymbolParams
    ) -> list[lsp.DocumentSymbol]:
        uri, path = params.text_document.uri, path_of(params.text_document.uri)
        snapshot = ls.current(uri)
        doc = snapshot.document(path) if snapshot is not None else None
        if doc is None:
            return []
        positions = ls.positions(path)
        return [to_document_symbol(s, positions) for s in document_symbols(doc)]

    @server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
    def formatting(
        ls: TmcLanguageServer, params: lsp.DocumentFormattingParams
    ) -> list[lsp.TextEdit] | None:
        return format_edits(ls, params.text_document.uri)

    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]),
    )
    def code_action(ls: TmcLanguageServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        return code_actions(ls, params.text_document.uri, params.range)

    return server


def format_edits(ls: TmcLanguageServer, uri: str) -> list[lsp.TextEdit] | None:
    """One edit replacing the whole text with ``tmc fmt``'s; None if it has syntax errors."""
    from ..fmt import format_source

    path = path_of(uri)
    lang = language_of(path)
    text = ls.text_of(path)
    if lang is None or text is None:
        return None
    bom = text.startswith("\ufeff")
    body = text[1:] if bom else text
    crlf = "\r\n" in body
    normal = body.replace("\r\n", "\n").replace("\r", "\n")
    formatted, _ = format_source(SourceFile(path, normal), lang)
    if formatted is None:
        return None
    if formatted == normal:
        return []
    new_text = ("\ufeff" if bom else "") + (formatted.replace("\n", "\r\n") if crlf else formatted)
    end = PositionMap(text, ls.encoding).end()
    whole = lsp.Range(lsp.Position(0, 0), lsp.Position(*end))
    return [lsp.TextEdit(range=whole, new_text=new_text)]


def code_actions(ls: TmcLanguageServer, uri: str, wanted: lsp.Range) -> list[lsp.CodeAction]:
    """Quick fixes for the fix-its of the diagnostics that overlap ``wanted``."""
    snapshot = ls.current(uri)
    if snapshot is None:
        return []
    path = path_of(uri)
    positions = ls.positions(path)
    actions: list[lsp.CodeAction] = []
    for diagnostic in snapshot.diagnostics(path):
        if not diagnostic.fixes:
            continue
        item = to_lsp_diagnostic(diagnostic, positions)
        if not _overlaps(item.range, wanted):
            continue
        for fix in diagnostic.fixes:
            edits = [lsp.TextEdit(range=to_range(e.span, positions), new_text=e.text)
                     for e in fix.edits]
            actions.append(lsp.CodeAction(
                title=fix.message,
                kind=lsp.CodeActionKind.QuickFix,
                diagnostics=[item],
                edit=lsp.WorkspaceEdit(changes={uri: edits}),
                is_preferred=len(diagnostic.fixes) == 1 or None,
            ))
    return actions


def serve(debounce: float = DEBOUNCE_SECONDS) -> None:
    """Run the server over stdio until the client says exit.

    pygls closes the stream it writes to when it stops, so it gets a stream of its own on a
    copy of standard output's descriptor and ``sys.stdout`` stays usable afterwards.
    """
    with os.fdopen(os.dup(sys.stdout.fileno()), "wb") as out:
        build_server(debounce).start_io(sys.stdin.buffer, out)
