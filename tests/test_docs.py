"""The user documentation stays true to the code.

- docs/diagnostics.md is generated from the code registry: rendering it again in memory must
  give the file on disk byte for byte;
- every diagnostic code that any page of docs/ mentions exists in the registry;
- the language reference names every step kind and every builtin of the stdlib registries.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

from tracemind.compiler.codes import CODES
from tracemind.stdlib.builtins import BUILTINS
from tracemind.stdlib.signatures import STDLIB, TRIGGER_KINDS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GENERATOR = ROOT / "scripts" / "gen_diagnostics_doc.py"
REGENERATE = "run python scripts/gen_diagnostics_doc.py"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_diagnostics_doc", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


def test_diagnostics_doc_is_up_to_date() -> None:
    expected = _generator().render()
    path = DOCS / "diagnostics.md"
    assert path.exists(), f"docs/diagnostics.md is missing; {REGENERATE}"
    assert path.read_text(encoding="utf-8") == expected, (
        f"docs/diagnostics.md is out of date with compiler/codes.py; {REGENERATE}"
    )


def test_diagnostics_doc_lists_every_code() -> None:
    text = _generator().render()
    for code_id in CODES:
        assert f'<a id="{code_id.lower()}"></a>{code_id}' in text, code_id


def test_codes_mentioned_in_docs_exist() -> None:
    pages = sorted(DOCS.glob("*.md"))
    assert pages, "docs/ has no pages"
    unknown: list[str] = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), start=1):
            for code_id in re.findall(r"\bTM\d{4}\b", line):
                if code_id not in CODES:
                    unknown.append(f"docs/{page.name}:{number}: {code_id}")
    assert not unknown, "codes that are not in compiler/codes.py:\n" + "\n".join(unknown)


def test_language_reference_names_every_kind_and_builtin() -> None:
    text = (DOCS / "language.md").read_text(encoding="utf-8")
    missing = [f"step kind {kind.name}" for kind in STDLIB if f"`{kind.name}`" not in text]
    missing += [f"builtin {name}" for name in BUILTINS if f"`{name}" not in text]
    missing += [f"trigger {name}" for name in TRIGGER_KINDS if f"`{name}`" not in text]
    assert not missing, "docs/language.md does not document: " + ", ".join(missing)
