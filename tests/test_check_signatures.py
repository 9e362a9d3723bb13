"""The step-kind registry, the builtin table and their typed views in the compiler."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from checking import codes, only, run, workflow

from tracemind.compiler import types as t
from tracemind.compiler.kinds import KindTable, json_fits, typed_kind
from tracemind.stdlib.builtins import BUILTINS
from tracemind.stdlib.signatures import (
    REQUIRED,
    STDLIB,
    STDLIB_KINDS,
    TRIGGER_KINDS,
    Special,
    StepKind,
    kind_from_metadata,
)

ROOT = Path(__file__).resolve().parents[1]


def test_stdlib_has_the_minimum_set() -> None:
    assert set(STDLIB.names()) == {
        "core.log", "core.set", "core.fail", "core.sleep", "http.get", "http.post",
        "opcua.read", "opcua.write", "policy.apply", "flow.call", "mcp.call",
    }
    assert all(kind.doc and kind.origin == "stdlib" for kind in STDLIB_KINDS)


@pytest.mark.parametrize("kind", STDLIB_KINDS, ids=lambda k: k.name)
def test_every_stdlib_signature_converts_and_defaults_fit(kind: StepKind) -> None:
    sig = typed_kind(kind)
    assert set(sig.params) == {arg.name for arg in kind.args}
    for arg in kind.args:
        param = sig.params[arg.name]
        assert param.required is (arg.default is REQUIRED)
        if arg.default is not REQUIRED:
            assert json_fits(arg.default, param.type), arg.name


def test_signatures_match_language_md() -> None:
    render = {kind.name: t.render(typed_kind(kind).result) for kind in STDLIB_KINDS}
    assert render["core.log"] == "{}"
    assert render["core.set"] == "{value: T}"
    assert render["core.fail"] == "never"
    assert render["http.get"] == "{status: int, headers: map<string>, body: string, json: any}"
    assert render["http.post"] == render["http.get"]
    assert render["opcua.read"] == "{values: map<any>}"
    assert render["opcua.write"] == "{status: string}"
    assert render["mcp.call"] == "{content: list<any>, structured: any, is_error: bool}"
    assert STDLIB.get("core.set") is not None and STDLIB.get("core.set").pure  # type: ignore[union-attr]
    assert STDLIB.get("policy.apply").special is Special.POLICY  # type: ignore[union-attr]
    assert STDLIB.get("flow.call").special is Special.FLOW  # type: ignore[union-attr]
    assert STDLIB.get("core.fail").never_returns  # type: ignore[union-attr]


def test_trigger_kinds_convert() -> None:
    for kind in TRIGGER_KINDS.values():
        for spec in kind.fields:
            typ = t.parse_type_string(spec.type)
            if spec.default is not REQUIRED:
                assert json_fits(spec.default, typ)


def test_stdlib_does_not_import_the_compiler() -> None:
    for module in ("signatures.py", "builtins.py"):
        tree = ast.parse((ROOT / "stdlib" / module).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert "compiler" not in (node.module or ""), module
            elif isinstance(node, ast.Import):
                assert all("compiler" not in alias.name for alias in node.names), module


def test_builtin_table() -> None:
    assert list(BUILTINS) == [
        "coalesce", "first_numeric", "random", "min", "max", "abs", "float", "int", "str",
        "len", "round", "sum", "any", "all", "sorted", "contains", "lower", "upper", "clamp",
    ]
    assert BUILTINS["coalesce"].accepts(5) and not BUILTINS["coalesce"].accepts(0)
    assert BUILTINS["random"].accepts(0) and BUILTINS["random"].accepts(1)
    assert BUILTINS["clamp"].arity_text == "3"
    assert BUILTINS["round"].arity_text == "1 to 2"
    assert BUILTINS["max"].arity_text == "at least 1"
    assert all(b.doc and b.signature.startswith(b.name + "(") for b in BUILTINS.values())


PLUGIN = {
    "name": "acme.scan",
    "doc": "Scan a target.",
    "pure": True,
    "result": "{hits: list<string>}",
    "args": [
        {"name": "target", "type": "string"},
        {"name": "depth", "type": "int", "default": 2},
    ],
}


def test_plugin_kind_from_metadata_is_checked_like_stdlib() -> None:
    kind = kind_from_metadata(PLUGIN, "acme-plugins")
    assert kind.origin == "acme-plugins" and kind.arg("depth") is not None
    registry = STDLIB.with_kinds([kind])
    _, diags = run(
        {"flow.wdl": workflow("""
            - s(acme.scan): {target: "x", depth: "deep"}
            - use(core.log): {message: $step.s.hits[0] + $step.s.nope}
        """)},
        registry=registry,
    )
    assert codes(diags) == ["TM0302", "TM0304"]
    _, diags = run({"flow.wdl": workflow('- s(acme.scan): {target: "x"}')})
    assert codes(diags) == ["TM0211"]


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"name": "scan"}, "package.operation"),
        ({"args": "x"}, "must be a list"),
        ({"args": [{"name": "a", "type": "int"}, {"name": "a", "type": "int"}]}, "duplicate"),
        ({"args": [{"name": "a", "type": "int", "default": object()}]}, "JSON-compatible"),
        ({"pure": "yes"}, "true or false"),
        ({"result": ""}, "non-empty string"),
    ],
)
def test_bad_plugin_metadata_is_refused(patch: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        kind_from_metadata({**PLUGIN, **patch}, "acme")


def test_plugin_cannot_replace_a_kind() -> None:
    clash = kind_from_metadata({**PLUGIN, "name": "core.log"}, "acme")
    with pytest.raises(ValueError, match="already declared by stdlib"):
        STDLIB.with_kinds([clash])


def test_plugin_with_a_bad_type_string_is_reported_not_crashed() -> None:
    broken = kind_from_metadata({**PLUGIN, "result": "{hits: lst<string>}"}, "acme")
    bad_default = kind_from_metadata(
        {**PLUGIN, "name": "acme.other", "args": [{"name": "n", "type": "int", "default": "x"}]},
        "acme",
    )
    table = KindTable(STDLIB.with_kinds([broken, bad_default]))
    assert isinstance(table.get("acme.scan"), ValueError)
    assert isinstance(table.get("acme.other"), ValueError)
    assert table.get("acme.none") is None
    _, diags = run({"flow.wdl": workflow('- s(acme.scan): {target: "x"}')},
                   registry=STDLIB.with_kinds([broken]))
    diag = only(diags, "TM0211")
    assert "signature is invalid" in diag.notes[0].message


@pytest.mark.parametrize(
    ("value", "text", "fits"),
    [
        ("10s", "duration", True),
        ("soon", "duration", False),
        ({}, "map<string>", True),
        ({"a": 1}, "map<string>", False),
        (None, "string?", True),
        (None, "any", True),
        ([1, 2], "list<float>", True),
        ({"max": 3}, "{max: int, backoff: duration?}", True),
        ({}, "{max: int}", False),
        (True, "int", False),
    ],
)
def test_json_fits(value: object, text: str, fits: bool) -> None:
    assert json_fits(value, t.parse_type_string(text)) is fits  # type: ignore[arg-type]
