"""``tm``: the runtime's command line.

Input: ``argv``.  Output: text on stdout/stderr and an exit code (0 success, 2 usage error).
This release has ``tm --version`` only (no arguments print the help); the commands that
run bundles are added as they land.

Invariant: the runtime never imports the compiler, and start-up imports only argparse.
"""

from __future__ import annotations

import argparse


def _version() -> str:
    from .. import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tm", description="The TraceMind runtime: runs bundles compiled by tmc."
    )
    parser.add_argument("--version", action="version", version=f"tm {_version()}")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``tm`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    parser = build_parser()
    try:
        parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    except KeyboardInterrupt:
        return 130
    parser.print_help()
    return 0
