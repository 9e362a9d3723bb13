"""``tmc``: the compiler's command line (``lint``, ``fmt``, ``dump``, ``compile``, ``plan``,
``graph``, ``lsp``).

Input: ``argv``.  Output: text on stdout/stderr, files written by ``fmt``, ``compile`` and
``graph -o``, and an exit code: 0 no errors (warnings allowed), 1 errors in the sources (or
``fmt --check`` found files to reformat), 2 usage errors (argparse's own included, an OUT that
cannot be written, ``graph --format svg`` without Graphviz), 3 internal compiler error, 130 on
Ctrl-C, 141 when stdout is closed early (a pipe into ``head``).

Invariants:
- Start-up is cheap: only argparse and the standard library load at import time; each command
  imports the phases it needs, so ``tmc --version`` stays well under 0.15 s.
- A crash never shows a bare traceback: it becomes the internal-error banner (exit 3), with a
  short traceback only when ``TMC_DEBUG=1``.
- ``fmt`` writes a file only when its text changes, through a temporary file in the same
  directory and ``os.replace``, keeping the file's byte-order mark, line endings and mode.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import ir
    from .pipeline import InternalError, LintResult

EXIT_OK = 0
EXIT_ERRORS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141

DUMP_STAGES = ("ast", "ir", "opt")
"""Stage names offered by ``tmc dump``; kept equal to ``dump.STAGES`` (a test checks it) so that
building the parser does not import the compiler."""

_REPORT = "this is a bug in tmc; please report it with the input that caused it"


def _version() -> str:
    from .. import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tmc",
        description="The TraceMind compiler: lint, format and dump WDL workflows and PDL policies.",
    )
    parser.add_argument("--version", action="version", version=f"tmc {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    lint = commands.add_parser(
        "lint", help="check sources and report diagnostics", description="Check WDL and PDL "
        "sources (files or directories, checked together) and report every problem found."
    )
    lint.add_argument("paths", nargs="+", metavar="PATH", help="a .wdl/.pdl file or a directory")
    lint.add_argument(
        "--format", choices=("text", "json", "sarif"), default="text", help="output format"
    )
    lint.add_argument("--strict", action="store_true", help="also report where `any` leaks")
    lint.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE")

    fmt = commands.add_parser(
        "fmt", help="format sources in place", description="Rewrite sources in canonical "
        "form.  Files with syntax errors are reported and left untouched."
    )
    fmt.add_argument("paths", nargs="+", metavar="PATH", help="a .wdl/.pdl file or a directory")
    fmt.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file would change"
    )
    fmt.add_argument("--diff", action="store_true", help="write nothing; print a unified diff")

    dump = commands.add_parser(
        "dump", help="print a compiler stage as text", description="Print the canonical text "
        "dump of one stage of the compiler for one source file."
    )
    dump.add_argument("--stage", choices=DUMP_STAGES, required=True, help="the stage to dump")
    dump.add_argument("path", metavar="PATH", help="a .wdl or .pdl file")

    compile_ = commands.add_parser(
        "compile", help="compile sources into a bundle", description="Compile WDL and PDL "
        "sources (checked together) into a bundle directory, or a .zip with --zip.  Nothing "
        "is written when a source has errors."
    )
    compile_.add_argument("paths", nargs="+", metavar="PATH",
                          help="a .wdl/.pdl file or a directory")
    compile_.add_argument("-o", "--output", metavar="OUT", required=True,
                          help="the bundle directory (or .zip file) to write or replace")
    compile_.add_argument("--zip", action="store_true", help="write one .zip file")
    _level_option(compile_)

    plan = commands.add_parser(
        "plan", help="show the execution plan of workflows", description="Show each "
        "workflow's steps with their guards, scopes and dependencies, the concurrency levels "
        "and the critical path."
    )
    plan.add_argument("paths", nargs="+", metavar="PATH", help="a .wdl/.pdl file or a directory")
    plan.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    _level_option(plan)

    graph = commands.add_parser(
        "graph", help="draw a workflow as a graph", description="Draw one workflow: steps "
        "in nested block clusters, with data, guard, order and error edges."
    )
    graph.add_argument("path", metavar="PATH", help="a .wdl file (or a directory with one)")
    graph.add_argument("--format", choices=("dot", "json", "svg"), default="dot",
                       help="output format (svg needs Graphviz's `dot` on PATH)")
    graph.add_argument("-o", "--output", metavar="FILE", help="write to FILE, not stdout")
    _level_option(graph)

    testgen = commands.add_parser(
        "testgen", help="generate test fixtures and a pytest module", description="Generate, "
        "per workflow and per policy, JSON fixtures (inputs, mocked step results, seed and "
        "expectations observed on the compiled code) from an analysis of the IR, and a pytest "
        "module that runs them.  Fixtures of an earlier run in DIR are replaced."
    )
    testgen.add_argument("paths", nargs="+", metavar="PATH", help="a .wdl/.pdl file or a "
                         "directory")
    testgen.add_argument("-o", "--output", metavar="DIR", required=True,
                         help="the directory for the fixtures and the pytest module")
    _level_option(testgen)
    _lsp_parser(commands)
    return parser


def _lsp_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    lsp = commands.add_parser(
        "lsp", help="run the language server over stdio", description="Run the TraceMind "
        "language server (diagnostics, hover, definition, completion, symbols, formatting, "
        "quick fixes) on stdin/stdout, for an editor's LSP client."
    )
    lsp.add_argument("--stdio", action="store_true", help="use stdio (the default and only "
                     "transport; accepted because some clients pass it)")
    lsp.add_argument("--debounce", type=float, default=30.0, metavar="MS",
                     help="wait this long after a change before checking (default: 30)")


def _level_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-O", dest="level", type=int, choices=(0, 1, 2), default=1,
                        metavar="LEVEL", help="optimization level: -O0, -O1 (default), -O2")


def main(argv: list[str] | None = None) -> int:
    """Run ``tmc`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE
        status = _COMMANDS[args.command](args)
        sys.stdout.flush()
        return status
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _detach_stdout()
        return EXIT_BROKEN_PIPE
    except Exception as exc:
        _banner_for(exc)
        return EXIT_INTERNAL


def _detach_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


def _banner(error: str, trace: str, where: str = "") -> None:
    """The internal-error banner on stderr; the traceback only with ``TMC_DEBUG=1``."""
    lines = [
        f"error: internal compiler error (TM0901){where}: {error}",
        f"note: {_REPORT}",
    ]
    if os.environ.get("TMC_DEBUG") == "1":
        lines.append(trace.rstrip())
    else:
        lines.append("note: run again with TMC_DEBUG=1 to see the traceback")
    print("\n".join(lines), file=sys.stderr)


def _banner_for(exc: Exception, where: str = "") -> None:
    import traceback

    trace = "".join(traceback.format_exception(exc, limit=-12))
    _banner(f"{type(exc).__name__}: {exc}", trace, where)


def _report_internal(errors: Sequence[InternalError]) -> None:
    for error in errors:
        _banner(error.error, error.traceback, f" in the {error.phase} phase on {error.path}")


def _usage(command: str, messages: Sequence[str]) -> int:
    for message in messages:
        print(f"tmc {command}: error: {message}", file=sys.stderr)
    return EXIT_USAGE


# ---------------------------------------------------------------------------------------------
# Commands


def _lint(args: argparse.Namespace) -> int:
    from .. import __version__
    from . import render
    from .pipeline import UsageError, lint

    try:
        result = lint(args.paths, strict=args.strict)
    except UsageError as exc:
        return _usage("lint", exc.messages)
    if args.format == "json":
        report = render.render_json(result.diagnostics, files=result.files)
    elif args.format == "sarif":
        report = render.render_sarif(
            result.diagnostics, tool_version=__version__, successful=not result.internal_errors
        )
    else:
        color = args.output is None and render.use_color(sys.stdout)
        report = render.render_text(
            result.diagnostics, result.sources, files=result.files, color=color
        )
    if args.output is None:
        sys.stdout.write(report)
    else:
        try:
            write_atomic(args.output, report.encode("utf-8"))
        except OSError as exc:
            return _usage("lint", [f"cannot write {args.output} ({exc.strerror or exc})"])
    if result.internal_errors:
        _report_internal(result.internal_errors)
        return EXIT_INTERNAL
    return EXIT_ERRORS if result.errors else EXIT_OK


def _fmt(args: argparse.Namespace) -> int:
    from . import render
    from .codes import Severity
    from .diagnostics import Sink
    from .fmt import format_source
    from .pipeline import UsageError, read_source, resolve_inputs

    try:
        inputs = resolve_inputs(args.paths)
    except UsageError as exc:
        return _usage("fmt", exc.messages)
    color = render.use_color(sys.stderr)
    write = not (args.check or args.diff)
    changed = unchanged = failed = 0
    status = EXIT_OK
    for file in inputs:
        sink = Sink()
        try:
            loaded = read_source(file, sink)
        except UsageError as exc:
            status = max(status, _usage("fmt", exc.messages))
            failed += 1
            continue
        if loaded is None:
            sys.stderr.write(render.render_text(sink.diagnostics(), {}, color=color))
            status = max(status, EXIT_ERRORS)
            failed += 1
            continue
        source = loaded.source
        try:
            formatted, diagnostics = format_source(source, file.lang)
        except Exception as exc:
            _banner_for(exc, f" in the fmt phase on {file.path}")
            status = EXIT_INTERNAL
            failed += 1
            continue
        if formatted is None:
            errors = [d for d in diagnostics if d.severity is Severity.ERROR]
            sys.stderr.write(render.render_text(errors, {file.path: source}, color=color))
            print(f"tmc fmt: {file.path} has syntax errors; left unchanged", file=sys.stderr)
            status = max(status, EXIT_ERRORS)
            failed += 1
            continue
        if formatted == source.text:
            unchanged += 1
            continue
        changed += 1
        if args.diff:
            sys.stdout.write(unified_diff(source.text, formatted, file.path))
        if args.check:
            print(f"would reformat {file.path}")
            status = max(status, EXIT_ERRORS)
        if write:
            text = formatted.replace("\n", "\r\n") if loaded.crlf else formatted
            data = (b"\xef\xbb\xbf" if loaded.bom else b"") + text.encode("utf-8")
            try:
                write_atomic(os.path.realpath(file.path), data)
            except OSError as exc:
                print(f"tmc fmt: error: cannot write {file.path} ({exc.strerror or exc})",
                      file=sys.stderr)
                status = max(status, EXIT_ERRORS)
                continue
            print(f"reformatted {file.path}", file=sys.stderr)
    verb = "reformatted" if write else "would be reformatted"
    parts = [f"{render.plural(changed, 'file')} {verb}", f"{unchanged} unchanged"]
    if failed:
        parts.append(f"{failed} with errors")
    print(", ".join(parts), file=sys.stderr)
    return status


def _dump(args: argparse.Namespace) -> int:
    from . import render
    from .dump import STAGES
    from .pipeline import UsageError, project_inputs, resolve_inputs

    try:
        inputs = resolve_inputs([args.path])
        if len(inputs) == 1 and args.stage != "ast":
            # Later stages need the documents the file binds to (policies by file stem,
            # called flows): the other sources of its directory join the run.
            inputs = project_inputs(inputs[0].path)
    except UsageError as exc:
        return _usage("dump", exc.messages)
    if len(inputs) != 1 and args.stage == "ast":
        return _usage("dump", [f"{args.path}: holds {len(inputs)} sources; name one file"])
    stage = STAGES[args.stage]
    result = stage.run(inputs)
    if result.diagnostics:
        color = render.use_color(sys.stderr)
        sys.stderr.write(render.render_text(result.diagnostics, result.sources, color=color))
    if result.internal_errors:
        _report_internal(result.internal_errors)
        return EXIT_INTERNAL
    if result.errors:
        return EXIT_ERRORS
    text = stage.render(inputs[0].path, result)
    if text is None:
        raise RuntimeError(f"stage {stage.name} produced nothing for {inputs[0].path}")
    sys.stdout.write(text)
    return EXIT_OK


def _print_diagnostics(result: LintResult, named: Sequence[str] | None = None) -> None:
    """Diagnostics on stderr; with ``named``, warnings only of those files (the others were
    only read to resolve bindings)."""
    from . import render
    from .codes import Severity

    shown = [d for d in result.diagnostics
             if named is None or d.path in named or d.severity is Severity.ERROR]
    if shown:
        color = render.use_color(sys.stderr)
        sys.stderr.write(render.render_text(shown, result.sources, files=result.files,
                                            color=color))


def _testgen(args: argparse.Namespace) -> int:
    from .bundle import CompileError
    from .pipeline import UsageError
    from .testgen import generate

    try:
        result = generate(args.paths, args.output, args.level)
    except UsageError as exc:
        return _usage("testgen", exc.messages)
    except CompileError as exc:
        _print_diagnostics(exc.result)
        print(f"tmc testgen: nothing written to {args.output}: the sources have errors",
              file=sys.stderr)
        return EXIT_ERRORS
    except OSError as exc:
        return _usage("testgen", [f"cannot write {args.output} ({exc.strerror or exc})"])
    for name, count in result.files.items():
        print(f"{os.path.join(args.output, name)}: {count} case(s)")
        for branch in result.uncovered.get(name, []):
            print(f"  branch not covered by any case: {branch}")
    return EXIT_OK


def _compile(args: argparse.Namespace) -> int:
    from .bundle import BundleWriteError, compile_inputs, write_bundle
    from .pipeline import UsageError, resolve_inputs

    try:
        outcome = compile_inputs(resolve_inputs(args.paths), args.level)
    except UsageError as exc:
        return _usage("compile", exc.messages)
    result = outcome.result
    _print_diagnostics(result)
    if result.internal_errors:
        _report_internal(result.internal_errors)
        return EXIT_INTERNAL
    if outcome.bundle is None:
        print(f"tmc compile: {args.output} not written: the sources have errors",
              file=sys.stderr)
        return EXIT_ERRORS
    try:
        write_bundle(outcome.bundle, args.output, as_zip=args.zip)
    except BundleWriteError as exc:
        return _usage("compile", [str(exc)])
    except OSError as exc:
        return _usage("compile", [f"cannot write {args.output} ({exc.strerror or exc})"])
    stats = outcome.stats
    print(f"compiled {stats['flows']} flow(s) and {stats['policies']} policy(ies) into "
          f"{args.output} ({stats['files']} files, -O{args.level})", file=sys.stderr)
    return EXIT_OK


def _flows_of(command: str, paths: list[str], level: int
              ) -> tuple[int, list[ir.Flow], list[str]]:
    """Lint and lower ``paths``; the exit status (OK to go on), the flows of the named files
    (display path order) and the display paths named."""
    from .pipeline import UsageError, lint_inputs, lower_result, project_inputs, resolve_inputs

    try:
        inputs = resolve_inputs(paths)
        named = [i.path for i in inputs]
        if len(inputs) == 1:
            inputs = project_inputs(inputs[0].path)
    except UsageError as exc:
        return _usage(command, exc.messages), [], []
    result = lint_inputs(inputs)
    _print_diagnostics(result, named)
    if result.internal_errors:
        _report_internal(result.internal_errors)
        return EXIT_INTERNAL, [], named
    lowered = lower_result(result, level)
    if not lowered.ok or result.errors:
        return EXIT_ERRORS, [], named
    return EXIT_OK, [lowered.flows[p] for p in named if p in lowered.flows], named


def _plan(args: argparse.Namespace) -> int:
    import json

    from .plan import plan_flow, plan_json, plan_text

    status, flows, _ = _flows_of("plan", args.paths, args.level)
    if status != EXIT_OK:
        return status
    plans = [plan_flow(flow) for flow in flows]
    if args.format == "json":
        sys.stdout.write(json.dumps(plan_json(plans), indent=2, ensure_ascii=False) + "\n")
    elif plans:
        sys.stdout.write(plan_text(plans))
    else:
        print("tmc plan: no workflows among the sources", file=sys.stderr)
    return EXIT_OK


def _graph(args: argparse.Namespace) -> int:
    from .codegen.ir_json import dumps
    from .graph import GraphvizMissing, graph_dot, graph_json, graph_svg

    status, flows, _ = _flows_of("graph", [args.path], args.level)
    if status != EXIT_OK:
        return status
    if len(flows) != 1:
        return _usage("graph", [f"{args.path}: holds {len(flows)} workflows; name one .wdl "
                                "file"])
    flow = flows[0]
    data: bytes
    if args.format == "json":
        data = dumps(graph_json(flow), indent=2)
    else:
        dot = graph_dot(flow)
        if args.format == "dot":
            data = dot.encode("utf-8")
        else:
            try:
                data = graph_svg(dot)
            except GraphvizMissing as exc:
                return _usage("graph", [str(exc)])
    if args.output is None:
        sys.stdout.buffer.write(data) if hasattr(sys.stdout, "buffer") else sys.stdout.write(
            data.decode("utf-8"))
        return EXIT_OK
    try:
        write_atomic(args.output, data)
    except OSError as exc:
        return _usage("graph", [f"cannot write {args.output} ({exc.strerror or exc})"])
    return EXIT_OK


def _lsp(args: argparse.Namespace) -> int:
    from .lsp.server import serve

    serve(debounce=max(args.debounce, 0.0) / 1000)
    return EXIT_OK


_COMMANDS = {"lint": _lint, "fmt": _fmt, "dump": _dump, "compile": _compile, "plan": _plan,
             "graph": _graph, "lsp": _lsp, "testgen": _testgen}


# ---------------------------------------------------------------------------------------------
# Helpers


def write_atomic(path: str, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (temporary file in the same directory)."""
    import contextlib
    import tempfile

    directory = os.path.dirname(path) or os.curdir
    try:
        mode: int | None = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    fd, temporary = tempfile.mkstemp(
        dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def unified_diff(before: str, after: str, path: str) -> str:
    """A unified diff from ``before`` to ``after``, marking a missing final newline."""
    import difflib

    lines = []
    for line in difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), path, path
    ):
        lines.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(lines)
