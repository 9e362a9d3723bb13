"""``tm init``: new projects lint clean and are in canonical layout; bad input writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracemind.compiler.fmt import format_source
from tracemind.compiler.pipeline import lint
from tracemind.compiler.source import SourceFile
from tracemind.runtime.scaffold import TEMPLATES, ScaffoldError, create_project


@pytest.mark.parametrize("template", TEMPLATES)
def test_new_project_lints_clean_and_is_formatted(tmp_path: Path, template: str) -> None:
    project = create_project(tmp_path, "my-agent", template)
    assert project.root == tmp_path / "my-agent"
    assert "README.md" in project.files and "inputs.json" in project.files
    assert "tests/test_my_agent.py" in project.files
    result = lint([str(project.root)])
    assert result.errors == 0 and result.warnings == 0, [d.message for d in result.diagnostics]
    for rel in project.files:
        if rel.endswith((".wdl", ".pdl")):
            path = project.root / rel
            text = path.read_text(encoding="utf-8")
            formatted, _ = format_source(SourceFile(str(path), text), rel[-3:])
            assert formatted == text, rel
    compile(
        (project.root / "tests/test_my_agent.py").read_text(encoding="utf-8"), "t.py", "exec"
    )
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("name", ["", "1abc", "-x", "a b", "../escape", "a/b", "x;rm"])
def test_bad_names_are_refused_before_writing(tmp_path: Path, name: str) -> None:
    with pytest.raises(ScaffoldError, match="invalid project name"):
        create_project(tmp_path, name)
    assert list(tmp_path.iterdir()) == []


def test_existing_non_empty_directory_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    with pytest.raises(ScaffoldError, match="already exists"):
        create_project(tmp_path, "taken")
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["keep.txt"]
    (tmp_path / "empty").mkdir()
    assert create_project(tmp_path, "empty").root.is_dir()


def test_unknown_template(tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError, match="unknown template"):
        create_project(tmp_path, "x", "kubernetes")
