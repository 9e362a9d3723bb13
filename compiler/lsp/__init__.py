"""The language server (``tmc lsp``): ``server.py`` wires pygls to the compiler; ``workspace.py``
decides which documents are checked together; ``analysis.py`` (hover, definition, symbols) and
``complete.py`` (completion) answer questions about positions as plain data; ``positions.py``
converts between the compiler's code-point columns and LSP's UTF-16 columns."""
