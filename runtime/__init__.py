"""The TraceMind runtime (``tm``): runs compiled bundles.

The runtime never imports the compiler: a deployed bundle needs only this package and its
dependencies.
"""
