"""``tm triggers validate BUNDLE`` and ``tm triggers run BUNDLE --data DIR``.

Role: the command-line side of the triggers (wired into :mod:`tracemind.runtime.cli`).
``validate`` prints each flow's triggers, or exits 1 naming the flow and the trigger kind of a
bad one; ``run`` runs the cron and fs loops and the webhook server in the foreground until
SIGTERM or SIGINT (exit 0), enqueueing into ``DIR/queue.db`` and recording fires in
``DIR/log/triggers/`` (docs/operations.md, "Triggers").
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

EXIT_OK = 0
EXIT_BAD = 1


def add_parsers(commands: Any) -> None:
    triggers = commands.add_parser("triggers", help="check and run a bundle's triggers")
    sub = triggers.add_subparsers(dest="triggers_command", metavar="COMMAND", required=True)
    validate = sub.add_parser(
        "validate", help="print each flow's triggers; exit 1 if one is bad",
        description="Check the triggers of every flow of BUNDLE and print them, one per line. "
        "Exit 1 with a message naming the flow and trigger kind when one is bad.")
    validate.add_argument("bundle", metavar="BUNDLE", help="a bundle directory or .zip")
    run = sub.add_parser(
        "run", help="run the cron, fs and webhook triggers until SIGTERM",
        description="Run the triggers of BUNDLE in the foreground until SIGTERM or Ctrl-C: "
        "cron schedules, fs directory polls and the webhook HTTP server.  Runs are enqueued "
        "into DIR/queue.db; fires are recorded in the log DIR/log/triggers/.")
    run.add_argument("bundle", metavar="BUNDLE", help="a bundle directory or .zip")
    run.add_argument("--data", metavar="DIR",
                     help="the data directory (default: $TM_DATA, else ./.tracemind)")
    run.add_argument("--host", default="127.0.0.1",
                     help="the webhook server's address (default: 127.0.0.1)")
    run.add_argument("--port", type=int, default=8080,
                     help="the webhook server's port (default: 8080)")
    run.add_argument("--poll-interval", type=float, default=2.0, metavar="SECONDS",
                     help="seconds between fs polls (default: 2)")


def _load(target: str) -> tuple[Any, list[Any]]:
    from ..cli import SOURCE_SUFFIXES, UsageError, _open
    from . import TriggerConfigError, load_triggers

    if target.endswith(SOURCE_SUFFIXES):
        raise UsageError(f"{target}: tm triggers takes a compiled bundle, not a source file; "
                         f"compile it first (tmc compile {target} -o DIR)")
    bundle = _open(target)
    try:
        return bundle, load_triggers(bundle)
    except TriggerConfigError as exc:
        raise _Bad(f"{target}: {exc}") from None


class _Bad(Exception):
    pass


def validate(args: argparse.Namespace) -> int:
    try:
        _, triggers = _load(args.bundle)
    except _Bad as exc:
        print(f"tm triggers validate: error: {exc}", file=sys.stderr)
        return EXIT_BAD
    for trigger in triggers:
        print(f"{trigger.flow}: {trigger.describe()}")
    if not triggers:
        print("no flow of this bundle has triggers")
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    import asyncio
    import signal

    from ..cli import UsageError
    from ..log import LogLockedError
    from . import TriggerConfigError
    from .runner import run_triggers

    try:
        bundle, triggers = _load(args.bundle)
    except _Bad as exc:
        print(f"tm triggers run: error: {exc}", file=sys.stderr)
        return EXIT_BAD
    if args.poll_interval <= 0:
        raise UsageError(f"--poll-interval must be positive, got {args.poll_interval}")
    data = args.data or os.environ.get("TM_DATA") or ".tracemind"

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        return await run_triggers(bundle, os.path.abspath(args.bundle), triggers, data, stop,
                                  host=args.host, port=args.port,
                                  poll_interval=args.poll_interval)

    try:
        fired = asyncio.run(main())
    except (TriggerConfigError, LogLockedError, OSError) as exc:
        raise UsageError(str(exc)) from None
    print(f"tm triggers: stopped after {fired} fire(s)", file=sys.stderr)
    return EXIT_OK
