"""``asgi_middleware``: each HTTP request served in the context of the test that sent it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from apirec.record.context import Carried, Serving, in_test_context, outside_requests
from apirec.servers.carriers import MISS_HEADER, encode_errors, scope_test_id

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOG = logging.getLogger("apirec.servers")
_MISS = MISS_HEADER.lower().encode("ascii")


def asgi_middleware(app: ASGIApp) -> ASGIApp:
    """Serve each HTTP request inside ``test_context`` of the test that sent it.

    The test id comes from the ``X-Apirec-Test-Id`` header, else from llama-stack's
    provider-data header (``"__test_id"``); a request with neither belongs to no test. Async
    and sync handlers, and the tasks they start, see it (a thread pool that copies the
    context, as Starlette's does, too). Replay errors raised while serving a test's request
    go back to it in the ``X-Apirec-Miss`` response header (the response's start waits for
    its first body part, so errors met before then are in it), even when the app turned
    them into a 500. A websocket connection is served the same way for its whole life (errors
    met before it is accepted go back in the accept's headers, later ones to the log). A
    request with no carrier served in-process inside a test (Starlette's ``TestClient``,
    httpx's ``ASGITransport``) stays in that test; over a server's connection it belongs to no
    test, as does what the app starts in its lifespan.
    """

    async def apirec_middleware(scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind not in ("http", "websocket"):
            if kind == "lifespan" and not in_test_context():
                # start-up: the tasks it starts belong to no test, whichever is served later
                with outside_requests():
                    return await app(scope, receive, send)
            return await app(scope, receive, send)
        test_id = scope_test_id(scope.get("headers") or ())
        if test_id is None and in_test_context():
            # served in-process inside a test (TestClient, ASGITransport): its test, as the
            # app's calls would be without the middleware
            return await app(scope, receive, send)
        with Serving(test_id) as carried:
            if carried is None or test_id is None:  # no test: nothing to carry back
                return await app(scope, receive, send)
            if kind == "websocket":
                return await _serve_websocket(app, scope, receive, send, carried, test_id)
            await _serve(app, scope, receive, send, carried, test_id)

    apirec_middleware.__wrapped__ = app  # type: ignore[attr-defined]
    return apirec_middleware


async def _serve_websocket(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, carried: Carried, test_id: str
) -> None:
    early: list[BaseException] = []

    async def send_accept(message: Message) -> None:
        if message.get("type") == "websocket.accept":
            early.extend(carried.errors)  # in its headers, and in the log all the same
            message = _with_errors(message, carried)
        await send(message)

    try:
        await app(scope, receive, send_accept)
    finally:
        # no client hook reads a websocket's answer: the server's log has every error
        for error in [*early, *carried.errors]:
            LOG.error(
                "apirec: a replay error while serving the websocket %s of test %s:\n%s",
                scope.get("path", ""),
                test_id,
                error,
            )
        carried.errors.clear()


async def _serve(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, carried: Carried, test_id: str
) -> None:
    held: Message | None = None  # the response's start, until its first body part
    started = False

    async def send_held(message: Message) -> None:
        nonlocal held, started
        if message.get("type") == "http.response.start" and not started:
            held = message
            return
        if held is not None:
            start, held = held, None
            started = True
            await send(_with_errors(start, carried))
        await send(message)

    try:
        await app(scope, receive, send_held)
    except BaseException:
        if carried.errors and not started:
            # The app raised before its response went out: answer the test with what
            # happened here rather than the server's bare 500.
            started = True
            await _error_response(send, carried)
        raise
    finally:
        if started and carried.errors:
            _log_late(carried, test_id, scope)
    if held is not None:  # a start and no body: send it all the same
        await send(_with_errors(held, carried))


def _with_errors(start: Message, carried: Carried) -> Message:
    if not carried.errors:
        return start
    value = encode_errors(carried.errors).encode("ascii")
    headers = [*start.get("headers", ()), (_MISS, value)]
    carried.errors.clear()  # sent: the test has them
    return {**start, "headers": headers}


async def _error_response(send: Send, carried: Carried) -> None:
    body = b"apirec: replay error in the server while serving this test's request\n"
    start: Message = {
        "type": "http.response.start",
        "status": 500,
        "headers": [(b"content-type", b"text/plain; charset=utf-8")],
    }
    await send(_with_errors(start, carried))
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _log_late(carried: Carried, test_id: str, scope: Scope) -> None:
    """Errors raised after the response's headers went out cannot reach the test: said in
    the server's log, never dropped silently."""
    if not carried.errors:
        return
    where = f"{scope.get('method', '')} {scope.get('path', '')}"
    for error in carried.errors:
        LOG.error(
            "apirec: a replay error after the response to %s (test %s) started, so it could "
            "not be sent back with it:\n%s",
            where,
            test_id,
            error,
        )
    carried.errors.clear()
