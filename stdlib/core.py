"""Implementations of the ``core.*`` step kinds: ``core.log``, ``core.set``, ``core.fail`` and
``core.sleep``.

Role: the step kinds every workflow can use without any connection to the outside world.

Input: a :class:`~.call.StepCall` and the step's evaluated arguments (signatures in
``signatures.py``).  Output: the result records of those signatures.

Invariants:
- ``core.log`` writes through ``call.log`` only (the runtime decides where logs go); a message
  that is not a string is logged as its JSON text (``str`` builtin rules).  The level must be
  debug, info, warning or error.
- ``core.set`` returns its value untouched (it is pure).
- ``core.fail`` always raises :class:`~.call.StepFailure` with the step's message and code; it
  is not retryable (a deliberate failure fails again).
- ``core.sleep`` waits for the duration unless the run is cancelled first: task cancellation
  ends it at once, and so does ``call.cancelled`` being set, which raises
  ``asyncio.CancelledError``.  A zero duration returns at once.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any, Final

from .builtins_impl import b_str
from .call import StepCall, StepFailure, StepImpl, arg_seconds

__all__ = ["KINDS", "core_fail", "core_log", "core_set", "core_sleep"]

LOG_LEVELS: Final = ("debug", "info", "warning", "error")


async def core_log(call: StepCall, args: dict[str, Any]) -> dict[str, Any]:
    """``core.log``: write ``message`` to the run's log at ``level`` (default info)."""
    level = args.get("level", "info")
    if level not in LOG_LEVELS:
        raise StepFailure(
            f"core.log: level must be one of {', '.join(LOG_LEVELS)}, got {b_str(level)}",
            "bad_argument",
            retryable=False,
        )
    call.log(level, b_str(args.get("message")))
    return {}


async def core_set(call: StepCall, args: dict[str, Any]) -> dict[str, Any]:
    """``core.set``: ``{value: <value>}``."""
    return {"value": args.get("value")}


async def core_fail(call: StepCall, args: dict[str, Any]) -> dict[str, Any]:
    """``core.fail``: fail the step with ``message`` and ``code`` (default ``failed``)."""
    message = args.get("message")
    code = args.get("code", "failed")
    raise StepFailure(
        message if isinstance(message, str) else b_str(message),
        code if isinstance(code, str) and code else "failed",
        retryable=False,
    )


async def core_sleep(call: StepCall, args: dict[str, Any]) -> dict[str, Any]:
    """``core.sleep``: wait ``duration`` seconds, or until the run is cancelled."""
    if "duration" not in args:
        raise StepFailure("core.sleep: argument `duration` is missing", "bad_argument",
                          retryable=False)
    seconds = arg_seconds(args, "duration", 0.0)
    cancelled = call.cancelled
    if cancelled.is_set():
        raise asyncio.CancelledError(f"run {call.run_id} was cancelled")
    if seconds == 0:
        return {}
    if math.isinf(seconds):
        await cancelled.wait()
    else:
        try:
            await asyncio.wait_for(cancelled.wait(), seconds)
        except TimeoutError:
            return {}
    raise asyncio.CancelledError(f"run {call.run_id} was cancelled during core.sleep")


KINDS: Final[dict[str, StepImpl]] = {
    "core.log": core_log,
    "core.set": core_set,
    "core.fail": core_fail,
    "core.sleep": core_sleep,
}
"""Kind name -> implementation."""
