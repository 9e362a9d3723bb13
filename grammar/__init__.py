"""Lark grammars shipped as package data (loaded with importlib.resources)."""
