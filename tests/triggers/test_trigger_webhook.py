"""Webhook triggers against a real aiohttp server on 127.0.0.1 and a real HTTP client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from tr_helpers import HOOK_WDL, OPEN_WDL

from tests.shared_helpers import compile_bundle
from tracemind.runtime.bundle import load_bundle
from tracemind.runtime.queue import TaskId
from tracemind.runtime.queue.sqlite import SqliteTaskQueue
from tracemind.runtime.triggers import TriggerConfigError, WebhookTrigger, load_triggers
from tracemind.runtime.triggers.state import TriggerState
from tracemind.runtime.triggers.webhook import build_app, sign

SECRET = "s3cret"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> str:
    return compile_bundle(tmp_path_factory.mktemp("hooks"), "hooks", HOOK_WDL, OPEN_WDL)


class Server:
    def __init__(self, url: str, queue: SqliteTaskQueue, session: ClientSession) -> None:
        self.url = url
        self.queue = queue
        self.session = session

    async def post(self, path: str, body: bytes, headers: dict[str, str] | None = None,
                   method: str = "POST") -> tuple[int, dict[str, object]]:
        async with self.session.request(method, self.url + path, data=body,
                                        headers=headers or {}) as response:
            text = await response.text()
            try:
                payload = json.loads(text)
            except ValueError:
                payload = {"text": text}
            return response.status, payload


@pytest_asyncio.fixture
async def server(tmp_path: Path, bundle: str) -> AsyncIterator[Server]:
    loaded = load_bundle(bundle)
    hooks = [t for t in load_triggers(loaded) if isinstance(t, WebhookTrigger)]
    queue = SqliteTaskQueue(tmp_path / "queue.db")
    state = TriggerState(tmp_path / "log")
    app = build_app(hooks, queue, loaded, bundle, state, client_max_size=1024,
                    environ={"TM_TEST_HOOK_SECRET": SECRET})
    test_server = TestServer(app, host="127.0.0.1", port=0)
    await test_server.start_server()
    try:
        async with ClientSession() as session:
            yield Server(str(test_server.make_url("")).rstrip("/"), queue, session)
    finally:
        await test_server.close()
        state.close()
        queue.close()


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"X-TM-Signature": sign(secret, body), "Content-Type": "application/json"}


@pytest.mark.asyncio
async def test_signed_request_enqueues_and_answers_202(server: Server, bundle: str) -> None:
    body = b'{"n": 7}'
    status, payload = await server.post("/hooks/hook", body, signed(body))
    assert status == 202 and payload["flow"] == "hook"
    task = server.queue.get(TaskId(int(str(payload["task"]))))
    assert task.inputs == {"n": 7} and task.flow == "hook" and task.bundle == bundle


@pytest.mark.asyncio
async def test_bad_or_missing_signature_is_401(server: Server) -> None:
    body = b'{"n": 7}'
    assert (await server.post("/hooks/hook", body, signed(body, "wrong")))[0] == 401
    assert (await server.post("/hooks/hook", body))[0] == 401
    assert (await server.post("/hooks/hook", body, signed(b'{"n": 8}')))[0] == 401
    assert server.queue.stats()["pending"] == 0


@pytest.mark.asyncio
async def test_bad_json_and_bad_inputs_are_400(server: Server) -> None:
    for body in (b"{not json", b"[1, 2]", b'{"n": "seven"}', b"{}"):
        status, payload = await server.post("/hooks/hook", body, signed(body))
        assert status == 400, body
        assert "error" in payload
    assert server.queue.stats()["pending"] == 0


@pytest.mark.asyncio
async def test_unknown_route_404_wrong_method_405_too_large_413(server: Server) -> None:
    assert (await server.post("/hooks/nope", b"{}"))[0] == 404
    assert (await server.post("/hooks/open", b"", method="GET"))[0] == 405
    big = json.dumps({"n": 1, "pad": "x" * 4096}).encode()
    assert (await server.post("/hooks/open", big))[0] == 413
    assert server.queue.stats()["pending"] == 0


@pytest.mark.asyncio
async def test_idempotency_key_from_header_or_body_field(server: Server) -> None:
    first = await server.post("/hooks/open", b'{"n": 1}', {"Idempotency-Key": "k1"})
    again = await server.post("/hooks/open", b'{"n": 2}', {"Idempotency-Key": "k1"})
    assert first[0] == again[0] == 202 and first[1]["task"] == again[1]["task"]
    by_body = await server.post("/hooks/open", b'{"n": 3, "delivery": "d1"}')
    by_body_again = await server.post("/hooks/open", b'{"n": 4, "delivery": "d1"}')
    assert by_body[1]["task"] == by_body_again[1]["task"] != first[1]["task"]
    task = server.queue.get(TaskId(int(str(by_body[1]["task"]))))
    assert task.inputs == {"n": 3}  # the key field is not a flow input: dropped
    assert task.idempotency_key == "webhook:open:d1"
    plain = await server.post("/hooks/open", b"")
    assert plain[0] == 202 and plain[1]["task"] not in (first[1]["task"], by_body[1]["task"])
    assert server.queue.stats()["pending"] == 3


def test_missing_secret_variable_is_a_config_error(tmp_path: Path, bundle: str) -> None:
    loaded = load_bundle(bundle)
    hooks = [t for t in load_triggers(loaded) if isinstance(t, WebhookTrigger)]
    state = TriggerState(tmp_path / "log")
    with pytest.raises(TriggerConfigError, match=r"'hook', webhook trigger.*TM_TEST_HOOK_SECRET"):
        build_app(hooks, None, loaded, bundle, state, environ={})
    state.close()
