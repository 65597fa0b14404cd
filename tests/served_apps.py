"""Apps for the server-under-test tests (not a test module): a Starlette app and a WSGI app,
each wrapped in apirec's middleware, whose handlers say which test they serve and call a
recorded function (so a replay with nothing stored misses in the server)."""

from __future__ import annotations

import asyncio
import contextvars
import json
import threading
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

import apirec
from apirec.record.context import current_test_id
from apirec.servers import asgi_middleware, wsgi_middleware


@apirec.record(name="served.answer")
def answer(question: str) -> dict[str, str]:
    return {"answer": question.upper()}


def _seen(request_headers: Any) -> dict[str, Any]:
    return {"test": current_test_id(), "header": request_headers.get("x-apirec-test-id")}


async def async_handler(request: Request) -> JSONResponse:
    return JSONResponse(_seen(request.headers))


def sync_handler(request: Request) -> JSONResponse:  # Starlette runs it in its thread pool
    return JSONResponse(_seen(request.headers))


async def task_handler(request: Request) -> JSONResponse:
    async def later() -> str | None:
        await asyncio.sleep(0)
        return current_test_id()

    return JSONResponse({"test": await asyncio.create_task(later())})


async def ask(request: Request) -> JSONResponse:
    """Calls the recorded function; a replay miss becomes the app's 500."""
    return JSONResponse(answer(request.query_params.get("q", "hi")))


async def ask_swallowed(request: Request) -> JSONResponse:
    """The app catches the miss and answers 200: the test must still hear of it."""
    try:
        return JSONResponse(answer(request.query_params.get("q", "hi")))
    except apirec.RecordingNotFound:
        return JSONResponse({"answer": "fallback"})


async def ask_streamed(request: Request) -> StreamingResponse:
    async def parts() -> AsyncIterator[bytes]:
        try:
            found = answer(request.query_params.get("q", "hi"))  # before the first part
        except apirec.RecordingNotFound:
            yield b"data: error\n\n"  # an SSE error event, as llama-stack sends one
            return
        yield f"data: {json.dumps(found)}\n\n".encode()

    return StreamingResponse(parts(), media_type="text/event-stream")


async def connect(request: Request) -> JSONResponse:
    """Reaches past every patch for a host that is not loopback: the guard blocks it."""
    import socket

    try:
        socket.create_connection(("192.0.2.1", 9), timeout=1).close()
    except OSError as e:
        return JSONResponse({"error": type(e).__name__}, status_code=502)
    return JSONResponse({"error": None})


def starlette_app() -> Any:
    routes = [
        Route("/async", async_handler),
        Route("/sync", sync_handler),
        Route("/task", task_handler),
        Route("/ask", ask),
        Route("/ask-swallowed", ask_swallowed),
        Route("/ask-streamed", ask_streamed),
        Route("/connect", connect),
    ]
    return asgi_middleware(Starlette(routes=routes))


def wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    path = environ.get("PATH_INFO", "")
    body: dict[str, Any]
    if path == "/thread":  # a thread the handler starts with the request's context
        box: list[str | None] = []
        context = contextvars.copy_context()
        worker = threading.Thread(target=lambda: box.append(context.run(current_test_id)))
        worker.start()
        worker.join()
        body = {"test": box[0]}
    elif path == "/ask":
        try:
            body = answer("hi")
        except apirec.RecordingNotFound:
            start_response("500 Internal Server Error", [("Content-Type", "application/json")])
            return [b'{"error": "internal"}']
    else:
        body = {"test": current_test_id(), "header": environ.get("HTTP_X_APIREC_TEST_ID")}
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]


class Served:
    """An ASGI app on uvicorn, or a WSGI app on wsgiref, on 127.0.0.1 in a thread."""

    def __init__(self, app: Any, *, wsgi: bool = False, host: str = "127.0.0.1") -> None:
        self.wsgi = wsgi
        if wsgi:
            from wsgiref.simple_server import WSGIRequestHandler, make_server

            class Quiet(WSGIRequestHandler):
                def log_message(self, *args: Any) -> None:
                    pass

            self._wsgi = make_server(host, 0, wsgi_middleware(app), handler_class=Quiet)
            self._thread = threading.Thread(target=self._wsgi.serve_forever, daemon=True)
            self.port = self._wsgi.server_port
        else:
            config = uvicorn.Config(app, host=host, port=0, log_level="critical")
            self._server = uvicorn.Server(config)
            self._thread = threading.Thread(target=self._server.run, daemon=True)
            self.port = 0

    def start(self) -> Served:
        self._thread.start()
        if not self.wsgi:
            deadline = time.monotonic() + 10
            while not self._server.started:
                if time.monotonic() > deadline:
                    raise RuntimeError("uvicorn did not start")
                time.sleep(0.005)
            self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def join(self) -> None:
        self._thread.join()

    def stop(self) -> None:
        if self.wsgi:
            self._wsgi.shutdown()
            self._wsgi.server_close()
        else:
            self._server.should_exit = True
        self._thread.join(timeout=10)
