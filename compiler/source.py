"""Source files and spans.

A :class:`SourceFile` holds the decoded text of one document plus a line-start table so that
offsets convert to 1-based (line, column) pairs counted in code points.  A :class:`Span` is
the half-open range ``[start, end)`` in that coordinate system; every AST node carries one.
"""

from __future__ import annotations

import bisect
from typing import NamedTuple


class Span(NamedTuple):
    """A half-open source range: 1-based lines and columns, end column exclusive.

    A named tuple because the parser makes one per token and node (creation cost matters);
    equality and hashing use the line/column fields only, like the dataclass it replaced.
    """

    line: int
    column: int
    end_line: int
    end_column: int
    offset: int = 0
    end_offset: int = 0

    def __str__(self) -> str:
        return f"{self.line}:{self.column}-{self.end_line}:{self.end_column}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Span):
            return NotImplemented
        return self[:4] == other[:4]

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        return hash(self[:4])

    def cover(self, other: Span) -> Span:
        """The smallest span that contains both ``self`` and ``other``."""
        first = self if (self.line, self.column) <= (other.line, other.column) else other
        ends = (self.end_line, self.end_column) >= (other.end_line, other.end_column)
        last = self if ends else other
        return Span(
            first.line, first.column, last.end_line, last.end_column, first.offset, last.end_offset
        )


NO_SPAN = Span(1, 1, 1, 1)


class SourceFile:
    """The text of one document with offset <-> (line, column) conversion."""

    __slots__ = ("_last", "_line_starts", "display_path", "text")

    def __init__(self, display_path: str, text: str) -> None:
        self.display_path = display_path
        self.text = text
        starts = [0]
        find = text.find
        pos = find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = find("\n", pos + 1)
        self._line_starts = starts
        self._last = (0, -1, 0)

    @property
    def line_count(self) -> int:
        return len(self._line_starts)

    def line_start(self, line: int) -> int:
        """Offset of the first character of 1-based ``line``."""
        return self._line_starts[line - 1]

    def line_text(self, line: int) -> str:
        """The text of 1-based ``line`` without its newline."""
        start = self._line_starts[line - 1]
        end = self._line_starts[line] - 1 if line < len(self._line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r")

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of ``offset``.

        Lookups mostly move forward through the file, so the last line found is tried first.
        """
        lo, hi, index = self._last
        if lo <= offset < hi:
            return index + 1, offset - lo + 1
        starts = self._line_starts
        index = bisect.bisect_right(starts, offset) - 1
        lo = starts[index]
        hi = starts[index + 1] if index + 1 < len(starts) else len(self.text) + 1
        self._last = (lo, hi, index)
        return index + 1, offset - lo + 1

    def span(self, start: int, end: int) -> Span:
        """The span of offsets ``[start, end)``."""
        line, column = self.position(start)
        end_line, end_column = self.position(end)
        return Span(line, column, end_line, end_column, start, end)
