"""Which documents are checked together, and the result of checking them.

Role: the language server checks a document the way ``tmc lint DIR`` checks its directory: with
the ``.wdl``/``.pdl`` files beside it on disk and the editor's unsaved text of the documents
open in that directory, so ``policy.apply`` and ``flow.call`` bindings resolve while typing.

Input: a file path and the open documents' texts (path -> text).  Output: a :class:`Snapshot`
holding the :class:`~..pipeline.LintResult` of the group, through the same pipeline as
``tmc lint``, so the codes and messages are the same.

Invariants: display paths are absolute file-system paths; a document's diagnostics are those
whose path is its path; a snapshot is never changed after it is made.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from .. import nodes as n
from ..diagnostics import Diagnostic
from ..pipeline import Input, LintResult, language_of, lint_inputs
from ..source import SourceFile


def group_inputs(path: str, open_texts: Mapping[str, str]) -> list[Input]:
    """``path`` first, then the open documents and the sources on disk in its directory."""
    folder = os.path.dirname(path)
    names: set[str] = set()
    with contextlib.suppress(OSError):
        names.update(os.listdir(folder or os.curdir))
    names.update(os.path.basename(p) for p in open_texts if os.path.dirname(p) == folder)
    inputs: list[Input] = []
    own = language_of(path)
    if own is not None:
        inputs.append(Input(path, own))
    for name in sorted(names):
        candidate = os.path.join(folder, name)
        lang = language_of(name)
        if lang is None or candidate == path or name.startswith("."):
            continue
        if candidate in open_texts or os.path.isfile(candidate):
            inputs.append(Input(candidate, lang))
    return inputs


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One check of a group of documents."""

    result: LintResult
    paths: tuple[str, ...] = field(default=())

    def source(self, path: str) -> SourceFile | None:
        return self.result.sources.get(path)

    def document(self, path: str) -> n.Workflow | n.Policy | None:
        return self.result.documents.get(path)

    def diagnostics(self, path: str) -> list[Diagnostic]:
        return [d for d in self.result.diagnostics if d.path == path]

    def policy_path(self, name: str) -> str | None:
        """The path of the policy named ``name`` in this group."""
        for path, doc in self.result.documents.items():
            if isinstance(doc, n.Policy) and doc.name == name:
                return path
        return None

    def workflow_path(self, name: str) -> str | None:
        """The path of the workflow named ``name`` in this group."""
        for path, doc in self.result.documents.items():
            if isinstance(doc, n.Workflow) and doc.name == name:
                return path
        return None


def check_group(path: str, open_texts: Mapping[str, str]) -> Snapshot:
    """Check ``path`` with its group (see the module docstring)."""
    inputs = group_inputs(path, open_texts)
    texts = {i.path: open_texts[i.path] for i in inputs if i.path in open_texts}
    result = lint_inputs(inputs, texts=texts)
    return Snapshot(result, tuple(i.path for i in inputs))
