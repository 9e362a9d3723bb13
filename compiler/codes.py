"""The diagnostic code registry: every code is declared here once.

Codes are stable and grouped (language.md section 7): TM01xx syntax, TM02xx names and
references, TM03xx types, TM04xx workflow structure and triggers, TM05xx policy rules, TM06xx
lint warnings, TM09xx internal errors.  A code's message template uses ``str.format`` fields;
passes report ``(code, span, **fields)`` and never build message strings by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class Code:
    id: str
    name: str
    template: str
    severity: Severity = Severity.ERROR
    summary: str = ""

    def format(self, **fields: object) -> str:
        return self.template.format(**fields)


E = Severity.ERROR
W = Severity.WARNING

_ALL: tuple[Code, ...] = (
    # TM01xx: syntax and file-level problems
    Code("TM0101", "syntax-error", "{message}", E, "A value or head does not parse."),
    Code("TM0102", "tab-indentation", "tab in indentation", E,
         "Indentation must use spaces only."),
    Code("TM0103", "bad-indentation", "{message}", E,
         "A line is indented to a column that matches no open block."),
    Code("TM0104", "unclosed-bracket", "unclosed `{bracket}`", E,
         "A bracket is opened and never closed."),
    Code("TM0105", "unterminated-string", "unterminated string", E,
         "A quoted string has no closing quote on its line."),
    Code("TM0106", "missing-value", "`{key}:` has neither a value nor a block", E,
         "A key is followed by nothing."),
    Code("TM0107", "compact-list", "list items must be indented under `{key}:`", E,
         "A `- ` item sits at the same column as the key that opens the list."),
    Code("TM0108", "invalid-encoding", "file is not valid UTF-8 ({detail})", E,
         "Sources are UTF-8 text."),
    Code("TM0109", "binary-file", "file looks binary (it contains a NUL byte)", E,
         "Sources are text files."),
    Code("TM0110", "empty-file", "file is empty", E, "A document needs at least a version."),
    Code("TM0111", "unquoted-string", "this is not an expression: {detail}", E,
         "A v1 expression field holds text that does not parse as an expression."),
    Code("TM0112", "nesting-too-deep", "nesting is deeper than {limit} levels", E,
         "Blocks or brackets are nested deeper than the compiler accepts."),
    Code("TM0113", "file-too-large", "file is {size} bytes, more than the limit of {limit}", E,
         "Very large files are refused before parsing."),
    Code("TM0114", "invalid-string-escape", "invalid escape `{escape}` in string", E,
         "Strings accept JSON-style escapes only."),
    Code("TM0115", "duplicate-key", "duplicate key `{key}`", E,
         "A key appears twice in the same mapping."),
    Code("TM0116", "unexpected-item", "{message}", E,
         "A line does not fit the block structure it stands in."),
    Code("TM0117", "too-many-errors", "too many errors in this file; stopped after {limit}", E,
         "The sink caps the number of diagnostics per file."),
    # TM02xx: names and references
    Code("TM0201", "unknown-reference", "unknown reference `{name}`", E,
         "A `$name` root that does not exist."),
    Code("TM0202", "unknown-input", "unknown input `{name}`", E,
         "`$input.x` where `x` is not declared under `inputs:`."),
    Code("TM0203", "unknown-step", "unknown step `{name}`", E,
         "`$step.x` where no step has id `x`."),
    Code("TM0204", "step-not-visible", "step `{name}` has not run at this point", E,
         "A step referenced before it runs, or from a scope that does not guarantee it ran."),
    Code("TM0205", "optional-step-read",
         "step `{name}` ran only in a `when` branch; here it is optional", E,
         "A branch step read after its block without `coalesce(...)`."),
    Code("TM0206", "unknown-function", "unknown function `{name}`", E,
         "A call to a name outside the closed builtin set."),
    Code("TM0207", "unknown-variable", "unknown name `{name}`", E,
         "A name that is not a variable, parameter, input or arm."),
    Code("TM0208", "unknown-arm", "unknown arm `{name}`", E, "`arms.x` where no arm is `x`."),
    Code("TM0209", "duplicate-id", "duplicate {what} `{name}`", E,
         "Step ids, inputs and other names must be unique."),
    Code("TM0210", "reserved-id", "`{name}` is reserved and cannot be used as {what}", E,
         "Reserved words cannot be ids, keys or variables."),
    Code("TM0211", "unknown-step-kind", "unknown step kind `{name}`", E,
         "A step kind that is neither in stdlib nor declared by a plugin."),
    Code("TM0212", "unknown-policy", "unknown policy `{name}`", E,
         "A `policy.apply` binding that names no policy in this compilation."),
    Code("TM0213", "invalid-name", "invalid {what} `{name}`: {detail}", E,
         "A workflow, policy or identifier name has characters it may not have."),
    Code("TM0215", "policy-only-function", "`{name}` is available only in policies", E,
         "A builtin that needs a decision's seeded random source, called from a workflow."),
    Code("TM0214", "duplicate-definition", "{what} `{name}` is defined in two files", E,
         "Two documents in one run define the same workflow or policy."),
    # TM03xx: types
    Code("TM0301", "unknown-type", "unknown type `{name}`", E, "A type name that does not exist."),
    Code("TM0302", "type-mismatch", "expected {want}, found {got}", E,
         "A value's type does not fit where it is used."),
    Code("TM0303", "condition-not-bool", "condition must be bool, found {got}", E,
         "`when`, `if` and `elif` conditions are bool."),
    Code("TM0304", "unknown-field", "{owner} has no field `{name}`", E,
         "A field access on a record that does not have that field."),
    Code("TM0305", "unknown-argument", "step kind `{kind}` has no argument `{name}`", E,
         "An argument the step kind's signature does not declare."),
    Code("TM0306", "missing-argument", "step kind `{kind}` needs argument `{name}`", E,
         "A required argument is missing."),
    Code("TM0307", "bad-operands", "operator `{op}` cannot take {left} and {right}", E,
         "An operator applied to operand types it does not accept."),
    Code("TM0308", "wrong-arity", "`{name}` takes {want} argument(s), found {got}", E,
         "A builtin called with the wrong number of arguments."),
    Code("TM0309", "not-indexable", "{got} cannot be indexed", E, "Indexing a non-container."),
    # TM04xx: document structure, workflows and triggers
    Code("TM0401", "missing-key", "missing `{key}`", E, "A required top-level key is absent."),
    Code("TM0402", "unknown-key", "unknown key `{key}` {where}", E,
         "A key the document format does not define."),
    Code("TM0403", "invalid-trigger", "{message}", E, "A trigger definition is not valid."),
    Code("TM0404", "invalid-cron", "invalid cron schedule `{schedule}`: {detail}", E,
         "croniter does not accept the schedule."),
    Code("TM0405", "elif-in-wdl", "`elif` is not WDL; use a nested `when`", E,
         "Workflows have `when`/`else` only."),
    Code("TM0406", "invalid-version", "unknown version `{version}`", E,
         "Versions are dsl/v0, dsl/v1 (WDL) and pdl/v0, pdl/v1 (PDL)."),
    Code("TM0407", "invalid-step-head", "{message}", E,
         "A steps item is not `id(kind.op):`, `when`, `parallel:` or `for`."),
    Code("TM0408", "unknown-option", "unknown step option `@{name}`", E,
         "Step options are @timeout, @retry and @on_error."),
    Code("TM0409", "bad-error-target", "`@on_error` target `{name}` is not a later step", E,
         "@on_error takes fail, continue or the id of a step after this one."),
    Code("TM0410", "empty-block", "{what} block is empty", E,
         "A block must hold steps or statements."),
    Code("TM0412", "not-compilable", "cannot compile this: {message}", E,
         "A construct that checks but has no compiled form (for example a non-constant input "
         "default)."),
    Code("TM0411", "v1-only", "{what} needs `version: {needs}`", E,
         "A v1 construct in a v0 document."),
    # TM05xx: policy rules
    Code("TM0501", "not-definitely-assigned", "`{name}` may be read before it is assigned", E,
         "A variable read on a path where it was not assigned."),
    Code("TM0502", "emit-unassigned", "emitted `{name}` is not assigned on every path", E,
         "Every emitted variable must be definitely assigned."),
    Code("TM0503", "choose-default", "more than one `choose` option has no probability", E,
         "At most one option takes the remaining probability."),
    Code("TM0504", "choose-probability", "`choose` probabilities add up to {total}, more than 1", E,
         "Constant probabilities must sum to at most 1."),
    Code("TM0505", "choose-target", "{message}", E,
         "`choose` options must assign one target."),
    Code("TM0506", "arms-inconsistent", "{message}", E,
         "Every arm has the same fields with the same types."),
    Code("TM0507", "for-in-pdl", "`for` exists only in WDL", E, "Policies have no loops."),
    Code("TM0508", "misplaced-with", "`with p = ...` exists only in `choose` options", E,
         "A probability clause outside a choose option."),
    Code("TM0509", "invalid-statement", "{message}", E,
         "A line under `evaluate:` that is not a statement."),
    # TM06xx: lint warnings
    Code("TM0601", "plain-string", "taken as the plain string {text}", W,
         "A v0 expression field that does not parse is read as a string."),
    Code("TM0602", "python-literal", "`{found}` is Python spelling; write `{want}`", W,
         "True/False/None are accepted in v0 only."),
    Code("TM0603", "constant-condition", "condition is always {value}: {what}", W,
         "A condition that folds to a constant."),
    Code("TM0604", "any-leak", "{what} has type `any` here; the check is skipped", W,
         "Reported with --strict: where `any` hides a type."),
    Code("TM0605", "unused-input", "input `{name}` is never used", W,
         "A declared input no expression reads."),
    Code("TM0606", "unused-variable", "`{name}` is assigned but never read or emitted", W,
         "A PDL variable with no use."),
    Code("TM0607", "implicit-policy",
         "policy bound by file stem `{name}`; write `policy: {name}`", W,
         "Reported with --strict in v1 documents."),
    Code("TM0608", "unknown-flow",
         "flow `{name}` is not in this compilation; its inputs and outputs are not checked", W,
         "A `flow.call` names a workflow that is not among the checked documents."),
    # TM09xx: internal errors
    Code("TM0901", "internal-error", "internal compiler error: {detail}", E,
         "A crash in the compiler; please report it."),
)

CODES: dict[str, Code] = {code.id: code for code in _ALL}
BY_NAME: dict[str, Code] = {code.name: code for code in _ALL}


def code(code_id: str) -> Code:
    """The registered code ``code_id``; an unknown id is a programming error."""
    return CODES[code_id]
