"""Diagnostics files: each offending line of tests/diagnostics/* says what it must report.

A trailing comment ``# E: TM0302`` (error) or ``# W: TM0603`` (warning) names the codes expected
on that line (several allowed: ``# E: TM0302 TM0305 W: TM0606``).  The set of (line, code,
severity) reported must equal the set expected: nothing missing, nothing extra.  Files whose
names share the part before the first dot (``bind.wdl``, ``bind.pdl``; ``wdl_steps.wdl``,
``wdl_steps.helper.wdl``) are checked together, so cross-document rules are covered.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from tracemind.compiler.check import check
from tracemind.compiler.codes import CODES, Severity
from tracemind.compiler.diagnostics import Sink
from tracemind.compiler.parse import parse_document
from tracemind.compiler.source import SourceFile

DIR = Path(__file__).parent / "diagnostics"
_COMMENT = re.compile(r"#\s*[EW]:.*$")
_GROUP = re.compile(r"([EW]):\s*((?:TM\d{4}\s*)+)")
_SEVERITY = {"E": Severity.ERROR, "W": Severity.WARNING}

Expectation = tuple[str, int, str, Severity]


def _groups() -> dict[str, list[Path]]:
    groups: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(DIR.glob("*.[wp]dl")):
        groups[path.name.split(".")[0]].append(path)
    return dict(groups)


def expected_in(path: Path) -> set[Expectation]:
    found: set[Expectation] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        comment = _COMMENT.search(line)
        if comment is None:
            continue
        for severity, ids in _GROUP.findall(comment.group(0)):
            for code_id in ids.split():
                assert code_id in CODES, f"{path.name}:{number}: unknown code {code_id}"
                found.add((path.name, number, code_id, _SEVERITY[severity]))
    return found


def reported_by(paths: list[Path]) -> tuple[set[Expectation], dict[Expectation, str]]:
    sink = Sink()
    units = []
    for path in paths:
        source = SourceFile(str(path), path.read_text(encoding="utf-8"))
        doc = parse_document(source, sink, path.suffix[1:])
        if doc is not None:
            units.append((source, doc))
    check(units, sink)
    got: set[Expectation] = set()
    messages: dict[Expectation, str] = {}
    for diagnostic in sink.diagnostics():
        key = (Path(diagnostic.path).name, diagnostic.span.line, diagnostic.code,
               diagnostic.severity)
        got.add(key)
        messages[key] = diagnostic.message
    return got, messages


GROUPS = _groups()


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_diagnostics_file(group: str) -> None:
    paths = GROUPS[group]
    expected: set[Expectation] = set()
    for path in paths:
        expected |= expected_in(path)
    got, messages = reported_by(paths)
    unexpected = sorted(f"{k[0]}:{k[1]}: {k[2]} {messages[k]}" for k in got - expected)
    missing = sorted(f"{k[0]}:{k[1]}: {k[2]}" for k in expected - got)
    assert not unexpected and not missing, {"unexpected": unexpected, "missing": missing}


def test_the_files_cover_every_checker_code() -> None:
    """Every code the checker emits appears in some diagnostics file, except the few that need
    --strict or two files defining one name (tested in test_check_wdl.py)."""
    seen: set[str] = set()
    for paths in GROUPS.values():
        for path in paths:
            seen |= {code_id for _, _, code_id, _ in expected_in(path)}
    checker_codes = {
        "TM0201", "TM0202", "TM0203", "TM0204", "TM0205", "TM0206", "TM0207", "TM0208",
        "TM0209", "TM0210", "TM0211", "TM0212", "TM0301", "TM0302", "TM0303", "TM0304",
        "TM0305", "TM0306", "TM0307", "TM0308", "TM0309", "TM0403", "TM0404", "TM0409",
        "TM0501", "TM0502", "TM0503", "TM0504", "TM0505", "TM0506", "TM0603", "TM0605",
        "TM0606", "TM0608",
    }
    assert checker_codes <= seen, sorted(checker_codes - seen)


def test_compat_example_is_a_verbatim_copy() -> None:
    """plant-monitor.* here are the upstream example byte for byte (as in examples/compat)."""
    examples = Path(__file__).resolve().parents[1] / "examples" / "compat"
    for name in ("plant-monitor.wdl", "plant-monitor.pdl"):
        assert (DIR / name).read_bytes() == (examples / name).read_bytes()
