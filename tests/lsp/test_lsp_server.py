"""End to end: the real ``tmc lsp`` over stdio, driven by pytest-lsp's client.

Each test writes a small project to a temporary directory, opens documents and checks what the
server answers; columns are LSP's UTF-16 units, and the sources hold non-ASCII text (an emoji
outside the BMP among it) before the positions that matter.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from tracemind.compiler.pipeline import lint

SERVER = [sys.executable, "-c",
          "import sys; from tracemind.compiler.cli import main; sys.exit(main(['lsp']))"]

POLICY = """version: pdl/v1
policy: guard
arms:
  default: {limit: 75.0, mode: SAFE}
evaluate:
  temp := first_numeric(values)
  if temp >= arms.default.limit:
    action = "HOT"
  else:
    action = "OK"
emit:
  action: action
"""

WORKFLOW = """# ünïcode 🙂 comment
version: dsl/v1
workflow: flow
inputs:
  base: int = 1
steps:
  - s(core.set): {value: $input.base}
  - decide(policy.apply):
      policy: guard
      values: {t: $step.s.value}
  - note(core.log):
      message: "🙂 " + $step.decide.action
"""


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    await lsp_client.initialize_session(
        lsp.InitializeParams(capabilities=lsp.ClientCapabilities())
    )
    yield
    await lsp_client.shutdown_session()


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path.as_uri()


def _open(client: LanguageClient, uri: str, text: str, version: int = 1) -> None:
    client.diagnostics.pop(uri, None)
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        lsp.TextDocumentItem(uri=uri, language_id="wdl", version=version, text=text)))


def _change(client: LanguageClient, uri: str, text: str, version: int) -> None:
    client.diagnostics.pop(uri, None)
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
        [lsp.TextDocumentContentChangeWholeDocument(text=text)]))


async def _diagnostics(client: LanguageClient, uri: str) -> list[lsp.Diagnostic]:
    """The next diagnostics published for ``uri`` (a guard timeout only stops a hung test)."""
    async def wait() -> list[lsp.Diagnostic]:
        while uri not in client.diagnostics:
            await asyncio.sleep(0.005)
        return list(client.diagnostics[uri])

    return await asyncio.wait_for(wait(), timeout=30)


def _at(text: str, needle: str, offset: int = 0) -> lsp.Position:
    """The LSP position (UTF-16 columns) of ``needle`` in ``text``, plus ``offset`` units."""
    index = text.index(needle)
    line = text.count("\n", 0, index)
    start = text.rfind("\n", 0, index) + 1
    units = len(text[start:index].encode("utf-16-le")) // 2
    return lsp.Position(line, units + offset)


@pytest.mark.asyncio
async def test_diagnostics_match_lint_with_utf16_columns(
    client: LanguageClient, tmp_path: Path
) -> None:
    _write(tmp_path, "guard.pdl", POLICY)
    text = WORKFLOW.replace("$step.decide.action", "$step.decide.actoin")
    uri = _write(tmp_path, "flow.wdl", text)
    _open(client, uri, text)
    items = await _diagnostics(client, uri)
    expected = [d for d in lint([str(tmp_path)]).diagnostics if d.path.endswith("flow.wdl")]
    assert [(d.code, d.message.splitlines()[0]) for d in items] == [
        (e.code, e.message) for e in expected
    ]
    assert items[0].code == "TM0304"
    # `actoin` follows "🙂 " (a surrogate pair in UTF-16) on its line.
    assert items[0].range.start == _at(text, "actoin")
    assert items[0].range.end == _at(text, "actoin", len("actoin"))


@pytest.mark.asyncio
async def test_change_republishes_and_policy_binding_resolves(
    client: LanguageClient, tmp_path: Path
) -> None:
    _write(tmp_path, "guard.pdl", POLICY)
    uri = _write(tmp_path, "flow.wdl", WORKFLOW)
    broken = WORKFLOW.replace("{value: $input.base}", "{value: $input.bsae}")
    _open(client, uri, broken)
    assert [d.code for d in await _diagnostics(client, uri)] == ["TM0605", "TM0202"]
    _change(client, uri, WORKFLOW, 2)
    assert await _diagnostics(client, uri) == []


@pytest.mark.asyncio
async def test_hover_definition_and_completion(client: LanguageClient, tmp_path: Path) -> None:
    policy_uri = _write(tmp_path, "guard.pdl", POLICY)
    uri = _write(tmp_path, "flow.wdl", WORKFLOW)
    _open(client, uri, WORKFLOW)
    await _diagnostics(client, uri)
    doc = lsp.TextDocumentIdentifier(uri=uri)

    hover = await client.text_document_hover_async(
        lsp.HoverParams(doc, _at(WORKFLOW, "action", 2)))
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    assert "`string`" in hover.contents.value
    assert hover.range is not None and hover.range.start == _at(WORKFLOW, "action")

    kind = await client.text_document_hover_async(
        lsp.HoverParams(doc, _at(WORKFLOW, "core.log", 1)))
    assert kind is not None and isinstance(kind.contents, lsp.MarkupContent)
    assert "core.log(message: any" in kind.contents.value

    binding = await client.text_document_definition_async(
        lsp.DefinitionParams(doc, _at(WORKFLOW, "guard", 1)))
    assert isinstance(binding, lsp.Location) and binding.uri == policy_uri
    step = await client.text_document_definition_async(
        lsp.DefinitionParams(doc, _at(WORKFLOW, "decide.action", 1)))
    assert isinstance(step, lsp.Location) and step.uri == uri
    assert step.range.start == _at(WORKFLOW, "decide(")

    typing = WORKFLOW.replace("$step.decide.action", "$step.decide.")
    _change(client, uri, typing, 2)
    result = await client.text_document_completion_async(
        lsp.CompletionParams(doc, _at(typing, "decide.", len("decide."))))
    assert isinstance(result, lsp.CompletionList)
    assert [item.label for item in result.items] == ["action"]


@pytest.mark.asyncio
async def test_symbols_formatting_and_quick_fix(client: LanguageClient, tmp_path: Path) -> None:
    _write(tmp_path, "guard.pdl", POLICY)
    text = WORKFLOW.replace("$step.decide.action", "$step.decide.actoin").replace(
        "  base: int = 1", "  base:   int=1")
    uri = _write(tmp_path, "flow.wdl", text)
    _open(client, uri, text)
    await _diagnostics(client, uri)
    doc = lsp.TextDocumentIdentifier(uri=uri)

    symbols = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(doc))
    assert symbols is not None
    assert [s.name for s in symbols] == ["base", "s", "decide", "note"]

    edits = await client.text_document_formatting_async(lsp.DocumentFormattingParams(
        doc, lsp.FormattingOptions(tab_size=2, insert_spaces=True)))
    assert edits is not None and len(edits) == 1
    assert "  base: int = 1\n" in edits[0].new_text

    where = _at(text, "actoin")
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        doc, lsp.Range(where, where), lsp.CodeActionContext(diagnostics=[])))
    assert actions is not None and len(actions) == 1
    action = actions[0]
    assert isinstance(action, lsp.CodeAction) and action.title == "replace with `action`"
    assert action.edit is not None and action.edit.changes is not None
    (edit,) = action.edit.changes[uri]
    assert edit.new_text == "action"
    assert edit.range.start == where
