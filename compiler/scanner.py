"""The line scanner: the block structure of a WDL or PDL document.

Input: a :class:`~.source.SourceFile`.  Output: a tree of :class:`Entry` objects, one per
logical line (a line plus the continuation lines of a bracket it opens), each with absolute
offsets for its key and raw value, its trailing comment, and its child block.  The scanner
knows nothing of WDL or PDL: ``parse`` gives entries their meaning and runs Lark on each key
head and value at its exact place (parsing.md explains why there are two levels).

Rules (language.md section 1):
- indentation is spaces only; a tab in indentation is an error (TM0102);
- ``- `` opens a list item whose members sit at the column after ``- ``;
- the key split is the first ``:`` outside strings and brackets followed by a space or the end
  of the line; ``:=`` never splits;
- ``#`` at the start of a line or after whitespace, outside strings, starts a comment;
- quotes open a string only at a token boundary, so ``don't`` stays a word;
- a value continues onto following lines only inside brackets, on lines indented deeper than
  the line that opened it; an unclosed bracket is reported where it opens.

The scanner is a single pass with an explicit stack: no recursion, linear in the file size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .diagnostics import Edit, Fix, Sink
from .source import SourceFile

MAX_DEPTH = 100
"""Deepest block nesting accepted; deeper input gets TM0112 instead of a deeper tree."""

_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {")", "]", "}"}
_SPECIAL = re.compile(r"[\"'#(\[{)\]}]")
_KEY_COLON = re.compile(r":(?=[ \t\r\n]|$)(?!=)")
_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


@dataclass(slots=True, eq=False)
class Comment:
    offset: int
    text: str
    line: int
    own_line: bool


@dataclass(slots=True, eq=False)
class Entry:
    """One logical line.

    ``key`` is the text before the key-splitting colon (``None`` for a key-less scalar such as
    a PDL statement); ``value_start``/``value_end`` delimit the raw value (empty when
    ``value_start == value_end``).  A list item (``dash``) keeps its members: the entry on the
    ``- `` line and any later entries at the member column.  ``children`` is the block indented
    under this entry.
    """

    line: int
    indent: int
    start: int
    key: str | None = None
    key_start: int = 0
    key_end: int = 0
    value_start: int = 0
    value_end: int = 0
    end_line: int = 0
    dash: bool = False
    dash_offset: int = 0
    members: list[Entry] = field(default_factory=list)
    children: list[Entry] = field(default_factory=list)
    comment: Comment | None = None
    leading: list[Comment] = field(default_factory=list)
    inner: list[Comment] = field(default_factory=list)
    blank_before: bool = False
    broken: bool = False

    @property
    def has_value(self) -> bool:
        return self.value_end > self.value_start


@dataclass(slots=True)
class ScanResult:
    entries: list[Entry]
    trailing: list[Comment]
    max_depth_exceeded: bool = False


@dataclass(slots=True)
class _Frame:
    column: int
    entries: list[Entry]
    owner: Entry | None
    is_members: bool = False
    compact: bool = False


def _split_line(
    text: str, start: int, end: int
) -> tuple[int | None, int, list[tuple[str, int]], int | None, int | None]:
    """Scan ``text[start:end]`` (one physical line's content).

    Returns ``(colon, content_end, open_brackets, comment_at, bad_string_at)``:
    the offset of the key-splitting colon or None, the end of the content before any comment
    (trailing spaces removed), the brackets still open at the end (char, offset), the offset of
    a comment's ``#`` or None, and the offset of an unterminated string's quote or None.
    """
    special = _SPECIAL.search(text, start, end)
    if special is None:
        # The common line: no quotes, brackets or `#`; the key split is a plain search.
        content_end = end
        while content_end > start and text[content_end - 1] in " \t\r":
            content_end -= 1
        found = _KEY_COLON.search(text, start, content_end + 1 if content_end < end else end)
        plain_colon = found.start() if found is not None else None
        return plain_colon, content_end, [], None, None
    stack: list[tuple[str, int]] = []
    colon, content_end, comment_at, bad_string = _scan_segment(text, start, end, stack, True)
    return colon, content_end, stack, comment_at, bad_string


def _continue_brackets(
    text: str, start: int, end: int, stack: list[tuple[str, int]]
) -> tuple[int, int | None, int | None]:
    """Scan a continuation line inside open brackets, updating ``stack`` in place.

    Returns ``(content_end, comment_at, bad_string_at)``.
    """
    _, content_end, comment_at, bad_string = _scan_segment(text, start, end, stack, False)
    return content_end, comment_at, bad_string


def _scan_segment(
    text: str, start: int, end: int, stack: list[tuple[str, int]], key_split: bool
) -> tuple[int | None, int, int | None, int | None]:
    """The character loop shared by first lines and bracket continuations.

    Tracks strings (a quote opens one only at a token boundary; ``\\`` escapes), comments
    (``#`` at the start or after whitespace), and brackets (``stack`` is updated in place).
    With ``key_split``, also finds the key-splitting colon: the first ``:`` outside strings and
    brackets followed by whitespace or the end, and not part of ``:=``.  Returns ``(colon,
    content_end, comment_at, bad_string_at)``.
    """
    colon: int | None = None
    i = start
    comment_at: int | None = None
    bad_string: int | None = None
    while i < end:
        ch = text[i]
        if ch == '"' or ch == "'":
            prev = text[i - 1] if i > start else " "
            if prev in _WORD:
                i += 1
                continue
            j = i + 1
            while j < end and text[j] != ch:
                j += 2 if text[j] == "\\" else 1
            if j >= end:
                bad_string = i
                break
            i = j + 1
            continue
        if ch == "#" and (i == start or text[i - 1] in " \t"):
            comment_at = i
            break
        if ch in _OPENERS:
            stack.append((ch, i))
        elif ch in _CLOSERS:
            if stack and _OPENERS[stack[-1][0]] == ch:
                stack.pop()
        elif key_split and ch == ":" and colon is None and not stack:
            nxt = text[i + 1] if i + 1 < end else "\n"
            if nxt in " \t\n\r":
                colon = i
        i += 1
    content_end = comment_at if comment_at is not None else end
    while content_end > start and text[content_end - 1] in " \t\r":
        content_end -= 1
    return colon, content_end, comment_at, bad_string


class _Scanner:
    def __init__(self, source: SourceFile, sink: Sink) -> None:
        self.source = source
        self.sink = sink
        self.path = source.display_path
        self.text = source.text
        self.root: list[Entry] = []
        self.stack: list[_Frame] = []
        self.pending_comments: list[Comment] = []
        self.blank = False
        self.too_deep = False
        self.last: Entry | None = None

    def report(self, code: str, start: int, end: int, **kw: object) -> None:
        self.sink.report(code, self.path, self.source.span(start, end), **kw)  # type: ignore[arg-type]

    def run(self) -> ScanResult:
        text = self.text
        n = len(text)
        line_no = 0
        pos = 0
        while pos <= n:
            nl = text.find("\n", pos)
            if nl == -1:
                nl = n
            line_no += 1
            line_end = nl
            self._line(line_no, pos, line_end)
            if self._carry is not None:
                pos, line_no = self._finish_brackets(line_no, line_end)
            else:
                pos = nl + 1
            if nl >= n:
                break
        return ScanResult(self.root, self.pending_comments, self.too_deep)

    _carry: tuple[Entry, list[tuple[str, int]], int] | None = None

    def _indent(self, start: int, end: int) -> tuple[int, bool]:
        text = self.text
        i = start
        tab_at = -1
        while i < end and text[i] in " \t":
            if text[i] == "\t" and tab_at < 0:
                tab_at = i
            i += 1
        if tab_at >= 0 and i < end and text[i] != "#":
            self.report(
                "TM0102",
                tab_at,
                tab_at + 1,
                help="indent with spaces only",
                fixes=[
                    Fix(
                        "replace the tab with two spaces",
                        (Edit(self.source.span(tab_at, tab_at + 1), "  "),),
                    )
                ],
            )
        return i - start, tab_at >= 0

    def _snap(self, width: int) -> int:
        """The block column a tab-indented line most plausibly meant (TM0102 is reported).

        A tab's width is unknowable, so the line is taken to open the block that the line
        before it asks for (after ``key:``), or else to continue the innermost open block:
        one error for the tab, no cascade of misplaced keys after it.
        """
        del width
        last = self.last
        if last is not None and last.key is not None and not last.has_value and not last.children:
            return last.indent + 2
        return self.stack[-1].column if self.stack else 0

    def _line(self, line_no: int, start: int, end: int) -> None:
        text = self.text
        width, had_tab = self._indent(start, end)
        content = start + width
        if content >= end or text[content] in "\r":
            self.blank = True
            return
        if text[content] == "#":
            body = text[content:end].rstrip("\r")
            self.pending_comments.append(Comment(content, body, line_no, True))
            return
        column = self._snap(width) if had_tab else width
        dash = False
        dash_offset = 0
        item_start = content
        if text[content] == "-" and (content + 1 >= end or text[content + 1] in " \t\r"):
            dash = True
            dash_offset = content
            j = content + 1
            while j < end and text[j] == " ":
                j += 1
            item_start = j
        entry = self._entry(line_no, column, item_start, end)
        self.last = entry
        entry.blank_before = self.blank
        self.blank = False
        entry.leading = self.pending_comments
        self.pending_comments = []
        if dash:
            item = Entry(
                line=line_no,
                indent=column,
                start=dash_offset,
                dash=True,
                dash_offset=dash_offset,
                end_line=entry.end_line,
                blank_before=entry.blank_before,
                leading=entry.leading,
            )
            entry.leading = []
            entry.blank_before = False
            if item_start < end and text[item_start] not in "\r":
                entry.indent = item_start - start
                item.members.append(entry)
            else:
                entry.indent = column + 2
            self._place(item)
            if item.members:
                self._push(_Frame(entry.indent, item.members, item, is_members=True))
        else:
            self._place(entry)

    def _entry(self, line_no: int, column: int, start: int, end: int) -> Entry:
        text = self.text
        colon, content_end, stack, comment_at, bad_string = _split_line(text, start, end)
        entry = Entry(line=line_no, indent=column, start=start, end_line=line_no)
        if comment_at is not None:
            entry.comment = Comment(comment_at, text[comment_at:end].rstrip("\r"), line_no, False)
        if bad_string is not None:
            self.report("TM0105", bad_string, content_end, help="close the string on its line")
            entry.broken = True
        if colon is not None:
            key_end = colon
            while key_end > start and text[key_end - 1] in " \t":
                key_end -= 1
            entry.key = text[start:key_end]
            entry.key_start = start
            entry.key_end = key_end
            vs = colon + 1
            while vs < content_end and text[vs] in " \t":
                vs += 1
            entry.value_start = vs
            entry.value_end = max(vs, content_end)
        else:
            entry.value_start = start
            entry.value_end = content_end
        if stack and bad_string is None:
            self._carry = (entry, stack, column)
        return entry

    def _finish_brackets(self, line_no: int, line_end: int) -> tuple[int, int]:
        """Extend the carried entry's value over continuation lines; return the next line."""
        assert self._carry is not None
        entry, stack, owner_indent = self._carry
        self._carry = None
        text = self.text
        n = len(text)
        pos = line_end + 1
        while stack and pos <= n:
            nl = text.find("\n", pos)
            if nl == -1:
                nl = n
            width = 0
            while pos + width < nl and text[pos + width] == " ":
                width += 1
            blank = pos + width >= nl or text[pos + width] in "\r#"
            if not blank and width <= owner_indent:
                break
            if pos >= n:
                break
            line_no += 1
            if pos + width < nl and text[pos + width] == "#":
                at = pos + width
                entry.inner.append(Comment(at, text[at:nl].rstrip("\r"), line_no, True))
            elif not blank:
                content_end, comment_at, bad = _continue_brackets(text, pos + width, nl, stack)
                if comment_at is not None:
                    entry.inner.append(
                        Comment(comment_at, text[comment_at:nl].rstrip("\r"), line_no, False)
                    )
                if bad is not None:
                    self.report("TM0105", bad, content_end, help="close the string on its line")
                    entry.broken = True
                    stack.clear()
                entry.value_end = content_end
                entry.end_line = line_no
            pos = nl + 1
            if nl >= n:
                break
        if stack:
            ch, at = stack[0]
            self.report(
                "TM0104",
                at,
                at + 1,
                bracket=ch,
                help=f"close it with `{_OPENERS[ch]}`; continuation lines must be indented "
                "deeper than the line that opens the bracket",
            )
            entry.broken = True
        return pos, line_no

    # -- block structure -------------------------------------------------------------------

    def _push(self, frame: _Frame) -> None:
        if len(self.stack) >= MAX_DEPTH:
            if not self.too_deep:
                owner = frame.owner
                at = owner.start if owner is not None else 0
                self.report("TM0112", at, at + 1, limit=MAX_DEPTH)
            self.too_deep = True
            return
        self.stack.append(frame)

    def _place(self, entry: Entry) -> None:
        column = entry.indent
        stack = self.stack
        if not stack:
            stack.append(_Frame(column, self.root, None))
            if column > 0:
                self.report(
                    "TM0103",
                    entry.start,
                    entry.start + 1,
                    message="the first line of a document must not be indented",
                )
        while len(stack) > 1 and (
            column < stack[-1].column
            or (stack[-1].compact and column == stack[-1].column and not entry.dash)
        ):
            stack.pop()
        top = stack[-1]
        if self.too_deep and column > top.column:
            return
        if column == top.column:
            prev = top.entries[-1] if top.entries else None
            if (
                entry.dash
                and prev is not None
                and not prev.dash
                and prev.key is not None
                and not prev.has_value
                and not prev.children
            ):
                self.report(
                    "TM0107",
                    entry.dash_offset,
                    entry.dash_offset + 1,
                    key=prev.key,
                    help=f"indent the items under `{prev.key}:`",
                    fixes=[
                        Fix(
                            "indent the item by two spaces",
                            (
                                Edit(
                                    self.source.span(
                                        entry.dash_offset - column, entry.dash_offset - column
                                    ),
                                    "  ",
                                ),
                            ),
                        )
                    ],
                )
                prev.children.append(entry)
                self._push(_Frame(column, prev.children, prev, compact=True))
                return
            top.entries.append(entry)
            return
        if column < top.column:
            self.report(
                "TM0103",
                entry.start,
                entry.start + 1,
                message=f"indentation of {column} matches no enclosing block "
                f"(expected {top.column})",
            )
            top.entries.append(entry)
            return
        parent = top.entries[-1] if top.entries else top.owner
        if parent is None:
            self.report("TM0103", entry.start, entry.start + 1, message="unexpected indentation")
            top.entries.append(entry)
            return
        if parent.dash and not parent.members:
            parent.members.append(entry)
            self._push(_Frame(column, parent.members, parent, is_members=True))
            return
        if parent.dash:
            parent = parent.members[-1]
        if parent.children:
            self.report(
                "TM0103",
                entry.start,
                entry.start + 1,
                message="indentation does not match the lines above it",
            )
        parent.children.append(entry)
        self._push(_Frame(column, parent.children, parent))


def scan(source: SourceFile, sink: Sink) -> ScanResult:
    """Build the block structure of ``source``, reporting structural errors to ``sink``."""
    return _Scanner(source, sink).run()
