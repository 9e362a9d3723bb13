"""Code generation: optimized IR -> the Python modules of a bundle.

Modules, in the order the data flows: ``literal`` (the repr-safe emitter and name mangling: the
only way user text reaches generated source), ``writer`` (lines, indentation, source positions),
``expr`` (expressions), ``flow`` and ``policy`` (function bodies and site tables), ``schema``
(JSON Schemas of inputs and results), ``module`` (the Jinja2 skeletons in ``templates/``), and
``ir_json`` (the canonical JSON of the IR).  The contract with the runtime is
docs/internals.md; generated modules import ``tracemind.runtime.abi`` and nothing else.
"""

from __future__ import annotations

from .expr import CodegenError
from .module import GeneratedModule, generate_flow, generate_policy

__all__ = ["CodegenError", "GeneratedModule", "generate_flow", "generate_policy"]
