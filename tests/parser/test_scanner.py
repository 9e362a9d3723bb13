"""The line scanner: block structure, key split, comments, strings and structural errors."""

from __future__ import annotations

from tracemind.compiler.diagnostics import Sink
from tracemind.compiler.scanner import MAX_DEPTH, Entry, scan
from tracemind.compiler.source import SourceFile


def _scan(text: str) -> tuple[list[Entry], Sink, SourceFile]:
    source = SourceFile("t.wdl", text)
    sink = Sink()
    return scan(source, sink).entries, sink, source


def _value(source: SourceFile, e: Entry) -> str:
    return source.text[e.value_start : e.value_end]


def test_key_split_ignores_colons_in_urls_strings_brackets_and_walrus() -> None:
    entries, sink, source = _scan(
        'endpoint: opc.tcp://localhost:4840\n'
        'x: {a: 1, b: "c: d"}\n'
        'temp := coalesce(values["a:b"], 1)\n'
        'if a >= b:\n'
        '  y = 1\n'
    )
    assert not sink.diagnostics()
    assert [e.key for e in entries] == ["endpoint", "x", None, "if a >= b"]
    assert _value(source, entries[0]) == "opc.tcp://localhost:4840"
    assert _value(source, entries[1]) == '{a: 1, b: "c: d"}'
    assert _value(source, entries[2]) == 'temp := coalesce(values["a:b"], 1)'
    assert _value(source, entries[3].children[0]) == "y = 1"


def test_comments_need_whitespace_before_hash_and_apostrophes_stay_words() -> None:
    entries, sink, source = _scan(
        "url: http://x/#frag  # a comment\n"
        "message: don't panic # note\n"
        "# own line\n"
        "k: 'a # not a comment'\n"
    )
    assert not sink.diagnostics()
    assert _value(source, entries[0]) == "http://x/#frag"
    assert entries[0].comment is not None and entries[0].comment.text == "# a comment"
    assert _value(source, entries[1]) == "don't panic"
    assert entries[2].leading[0].text == "# own line"
    assert _value(source, entries[2]) == "'a # not a comment'"


def test_list_items_members_and_else_at_member_column() -> None:
    text = (
        "steps:\n"
        "  - when x:\n"
        "      - a(core.log): {message: 1}\n"
        "    else:\n"
        "      - b(core.log): {message: 2}\n"
        "  - c(core.log):\n"
        "      message: 3\n"
    )
    entries, sink, _ = _scan(text)
    assert not sink.diagnostics()
    items = entries[0].children
    assert [i.dash for i in items] == [True, True]
    when = items[0]
    assert [m.key for m in when.members] == ["when x", "else"]
    assert when.members[0].children[0].members[0].key == "a(core.log)"
    assert when.members[1].children[0].members[0].key == "b(core.log)"
    assert items[1].members[0].children[0].key == "message"


def test_multi_line_brackets_continue_only_on_deeper_lines() -> None:
    entries, sink, source = _scan("x: [1,\n    2,\n    3]\ny: 4\n")
    assert not sink.diagnostics()
    assert _value(source, entries[0]) == "[1,\n    2,\n    3]"
    assert entries[0].end_line == 3
    assert entries[1].key == "y"


def test_unclosed_bracket_is_reported_where_it_opens() -> None:
    _, sink, _ = _scan("x: [1,\ny: 2\n")
    (d,) = sink.diagnostics()
    assert d.code == "TM0104"
    assert (d.span.line, d.span.column) == (1, 4)


def test_unterminated_string() -> None:
    _, sink, _ = _scan('x: "abc\ny: 1\n')
    (d,) = sink.diagnostics()
    assert d.code == "TM0105"
    assert (d.span.line, d.span.column) == (1, 4)


def test_tab_in_indentation_has_its_own_code_and_a_fix() -> None:
    _, sink, _ = _scan("inputs:\n\ta: int\n")
    (d,) = sink.diagnostics()
    assert d.code == "TM0102"
    assert (d.span.line, d.span.column) == (2, 1)
    assert d.fixes and d.fixes[0].edits[0].text == "  "


def test_compact_list_is_an_error_with_a_fix_but_keeps_structure() -> None:
    entries, sink, _ = _scan("steps:\n- a(core.log): {}\n- b(core.log): {}\noutputs:\n  x: 1\n")
    codes = [d.code for d in sink.diagnostics()]
    assert codes == ["TM0107"]
    assert [e.key for e in entries] == ["steps", "outputs"]
    assert len(entries[0].children) == 2


def test_bad_dedent_is_reported() -> None:
    _, sink, _ = _scan("a:\n    b: 1\n  c: 2\n")
    assert [d.code for d in sink.diagnostics()] == ["TM0103"]


def test_nesting_is_capped_with_one_diagnostic() -> None:
    lines = ["a:"]
    for depth in range(1, 2 * MAX_DEPTH):
        lines.append("  " * depth + "a:")
    lines.append("  " * (2 * MAX_DEPTH) + "a: 1")
    _, sink, _ = _scan("\n".join(lines) + "\n")
    codes = [d.code for d in sink.diagnostics()]
    assert codes == ["TM0112"]


def test_ten_thousand_levels_do_not_recurse() -> None:
    text = "".join("  " * i + "a:\n" for i in range(10_000))
    _, sink, _ = _scan(text)
    assert [d.code for d in sink.diagnostics()] == ["TM0112"]
