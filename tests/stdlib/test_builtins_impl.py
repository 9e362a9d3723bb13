"""Run-time semantics of the expression builtins (``tracemind.stdlib.builtins_impl``).

Table-driven: each row is a call and its expected value (compared with its exact type, so
``3`` and ``3.0`` differ) or the exception type and a fragment of the message.
"""

from __future__ import annotations

import inspect
import json
import math
import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracemind.stdlib import builtins_impl as b
from tracemind.stdlib.builtins import BUILTINS


class SeededRng:
    """A stand-in for the runtime's DecisionRng: the two methods b_random uses."""

    def __init__(self, seed: int) -> None:
        self.generator = random.Random(seed)
        self.draws: list[Any] = []

    def random(self) -> float:
        value = self.generator.random()
        self.draws.append(value)
        return value

    def choice(self, items: list[Any]) -> Any:
        value = self.generator.choice(items)
        self.draws.append(value)
        return value


NAN = float("nan")
INF = float("inf")

VALUES: list[tuple[str, Callable[..., Any], tuple[Any, ...], Any]] = [
    # first_numeric: maps in insertion order, lists; bools are not numbers; result is a float
    ("first map value", b.b_first_numeric, ({"a": "x", "b": True, "c": 3, "d": 1.5},), 3.0),
    ("first list item", b.b_first_numeric, ([None, "1", 2.5, 7],), 2.5),
    ("v0 example", b.b_first_numeric, ({"ns=2;i=2": 80.0, "ns=2;i=5001": 0},), 80.0),
    # min / max: one list or several values
    ("min list", b.b_min, ([3, 1, 2],), 1),
    ("max list", b.b_max, ([3, 1, 2],), 3),
    ("min args", b.b_min, (3, 1, 2), 1),
    ("min mixed is float", b.b_min, (3, 1.5), 1.5),
    ("max mixed widens int", b.b_max, (3, 1.5), 3.0),
    ("max mixed list widens", b.b_max, ([1, 2.0, 3],), 3.0),
    ("min strings", b.b_min, (["b", "a", "c"],), "a"),
    ("max strings args", b.b_max, ("a", "b"), "b"),
    ("min one item", b.b_min, ([7],), 7),
    ("min durations", b.b_min, (0.5, 2.0), 0.5),
    # abs
    ("abs int", b.b_abs, (-3,), 3),
    ("abs float", b.b_abs, (-2.5,), 2.5),
    ("abs zero", b.b_abs, (0,), 0),
    # float
    ("float of int", b.b_float, (1,), 1.0),
    ("float of float", b.b_float, (2.5,), 2.5),
    ("float of text", b.b_float, ("2.5",), 2.5),
    ("float of exponent", b.b_float, (" 1e3 ",), 1000.0),
    ("float of signed", b.b_float, ("-.5",), -0.5),
    ("float of true", b.b_float, (True,), 1.0),
    ("float of false", b.b_float, (False,), 0.0),
    # int: truncation toward zero
    ("int of float", b.b_int, (3.9,), 3),
    ("int of negative float", b.b_int, (-3.9,), -3),
    ("int of text", b.b_int, ("42",), 42),
    ("int of spaced text", b.b_int, (" 12 ",), 12),
    ("int of decimal text", b.b_int, ("-7.8",), -7),
    ("int of big text is exact", b.b_int, ("12345678901234567890",), 12345678901234567890),
    ("int of true", b.b_int, (True,), 1),
    ("int of int", b.b_int, (5,), 5),
    # str: strings as they are, everything else as JSON text
    ("str of string", b.b_str, ("x",), "x"),
    ("str of true", b.b_str, (True,), "true"),
    ("str of false", b.b_str, (False,), "false"),
    ("str of null", b.b_str, (None,), "null"),
    ("str of int", b.b_str, (3,), "3"),
    ("str of float", b.b_str, (80.0,), "80.0"),
    ("str of small float", b.b_str, (0.1,), "0.1"),
    ("str of big float", b.b_str, (1e20,), "1e+20"),
    ("str of nan", b.b_str, (NAN,), "NaN"),
    ("str of list", b.b_str, ([1, "a", None],), '[1, "a", null]'),
    ("str of map", b.b_str, ({"a": True, "b": [1.5]},), '{"a": true, "b": [1.5]}'),
    ("str keeps non-ascii", b.b_str, (["é"],), '["é"]'),
    # len
    ("len of string counts code points", b.b_len, ("héllo",), 5),
    ("len of list", b.b_len, ([1, 2],), 2),
    ("len of map", b.b_len, ({"a": 1},), 1),
    ("len of empty", b.b_len, ("",), 0),
    # round: half to even; an int without digits, a float with them
    ("round half to even down", b.b_round, (2.5,), 2),
    ("round half to even up", b.b_round, (3.5,), 4),
    ("round negative half", b.b_round, (-2.5,), -2),
    ("round plain", b.b_round, (2.4,), 2),
    ("round int", b.b_round, (7,), 7),
    ("round digits", b.b_round, (3.14159, 2), 3.14),
    ("round digits binary value", b.b_round, (2.675, 2), 2.67),
    ("round digits half even", b.b_round, (0.125, 2), 0.12),
    ("round zero digits is float", b.b_round, (2.5, 0), 2.0),
    ("round negative digits", b.b_round, (1250, -2), 1200.0),
    ("round inf with digits", b.b_round, (INF, 2), INF),
    # sum: exact ints, correctly rounded floats
    ("sum empty", b.b_sum, ([],), 0),
    ("sum ints", b.b_sum, ([1, 2, 3],), 6),
    ("sum big ints exact", b.b_sum, ([10**20, 1],), 10**20 + 1),
    ("sum mixed", b.b_sum, ([1, 2.5],), 3.5),
    ("sum is correctly rounded", b.b_sum, ([0.1] * 10,), 1.0),
    ("sum durations", b.b_sum, ([0.5, 1.5],), 2.0),
    # any / all
    ("any empty", b.b_any, ([],), False),
    ("any one", b.b_any, ([False, True],), True),
    ("any none", b.b_any, ([False, False],), False),
    ("all empty", b.b_all, ([],), True),
    ("all one false", b.b_all, ([True, False],), False),
    ("all true", b.b_all, ([True, True],), True),
    # sorted
    ("sorted ints", b.b_sorted, ([3, 1, 2],), [1, 2, 3]),
    ("sorted mixed numbers keep items", b.b_sorted, ([1, 2.5, 0],), [0, 1, 2.5]),
    ("sorted strings by code point", b.b_sorted, (["b", "B", "a"],), ["B", "a", "b"]),
    ("sorted empty", b.b_sorted, ([],), []),
    # contains
    ("contains list", b.b_contains, ([1, 2], 2), True),
    ("contains list not", b.b_contains, ([1, 2], 3), False),
    ("contains null item", b.b_contains, ([None], None), True),
    ("contains map key", b.b_contains, ({"a": 1}, "a"), True),
    ("contains map not value", b.b_contains, ({"a": "b"}, "b"), False),
    ("contains substring", b.b_contains, ("hello", "ell"), True),
    ("contains empty substring", b.b_contains, ("hello", ""), True),
    # lower / upper
    ("lower", b.b_lower, ("AbC",), "abc"),
    ("upper", b.b_upper, ("AbC",), "ABC"),
    ("upper unicode", b.b_upper, ("straße",), "STRASSE"),
    # clamp
    ("clamp inside", b.b_clamp, (5, 0, 10), 5),
    ("clamp below", b.b_clamp, (-1, 0, 10), 0),
    ("clamp above", b.b_clamp, (11, 0, 10), 10),
    ("clamp float bound widens", b.b_clamp, (5, 0.0, 10), 5.0),
    ("clamp float", b.b_clamp, (7.5, 0, 5), 5.0),
    ("clamp equal bounds", b.b_clamp, (3, 4, 4), 4),
]

ERRORS: list[tuple[str, Callable[..., Any], tuple[Any, ...], type[Exception], str]] = [
    ("first_numeric empty map", b.b_first_numeric, ({},), ValueError, "the map is empty"),
    ("first_numeric empty list", b.b_first_numeric, ([],), ValueError, "the list is empty"),
    ("first_numeric no number", b.b_first_numeric, (["a", True, None],), ValueError,
     "none of the 3 values of the list is an int or float"),
    ("first_numeric of string", b.b_first_numeric, ("12",), TypeError,
     "expected a map or a list, got string"),
    ("min empty", b.b_min, ([],), ValueError, "the list is empty"),
    ("min one non-list", b.b_min, (5,), TypeError, "with one argument it takes a list, got int"),
    ("min no args", b.b_min, (), TypeError, "got no argument"),
    ("min mixed kinds", b.b_min, (1, "a"), TypeError, "cannot compare int with string"),
    ("max string then number", b.b_max, (["a", 1],), TypeError,
     "cannot compare string with int"),
    ("max bools", b.b_max, ([True, False],), TypeError, "got bool"),
    ("min null", b.b_min, (None, 1), TypeError, "got null"),
    ("min lists", b.b_min, ([[1], [2]],), TypeError, "got list"),
    ("abs bool", b.b_abs, (True,), TypeError, "must be a number, got bool"),
    ("abs string", b.b_abs, ("1",), TypeError, "must be a number, got string"),
    ("float of word", b.b_float, ("abc",), ValueError, '"abc" is not a number'),
    ("float of nan text", b.b_float, ("nan",), ValueError, "is not a number"),
    ("float of inf text", b.b_float, ("inf",), ValueError, "is not a number"),
    ("float of underscores", b.b_float, ("1_000",), ValueError, "is not a number"),
    ("float overflow", b.b_float, ("1e999",), ValueError, "out of the range of a float"),
    ("float of huge int", b.b_float, (10**400,), ValueError, "out of the range of a float"),
    ("float of null", b.b_float, (None,), TypeError, "expected int, float, string or bool"),
    ("float of list", b.b_float, ([1],), TypeError, "got list"),
    ("int of nan", b.b_int, (NAN,), ValueError, "cannot convert NaN to an int"),
    ("int of inf", b.b_int, (INF,), ValueError, "cannot convert Infinity to an int"),
    ("int of word", b.b_int, ("x1",), ValueError, '"x1" is not a number'),
    ("int of map", b.b_int, ({},), TypeError, "got map"),
    ("len of int", b.b_len, (3,), TypeError, "expected a string, list or map, got int"),
    ("len of null", b.b_len, (None,), TypeError, "got null"),
    ("round inf", b.b_round, (INF,), ValueError, "cannot round Infinity to an int"),
    ("round nan", b.b_round, (NAN,), ValueError, "cannot round NaN to an int"),
    ("round string", b.b_round, ("1",), TypeError, "argument 1 must be a number"),
    ("round bool", b.b_round, (True,), TypeError, "got bool"),
    ("round float digits", b.b_round, (1.5, 1.0), TypeError, "digits must be an int"),
    ("sum strings", b.b_sum, (["a"],), TypeError, "items must be numbers, got string"),
    ("sum bools", b.b_sum, ([True],), TypeError, "got bool"),
    ("sum non-list", b.b_sum, ("abc",), TypeError, "expected a list, got string"),
    ("any ints", b.b_any, ([1],), TypeError, "items must be bools, got int"),
    ("all null", b.b_all, (None,), TypeError, "expected a list, got null"),
    ("sorted mixed", b.b_sorted, ([1, "a"],), TypeError, "cannot compare int with string"),
    ("sorted lists", b.b_sorted, ([[2], [1]],), TypeError, "got list"),
    ("contains int in string", b.b_contains, ("hello", 1), TypeError,
     "a string holds only strings, got int"),
    ("contains int key", b.b_contains, ({"1": 1}, 1), TypeError,
     "a map's keys are strings, got int"),
    ("contains in int", b.b_contains, (5, 1), TypeError, "expected a list, map or string"),
    ("lower int", b.b_lower, (1,), TypeError, "expected a string, got int"),
    ("upper null", b.b_upper, (None,), TypeError, "got null"),
    ("clamp reversed", b.b_clamp, (5, 10, 0), ValueError,
     "the lower bound 10 is above the upper bound 0"),
    ("clamp string", b.b_clamp, ("5", 0, 1), TypeError, "argument 1 must be a number"),
    ("clamp bool bound", b.b_clamp, (1, 0, True), TypeError, "argument 3 must be a number"),
]


def _same(got: Any, want: Any) -> bool:
    """Equal with the same type, recursively (so 3 != 3.0 and True != 1)."""
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(
            _same(g, w) for g, w in zip(got, want, strict=True)
        )
    if isinstance(want, float) and math.isnan(want):
        return isinstance(got, float) and math.isnan(got)
    return type(got) is type(want) and got == want


@pytest.mark.parametrize(("case", "fn", "args", "want"), VALUES, ids=[v[0] for v in VALUES])
def test_builtin_value(case: str, fn: Callable[..., Any], args: tuple[Any, ...], want: Any
                       ) -> None:
    got = fn(*args)
    assert _same(got, want), f"{case}: {fn.__name__}{args!r} = {got!r}, want {want!r}"


@pytest.mark.parametrize(
    ("case", "fn", "args", "error", "message"), ERRORS, ids=[e[0] for e in ERRORS]
)
def test_builtin_error(case: str, fn: Callable[..., Any], args: tuple[Any, ...],
                       error: type[Exception], message: str) -> None:
    with pytest.raises(error) as info:
        fn(*args)
    # Never KeyError/IndexError: rt_coalesce would take those for an absent value.
    assert type(info.value) is error
    name = fn.__name__.removeprefix("b_")
    text = str(info.value)
    assert text.startswith(f"{name}(): "), text
    assert message in text


def test_every_builtin_but_coalesce_has_an_implementation_with_its_arity() -> None:
    names = set(BUILTINS) - {"coalesce"}
    assert set(b.IMPLEMENTATIONS) == names
    for name in names:
        fn = getattr(b, f"b_{name}")
        assert b.IMPLEMENTATIONS[name] is fn
        builtin = BUILTINS[name]
        extra = 1 if name == "random" else 0  # the rng comes first
        signature = inspect.signature(fn)
        top = builtin.max_args if builtin.max_args is not None else builtin.min_args + 3
        for count in range(builtin.min_args, top + 1):
            signature.bind(*range(count + extra))
        if builtin.max_args is not None:
            with pytest.raises(TypeError):
                signature.bind(*range(builtin.max_args + extra + 1))


def test_random_draws_from_the_rng_it_is_given() -> None:
    rng = SeededRng(7)
    first = b.b_random(rng)
    assert isinstance(first, float) and 0.0 <= first < 1.0
    picked = b.b_random(rng, ["NONE", "WRITE_BACK", "SHUTDOWN"])
    assert picked in ("NONE", "WRITE_BACK", "SHUTDOWN")
    assert rng.draws == [first, picked]
    again = SeededRng(7)
    assert [b.b_random(again), b.b_random(again, ["NONE", "WRITE_BACK", "SHUTDOWN"])] == [
        first, picked
    ]


@pytest.mark.parametrize(
    ("items", "error", "message"),
    [([], ValueError, "random(): cannot draw from an empty list"),
     ("abc", TypeError, "random(): expected a list to draw from, got string"),
     (None, TypeError, "got null")],
)
def test_random_refuses_what_it_cannot_draw_from(
    items: Any, error: type[Exception], message: str
) -> None:
    rng = SeededRng(1)
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        b.b_random(rng, items)
    assert rng.draws == []


def test_sorted_returns_a_new_list() -> None:
    items = [3, 1, 2]
    assert b.b_sorted(items) == [1, 2, 3]
    assert items == [3, 1, 2]


def test_min_max_of_a_list_do_not_change_it() -> None:
    items = [2, 1.5]
    assert _same(b.b_max(items), 2.0) and items == [2, 1.5]


def test_kind_name_uses_language_names() -> None:
    assert [b.kind_name(v) for v in (None, True, 1, 1.0, "", [], {}, object())] == [
        "null", "bool", "int", "float", "string", "list", "map", "object"
    ]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(JSON.filter(lambda v: not isinstance(v, str)))
def test_str_of_a_non_string_is_its_json_text(value: Any) -> None:
    assert json.loads(b.b_str(value)) == value


# Mixed int/float results are floats (the types join to float), so ints stay within the range
# a float represents exactly; beyond 2**53 the float result is the nearest float, by design.
_EXACT = 2**53


@given(st.lists(st.integers(-_EXACT, _EXACT) | st.floats(allow_nan=False), min_size=1))
def test_min_max_sorted_agree_with_ordering(items: list[float]) -> None:
    ordered = b.b_sorted(items)
    assert ordered == sorted(items)
    assert b.b_min(items) == ordered[0] and b.b_max(items) == ordered[-1]
    if len(items) > 1:
        assert b.b_min(*items) == b.b_min(items) and b.b_max(*items) == b.b_max(items)


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6,
                          max_value=1e6)))
def test_sum_does_not_depend_on_order(items: list[float]) -> None:
    assert b.b_sum(items) == b.b_sum(list(reversed(items)))


@given(st.integers(min_value=-10**6, max_value=10**6), st.integers(-100, 100),
       st.integers(-100, 100))
def test_clamp_is_within_bounds(x: int, lo: int, hi: int) -> None:
    if lo > hi:
        lo, hi = hi, lo
    assert lo <= b.b_clamp(x, lo, hi) <= hi
