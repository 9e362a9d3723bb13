"""Implementations of the example step kinds, registered through the ``tracemind.steps`` entry
point as :data:`STEPS`.

Each implementation is ``async def impl(call, args) -> dict``: ``call`` is the runtime's
StepCall (``run_id``, ``step_id``, ``seed``, ``log(level, message)``, ``cancelled``...), ``args``
the step's evaluated arguments.  An optional argument that the step leaves out may be absent,
so apply the default declared in ``tracemind-steps.json``.  Return the result record the
signature declares; raise ``tracemind.stdlib.call.StepFailure(message, code)`` for an expected
failure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracemind.stdlib.call import StepFailure

if TYPE_CHECKING:
    from tracemind.stdlib.call import StepCall, StepImpl


async def scale(call: StepCall, args: dict[str, Any]) -> dict[str, Any]:
    """``example.scale``: ``{value: value * factor + offset}``."""
    value = args["value"]
    factor = args.get("factor", 2.0)
    offset = args.get("offset", 0.0)
    result = float(value * factor + offset)
    if result != result:  # NaN: the inputs were infinities of opposite signs
        raise StepFailure(f"example.scale: {value} * {factor} + {offset} is not a number",
                          "example.nan", retryable=False)
    return {"value": result}


async def upper(call: StepCall, args: dict[str, Any]) -> dict[str, Any]:
    """``example.upper``: ``{text: TEXT}``, logged at debug level."""
    text = str(args["text"]).upper()
    call.log("debug", f"example.upper: {text}")
    return {"text": text}


STEPS: dict[str, StepImpl] = {"example.scale": scale, "example.upper": upper}
"""Step kind -> implementation: the value of the ``tracemind.steps`` entry point."""
