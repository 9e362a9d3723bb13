"""The TraceMind compiler (``tmc``): parse, check, lint and format WDL and PDL.

Modules are named after pipeline phases: ``source`` (files and spans), ``codes`` (the
diagnostic code registry), ``diagnostics`` (the sink), ``render`` (text, JSON and SARIF),
``scanner`` (block structure), ``parse`` (Lark on each value), ``document`` (documents from the
block structure), ``nodes`` (the typed AST), ``types``, ``kinds`` and ``check*`` (names and
types), ``unparse`` and ``fmt`` (the canonical layout), ``dump`` (stage dumps), ``pipeline``
(the one place that sequences phases) and ``cli``.  Importing this package is free: every phase
is imported lazily where it is used.
"""
