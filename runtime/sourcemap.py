"""Mapping errors raised by generated code back to the ``.wdl``/``.pdl`` source.

Role: turn an exception that escaped a generated module (a missing key, a division by zero, a
read of a step that did not run, ...) into a :class:`~tracemind.runtime.abi.FlowError` carrying
the source location of the expression.

Input: the exception and the generated module (its ``SOURCE_MAP`` and ``SOURCE_PATH``).
Output: a ``FlowError``, or None when no frame of the traceback belongs to the module (then the
error is not the program's: it is a runtime bug or an error of a step implementation).

Invariants: the deepest frame whose globals are the module's dict decides the location; a
generated line missing from ``SOURCE_MAP`` takes the nearest mapped line above it.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from .abi import FlowError, describe


def generated_line(exc: BaseException, namespace: Mapping[str, Any]) -> int | None:
    """The line of the deepest traceback frame executing in ``namespace`` (a module dict)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals is namespace:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def source_position(source_map: Mapping[int, tuple[int, int]], line: int) -> tuple[int, int]:
    """``(line, column)`` in the source for a generated ``line``; ``(0, 0)`` when unknown."""
    position = source_map.get(line)
    if position is not None:
        return position
    keys = sorted(source_map)
    index = bisect.bisect_right(keys, line) - 1
    if index < 0:
        return (0, 0)
    return source_map[keys[index]]


def locate(exc: BaseException, module: ModuleType) -> FlowError | None:
    """``exc`` as a located :class:`FlowError`, or None if it did not come from ``module``."""
    if isinstance(exc, FlowError):
        return exc
    line = generated_line(exc, vars(module))
    if line is None:
        return None
    source_map: Mapping[int, tuple[int, int]] = getattr(module, "SOURCE_MAP", {})
    src_line, src_column = source_position(source_map, line)
    path = str(getattr(module, "SOURCE_PATH", getattr(module, "__file__", "<generated>")))
    return FlowError(describe(exc), path, src_line, src_column)
