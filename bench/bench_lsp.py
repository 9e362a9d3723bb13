"""Editor latency of ``tmc lsp``, measured over stdio against the real server.

Prints, for a 500-line workflow (``generate.workflow_of_lines(500)``), the time from sending
``textDocument/didChange`` to receiving its ``publishDiagnostics`` (the server's debounce
included; target under 100 ms), and the round-trip latency of ``hover`` and ``completion``
requests.  Figures are the median and the worst of N runs.

Run: ``.venv/bin/python bench/bench_lsp.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import workflow_of_lines

SERVER = ["-c", "import sys; from tracemind.compiler.cli import main; sys.exit(main(['lsp']))"]


async def timed(repeat: int, action: Callable[[int], Awaitable[object]]) -> list[float]:
    times = []
    for i in range(repeat):
        start = time.perf_counter()
        await action(i)
        times.append((time.perf_counter() - start) * 1000)
    return times


def figures(name: str, times: list[float]) -> str:
    return f"{name:<34} median {statistics.median(times):7.1f} ms   worst {max(times):7.1f} ms"


async def run(repeat: int) -> None:
    text = workflow_of_lines(500)
    folder = Path(tempfile.mkdtemp(prefix="tm-bench-lsp-"))
    path = folder / "bench.wdl"
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    published: asyncio.Queue[lsp.PublishDiagnosticsParams] = asyncio.Queue()

    client = LanguageClient("bench", "1")

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: lsp.PublishDiagnosticsParams) -> None:
        published.put_nowait(params)

    await client.start_io(sys.executable, *SERVER)
    await client.initialize_async(lsp.InitializeParams(capabilities=lsp.ClientCapabilities()))
    client.initialized(lsp.InitializedParams())
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        lsp.TextDocumentItem(uri=uri, language_id="wdl", version=1, text=text)))
    await published.get()
    lines = text.splitlines()
    print(f"workflow: {len(lines)} lines")

    async def change(i: int) -> None:
        edited = text.replace("$input.base + 0", f"$input.base + {i + 1}")
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=uri, version=i + 2),
            [lsp.TextDocumentContentChangeWholeDocument(text=edited)]))
        while (await published.get()).version != i + 2:
            pass

    print(figures("didChange -> publishDiagnostics", await timed(repeat, change)))

    doc = lsp.TextDocumentIdentifier(uri=uri)
    target = next(n for n, line in enumerate(lines) if "$step." in line)
    column = lines[target].index("$step.") + len("$step.") + 1

    async def hover(_: int) -> None:
        await client.text_document_hover_async(
            lsp.HoverParams(doc, lsp.Position(target, column)))

    print(figures("hover", await timed(repeat, hover)))

    async def completion(_: int) -> None:
        await client.text_document_completion_async(
            lsp.CompletionParams(doc, lsp.Position(target, column - 1)))

    print(figures("completion ($step.)", await timed(repeat, completion)))
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run(args.repeat))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
