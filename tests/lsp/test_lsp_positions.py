"""Code-point columns <-> LSP columns in UTF-16 (the default), UTF-8 and UTF-32 units."""

from __future__ import annotations

import pytest

from tracemind.compiler.lsp.positions import UTF8, UTF16, UTF32, PositionMap, width
from tracemind.compiler.source import Span

# "é" is one UTF-16 unit and two UTF-8 bytes; "🙂" (U+1F642) is outside the BMP: two UTF-16
# units (a surrogate pair), four UTF-8 bytes, one code point.
TEXT = 'a: "é🙂x"\nnext\n'


def test_width_counts_units_of_each_encoding() -> None:
    assert width("é🙂x", UTF16) == 4
    assert width("é🙂x", UTF8) == 7
    assert width("é🙂x", UTF32) == 3


@pytest.mark.parametrize(
    ("encoding", "after_emoji"),
    [(UTF16, 7), (UTF8, 10), (UTF32, 6)],
)
def test_to_lsp_counts_units_before_the_column(encoding: str, after_emoji: int) -> None:
    positions = PositionMap(TEXT, encoding)
    # Code-point column 7 is the `x`, just after the emoji.
    assert positions.to_lsp(1, 7) == (0, after_emoji)
    assert positions.to_lsp(2, 1) == (1, 0)


@pytest.mark.parametrize("encoding", [UTF16, UTF8, UTF32])
def test_round_trip_on_every_character_boundary(encoding: str) -> None:
    positions = PositionMap(TEXT, encoding)
    for column in range(1, len('a: "é🙂x"') + 2):
        line0, character = positions.to_lsp(1, column)
        assert positions.from_lsp(line0, character) == (1, column)


def test_position_inside_a_surrogate_pair_snaps_to_the_character_start() -> None:
    positions = PositionMap(TEXT, UTF16)
    # UTF-16 units 5 and 6 are the emoji's pair (code-point column 6); 7 is the `x`.
    assert positions.from_lsp(0, 5) == (1, 6)
    assert positions.from_lsp(0, 6) == (1, 6)
    assert positions.from_lsp(0, 7) == (1, 7)


def test_columns_past_the_end_are_clamped() -> None:
    positions = PositionMap(TEXT, UTF16)
    assert positions.from_lsp(1, 99) == (2, 5)
    assert positions.from_lsp(7, 3) == (8, 1)


def test_byte_order_mark_shifts_the_first_line_only() -> None:
    positions = PositionMap("\ufeffab\ncd\n", UTF16)
    assert positions.to_lsp(1, 1) == (0, 1)
    assert positions.from_lsp(0, 1) == (1, 1)
    assert positions.to_lsp(2, 2) == (1, 1)


def test_crlf_text_has_the_same_lines() -> None:
    positions = PositionMap("ab\r\n🙂c\r\n", UTF16)
    assert positions.line_text(2) == "🙂c"
    assert positions.span_to_lsp(Span(2, 2, 2, 3)) == ((1, 2), (1, 3))
    assert positions.end() == (2, 0)
