"""TraceMind: a compiler-style DSL toolchain (``tmc``) and runtime (``tm``) for MAPE-K agents.

The distribution maps the top-level folders ``compiler/``, ``runtime/``, ``stdlib/`` and
``grammar/`` to ``tracemind.compiler``, ``tracemind.runtime``, ``tracemind.stdlib`` and
``tracemind.grammar``.  This module only carries the version, so importing it is free.
"""

__version__ = "0.1.0"
