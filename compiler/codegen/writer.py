"""A line writer for generated code: indentation and a source position per line.

Role: the bodies of generated functions are written here, line by line, each line optionally
tagged with the ``(line, column)`` of the source construct it came from (``NO_SPAN`` is not a
position: such lines stay unmapped); the tags become the module's ``SOURCE_MAP`` once the
module skeleton around the body is known (:meth:`source_map` shifts them by the skeleton's
line count).

Input: lines of generated code (already safe: built from mangled names and repr-safe literals).
Output: the text and the ``generated line -> (line, column)`` map.

Invariants: four spaces per level; a block that received no line gets ``pass``; lines carry no
trailing whitespace; a line wider than :data:`WIDTH` is broken after the commas inside its
brackets where that helps (:func:`wrap`), every piece keeping the line's source position.
"""

from __future__ import annotations

from ..source import NO_SPAN, Span

Position = tuple[int, int]
WIDTH = 99


def wrap(line: str, width: int = WIDTH) -> list[str]:
    """``line`` broken after ``", "`` inside brackets so that the pieces fit in ``width``
    where possible; continuation lines are indented four spaces more (Python joins lines
    inside brackets, so the meaning is unchanged).  String literals (as ``repr`` writes them)
    are never split."""
    if len(line) <= width:
        return [line]
    breaks: list[int] = []
    depth = 0
    quote = ""
    index = 0
    while index < len(line):
        char = line[index]
        if quote:
            if char == "\\":
                index += 2
                continue
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth > 0 and line.startswith(" ", index + 1):
            breaks.append(index + 2)
        index += 1
    if not breaks:
        return [line]
    hanging = " " * (len(line) - len(line.lstrip(" ")) + 4)
    out: list[str] = []
    start = 0
    prefix = ""
    last = 0
    for position in [*breaks, len(line)]:
        if len(prefix) + position - start > width and last > start:
            out.append((prefix + line[start:last]).rstrip())
            start, prefix = last, hanging
        last = position
    out.append(prefix + line[start:])
    return out


class Writer:
    """Collects lines at the current indentation, with their source positions."""

    __slots__ = ("_marks", "depth", "lines", "positions")

    def __init__(self, depth: int = 0) -> None:
        self.lines: list[str] = []
        self.positions: dict[int, Position] = {}
        """0-based index into :attr:`lines` -> source position."""
        self.depth = depth
        self._marks: list[int] = []

    def line(self, text: str, at: Span | None = None) -> None:
        """One line at the current depth; ``at`` is the source construct it evaluates."""
        full = "    " * self.depth + text if text else ""
        pieces = wrap(full) if len(full) > WIDTH else [full]
        if at is not None and at.line > 0 and at != NO_SPAN:
            for offset in range(len(pieces)):
                self.positions[len(self.lines) + offset] = (at.line, at.column)
        self.lines.extend(pieces)

    def lines_at(self, texts: list[str], at: Span | None = None) -> None:
        """Several lines (already indented relative to the current depth), all at ``at``."""
        for text in texts:
            self.line(text, at)

    def open(self, header: str, at: Span | None = None) -> None:
        """A compound statement's header (ending in ``:``); the body follows one level deeper."""
        self.line(header, at)
        self.depth += 1
        self._marks.append(len(self.lines))

    def close(self) -> None:
        """End the innermost open block, adding ``pass`` if it has no statement."""
        if self._marks.pop() == len(self.lines):
            self.line("pass")
        self.depth -= 1

    def blank(self) -> None:
        self.lines.append("")

    def extend(self, other: Writer) -> None:
        """Append ``other``'s lines (written at their own depth) with their positions."""
        base = len(self.lines)
        for index, position in other.positions.items():
            self.positions[base + index] = position
        self.lines.extend(other.lines)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n" if self.lines else ""

    def source_map(self, offset: int) -> dict[int, Position]:
        """Generated line number (1-based, the body starting after ``offset`` lines) ->
        source position."""
        return {offset + index + 1: position for index, position in self.positions.items()}
