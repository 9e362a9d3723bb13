"""The one way user text reaches generated Python: repr-safe literals and mangled names.

Role: turn JSON-like values (strings, numbers, booleans, None, lists, string-keyed dicts) into
Python source that evaluates to an equal value, and identifiers of the source languages into
Python names with a fixed prefix.

Input: values from the IR (literals, map keys, arm fields, ids, paths) and identifiers.
Output: Python source text.

Invariants:
- Strings go through ``repr()`` only, which escapes quotes, backslashes, line breaks and every
  non-printable character (so no generated line can be split or commented out by user text);
  ints through ``repr()`` (hexadecimal beyond the int-to-str digit limit); finite floats through
  ``repr()`` and non-finite ones as ``float('inf')``, ``float('-inf')`` and ``float('nan')``.
  Containers are built from those.  Anything else is refused (:class:`UnsafeValue`).
- A name is mangled only if it matches ``[A-Za-z_][A-Za-z0-9_]*`` (the grammar's identifier);
  anything else is refused.  The prefixes keep user names apart from each other and from the
  generated code's own names, which never have an underscore as their second character.
"""

from __future__ import annotations

import math
import re
from typing import Final

IDENTIFIER: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

PREFIXES: Final = {
    "step": "s_",
    "var": "v_",
    "param": "p_",
    "input": "i_",
    "list": "l_",
    "jump": "j_",
}
"""User identifiers: ``s_`` step results, ``v_`` PDL variables and ``for`` variables, ``p_``
parameters, ``i_`` inputs; generated per identifier: ``l_`` a ``for`` block's result list,
``j_`` the skip flag of an ``@on_error`` target."""


class UnsafeValue(ValueError):
    """A value or a name that has no safe spelling in generated code."""


def mangle(kind: str, name: str) -> str:
    """``name`` with the prefix of ``kind`` (a key of :data:`PREFIXES`)."""
    if not isinstance(name, str) or IDENTIFIER.fullmatch(name) is None:
        raise UnsafeValue(f"{name!r} is not an identifier")
    return PREFIXES[kind] + name


def py_str(text: str) -> str:
    if not isinstance(text, str):
        raise UnsafeValue(f"expected a string, got {type(text).__name__}")
    return repr(text)


def py_number(value: int | float) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        try:
            return repr(value)
        except ValueError:  # beyond sys.get_int_max_str_digits(): hex has no limit
            return hex(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "float('nan')"
        if math.isinf(value):
            return "float('inf')" if value > 0 else "float('-inf')"
        return repr(value)
    raise UnsafeValue(f"expected a number, got {type(value).__name__}")


def py_literal(value: object) -> str:
    """Python source for ``value`` on one line (see the module invariants)."""
    if value is None:
        return "None"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool | int | float):
        return py_number(value)
    if isinstance(value, list | tuple):
        items = ", ".join(py_literal(item) for item in value)
        if isinstance(value, tuple):
            return f"({items},)" if len(value) == 1 else f"({items})"
        return f"[{items}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_str(k)}: {py_literal(v)}" for k, v in value.items()) + "}"
    raise UnsafeValue(f"no literal for a value of type {type(value).__name__}")


def py_literal_lines(value: object, indent: int, width: int = 99, prefix: str = "",
                     suffix: str = "") -> list[str]:
    """``prefix + literal + suffix`` at ``indent`` spaces, broken over lines (one item per line,
    recursively) when the one-line form is wider than ``width``."""
    pad = " " * indent
    flat = py_literal(value)
    if indent + len(prefix) + len(flat) + len(suffix) <= width or not (
        isinstance(value, list | dict) and value
    ):
        return [f"{pad}{prefix}{flat}{suffix}"]
    lines = [f"{pad}{prefix}{'[' if isinstance(value, list) else '{'}"]
    if isinstance(value, list):
        for item in value:
            lines.extend(py_literal_lines(item, indent + 4, width, suffix=","))
        lines.append(f"{pad}]{suffix}")
    else:
        assert isinstance(value, dict)
        for key, item in value.items():
            lines.extend(py_literal_lines(item, indent + 4, width, prefix=f"{py_str(key)}: ",
                                          suffix=","))
        lines.append(pad + "}" + suffix)
    return lines


def call_lines(head: str, args: list[str], indent: int, width: int = 99,
               suffix: str = "") -> list[str]:
    """``head(arg, ...)suffix`` at ``indent`` spaces: one line when it fits in ``width``, else
    the arguments packed onto continuation lines aligned after the parenthesis."""
    pad = " " * indent
    flat = f"{pad}{head}({', '.join(args)}){suffix}"
    if len(flat) <= width or not args:
        return [flat]
    lines: list[str] = []
    current = f"{pad}{head}("
    hanging = " " * len(current)
    for index, arg in enumerate(args):
        piece = arg + (")" + suffix if index == len(args) - 1 else ",")
        if current.strip() and not current.endswith("(") and len(current) + 1 + len(piece) > width:
            lines.append(current)
            current = hanging + piece
        else:
            current += piece if current.endswith("(") else " " + piece
    lines.append(current)
    return lines
