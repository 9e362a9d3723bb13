"""The runtime ABI: the only names generated flow and policy modules may use.

Role: generated modules import ``tracemind.runtime.abi`` and nothing else (not even the standard
library); everything they need is defined or re-exported here.  The table in
``docs/internals.md`` is the contract; ``__all__`` lists exactly its names.

Input: nothing at import time beyond the standard library's ``dataclasses``/``random``/``typing``
and the PDL builtin implementations of ``tracemind.stdlib.builtins_impl``.
Output: :data:`ABI_VERSION`, the site dataclasses, the run-time values and errors, and the
``rt_*`` and ``b_*`` helpers called from generated expressions.

Invariants:
- Importing this module is cheap (no asyncio, no json, no hashlib): policies run from it in
  microseconds, and ``tm`` imports it on every run.
- The hot helpers (:func:`rt_coalesce`, :func:`rt_choose`, :class:`DecisionRng`) do no work that
  a decision without draws does not need; :class:`DecisionRng` seeds its generator lazily.
- Every absent value is a :class:`Missing`; all of them compare equal, and each may name the step
  it stands for so that reading a field of it says which step did not run.
"""

from __future__ import annotations

import random as _random
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, ClassVar, Final, NoReturn, Protocol

ABI_VERSION: Final = 1

__all__ = [
    "ABI_VERSION",
    "MISSING",
    "BlockSite",
    "DecisionRng",
    "FlowContext",
    "FlowError",
    "MissingValue",
    "Retry",
    "StepFailed",
    "StepSite",
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
    "rt_choose",
    "rt_coalesce",
    "rt_iter",
]


# ---------------------------------------------------------------------------------------------
# Absent values


class MissingValue(KeyError):
    """Raised on reading a field or item of :data:`MISSING` (a step that did not run)."""

    def __init__(self, step: str | None, key: object = None) -> None:
        super().__init__(step, key)
        self.step = step
        self.key = key

    def __str__(self) -> str:
        what = f"step `{self.step}`" if self.step else "the value"
        field = "" if self.key is None else f" (reading {self.key!r})"
        return (
            f"{what} did not run{field}: its branch was not taken, it was skipped by an "
            "@on_error jump, or it failed with @on_error: continue; read it with coalesce(...)"
        )


class Missing:
    """The value of a step that did not run.  Use :data:`MISSING` or ``MISSING.of(step_id)``."""

    __slots__ = ("step",)
    _named: ClassVar[dict[str, Missing]] = {}

    step: str | None

    def __init__(self, step: str | None = None) -> None:
        object.__setattr__(self, "step", step)

    def of(self, step: str) -> Missing:
        """The absent value standing for step ``step`` (cached: one instance per step id)."""
        named = Missing._named.get(step)
        if named is None:
            named = Missing._named[step] = Missing(step)
        return named

    def __repr__(self) -> str:
        return "MISSING" if self.step is None else f"MISSING(step {self.step!r} did not run)"

    def __getitem__(self, key: object) -> NoReturn:
        raise MissingValue(self.step, key)

    def __getattr__(self, name: str) -> NoReturn:
        if name.startswith("__"):
            raise AttributeError(name)
        raise MissingValue(self.step, name)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("MISSING is immutable")

    def __eq__(self, other: object) -> bool:
        return type(other) is Missing

    def __hash__(self) -> int:
        return hash(Missing)

    def __iter__(self) -> NoReturn:
        raise MissingValue(self.step, "an item")

    def __contains__(self, item: object) -> NoReturn:
        raise MissingValue(self.step, item)


MISSING: Final = Missing()


# ---------------------------------------------------------------------------------------------
# Sites


@dataclass(frozen=True, slots=True)
class Retry:
    """``@retry``: ``attempts`` in total (>= 1), ``backoff`` seconds before the 2nd attempt,
    each later delay multiplied by ``factor``; ``jitter`` draws each delay uniformly from
    ``[0, delay]`` (full jitter)."""

    attempts: int
    backoff: float = 0.0
    factor: float = 2.0
    jitter: bool = True

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"Retry.attempts must be at least 1, got {self.attempts}")
        if self.backoff < 0 or self.factor < 0:
            raise ValueError("Retry.backoff and Retry.factor must not be negative")

    def delay(self, failures: int) -> float:
        """The delay (before jitter) after the ``failures``-th failed attempt (1-based)."""
        return self.backoff * self.factor ** (failures - 1)


@dataclass(frozen=True, slots=True)
class StepSite:
    """One step occurrence of a flow, in document order (``index``)."""

    id: str
    kind: str
    path: str
    line: int
    column: int
    timeout: float | None = None
    retry: Retry | None = None
    on_error: str = "fail"
    """``"fail"``, ``"continue"`` or the id of the step to jump to."""
    pure: bool = False
    parent: str | None = None
    """The id of the enclosing block, or None at the top level."""
    index: int = 0

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class BlockSite:
    """A ``when``/``else``/``parallel``/``for`` block of a flow."""

    id: str
    kind: str
    path: str
    line: int
    column: int
    parent: str | None = None

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


class FlowContext(Protocol):
    """What a generated flow's ``run(ctx, inputs)`` may call; implemented by the executor."""

    async def step(self, site: StepSite, args: dict[str, Any], *,
                   timeout: float | None = None, retry: Retry | None = None) -> Any:
        """Run one step; ``timeout``/``retry``, when given, replace the site's (options whose
        value is computed at run time)."""
        ...

    async def gather(self, *branches: Awaitable[None]) -> None: ...

    def block(self, site: BlockSite) -> AbstractAsyncContextManager[None]: ...


# ---------------------------------------------------------------------------------------------
# Errors


class StepFailed(Exception):
    """A step failed for good (after its retries); ``cause`` is the last attempt's error."""

    def __init__(self, site: StepSite, cause: BaseException) -> None:
        super().__init__(site, cause)
        self.site = site
        self.cause = cause

    def __str__(self) -> str:
        return f"step `{self.site.id}` ({self.site.kind}) failed: {describe(self.cause)}"


class FlowError(Exception):
    """A run-time error of an expression, located in the ``.wdl``/``.pdl`` source."""

    def __init__(self, message: str, path: str, line: int, column: int) -> None:
        super().__init__(message, path, line, column)
        self.message = message
        self.path = path
        self.line = line
        self.column = column

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


def describe(exc: BaseException) -> str:
    """A one-line message for ``exc`` in the runtime's words (not Python's)."""
    if isinstance(exc, MissingValue):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return str(exc) or "timed out"
    if isinstance(exc, KeyError):
        return f"no key {exc.args[0]!r}" if exc.args else "missing key"
    if isinstance(exc, IndexError):
        return "index out of range"
    if isinstance(exc, ZeroDivisionError):
        return "division by zero"
    text = str(exc)
    return text if text else type(exc).__name__


# ---------------------------------------------------------------------------------------------
# Policy randomness


class DecisionRng:
    """The seeded random source of one decision; records every draw as ``(label, value)``.

    The generator is created on the first draw (seeding a Mersenne Twister costs more than a
    whole decision without draws).
    """

    __slots__ = ("_random", "draws", "seed")

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.draws: list[tuple[str, Any]] = []
        self._random: _random.Random | None = None

    def _generator(self) -> _random.Random:
        generator = self._random
        if generator is None:
            generator = self._random = _random.Random(self.seed)
        return generator

    def random(self, label: str = "random") -> float:
        """A float in ``[0, 1)``, recorded under ``label``."""
        value = self._generator().random()
        self.draws.append((label, value))
        return value

    def choice(self, items: Sequence[Any], label: str = "random") -> Any:
        """One item of ``items`` (non-empty), recorded under ``label``."""
        if not items:
            raise ValueError("random(items) needs a non-empty list")
        value = items[int(self._generator().random() * len(items))]
        self.draws.append((label, value))
        return value

    def uniform(self, label: str = "random") -> float:
        """A float in ``[0, 1)`` that is not recorded (callers record what it decided)."""
        return self._generator().random()


# ---------------------------------------------------------------------------------------------
# Expression helpers


def rt_coalesce(*thunks: Callable[[], Any]) -> Any:
    """The first thunk result that is present; None when every one is absent.

    Absent: the result is None or MISSING, or the thunk raised KeyError (MissingValue
    included) or IndexError, or it subscripted a null (``TypeError`` on ``None``).
    """
    for thunk in thunks:
        try:
            value = thunk()
        except (KeyError, IndexError):
            continue
        except TypeError as exc:
            if "'NoneType' object is not subscriptable" in str(exc):
                continue
            raise
        if value is None or type(value) is Missing:
            continue
        return value
    return None


_EPSILON = 1e-9


def rt_choose(rng: DecisionRng, choose_id: str, probs: Sequence[float | None]) -> int:
    """One draw for a ``choose``: the index of the chosen option, recorded as the draw's value.

    ``probs`` holds each option's probability in document order, None for the one option that
    takes the rest.  A negative probability, a sum above 1, or (with no None option) a sum
    other than 1 is an error.
    """
    total = 0.0
    rest = -1
    for index, prob in enumerate(probs):
        if prob is None:
            rest = index
            continue
        if prob < 0:
            raise ValueError(f"choose `{choose_id}`: probability {prob!r} is negative")
        total += prob
    if total > 1 + _EPSILON:
        raise ValueError(f"choose `{choose_id}`: probabilities sum to {total:g}, above 1")
    if rest < 0 and total < 1 - _EPSILON:
        raise ValueError(
            f"choose `{choose_id}`: probabilities sum to {total:g}, not 1, and no option "
            "without `p` takes the rest"
        )
    draw = rng.uniform()
    chosen = rest
    cumulative = 0.0
    for index, prob in enumerate(probs):
        if prob is None:
            continue
        cumulative += prob
        if draw < cumulative:
            chosen = index
            break
    else:
        if chosen < 0:
            chosen = max(i for i, p in enumerate(probs) if p)
    rng.draws.append((choose_id, chosen))
    return chosen


def rt_iter(value: Any) -> list[Any]:
    """The list a ``for`` block iterates over."""
    if type(value) is list:
        return value
    if type(value) is Missing:
        raise MissingValue(value.step, "the items of a `for`")
    raise TypeError(f"`for` needs a list, found {type_name(value)}")


def type_name(value: object) -> str:
    """The WDL/PDL name of a run-time value's type (for error messages)."""
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
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, Missing):
        return "a step that did not run"
    return type(value).__name__


# The PDL builtins live with the other stdlib implementations; they are imported last so that
# stdlib modules may import the classes above from this module without a cycle.
from ..stdlib.builtins_impl import (  # noqa: E402
    b_abs,
    b_all,
    b_any,
    b_clamp,
    b_contains,
    b_first_numeric,
    b_float,
    b_int,
    b_len,
    b_lower,
    b_max,
    b_min,
    b_random,
    b_round,
    b_sorted,
    b_str,
    b_sum,
    b_upper,
)
