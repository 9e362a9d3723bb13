"""Properties of ``tmc fmt``: meaning is preserved (equal ASTs) and formatting is idempotent."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from tracemind.compiler.codes import Severity
from tracemind.compiler.diagnostics import Sink
from tracemind.compiler.fmt import collect_comments, format_source
from tracemind.compiler.parse import parse_document
from tracemind.compiler.scanner import scan
from tracemind.compiler.source import SourceFile

from .strategies import policies, workflows

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _roundtrip(text: str, lang: str) -> None:
    source = SourceFile(f"gen.{lang}", text)
    sink = Sink()
    before = parse_document(source, sink, lang)
    errors = [d for d in sink.diagnostics() if d.severity is Severity.ERROR]
    assert not errors, (text, [str(d) for d in errors])
    formatted, _ = format_source(source, lang)
    assert formatted is not None
    after_sink = Sink()
    after = parse_document(SourceFile(f"gen.{lang}", formatted), after_sink, lang)
    assert after == before, formatted
    again, _ = format_source(SourceFile(f"gen.{lang}", formatted), lang)
    assert again == formatted
    scanned = scan(source, Sink())
    for comment in collect_comments(scanned.entries, scanned.trailing):
        assert comment.text.rstrip() in formatted


@SETTINGS
@given(workflows())
def test_fmt_preserves_workflows(text: str) -> None:
    _roundtrip(text, "wdl")


@SETTINGS
@given(policies())
def test_fmt_preserves_policies(text: str) -> None:
    _roundtrip(text, "pdl")
