"""Implementations of the ``http.*`` step kinds: ``http.get`` and ``http.post`` (aiohttp client).

Role: send one HTTP request per step and give the flow the whole response.

Input: ``url`` (http or https), ``headers`` (map of strings, default none), ``timeout`` (a
duration in seconds for the whole request, body included; default 10 s); for ``http.post`` a
``json`` body (any JSON value; null means none) or a raw string ``body`` (default empty).

Output: ``{status, headers, body, json}``: the status code; the response headers with
lowercase names (a repeated header's values joined with ``", "``); the body decoded as text
(the response's charset, else UTF-8, undecodable bytes replaced); and ``json``, the parsed body
when the response's content type is JSON (``application/json`` or ``*/*+json``) and the body
parses, else null.

Invariants:
- A response with any status, 4xx and 5xx included, is a success of the step: the flow decides
  what a status means (``when $step.fetch.status >= 400``).  Only failing to get a response is a
  step failure (:class:`~.call.StepFailure`), with code ``http.bad_url`` (not an http(s) URL,
  not retryable), ``http.bad_argument`` (bad headers or body, not retryable),
  ``http.connection`` (cannot connect), ``http.timeout`` (no full response in time) or
  ``http.error`` (the connection broke or the response was malformed).
- One client session per call: no connection, cookie or credential is shared between steps.
"""

from __future__ import annotations

import codecs
import json
from typing import Any, Final

import aiohttp
from yarl import URL

from .builtins_impl import kind_name
from .call import StepCall, StepFailure, StepImpl, arg_seconds

__all__ = ["KINDS", "http_get", "http_post"]

DEFAULT_TIMEOUT: Final = 10.0


async def http_get(call: StepCall, args: dict[str, Any]) -> dict[str, Any]:
    """``http.get``: send a GET request and return the response."""
    return await _request("http.get", "GET", args, None, None)


async def http_post(call: StepCall, args: dict[str, Any]) -> dict[str, Any]:
    """``http.post``: send a POST request with a JSON or raw body and return the response."""
    json_body = args.get("json")
    body = args.get("body", "")
    if body is None:
        body = ""
    if not isinstance(body, str):
        raise StepFailure(
            f"http.post: `body` must be a string, got {kind_name(body)}",
            "http.bad_argument",
            retryable=False,
        )
    if json_body is not None and body:
        raise StepFailure(
            "http.post: give either `json` or `body`, not both",
            "http.bad_argument",
            retryable=False,
        )
    if json_body is not None:
        try:
            payload = json.dumps(json_body, ensure_ascii=False, allow_nan=False).encode()
        except (TypeError, ValueError) as exc:
            raise StepFailure(
                f"http.post: `json` is not JSON-serialisable ({exc})",
                "http.bad_argument",
                retryable=False,
            ) from None
        return await _request("http.post", "POST", args, payload, "application/json")
    return await _request("http.post", "POST", args, body.encode(), None)


def _url(kind: str, value: object) -> URL:
    if not isinstance(value, str):
        raise StepFailure(
            f"{kind}: `url` must be a string, got {kind_name(value)}", "http.bad_url",
            retryable=False,
        )
    try:
        url = URL(value)
    except ValueError as exc:
        raise StepFailure(f"{kind}: `{value}` is not a URL ({exc})", "http.bad_url",
                          retryable=False) from None
    if url.scheme not in ("http", "https") or not url.host:
        raise StepFailure(
            f"{kind}: `{value}` is not an http:// or https:// URL with a host",
            "http.bad_url",
            retryable=False,
        )
    return url


def _headers(kind: str, value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise StepFailure(f"{kind}: `headers` must be a map, got {kind_name(value)}",
                          "http.bad_argument", retryable=False)
    for name, item in value.items():
        if not isinstance(item, str):
            raise StepFailure(
                f"{kind}: header `{name}` must be a string, got {kind_name(item)}",
                "http.bad_argument",
                retryable=False,
            )
        if any(c in text for text in (name, item) for c in "\r\n\0"):
            raise StepFailure(
                f"{kind}: header `{name.strip()}` holds a line break or NUL, which HTTP forbids",
                "http.bad_argument",
                retryable=False,
            )
    return value


async def _request(
    kind: str, method: str, args: dict[str, Any], data: bytes | None, content_type: str | None
) -> dict[str, Any]:
    url = _url(kind, args.get("url"))
    headers = _headers(kind, args.get("headers"))
    if content_type is not None and not any(k.lower() == "content-type" for k in headers):
        headers = {**headers, "Content-Type": content_type}
    seconds = arg_seconds(args, "timeout", DEFAULT_TIMEOUT)
    if seconds <= 0:
        raise StepFailure(f"{kind}: `timeout` must be more than 0s", "http.bad_argument",
                          retryable=False)
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=seconds)) as session,
            session.request(method, url, headers=headers, data=data) as response,
        ):
            raw = await response.read()
            return _result(response, raw)
    except TimeoutError:
        raise StepFailure(
            f"{kind}: no complete response from {url} within {seconds:g}s", "http.timeout"
        ) from None
    except aiohttp.ClientConnectorError as exc:
        reason = exc.os_error.strerror or str(exc.os_error)
        raise StepFailure(
            f"{kind}: cannot connect to {exc.host}:{exc.port} ({reason})", "http.connection"
        ) from None
    except aiohttp.InvalidURL as exc:
        raise StepFailure(f"{kind}: `{url}` is not a valid URL ({exc})", "http.bad_url",
                          retryable=False) from None
    except aiohttp.ClientError as exc:
        detail = str(exc) or type(exc).__name__
        raise StepFailure(f"{kind}: request to {url} failed: {detail}", "http.error") from None
    except ValueError as exc:
        # aiohttp refuses header names or values it cannot send (a newline, say).
        raise StepFailure(f"{kind}: cannot send the request: {exc}", "http.bad_argument",
                          retryable=False) from None


def _result(response: aiohttp.ClientResponse, raw: bytes) -> dict[str, Any]:
    headers: dict[str, str] = {}
    for name, value in response.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    text = raw.decode(_charset(response.charset), errors="replace")
    parsed: Any = None
    mime = response.content_type
    if mime == "application/json" or mime.endswith("+json"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
    return {"status": response.status, "headers": headers, "body": text, "json": parsed}


def _charset(declared: str | None) -> str:
    if declared:
        try:
            return codecs.lookup(declared).name
        except LookupError:
            pass
    return "utf-8"


KINDS: Final[dict[str, StepImpl]] = {"http.get": http_get, "http.post": http_post}
"""Kind name -> implementation."""
