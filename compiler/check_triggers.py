"""Compile-time validation of a workflow's ``triggers:`` (language.md section 4).

Role: check each trigger section against ``TRIGGER_KINDS`` in the stdlib registry: known kind,
known fields of the right types (data literals are typed by the YAML core schema, so a port
written ``8080`` is an int and ``"8080"`` a string), required fields present; then the
kind-specific rules: cron schedules parse with croniter (TM0404 at the schedule string), time
zones exist in the IANA database, webhook routes and methods are well formed.

Input: the workflow's trigger :class:`~.nodes.Param` list and a checker to report through.
Output: diagnostics only.
"""

from __future__ import annotations

import re
import zoneinfo
from functools import cache
from typing import TYPE_CHECKING

from croniter import CroniterError, croniter

from ..stdlib.signatures import TRIGGER_KINDS, WEBHOOK_METHODS
from . import nodes as n
from . import types as t
from .check_expr import span_of
from .diagnostics import Edit, Fix

if TYPE_CHECKING:
    from .check_expr import ExprChecker

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@cache
def _field_type(text: str) -> t.Type:
    return t.parse_type_string(text)


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_triggers(checker: ExprChecker, triggers: tuple[n.Param, ...]) -> None:
    for trigger in triggers:
        _check_trigger(checker, trigger)


def _check_trigger(checker: ExprChecker, trigger: n.Param) -> None:
    name_span = span_of(trigger.name_span, trigger.span)
    kind = TRIGGER_KINDS.get(trigger.name)
    if kind is None:
        checker.report_unknown(
            "TM0403",
            trigger.name,
            name_span,
            TRIGGER_KINDS,
            message=f"unknown trigger kind `{trigger.name}`",
            help="triggers are " + ", ".join(TRIGGER_KINDS),
        )
        return
    if not isinstance(trigger.value, n.DataMap):
        example = f"{kind.fields[0].name}: ..."
        checker.sink.report(
            "TM0403",
            checker.source.display_path,
            trigger.value.span,
            help=f"write its fields as a mapping, e.g. `{trigger.name}: {{{example}}}`",
            message=f"`{trigger.name}` trigger must be a mapping of its fields",
        )
        return
    values: dict[str, n.DataEntry] = {}
    for entry in trigger.value.entries:
        spec = kind.field(entry.key)
        if spec is None:
            checker.report_unknown(
                "TM0403",
                entry.key,
                span_of(entry.key_span, entry.span),
                [f.name for f in kind.fields],
                message=f"`{trigger.name}` trigger has no field `{entry.key}`",
            )
            continue
        values[entry.key] = entry
        want = _field_type(spec.type)
        got = t.type_of_data(entry.value)
        if not t.assignable(got, want):
            checker.sink.report(
                "TM0302",
                checker.source.display_path,
                entry.value.span,
                label=f"`{entry.key}` of the `{trigger.name}` trigger",
                want=t.render(want),
                got=t.render(got),
            )
            values.pop(entry.key)
    present = {entry.key for entry in trigger.value.entries}
    for spec in kind.fields:
        if spec.required and spec.name not in present:
            checker.report(
                "TM0403",
                name_span,
                message=f"`{trigger.name}` trigger needs `{spec.name}` ({spec.doc})",
            )
    text = {key: entry.value for key, entry in values.items()}
    match trigger.name:
        case "cron":
            _cron(checker, text)
        case "webhook":
            _webhook(checker, text)


def _scalar(data: n.Data | None) -> tuple[str, n.Data] | None:
    if isinstance(data, n.DataScalar) and isinstance(data.value, str):
        return data.value, data
    return None


def _cron(checker: ExprChecker, values: dict[str, n.Data]) -> None:
    schedule = _scalar(values.get("schedule"))
    if schedule is not None:
        expression, node = schedule
        try:
            croniter(expression)
        except CroniterError as exc:
            detail = str(exc).replace(f"[{expression}] ", "").rstrip(".")
            checker.sink.report(
                "TM0404",
                checker.source.display_path,
                node.span,
                help='five fields: minute hour day-of-month month day-of-week, e.g. "*/5 * * * *"',
                schedule=expression,
                detail=detail[:1].lower() + detail[1:],
            )
    zone = _scalar(values.get("timezone"))
    if zone is not None:
        name, node = zone
        if name not in _time_zones() and name != "UTC":
            checker.report_unknown(
                "TM0403",
                name,
                node.span,
                sorted(_time_zones()),
                message=f"unknown time zone `{name}`",
                help="use an IANA time zone name such as `UTC` or `Europe/Berlin`",
            )


def _webhook(checker: ExprChecker, values: dict[str, n.Data]) -> None:
    route = _scalar(values.get("route"))
    if route is not None and not route[0].startswith("/"):
        route_text, node = route
        checker.sink.report(
            "TM0403",
            checker.source.display_path,
            node.span,
            fixes=(Fix("add a leading `/`", (Edit(node.span, f'"/{route_text}"'),)),),
            message=f"webhook route `{route_text}` must start with `/`",
        )
    method = _scalar(values.get("method"))
    if method is not None and method[0] not in WEBHOOK_METHODS:
        method_text, node = method
        fixes: tuple[Fix, ...] = ()
        upper = method_text.upper()
        if upper in WEBHOOK_METHODS:
            fixes = (Fix(f"write `{upper}`", (Edit(node.span, upper),)),)
        checker.sink.report(
            "TM0403",
            checker.source.display_path,
            node.span,
            fixes=fixes,
            message=f"unknown HTTP method `{method_text}`; use one of {', '.join(WEBHOOK_METHODS)}",
        )
    secret = _scalar(values.get("secret_env"))
    if secret is not None and not _ENV_NAME.fullmatch(secret[0]):
        checker.report(
            "TM0403",
            secret[1].span,
            message=f"`{secret[0]}` is not an environment variable name",
        )
