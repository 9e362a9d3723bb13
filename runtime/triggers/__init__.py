"""Triggers: start flow runs on a schedule (cron), an HTTP request (webhook) or a file (fs).

Role: read each flow's ``triggers`` from a bundle's manifest (the fields of ``triggers.yaml``,
with the defaults of ``stdlib.signatures.TRIGGER_KINDS`` filled in by tmc), check them again
(the compiler normally has), and hand them to the per-kind modules: :mod:`.cron`,
:mod:`.webhook` and :mod:`.fs`.  Every fire enqueues a task in the durable queue with an
idempotency key, and is recorded as a ``trigger.fired`` event by :class:`.state.TriggerState`.

Input: a loaded :class:`~tracemind.runtime.bundle.Bundle`.
Output: :class:`CronTrigger`, :class:`WebhookTrigger` and :class:`FsTrigger` records, or a
:class:`TriggerConfigError` naming the flow id and the trigger kind.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..bundle import Bundle

__all__ = [
    "FIRED",
    "CronTrigger",
    "FsTrigger",
    "Trigger",
    "TriggerConfigError",
    "WebhookTrigger",
    "load_triggers",
]

FIRED = "trigger.fired"
"""The log event type of a fire: payload ``flow``, ``kind``, ``task``, ``key`` and per kind
``scheduled`` (cron), ``path``/``size``/``mtime_ns`` (fs)."""

WEBHOOK_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class TriggerConfigError(ValueError):
    """A trigger the runtime cannot run; the message names the flow and the trigger kind."""


@dataclass(frozen=True, slots=True)
class CronTrigger:
    flow: str
    schedule: str
    timezone: str = "UTC"
    kind: str = "cron"

    def describe(self) -> str:
        return f"cron {self.schedule!r} ({self.timezone})"


@dataclass(frozen=True, slots=True)
class WebhookTrigger:
    flow: str
    route: str
    method: str = "POST"
    secret_env: str | None = None
    idempotency_key: str | None = None
    kind: str = "webhook"

    def describe(self) -> str:
        extra = f", secret from ${self.secret_env}" if self.secret_env else ""
        if self.idempotency_key:
            extra += f", idempotency key {self.idempotency_key!r}"
        return f"webhook {self.method} {self.route}{extra}"


@dataclass(frozen=True, slots=True)
class FsTrigger:
    flow: str
    path: str
    pattern: str = "*"
    kind: str = "fs"

    def describe(self) -> str:
        return f"fs {self.path} {self.pattern!r}"


Trigger = CronTrigger | WebhookTrigger | FsTrigger


def load_triggers(bundle: Bundle) -> list[Trigger]:
    """Every trigger of every flow of ``bundle``, by flow id then kind; raises
    :class:`TriggerConfigError` for the first bad one (and for two webhooks on one route)."""
    found: list[Trigger] = []
    routes: dict[tuple[str, str], str] = {}
    for flow_id in sorted(bundle.flows):
        raw = bundle.flows[flow_id].triggers
        if raw is None:
            continue
        if not isinstance(raw, Mapping):
            raise TriggerConfigError(f"flow {flow_id!r}: triggers must be a mapping of kind to "
                                     f"fields, got {type(raw).__name__}")
        for kind in sorted(raw):
            trigger = parse_trigger(flow_id, str(kind), raw[kind])
            if isinstance(trigger, WebhookTrigger):
                other = routes.setdefault((trigger.method, trigger.route), flow_id)
                if other != flow_id:
                    raise TriggerConfigError(
                        f"flow {flow_id!r}, webhook trigger: {trigger.method} {trigger.route} "
                        f"is already the route of flow {other!r}")
            found.append(trigger)
    return found


def parse_trigger(flow: str, kind: str, fields: Any) -> Trigger:
    """One trigger from its manifest fields (see the module docstring)."""
    where = f"flow {flow!r}, {kind} trigger"
    if kind not in ("cron", "webhook", "fs"):
        raise TriggerConfigError(f"{where}: unknown trigger kind (expected cron, webhook or fs)")
    if not isinstance(fields, Mapping):
        raise TriggerConfigError(f"{where}: fields must be a mapping")
    known = {"cron": ("schedule", "timezone"),
             "webhook": ("route", "method", "secret_env", "idempotency_key"),
             "fs": ("path", "pattern")}[kind]
    for key in fields:
        if key not in known:
            raise TriggerConfigError(f"{where}: unknown field {key!r} "
                                     f"(expected: {', '.join(known)})")

    def text(key: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = fields.get(key)
        if value is None:
            if required:
                raise TriggerConfigError(f"{where}: `{key}` is required")
            return default
        if not isinstance(value, str) or not value:
            raise TriggerConfigError(f"{where}: `{key}` must be a non-empty string, "
                                     f"got {value!r}")
        return value

    if kind == "cron":
        import zoneinfo

        from croniter import croniter

        schedule = text("schedule", required=True) or ""
        zone = text("timezone", "UTC") or "UTC"
        if not croniter.is_valid(schedule):
            raise TriggerConfigError(f"{where}: invalid cron schedule {schedule!r}")
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise TriggerConfigError(f"{where}: unknown time zone {zone!r}") from None
        return CronTrigger(flow, schedule, zone)
    if kind == "webhook":
        route = text("route", required=True) or ""
        method = text("method", "POST") or "POST"
        if not route.startswith("/"):
            raise TriggerConfigError(f"{where}: route {route!r} must start with '/'")
        if method not in WEBHOOK_METHODS:
            raise TriggerConfigError(f"{where}: unknown HTTP method {method!r} "
                                     f"(expected one of {', '.join(WEBHOOK_METHODS)})")
        secret_env = text("secret_env")
        if secret_env is not None and not _ENV_NAME.fullmatch(secret_env):
            raise TriggerConfigError(f"{where}: secret_env {secret_env!r} is not an "
                                     "environment variable name")
        return WebhookTrigger(flow, route, method, secret_env, text("idempotency_key"))
    return FsTrigger(flow, text("path", required=True) or "", text("pattern", "*") or "*")
