"""Step kinds and PDL builtins: typed signatures (read by the compiler) and implementations."""
