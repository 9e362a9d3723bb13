"""Run-time implementations of the expression builtins: one function ``b_<name>`` per builtin.

Role: what a call to a builtin does in generated code (``tracemind.runtime.abi`` re-exports
these names; generated modules call them directly).  Names and arities are declared in
``builtins.py``; the compile-time typing is ``tracemind.compiler.check_builtins``, and the
behaviour here agrees with it: a call that type-checks never fails here for a reason the checker
could have seen, and values typed ``any`` are checked here with the same rules.

Input: evaluated argument values (``None``, bools, ints, floats, strings, lists and string-keyed
dicts; durations are float seconds).  Output: the call's value.

Semantics worth knowing (docs/language.md repeats them for users):
- ``bool`` is never a number here, even though Python's ``bool`` subclasses ``int``.
- ``min``/``max`` take one list or several values; numbers, strings or durations, not mixed.
  When ints and floats are compared together the result is a float (their type joins to
  ``float``); ``clamp`` likewise.  ``sorted`` returns the items themselves, reordered.
- ``round(x)`` rounds half to even and returns an int; ``round(x, digits)`` returns a float,
  rounded half to even on the exact binary value of ``x`` (so ``round(2.675, 2)`` is 2.67,
  because 2.675 is stored as 2.67499999...).
- ``int`` truncates toward zero; ``int`` and ``float`` of a string accept decimal number text
  (``42``, ``-1.5``, ``1e3``, surrounding spaces ignored), not ``nan``, ``inf`` or ``1_000``.
- ``str`` of a string is the string; of any other value its JSON text: ``true``, ``false``,
  ``null``, ``80.0``, ``[1, 2]``, ``{"a": 1}`` (non-ASCII kept; NaN is ``NaN``).
- ``sum`` is exact over ints and correctly rounded over floats (``math.fsum``), so its result
  does not depend on the Python version or the order of the items; ``sum([])`` is 0.
- ``first_numeric`` returns the first int or float (not bool) among a map's values in insertion
  order or a list's items, as a float.
- ``contains`` is ``in``: list membership (Python equality), a map key, or a substring.
- ``random(rng)`` is ``rng.random()``; ``random(rng, items)`` is ``rng.choice(items)``; ``rng`` is
  the decision's ``DecisionRng``, used only through those two methods.

Invariants: pure and deterministic given the arguments (``random`` given the rng's state); no
global state; errors are ``TypeError`` (a value of the wrong kind) or ``ValueError`` (a value
of the right kind that does not work), never ``KeyError``/``IndexError``, which ``rt_coalesce``
would take for an absent value.  Messages start with the builtin's name: ``min(): ...``.
``coalesce`` has no function here: it compiles to ``rt_coalesce`` over thunks.
This module imports only the standard library's ``math`` and ``re`` (``json`` on the first call
that needs it), so that ``tracemind.runtime.abi``, which re-exports it, imports fast.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any, Final, Protocol

__all__ = [
    "IMPLEMENTATIONS",
    "Rng",
    "b_abs",
    "b_all",
    "b_any",
    "b_clamp",
    "b_contains",
    "b_first_numeric",
    "b_float",
    "b_int",
    "b_len",
    "b_lower",
    "b_max",
    "b_min",
    "b_random",
    "b_round",
    "b_sorted",
    "b_str",
    "b_sum",
    "b_upper",
    "kind_name",
]


class Rng(Protocol):
    """What ``b_random`` needs of the decision's random source (the runtime's DecisionRng)."""

    def random(self) -> float: ...

    def choice(self, items: list[Any]) -> Any: ...


def kind_name(value: object) -> str:
    """The language's name for the kind of ``value``: ``int``, ``string``, ``map``..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "map"
    return type(value).__name__


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(name: str, value: object, what: str = "argument") -> float:
    """``value`` itself when it is an int or float (an int stays an int), else TypeError."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    raise TypeError(f"{name}(): {what} must be a number, got {kind_name(value)}")


def _list(name: str, value: object) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"{name}(): expected a list, got {kind_name(value)}")
    return value


def _ordered(name: str, items: Sequence[Any]) -> bool:
    """Check that ``items`` (non-empty) are all numbers or all strings; True if a float is
    among numbers (so a result of int must be widened)."""
    first = items[0]
    if isinstance(first, str):
        for item in items:
            if not isinstance(item, str):
                raise TypeError(
                    f"{name}(): cannot compare string with {kind_name(item)} "
                    "(numbers, strings or durations of one kind)"
                )
        return False
    if not _is_number(first):
        raise TypeError(
            f"{name}(): compares numbers, strings or durations, got {kind_name(first)}"
        )
    has_float = False
    for item in items:
        if isinstance(item, float):
            has_float = True
        elif not _is_number(item):
            raise TypeError(
                f"{name}(): cannot compare {kind_name(first)} with {kind_name(item)} "
                "(numbers, strings or durations of one kind)"
            )
    return has_float


# ---------------------------------------------------------------------------------------------
# The builtins, in the order of builtins.py


def b_first_numeric(values: object) -> float:
    """The first int or float (not bool) among a map's values or a list's items, as float."""
    items: Any
    if isinstance(values, dict):
        items, where = values.values(), "map"
    elif isinstance(values, list):
        items, where = values, "list"
    else:
        raise TypeError(f"first_numeric(): expected a map or a list, got {kind_name(values)}")
    for item in items:
        if isinstance(item, int | float) and not isinstance(item, bool):
            return float(item)
    if not items:
        raise ValueError(f"first_numeric(): the {where} is empty, so it holds no number")
    raise ValueError(
        f"first_numeric(): none of the {len(items)} values of the {where} is an int or float"
    )


class _NoItems:
    """The marker of ``random()`` called without a list."""


_NO_ITEMS: Final = _NoItems()


def b_random(rng: Rng, items: object = _NO_ITEMS) -> Any:
    """A float in [0, 1) from ``rng``, or one of ``items`` drawn by ``rng``."""
    if items is _NO_ITEMS:
        return rng.random()
    if not isinstance(items, list):
        raise TypeError(f"random(): expected a list to draw from, got {kind_name(items)}")
    if not items:
        raise ValueError("random(): cannot draw from an empty list")
    return rng.choice(items)


def _extreme(name: str, pick: Callable[[Sequence[Any]], Any], args: tuple[Any, ...]) -> Any:
    items: Sequence[Any]
    if len(args) == 1:
        items = args[0]
        if not isinstance(items, list):
            raise TypeError(
                f"{name}(): with one argument it takes a list, got {kind_name(items)} "
                f"(to compare values, pass two or more: {name}(a, b))"
            )
        if not items:
            raise ValueError(f"{name}(): the list is empty")
    elif args:
        items = args
    else:
        raise TypeError(f"{name}(): takes a list or at least two values, got no argument")
    has_float = _ordered(name, items)
    result = pick(items)
    if has_float and not isinstance(result, float):
        return float(result)
    return result


def b_min(*args: Any) -> Any:
    """The smallest of a list's items, or of the arguments."""
    return _extreme("min", min, args)


def b_max(*args: Any) -> Any:
    """The largest of a list's items, or of the arguments."""
    return _extreme("max", max, args)


def b_abs(x: object) -> int | float:
    """The absolute value of a number (a duration is a number of seconds)."""
    return abs(_number("abs", x))


_INT_TEXT: Final = re.compile(r"[+-]?[0-9]+")
_NUMBER_TEXT: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _parse_float(name: str, text: str) -> float:
    stripped = text.strip()
    if _NUMBER_TEXT.fullmatch(stripped) is None:
        raise ValueError(f"{name}(): {_json_text(text)} is not a number")
    value = float(stripped)
    if math.isinf(value):
        raise ValueError(f"{name}(): {stripped} is out of the range of a float")
    return value


def b_float(x: object) -> float:
    """``x`` as a float: numbers and bools (1.0, 0.0) convert, strings are parsed."""
    if isinstance(x, float):
        return x
    if isinstance(x, int):
        try:
            return float(x)
        except OverflowError:
            raise ValueError(f"float(): {x} is out of the range of a float") from None
    if isinstance(x, str):
        return _parse_float("float", x)
    raise TypeError(f"float(): expected int, float, string or bool, got {kind_name(x)}")


def b_int(x: object) -> int:
    """``x`` as an int, truncating toward zero; bools are 1 and 0, strings are parsed."""
    if isinstance(x, int):
        return int(x)
    if isinstance(x, float):
        if not math.isfinite(x):
            raise ValueError(f"int(): cannot convert {b_str(x)} to an int")
        return math.trunc(x)
    if isinstance(x, str):
        stripped = x.strip()
        if _INT_TEXT.fullmatch(stripped) is not None:
            return int(stripped)
        return math.trunc(_parse_float("int", x))
    raise TypeError(f"int(): expected int, float, string or bool, got {kind_name(x)}")


def b_str(x: object) -> str:
    """The text of ``x``: a string itself, anything else its JSON text."""
    if isinstance(x, str):
        return x
    if x is None:
        return "null"
    if x is True:
        return "true"
    if x is False:
        return "false"
    if isinstance(x, int):
        return str(int(x))
    return _json_text(x)


def _json_text(value: object) -> str:
    import json  # here, not at the top: importing json would slow every ABI import

    return json.dumps(value, ensure_ascii=False, default=repr)


def b_len(x: object) -> int:
    """The length of a string (in code points), a list or a map."""
    if isinstance(x, str | list | dict):
        return len(x)
    raise TypeError(f"len(): expected a string, list or map, got {kind_name(x)}")


def b_round(x: object, digits: object = None) -> int | float:
    """``x`` rounded half to even: to an int, or to ``digits`` decimal digits as a float."""
    number = _number("round", x, "argument 1")
    if digits is None:
        try:
            return round(number)
        except (OverflowError, ValueError):
            raise ValueError(f"round(): cannot round {b_str(number)} to an int") from None
    if not isinstance(digits, int) or isinstance(digits, bool):
        raise TypeError(f"round(): digits must be an int, got {kind_name(digits)}")
    return float(round(number, digits))


def b_sum(items: object) -> int | float:
    """The sum of a list of numbers (or durations): exact for ints, correctly rounded for
    floats; 0 for an empty list."""
    values = _list("sum", items)
    has_float = False
    for item in values:
        if isinstance(item, float):
            has_float = True
        elif not _is_number(item):
            raise TypeError(f"sum(): items must be numbers, got {kind_name(item)}")
    if has_float:
        return math.fsum(values)
    total: int = sum(values)
    return total


def _bools(name: str, items: object) -> list[bool]:
    values = _list(name, items)
    for item in values:
        if not isinstance(item, bool):
            raise TypeError(f"{name}(): items must be bools, got {kind_name(item)}")
    return values


def b_any(items: object) -> bool:
    """Whether any item of a list of bools is true (false for an empty list)."""
    return any(_bools("any", items))


def b_all(items: object) -> bool:
    """Whether every item of a list of bools is true (true for an empty list)."""
    return all(_bools("all", items))


def b_sorted(items: object) -> list[Any]:
    """A new list of the items in ascending order (numbers, strings or durations)."""
    values = _list("sorted", items)
    if values:
        _ordered("sorted", values)
    return sorted(values)


def b_contains(container: object, item: object) -> bool:
    """Whether a list holds ``item``, a map has key ``item``, or a string holds substring
    ``item``."""
    if isinstance(container, list):
        return item in container
    if isinstance(container, dict | str):
        if not isinstance(item, str):
            what = "a map's keys are strings" if isinstance(container, dict) else (
                "a string holds only strings"
            )
            raise TypeError(f"contains(): {what}, got {kind_name(item)}")
        return item in container
    raise TypeError(f"contains(): expected a list, map or string, got {kind_name(container)}")


def b_lower(s: object) -> str:
    """The string in lowercase (Unicode rules)."""
    if not isinstance(s, str):
        raise TypeError(f"lower(): expected a string, got {kind_name(s)}")
    return s.lower()


def b_upper(s: object) -> str:
    """The string in uppercase (Unicode rules)."""
    if not isinstance(s, str):
        raise TypeError(f"upper(): expected a string, got {kind_name(s)}")
    return s.upper()


def b_clamp(x: object, lo: object, hi: object) -> int | float:
    """``x`` limited to ``[lo, hi]``; a float when any of the three is a float."""
    value = _number("clamp", x, "argument 1")
    low = _number("clamp", lo, "argument 2")
    high = _number("clamp", hi, "argument 3")
    if low > high:
        raise ValueError(
            f"clamp(): the lower bound {b_str(lo)} is above the upper bound {b_str(hi)}"
        )
    result = low if value < low else high if value > high else value
    if isinstance(result, int) and (
        isinstance(x, float) or isinstance(lo, float) or isinstance(hi, float)
    ):
        return float(result)
    return result


IMPLEMENTATIONS: Final[dict[str, Callable[..., Any]]] = {
    "first_numeric": b_first_numeric,
    "random": b_random,
    "min": b_min,
    "max": b_max,
    "abs": b_abs,
    "float": b_float,
    "int": b_int,
    "str": b_str,
    "len": b_len,
    "round": b_round,
    "sum": b_sum,
    "any": b_any,
    "all": b_all,
    "sorted": b_sorted,
    "contains": b_contains,
    "lower": b_lower,
    "upper": b_upper,
    "clamp": b_clamp,
}
"""Builtin name -> implementation, for every builtin of ``builtins.BUILTINS`` but ``coalesce``
(``random`` takes the decision's rng first)."""
