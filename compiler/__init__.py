"""The TraceMind compiler (``tmc``): parse, check, lint, format and (later) compile WDL and PDL.

Modules are named after pipeline phases: ``source`` (files and spans), ``codes`` (the diagnostic
code registry), ``diagnostics`` (the sink and renderers), ``scanner`` (block structure),
``parse`` (Lark on each value), ``nodes`` (the typed AST), ``types``, ``resolve``/``typecheck``,
``fmt``, ``dump``, ``lint`` and ``pipeline`` (the one place that sequences phases), ``cli``.
Importing this package is free: every phase is imported lazily where it is used.
"""
