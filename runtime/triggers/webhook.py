"""Webhook triggers: an aiohttp route per flow that enqueues a run for each request.

Role: :func:`build_app` makes one route per trigger (its ``method`` and ``route``).  A request:

1. body larger than ``client_max_size`` (default 1 MiB): 413;
2. with ``secret_env``: header ``X-TM-Signature: sha256=<hex HMAC-SHA256 of the body>`` under
   the secret read from that environment variable at start, compared in constant time
   (``hmac.compare_digest``); missing or wrong: 401;
3. body: a JSON object, the flow's inputs (an empty body is ``{}``); not JSON or not an
   object: 400; inputs that do not match the flow's schema: 400 with ``errors``;
4. idempotency key: header ``Idempotency-Key``, else (when the trigger names a field in
   ``idempotency_key``) the header of that name, else the body field of that name (dropped from
   the inputs when the flow does not declare it); the queue key is ``webhook:<flow>:<value>``;
5. enqueue, record a ``trigger.fired`` event, answer 202 ``{"task": ID, "flow": FLOW}``.

Unknown routes answer 404 (aiohttp), a known route with another method 405.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiohttp import web

from . import TriggerConfigError, WebhookTrigger
from .state import TriggerState

SIGNATURE_HEADER = "X-TM-Signature"
DEFAULT_MAX_SIZE = 1024 * 1024

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def sign(secret: str | bytes, body: bytes) -> str:
    """The ``X-TM-Signature`` value for ``body``: ``sha256=<hex>``."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def _error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def build_app(triggers: Sequence[WebhookTrigger], queue: Any, bundle: Any, bundle_path: str,
              state: TriggerState, *, client_max_size: int = DEFAULT_MAX_SIZE,
              environ: Mapping[str, str] | None = None) -> web.Application:
    """The application serving ``triggers``; :class:`TriggerConfigError` when a secret's
    environment variable is not set."""
    env = os.environ if environ is None else environ
    app = web.Application(client_max_size=client_max_size)
    for trigger in triggers:
        secret = None
        if trigger.secret_env is not None:
            secret = env.get(trigger.secret_env)
            if not secret:
                raise TriggerConfigError(
                    f"flow {trigger.flow!r}, webhook trigger: environment variable "
                    f"{trigger.secret_env} (secret_env) is not set")
        handler = _handler(trigger, secret, queue, bundle, bundle_path, state)
        app.router.add_route(trigger.method, trigger.route, handler)
    return app


def _handler(trigger: WebhookTrigger, secret: str | None, queue: Any, bundle: Any,
             bundle_path: str, state: TriggerState) -> Handler:
    from ..schema import InputError

    flow = bundle.flows[trigger.flow]

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()  # 413 past client_max_size
        if secret is not None:
            given = request.headers.get(SIGNATURE_HEADER, "")
            expected = sign(secret, body)
            if not hmac.compare_digest(expected.encode("ascii"),
                                       given.encode("utf-8", "replace")):
                return _error(401, f"missing or bad {SIGNATURE_HEADER} signature")
        inputs: Any = {}
        if body.strip():
            try:
                inputs = json.loads(body)
            except (UnicodeDecodeError, ValueError) as exc:
                return _error(400, f"the body is not JSON: {exc}")
        if not isinstance(inputs, dict):
            return _error(400, "the body must be a JSON object (the flow's inputs)")
        key = request.headers.get("Idempotency-Key")
        name = trigger.idempotency_key
        if key is None and name is not None:
            key = request.headers.get(name)
            if key is None and name in inputs:
                value = inputs[name]
                if not isinstance(value, str | int) or isinstance(value, bool):
                    return _error(400, f"body field {name!r} (the idempotency key) must be "
                                  "a string or an integer")
                key = str(value)
                if name not in flow.inputs_schema.get("properties", {}):
                    inputs = {k: v for k, v in inputs.items() if k != name}
        try:
            flow.prepare_inputs(inputs)
        except InputError as exc:
            return _error(400, "the inputs do not match the flow", errors=exc.errors)
        queue_key = f"webhook:{trigger.flow}:{key}" if key is not None else None

        def enqueue() -> int:
            task = int(queue.enqueue(trigger.flow, inputs, bundle=bundle_path,
                                     idempotency_key=queue_key))
            state.record({"flow": trigger.flow, "kind": "webhook", "route": trigger.route,
                          "task": task, "key": queue_key})
            return task

        task = await asyncio.get_running_loop().run_in_executor(None, enqueue)
        return web.json_response({"task": task, "flow": trigger.flow}, status=202)

    return handle
