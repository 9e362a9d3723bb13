"""http.get and http.post against a real aiohttp server on 127.0.0.1 (a random port)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web
from fake_call import FakeCall

from tracemind.stdlib.call import StepFailure
from tracemind.stdlib.http import http_get, http_post

Impl = Callable[[Any, dict[str, Any]], Awaitable[dict[str, Any]]]


async def _echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response({
        "method": request.method,
        "path": request.path_qs,
        "headers": dict(request.headers),
        "body": body.decode("utf-8"),
    })


async def _status(request: web.Request) -> web.Response:
    code = int(request.match_info["code"])
    return web.json_response({"error": "nope"}, status=code)


async def _text(request: web.Request) -> web.Response:
    response = web.Response(text="Grüße", content_type="text/plain", charset="latin-1")
    response.headers.add("X-Multi", "a")
    response.headers.add("X-Multi", "b")
    return response


async def _bad_json(request: web.Request) -> web.Response:
    return web.Response(text="{not json", content_type="application/json")


async def _problem(request: web.Request) -> web.Response:
    return web.Response(text='{"title": "bad"}', content_type="application/problem+json",
                        status=400)


RELEASE = web.AppKey("release", asyncio.Event)


async def _slow(request: web.Request) -> web.Response:
    """Answers only when the server shuts down (so a client timeout is certain)."""
    await request.app[RELEASE].wait()
    return web.Response(text="late")


@asynccontextmanager
async def serve() -> AsyncIterator[str]:
    """A real aiohttp server on 127.0.0.1 at a port the OS picks; yields its base URL."""
    app = web.Application()
    app[RELEASE] = asyncio.Event()
    app.router.add_route("*", "/echo", _echo)
    app.router.add_get("/status/{code}", _status)
    app.router.add_get("/text", _text)
    app.router.add_get("/bad-json", _bad_json)
    app.router.add_get("/problem", _problem)
    app.router.add_get("/slow", _slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        app[RELEASE].set()
        await runner.cleanup()


def call(impl: Impl, path: str, **args: Any) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        async with serve() as base:
            return await impl(FakeCall(), {"url": base + path, **args})

    return asyncio.run(go())


def failure(impl: Impl, args: dict[str, Any]) -> StepFailure:
    async def go() -> dict[str, Any]:
        return await impl(FakeCall(), args)

    with pytest.raises(StepFailure) as info:
        asyncio.run(go())
    return info.value


def test_get_returns_status_headers_body_and_parsed_json() -> None:
    result = call(http_get, "/echo?x=1", headers={"X-Token": "abc"})
    assert set(result) == {"status", "headers", "body", "json"}
    assert result["status"] == 200
    assert result["headers"]["content-type"].startswith("application/json")
    assert json.loads(result["body"]) == result["json"]
    assert result["json"]["method"] == "GET"
    assert result["json"]["path"] == "/echo?x=1"
    assert result["json"]["headers"]["X-Token"] == "abc"


@pytest.mark.parametrize("code", [404, 500])
def test_an_error_status_is_a_result_not_a_failure(code: int) -> None:
    result = call(http_get, f"/status/{code}")
    assert result["status"] == code
    assert result["json"] == {"error": "nope"}


def test_text_body_is_decoded_with_its_charset_and_json_is_null() -> None:
    result = call(http_get, "/text")
    assert result["body"] == "Grüße"
    assert result["json"] is None
    assert result["headers"]["x-multi"] == "a, b"
    assert all(name == name.lower() for name in result["headers"])


def test_malformed_json_gives_null_json_and_the_raw_body() -> None:
    result = call(http_get, "/bad-json")
    assert (result["body"], result["json"]) == ("{not json", None)


def test_a_json_suffix_type_is_parsed() -> None:
    result = call(http_get, "/problem")
    assert (result["status"], result["json"]) == (400, {"title": "bad"})


def test_post_json_sends_a_json_body() -> None:
    result = call(http_post, "/echo", json={"temp": 80.0, "ok": True, "tags": ["a"]})
    echoed = result["json"]
    assert echoed["method"] == "POST"
    assert json.loads(echoed["body"]) == {"temp": 80.0, "ok": True, "tags": ["a"]}
    assert echoed["headers"]["Content-Type"] == "application/json"


def test_post_json_keeps_a_given_content_type() -> None:
    result = call(http_post, "/echo", json=[1], headers={"content-type": "application/vnd+json"})
    assert result["json"]["headers"]["Content-Type"] == "application/vnd+json"


def test_post_raw_body() -> None:
    result = call(http_post, "/echo", body="a=1&b=2",
                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    echoed = result["json"]
    assert echoed["body"] == "a=1&b=2"
    assert echoed["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


def test_post_with_defaults_sends_an_empty_body() -> None:
    result = call(http_post, "/echo", json=None, body="")
    assert result["json"]["body"] == ""


def test_post_refuses_json_and_body_together() -> None:
    failure_ = failure(http_post, {"url": "http://127.0.0.1:1/", "json": {}, "body": "x"})
    assert failure_.code == "http.bad_argument" and "either `json` or `body`" in failure_.message


def test_timeout_is_a_failure_naming_the_url() -> None:
    async def go() -> dict[str, Any]:
        async with serve() as base:
            return await http_get(FakeCall(), {"url": f"{base}/slow", "timeout": 0.2})

    with pytest.raises(StepFailure) as info:
        asyncio.run(go())
    assert info.value.code == "http.timeout" and info.value.retryable
    assert "/slow within 0.2s" in info.value.message


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_is_a_retryable_failure() -> None:
    port = _free_port()
    failure_ = failure(http_get, {"url": f"http://127.0.0.1:{port}/"})
    assert failure_.code == "http.connection" and failure_.retryable
    assert f"cannot connect to 127.0.0.1:{port}" in failure_.message


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [({"url": "ftp://example.org/x"}, "http.bad_url", "not an http:// or https:// URL"),
     ({"url": "no scheme"}, "http.bad_url", "not an http:// or https:// URL"),
     ({"url": 5}, "http.bad_url", "`url` must be a string, got int"),
     ({"url": "http://127.0.0.1:1/", "headers": {"X": 1}}, "http.bad_argument",
      "header `X` must be a string, got int"),
     ({"url": "http://127.0.0.1:1/", "headers": ["X"]}, "http.bad_argument",
      "`headers` must be a map, got list"),
     ({"url": "http://127.0.0.1:1/", "timeout": 0}, "http.bad_argument", "more than 0s"),
     ({"url": "http://127.0.0.1:1/", "timeout": "fast"}, "bad_argument", "not a duration"),
     ({"url": "http://127.0.0.1:1/", "headers": {"X": "a\r\nInjected: 1"}}, "http.bad_argument",
      "header `X` holds a line break")],
)
def test_bad_arguments_fail_without_retrying(args: dict[str, Any], code: str, message: str
                                             ) -> None:
    failure_ = failure(http_get, args)
    assert failure_.code == code and not failure_.retryable
    assert message in failure_.message
