"""``tm``: the runtime's command line (``run``, ``policy eval``, ``test``, ``init``, ``log``).

Input: ``argv``.  Output: JSON (or text) on stdout, messages on stderr, and an exit code:
0 success, 1 the run (or decision) failed, 2 usage or input errors (a bundle that fails
verification, inputs that do not match the schema, a source that does not compile), 3 internal
error, 130 on Ctrl-C, 141 when stdout is closed early.

Commands:
- ``tm run TARGET [FLOW] -i JSON|@FILE [--seed N] [--format json|text]``: TARGET is a bundle
  (directory or ``.zip``) or a ``.wdl`` file, compiled in memory with the ``.pdl`` files beside
  it; FLOW defaults to the bundle's only flow.
- ``tm policy eval TARGET POLICY -i JSON|@FILE [--arm NAME] [--seed N]``: one decision.
- ``tm log verify|stats DIR [--format text|json]``, ``tm log tail DIR [-n N] [--follow]
  [--type T]``: check, count and print the records of a segment log (docs/operations.md).
- ``tm enqueue TARGET FLOW -i JSON [--idempotency-key K] [--data DIR]``, ``tm queue stats``,
  ``tm dlq ls|show ID|requeue ID|purge``: the durable task queue in ``DIR/queue.db``
  (``--data`` defaults to ``$TM_DATA``, else ``./.tracemind``; docs/operations.md).
- ``tm run TARGET [FLOW] --detached [--idempotency-key K] [--data DIR]``: enqueue instead of
  running; ``tm workers start [-n N] [--visibility-timeout S]`` / ``tm workers stop
  [--timeout S]``: worker processes over the queue (runtime/workers.py).
- ``tm triggers validate BUNDLE``, ``tm triggers run BUNDLE [--data DIR] [--host H] [--port P]``:
  check and run a bundle's cron, webhook and fs triggers (runtime/triggers/).

Invariants:
- Start-up imports only argparse; each command imports what it needs, so ``tm --version`` stays
  well under 0.15 s.  The runtime never imports the compiler at module level: compiling a
  source in memory imports ``tracemind.compiler.bundle`` inside the command.
- Inputs are validated before anything runs; messages name the field.
- A crash never shows a bare traceback: it becomes the internal-error banner (exit 3), with the
  traceback only when ``TM_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .bundle import Bundle
    from .executor import RunResult

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141

SOURCE_SUFFIXES = (".wdl", ".pdl")


class UsageError(Exception):
    """A problem with the command line or its inputs (exit 2); one message line each."""

    def __init__(self, *messages: str) -> None:
        super().__init__("\n".join(messages))
        self.messages = messages


def _version() -> str:
    from .. import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tm", description="The TraceMind runtime: runs bundles compiled by tmc."
    )
    parser.add_argument("--version", action="version", version=f"tm {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser(
        "run", help="run a flow once and print its result",
        description="Run one flow of a bundle (or of a .wdl file, compiled in memory) and "
        "print the result: status, outputs, steps with timings, and the error with its "
        "location.  Exit 0 on success, 1 when the run failed, 2 on bad inputs.",
    )
    run.add_argument("target", metavar="TARGET",
                     help="a bundle directory or .zip, or a .wdl file")
    run.add_argument("flow", metavar="FLOW", nargs="?",
                     help="the flow to run (default: the bundle's only flow)")
    _inputs_option(run)
    run.add_argument("--seed", type=int, metavar="N",
                     help="seed every random choice of the run (default: from the run id)")
    run.add_argument("--format", choices=("json", "text"), default="json",
                     help="output format (default: json)")
    run.add_argument("--detached", action="store_true",
                     help="enqueue the run in the task queue (run by `tm workers`) and print "
                     "its task id instead of running it")
    run.add_argument("--idempotency-key", metavar="K",
                     help="with --detached: a second run with K prints the first task's id")
    _data_option(run)

    policy = commands.add_parser("policy", help="work with the policies of a bundle")
    policy_commands = policy.add_subparsers(dest="policy_command", metavar="COMMAND",
                                            required=True)
    evaluate = policy_commands.add_parser(
        "eval", help="make one decision and print it",
        description="Make one decision with a policy and print it as JSON: the arm, seed, "
        "inputs digest, draws and output record.",
    )
    evaluate.add_argument("target", metavar="TARGET",
                          help="a bundle directory or .zip, or a .pdl file")
    evaluate.add_argument("policy", metavar="POLICY", help="the policy id")
    _inputs_option(evaluate)
    evaluate.add_argument("--arm", metavar="NAME", help="the arm to use (default: the first)")
    evaluate.add_argument("--seed", type=int, metavar="N",
                          help="the decision's seed (default: a fresh one, printed)")

    test = commands.add_parser(
        "test", help="run test fixtures against a bundle",
        description="Run the cases of fixture files (written by `tmc testgen`) against a "
        "bundle, with the recorded mocks; print failures with a diff and, with --coverage, "
        "the branch coverage of the sources.  Exit 1 when a case fails or coverage is below "
        "--min-coverage, 2 on bad arguments.",
    )
    test.add_argument("target", metavar="TARGET",
                      help="a bundle directory or .zip, or a .wdl/.pdl file")
    test.add_argument("fixtures", nargs="+", metavar="FIXTURES",
                      help="fixture files, or directories holding *.fixture.json files")
    test.add_argument("--coverage", action="store_true",
                      help="report branch coverage of the .wdl/.pdl sources")
    test.add_argument("--format", choices=("text", "json"), default="text",
                      help="output format (default: text)")
    test.add_argument("--min-coverage", type=float, metavar="PCT",
                      help="fail when branch coverage is below PCT percent")

    _log_parser(commands)
    _queue_parsers(commands)
    _workers_parsers(commands)
    _triggers_parsers(commands)

    init = commands.add_parser(
        "init", help="create a new project",
        description="Create a project directory NAME with a workflow (and policy), sample "
        "inputs, a README and a test, ready for tmc lint, tmc compile and tm run.",
    )
    init.add_argument("name", metavar="NAME", help="the project (and workflow) name")
    init.add_argument("--template", choices=("minimal", "opcua"), default="minimal",
                      help="minimal: core steps only; opcua: OPC UA read, policy, write-back")
    init.add_argument("--dir", default=".", metavar="DIR",
                      help="where to create the project (default: the current directory)")
    return parser


def _log_parser(commands: Any) -> None:
    log = commands.add_parser("log", help="inspect a segment log directory",
                              description="Verify, count or print the records of an event "
                                          "log directory (no lock needed: a writer may be "
                                          "appending).")
    log_commands = log.add_subparsers(dest="log_command", metavar="COMMAND", required=True)
    verify = log_commands.add_parser(
        "verify", help="check every record; exit 1 if any damage is found",
        description="Check the framing and CRC of every record; report each damage with its "
        "segment file and byte offset.  Exit 0 when intact, 1 when damaged.")
    stats = log_commands.add_parser(
        "stats", help="count records and segments",
        description="Print the number of records and segments, the first and last sequence "
        "numbers, the size and the records per type.")
    for sub in (verify, stats):
        sub.add_argument("directory", metavar="DIR", help="the log directory")
        sub.add_argument("--format", choices=("text", "json"), default="text",
                         help="output format (default: text)")
    tail = log_commands.add_parser(
        "tail", help="print the last records as JSON lines",
        description="Print the last N records as JSON lines; with --follow, keep printing "
        "records as they are appended (Ctrl-C to stop).")
    tail.add_argument("directory", metavar="DIR", help="the log directory")
    tail.add_argument("-n", type=int, default=10, metavar="N",
                      help="how many records to print first (default: 10)")
    tail.add_argument("--follow", "-f", action="store_true",
                      help="keep printing new records as they are appended")
    tail.add_argument("--type", action="append", metavar="T", dest="types",
                      help="only records of this type (repeatable)")


def _inputs_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-i", "--inputs", metavar="JSON|@FILE", default="{}",
                        help="the inputs as a JSON object, or @FILE to read them (@- for stdin)")


def main(argv: list[str] | None = None) -> int:
    """Run ``tm`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE
        if args.command is None:
            parser.print_help()
            return EXIT_OK
        command = args.command
        if command == "policy":
            command = f"policy {args.policy_command}"
        elif command == "log":
            command = f"log {args.log_command}"
        elif command == "triggers":
            command = f"triggers {args.triggers_command}"
        elif command in ("queue", "dlq", "workers"):
            command = f"{command} {getattr(args, command + '_command')}"
        try:
            status = _COMMANDS[command](args)
        except UsageError as exc:
            for message in exc.messages:
                print(f"tm {command}: error: {message}", file=sys.stderr)
            return EXIT_USAGE
        sys.stdout.flush()
        return status
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _detach_stdout()
        return EXIT_BROKEN_PIPE
    except Exception as exc:
        _banner(exc)
        return EXIT_INTERNAL


# ---------------------------------------------------------------------------------------------
# Commands


def _run(args: argparse.Namespace) -> int:
    import asyncio

    from .bundle import BundleError
    from .runner import BundleRunner
    from .schema import InputError

    if args.detached:
        return _run_detached(args)
    if args.idempotency_key is not None:
        raise UsageError("--idempotency-key needs --detached")
    bundle = _open(args.target)
    raw = _read_inputs(args.inputs)
    runner = BundleRunner(bundle)
    flow_id = args.flow
    if flow_id is None and args.target.endswith(".wdl"):
        flow_id = _source_flow(bundle, args.target)
    try:
        flow = bundle.flow(flow_id)
        inputs = flow.prepare_inputs(raw)
        module = flow.module
    except BundleError as exc:
        raise UsageError(str(exc)) from None
    except InputError as exc:
        raise UsageError(*exc.errors) from None
    result = asyncio.run(runner.executor.run(module, inputs, seed=args.seed))
    if args.format == "text":
        sys.stdout.write(_render_text(result))
    else:
        _print_json(result.to_json())
    return EXIT_OK if result.status == "succeeded" else EXIT_FAILED


def _policy_eval(args: argparse.Namespace) -> int:
    from .abi import FlowError
    from .bundle import BundleError
    from .policy import DecisionError
    from .runner import BundleRunner
    from .schema import InputError

    bundle = _open(args.target)
    raw = _read_inputs(args.inputs)
    try:
        decision = BundleRunner(bundle).decide(args.policy, raw, arm=args.arm, seed=args.seed)
    except (BundleError, DecisionError) as exc:
        raise UsageError(str(exc)) from None
    except InputError as exc:
        raise UsageError(*exc.errors) from None
    except FlowError as exc:
        print(f"tm policy eval: error: {exc}", file=sys.stderr)
        _print_json({"policy": args.policy, "error": {
            "message": exc.message, "location": f"{exc.path}:{exc.line}:{exc.column}",
            "path": exc.path, "line": exc.line, "column": exc.column}})
        return EXIT_FAILED
    _print_json(decision.to_json())
    return EXIT_OK


def _init(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .scaffold import ScaffoldError, create_project

    try:
        project = create_project(Path(args.dir), args.name, args.template)
    except ScaffoldError as exc:
        raise UsageError(str(exc)) from None
    print(f"created {project.root}/ ({args.template} template):")
    for rel in project.files:
        print(f"  {rel}")
    print(f"next: cd {project.root} && tmc lint . && tm run {args.name}.wdl -i @inputs.json")
    return EXIT_OK


def _test(args: argparse.Namespace) -> int:
    from .testing import FixtureError, render_text, run_fixture_files

    paths: list[str] = []
    for item in args.fixtures:
        if os.path.isdir(item):
            paths += sorted(os.path.join(item, name) for name in os.listdir(item)
                            if name.endswith(".fixture.json"))
        else:
            paths.append(item)
    if not paths:
        raise UsageError(f"no fixture files in {', '.join(args.fixtures)}")
    bundle = _open(args.target)
    try:
        report = run_fixture_files(bundle, paths)
    except FixtureError as exc:
        raise UsageError(str(exc)) from None
    if args.format == "json":
        _print_json(report.to_json())
    else:
        sys.stdout.write(render_text(report, coverage=args.coverage
                                     or args.min_coverage is not None))
    low = args.min_coverage is not None and report.coverage.percent < args.min_coverage
    if low and args.format == "text":
        print(f"tm test: branch coverage {report.coverage.percent:.1f}% is below "
              f"--min-coverage {args.min_coverage:g}%", file=sys.stderr)
    return EXIT_FAILED if report.failed or low else EXIT_OK


def _log_reader(directory: str) -> Any:
    from .log import LogError, LogReader

    try:
        return LogReader(directory)
    except LogError as exc:
        raise UsageError(str(exc)) from None


def _log_verify(args: argparse.Namespace) -> int:
    report = _log_reader(args.directory).verify()
    if args.format == "json":
        _print_json(report.to_json())
    else:
        for damage in report.damages:
            print(damage.describe())
        state = "intact" if report.ok else f"{len(report.damages)} damaged region(s)"
        print(f"{args.directory}: {report.records} records in {report.segments} segments, "
              f"{state}")
    return EXIT_OK if report.ok else EXIT_FAILED


def _log_stats(args: argparse.Namespace) -> int:
    stats = _log_reader(args.directory).stats()
    if args.format == "json":
        _print_json(stats.to_json())
    else:
        print(f"records   {stats.records}\nsegments  {stats.segments}\n"
              f"bytes     {stats.bytes}\nfirst_seq {stats.first_seq}\n"
              f"last_seq  {stats.last_seq}\ndamages   {stats.damages}")
        for name, count in sorted(stats.types.items()):
            print(f"  {name}: {count}")
    return EXIT_OK


def _log_tail(args: argparse.Namespace) -> int:
    import json

    if args.n < 0:
        raise UsageError(f"-n must be 0 or more, got {args.n}")
    reader = _log_reader(args.directory)
    records = reader.tail(args.n, args.types)
    for record in records:
        print(json.dumps(record.to_json(), ensure_ascii=False), flush=args.follow)
    if args.follow:
        start = records[-1].seq + 1 if records else None
        if start is None:
            last = reader.stats().last_seq
            start = last + 1 if last is not None else 1
        for record in reader.follow(from_seq=start, types=args.types):
            print(json.dumps(record.to_json(), ensure_ascii=False), flush=True)
    return EXIT_OK


_COMMANDS = {"run": _run, "policy eval": _policy_eval, "init": _init, "test": _test,
             "log verify": _log_verify, "log stats": _log_stats, "log tail": _log_tail}


# ---------------------------------------------------------------------------------------------
# The task queue: enqueue, queue stats, dlq (docs/operations.md, "The task queue")


def _queue_parsers(commands: Any) -> None:
    enqueue = commands.add_parser(
        "enqueue", help="add a flow run to the task queue and print its id",
        description="Store a run of FLOW of the bundle TARGET in the task queue (durably: the "
        "id is printed once the task is on disk).  A repeated --idempotency-key prints the "
        "first task's id and adds nothing.  Exit 2 on a bad bundle, flow or inputs.")
    enqueue.add_argument("target", metavar="TARGET",
                         help="a bundle directory or .zip (compile .wdl sources first)")
    enqueue.add_argument("flow", metavar="FLOW", help="the flow to run")
    _inputs_option(enqueue)
    enqueue.add_argument("--idempotency-key", metavar="K",
                         help="submit at most once: a second enqueue with K returns the first id")
    enqueue.add_argument("--delay", type=float, default=0.0, metavar="SECONDS",
                         help="run no earlier than SECONDS from now (default: 0)")
    enqueue.add_argument("--max-attempts", type=int, default=5, metavar="N",
                         help="attempts before the task goes to the DLQ (default: 5)")
    enqueue.add_argument("--backoff", type=float, default=1.0, metavar="SECONDS",
                         help="delay before the first retry, doubled after each (default: 1)")
    _data_option(enqueue)

    queue = commands.add_parser("queue", help="inspect the task queue")
    queue_commands = queue.add_subparsers(dest="queue_command", metavar="COMMAND",
                                          required=True)
    stats = queue_commands.add_parser(
        "stats", help="count the tasks in each state",
        description="Print the number of tasks pending, leased, succeeded, failed (retry "
        "scheduled) and dead (in the DLQ).")
    _data_option(stats)
    stats.add_argument("--format", choices=("text", "json"), default="text",
                       help="output format (default: text)")

    dlq = commands.add_parser("dlq", help="inspect and empty the dead-letter queue")
    dlq_commands = dlq.add_subparsers(dest="dlq_command", metavar="COMMAND", required=True)
    ls = dlq_commands.add_parser("ls", help="list the dead tasks with their last error")
    ls.add_argument("--format", choices=("text", "json"), default="text",
                    help="output format (default: text)")
    show = dlq_commands.add_parser("show", help="print a dead task with its error history")
    requeue = dlq_commands.add_parser("requeue",
                                      help="move a dead task back to pending, attempts reset")
    for sub in (show, requeue):
        sub.add_argument("id", type=int, metavar="ID", help="the task id")
    purge = dlq_commands.add_parser("purge", help="delete every dead task")
    for sub in (ls, show, requeue, purge):
        _data_option(sub)


def _data_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", metavar="DIR",
                        help="the data directory; the queue is DIR/queue.db (default: $TM_DATA, "
                        "else ./.tracemind)")


def _task_queue(args: argparse.Namespace) -> Any:
    from .queue import QueueError
    from .queue.sqlite import SqliteTaskQueue

    data = args.data or os.environ.get("TM_DATA") or ".tracemind"
    try:
        return SqliteTaskQueue(os.path.join(data, "queue.db"))
    except QueueError as exc:
        raise UsageError(str(exc)) from None


def _enqueue(args: argparse.Namespace) -> int:
    return _enqueue_task(args, "tm enqueue", args.flow, args.delay, args.max_attempts,
                         args.backoff)


def _run_detached(args: argparse.Namespace) -> int:
    """``tm run --detached``: the ``tm enqueue`` path, FLOW defaulting to the only flow."""
    return _enqueue_task(args, "tm run --detached", args.flow, 0.0, 5, 1.0)


def _enqueue_task(args: argparse.Namespace, name: str, flow_id: str | None, delay: float,
                  max_attempts: int, backoff: float) -> int:
    import time

    from .bundle import BundleError
    from .queue import QueueError
    from .schema import InputError

    target = args.target
    if target.endswith(SOURCE_SUFFIXES):
        raise UsageError(f"{target}: {name} takes a compiled bundle, not a source file; "
                         f"compile it first (tmc compile {target} -o DIR) and use DIR")
    if max_attempts < 1:
        raise UsageError(f"--max-attempts must be at least 1, got {max_attempts}")
    if backoff < 0 or delay < 0:
        raise UsageError("--backoff and --delay must not be negative")
    bundle = _open(target)
    raw = _read_inputs(args.inputs)
    try:
        flow = bundle.flow(flow_id)
        flow.prepare_inputs(raw)
    except BundleError as exc:
        raise UsageError(str(exc)) from None
    except InputError as exc:
        raise UsageError(*exc.errors) from None
    queue = _task_queue(args)
    try:
        task_id = queue.enqueue(
            flow.id, raw, bundle=os.path.abspath(target),
            idempotency_key=args.idempotency_key,
            run_at=time.time() + delay if delay else None,
            max_attempts=max_attempts, backoff=backoff)
    except QueueError as exc:
        raise UsageError(str(exc)) from None
    finally:
        queue.close()
    print(task_id)
    return EXIT_OK


def _queue_stats(args: argparse.Namespace) -> int:
    queue = _task_queue(args)
    counts = queue.stats()
    queue.close()
    if args.format == "json":
        _print_json(counts)
    else:
        for state, count in counts.items():
            print(f"{state:<10} {count}")
    return EXIT_OK


def _dlq_ls(args: argparse.Namespace) -> int:
    queue = _task_queue(args)
    tasks = queue.dlq_list()
    queue.close()
    if args.format == "json":
        _print_json([task.to_json() for task in tasks])
        return EXIT_OK
    for task in tasks:
        last = task.errors[-1].get("message", "") if task.errors else ""
        print(f"{task.id}  {task.flow}  {task.attempts} attempt(s)  {last}")
    if not tasks:
        print("the DLQ is empty")
    return EXIT_OK


def _dlq_task(args: argparse.Namespace, requeue: bool) -> int:
    from .queue import TaskId, TaskNotFound

    queue = _task_queue(args)
    try:
        task = queue.requeue(TaskId(args.id)) if requeue else queue.dlq_show(TaskId(args.id))
    except TaskNotFound as exc:
        raise UsageError(str(exc)) from None
    finally:
        queue.close()
    if requeue:
        print(f"requeued task {task.id} ({task.flow})")
    else:
        _print_json(task.to_json())
    return EXIT_OK


def _dlq_show(args: argparse.Namespace) -> int:
    return _dlq_task(args, requeue=False)


def _dlq_requeue(args: argparse.Namespace) -> int:
    return _dlq_task(args, requeue=True)


def _dlq_purge(args: argparse.Namespace) -> int:
    queue = _task_queue(args)
    count = queue.purge()
    queue.close()
    print(f"purged {count} task(s) from the DLQ")
    return EXIT_OK


_COMMANDS.update({"enqueue": _enqueue, "queue stats": _queue_stats, "dlq ls": _dlq_ls,
                  "dlq show": _dlq_show, "dlq requeue": _dlq_requeue, "dlq purge": _dlq_purge})


# ---------------------------------------------------------------------------------------------
# Worker processes: workers start|stop (runtime/workers.py; docs/operations.md, "Workers")


def _workers_parsers(commands: Any) -> None:
    workers = commands.add_parser("workers", help="run worker processes over the task queue")
    workers_commands = workers.add_subparsers(dest="workers_command", metavar="COMMAND",
                                              required=True)
    start = workers_commands.add_parser(
        "start", help="run N worker processes in the foreground until stopped",
        description="Run N worker processes that lease and run the tasks of DIR/queue.db, "
        "writing their events to DIR/log/worker-<k>/, until SIGTERM, Ctrl-C or `tm workers "
        "stop`.  The first stop lets the tasks in progress finish; a second one kills the "
        "workers (their tasks return to the queue when their leases expire).")
    start.add_argument("-n", type=int, default=1, metavar="N", dest="count",
                       help="the number of worker processes (default: 1)")
    start.add_argument("--visibility-timeout", type=float, default=30.0, metavar="S",
                       help="lease length in seconds; a dead worker's task is retried after "
                       "it (default: 30)")
    _data_option(start)
    stop = workers_commands.add_parser(
        "stop", help="stop the workers started for a data directory",
        description="Signal the supervisor named in DIR/workers.pid and wait until it exits. "
        "After --timeout seconds the workers are killed.  Exit 2 when none is running.")
    stop.add_argument("--timeout", type=float, default=60.0, metavar="S",
                      help="seconds to wait for the tasks in progress (default: 60)")
    _data_option(stop)


def _data_dir(args: argparse.Namespace) -> str:
    return str(args.data or os.environ.get("TM_DATA") or ".tracemind")


def _workers_start(args: argparse.Namespace) -> int:
    from .workers import WorkersError, supervise

    if args.count < 1:
        raise UsageError(f"-n must be at least 1, got {args.count}")
    if args.visibility_timeout <= 0:
        raise UsageError(f"--visibility-timeout must be positive, got {args.visibility_timeout}")
    _task_queue(args).close()  # create (or check) the queue before any worker starts
    try:
        return supervise(_data_dir(args), args.count, args.visibility_timeout)
    except WorkersError as exc:
        raise UsageError(str(exc)) from None


def _workers_stop(args: argparse.Namespace) -> int:
    from .workers import WorkersError, stop

    if args.timeout <= 0:
        raise UsageError(f"--timeout must be positive, got {args.timeout}")
    try:
        print(stop(_data_dir(args), args.timeout))
    except WorkersError as exc:
        raise UsageError(str(exc)) from None
    return EXIT_OK


_COMMANDS.update({"workers start": _workers_start, "workers stop": _workers_stop})


# ---------------------------------------------------------------------------------------------
# Triggers: tm triggers validate|run (runtime/triggers/command.py; docs/operations.md, "Triggers")


def _triggers_parsers(commands: Any) -> None:
    from .triggers.command import add_parsers

    add_parsers(commands)


def _triggers_validate(args: argparse.Namespace) -> int:
    from .triggers.command import validate

    return validate(args)


def _triggers_run(args: argparse.Namespace) -> int:
    from .triggers.command import run

    return run(args)


_COMMANDS.update({"triggers validate": _triggers_validate, "triggers run": _triggers_run})


# ---------------------------------------------------------------------------------------------
# Helpers


def _open(target: str) -> Bundle:
    """The bundle at ``target``, or the bundle compiled in memory from a source file."""
    from .bundle import BundleError, load_bundle

    try:
        if target.endswith(SOURCE_SUFFIXES) and os.path.isfile(target):
            return load_bundle(_compile_in_memory(target))
        return load_bundle(target)
    except BundleError as exc:
        raise UsageError(str(exc)) from None


def _compile_in_memory(source: str) -> Mapping[str, bytes]:
    """Compile ``source`` with the other sources of its directory, like ``go run``.

    The compiler is imported here, never at module level: a deployed runtime needs no compiler
    unless it is asked to run a source file.  Errors in the sources are printed as the compiler
    renders them (exit 2).
    """
    import importlib

    try:
        compiler = importlib.import_module("tracemind.compiler.bundle")
    except ImportError as exc:
        raise UsageError(f"{source}: cannot compile a source file here ({exc}); compile it with "
                         "`tmc compile` and run the bundle") from None
    directory = os.path.dirname(source) or os.curdir
    siblings = sorted(
        os.path.join(directory, name) for name in os.listdir(directory)
        if name.endswith(SOURCE_SUFFIXES) and os.path.join(directory, name) != source
    )
    pipeline = importlib.import_module("tracemind.compiler.pipeline")
    try:
        files: Mapping[str, bytes] = compiler.compile_to_memory([source, *siblings])
    except compiler.CompileError as exc:
        sys.stderr.write(f"{exc}\n")
        raise UsageError(f"{source}: the sources do not compile (errors above)") from None
    except pipeline.UsageError as exc:
        raise UsageError(*exc.messages) from None
    return files


def _source_flow(bundle: Bundle, source: str) -> str | None:
    """The id of the flow compiled from ``source`` (a bundle compiled in memory), if any."""
    name = os.path.basename(source)
    for entry in bundle.manifest.get("flows", []):
        if isinstance(entry, dict) and entry.get("source") == name:
            return str(entry.get("id"))
    return None


def _read_inputs(text: str) -> Any:
    import json

    where = "-i"
    if text.startswith("@"):
        path = text[1:]
        where = path
        try:
            if path == "-":
                text = sys.stdin.read()
            else:
                with open(path, encoding="utf-8") as stream:
                    text = stream.read()
        except OSError as exc:
            raise UsageError(f"cannot read inputs from {path} ({exc.strerror or exc})") from None
        except UnicodeDecodeError as exc:
            raise UsageError(f"{path}: inputs must be UTF-8 JSON ({exc.reason})") from None

    def reject(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    try:
        return json.loads(text, parse_constant=reject)
    except ValueError as exc:
        raise UsageError(f"{where}: the inputs are not valid JSON ({exc})") from None


def _print_json(data: Any) -> None:
    import json

    from .determinism import json_safe

    sys.stdout.write(json.dumps(json_safe(data), indent=2, ensure_ascii=False,
                                allow_nan=False))
    sys.stdout.write("\n")


def _render_text(result: RunResult) -> str:
    import json

    lines = [f"run {result.run_id}: flow {result.flow} {result.status} in "
             f"{result.duration * 1000:.1f} ms"]
    steps = [span for span in result.spans if span.type == "step"]
    if steps:
        width = max(len(span.id) for span in steps)
        kind_width = max(len(span.kind) for span in steps)
        for span in steps:
            took = "" if span.duration is None else f"{span.duration * 1000:8.1f} ms"
            tries = f"  {span.attempts} attempts" if span.attempts > 1 else ""
            line = f"  {span.id:<{width}}  {span.kind:<{kind_width}}  {span.status:<9}{took}"
            lines.append((line + tries).rstrip())
            if span.error:
                lines.append(f"  {'':<{width}}  {span.error}")
    for entry in result.logs:
        lines.append(f"log {entry['level']} [{entry['step']}]: {entry['message']}")
    if result.outputs is not None:
        text = json.dumps(result.to_json()["outputs"], indent=2, ensure_ascii=False)
        lines.append("outputs: " + text)
    if result.error is not None:
        where = f"{result.error.location}: " if result.error.location else ""
        lines.append(f"error: {where}{result.error.message}")
    return "\n".join(lines) + "\n"


def _detach_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


def _banner(exc: BaseException) -> None:
    """The internal-error banner on stderr; the traceback only with ``TM_DEBUG=1``."""
    import traceback

    lines = [
        f"error: internal runtime error: {type(exc).__name__}: {exc}",
        "note: this is a bug in tm; please report it with the bundle and inputs that caused it",
    ]
    if os.environ.get("TM_DEBUG") == "1":
        lines.append("".join(traceback.format_exception(exc, limit=-12)).rstrip())
    else:
        lines.append("note: run again with TM_DEBUG=1 to see the traceback")
    print("\n".join(lines), file=sys.stderr)
