"""The closed set of expression builtins (PDL statements and WDL expressions), as pure data.

Role: names, arities and one-line docs of the only functions an expression may call.  The
compiler checks calls against this table (unknown name, arity) and types them with its own rules,
since several builtins are generic; the runtime implements them in one place.

Input: nothing.  Output: :data:`BUILTINS`, name -> :class:`Builtin`.

Invariants: every builtin is pure and deterministic given its arguments, except ``random``,
which draws from the decision's seeded generator (never from global state).  ``max_args`` is
None for a variadic builtin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Builtin:
    name: str
    min_args: int
    max_args: int | None
    signature: str
    """Human-readable signature for hover text and docs (``number`` is int or float)."""
    doc: str

    def accepts(self, count: int) -> bool:
        return count >= self.min_args and (self.max_args is None or count <= self.max_args)

    @property
    def arity_text(self) -> str:
        """``1``, ``1 to 2`` or ``at least 2``: how many arguments it takes."""
        if self.max_args is None:
            return f"at least {self.min_args}"
        if self.max_args == self.min_args:
            return str(self.min_args)
        return f"{self.min_args} to {self.max_args}"


BUILTINS: Final[dict[str, Builtin]] = {
    b.name: b
    for b in (
        Builtin("coalesce", 1, None, "coalesce(a: T?, b: T?, ...) -> T",
                "The first argument that is present; a missing key or null inside an argument "
                "counts as absent."),
        Builtin("first_numeric", 1, 1, "first_numeric(values: map<any> | list<any>) -> float",
                "The first int or float among a map's values or a list's items, as float."),
        Builtin("random", 0, 1, "random() -> float | random(items: list<T>) -> T",
                "A draw from the decision's seeded generator: a float in [0, 1) or an item."),
        Builtin("min", 1, None, "min(items: list<T>) -> T | min(a: T, b: T, ...) -> T",
                "The smallest of a list's items or of the arguments (numbers, strings, "
                "durations)."),
        Builtin("max", 1, None, "max(items: list<T>) -> T | max(a: T, b: T, ...) -> T",
                "The largest of a list's items or of the arguments (numbers, strings, "
                "durations)."),
        Builtin("abs", 1, 1, "abs(x: number) -> number", "The absolute value."),
        Builtin("float", 1, 1, "float(x: int | float | string | bool) -> float",
                "Convert to float (a string that is not a number is a run-time error)."),
        Builtin("int", 1, 1, "int(x: int | float | string | bool) -> int",
                "Convert to int, truncating toward zero."),
        Builtin("str", 1, 1, "str(x: any) -> string", "The text of a value."),
        Builtin("len", 1, 1, "len(x: string | list<any> | map<any>) -> int",
                "The length of a string, list or map."),
        Builtin("round", 1, 2, "round(x: number) -> int | round(x: number, digits: int) -> float",
                "Round half to even, to an int or to a number of decimal digits."),
        Builtin("sum", 1, 1, "sum(items: list<number>) -> number", "The sum of a list."),
        Builtin("any", 1, 1, "any(items: list<bool>) -> bool", "Whether any item is true."),
        Builtin("all", 1, 1, "all(items: list<bool>) -> bool", "Whether every item is true."),
        Builtin("sorted", 1, 1, "sorted(items: list<T>) -> list<T>",
                "The items in ascending order (numbers, strings, durations)."),
        Builtin("contains", 2, 2,
                "contains(container: list<T> | map<any> | string, item: T | string) -> bool",
                "Whether a list holds an item, a map has a key or a string a substring."),
        Builtin("lower", 1, 1, "lower(s: string) -> string", "The string in lowercase."),
        Builtin("upper", 1, 1, "upper(s: string) -> string", "The string in uppercase."),
        Builtin("clamp", 3, 3, "clamp(x: number, lo: number, hi: number) -> number",
                "x limited to the range [lo, hi]."),
    )
}
