"""Conversion between compiler positions and LSP positions.

Role: the compiler counts 1-based lines and 1-based columns in Unicode code points (after the
pipeline dropped a byte-order mark and ``\\r`` of line ends); LSP counts 0-based lines and
0-based columns in the units of the negotiated position encoding: UTF-16 code units by default
(so a character outside the Basic Multilingual Plane, such as an emoji, counts 2), or UTF-8
bytes, or UTF-32 code points.

Input: the editor's text of one document and the encoding name.  Output: :class:`PositionMap`,
which converts both ways.

Invariants: conversions go through the editor's own line text, so a column past the end of a
line is clamped to the line's end and a position inside a surrogate pair or a multi-byte
character snaps to the start of that character; a byte-order mark at the start of the text is
one more column on the first line for the editor, none for the compiler.
"""

from __future__ import annotations

from ..source import Span

UTF8 = "utf-8"
UTF16 = "utf-16"
UTF32 = "utf-32"


def units(char: str, encoding: str) -> int:
    """How many units of ``encoding`` the one character ``char`` takes."""
    code = ord(char)
    if encoding == UTF16:
        return 2 if code > 0xFFFF else 1
    if encoding == UTF8:
        if code < 0x80:
            return 1
        if code < 0x800:
            return 2
        return 3 if code < 0x10000 else 4
    return 1


def width(text: str, encoding: str) -> int:
    """The length of ``text`` in units of ``encoding``."""
    if encoding == UTF32 or text.isascii():
        return len(text)
    if encoding == UTF16:
        return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)
    return len(text.encode("utf-8", "surrogatepass"))


class PositionMap:
    """Converts positions of one document's text between the compiler and the editor."""

    __slots__ = ("_bom", "_lines", "encoding")

    def __init__(self, text: str, encoding: str = UTF16) -> None:
        self._bom = text.startswith("\ufeff")
        body = text[1:] if self._bom else text
        self._lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self.encoding = encoding

    def line_text(self, line: int) -> str:
        """The compiler's text of 1-based ``line`` ('' past the end)."""
        return self._lines[line - 1] if 0 < line <= len(self._lines) else ""

    def _shift(self, line0: int) -> int:
        return 1 if self._bom and line0 == 0 else 0

    def to_lsp(self, line: int, column: int) -> tuple[int, int]:
        """Compiler (1-based line, 1-based code-point column) -> LSP (line, character)."""
        line0 = max(line - 1, 0)
        text = self.line_text(line0 + 1)
        prefix = text[: max(column - 1, 0)]
        return line0, width(prefix, self.encoding) + self._shift(line0)

    def from_lsp(self, line0: int, character: int) -> tuple[int, int]:
        """LSP (line, character) -> compiler (1-based line, 1-based code-point column)."""
        text = self.line_text(line0 + 1)
        remaining = character - self._shift(line0)
        if self.encoding == UTF32 or text.isascii():
            return line0 + 1, min(max(remaining, 0), len(text)) + 1
        column = 0
        for char in text:
            size = units(char, self.encoding)
            if remaining < size:
                break
            remaining -= size
            column += 1
        return line0 + 1, column + 1

    def span_to_lsp(self, span: Span) -> tuple[tuple[int, int], tuple[int, int]]:
        """The LSP (start, end) of ``span``."""
        return self.to_lsp(span.line, span.column), self.to_lsp(span.end_line, span.end_column)

    def end(self) -> tuple[int, int]:
        """The LSP position just past the last character of the text."""
        last = len(self._lines) - 1
        return last, width(self._lines[last], self.encoding) + self._shift(last)
