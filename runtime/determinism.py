"""Seeds, digests and JSON: the values that make a run or a decision reproducible.

Role: one definition of how a step's seed is derived from its run, of the canonical JSON whose
SHA-256 identifies a decision's inputs, and of the ``{"$float": "inf"}`` tags that carry
non-finite floats through JSON (the compiler writes them into manifests the same way).

Input: run ids, step ids, JSON-compatible values.  Output: ints, hex digests, JSON values.

Invariants: pure functions of their arguments, stable across processes and Python versions
(no ``hash()``, no dict order: keys are sorted); no JSON written here contains ``NaN`` or
``Infinity``.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any


def seed_for(run_id: str, step_id: str) -> int:
    """The first 8 bytes of SHA-256 of ``f"{run_id}/{step_id}"`` as an unsigned int."""
    digest = hashlib.sha256(f"{run_id}/{step_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no spaces, non-ASCII kept; non-finite floats as tags."""
    return json.dumps(
        json_safe(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
        allow_nan=False, default=_plain,
    )


def json_safe(value: Any) -> Any:
    """``value`` with every NaN or infinity replaced by ``{"$float": "nan"|"inf"|"-inf"}``."""
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return {"$float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


_TAGGED = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def json_floats(value: Any) -> Any:
    """The inverse of :func:`json_safe`: ``{"$float": "inf"}`` back to a float."""
    if isinstance(value, dict):
        if len(value) == 1 and "$float" in value and value["$float"] in _TAGGED:
            return _TAGGED[value["$float"]]
        return {key: json_floats(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_floats(item) for item in value]
    return value


def digest(value: Any) -> str:
    """``sha256:<hex>`` of :func:`canonical_json` of ``value``."""
    return "sha256:" + hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def _plain(value: object) -> object:
    """JSON stand-ins for the run-time values that are not JSON: absent steps are null."""
    from .abi import Missing

    if isinstance(value, Missing):
        return None
    raise TypeError(f"a value of type {type(value).__name__} is not JSON")
