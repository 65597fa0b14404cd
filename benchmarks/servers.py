"""What serving a server's requests in the sending test's context costs a replayed request.

    python benchmarks/servers.py            # 2,000 requests a side, 5 rounds
    python benchmarks/servers.py --quick

A Starlette app whose handler makes one replayed call (a recorded function, answered from a
replay recording opened around it), called in-process with an ASGI scope (no sockets, so the
middleware's share is not hidden by the network): the app alone, with no header, against
``asgi_middleware(app)`` with ``X-Apirec-Test-Id`` (the recording keyed per test). The same
for a WSGI app under ``wsgi_middleware``. Then the test side over a real loopback socket
(uvicorn): an httpx request with the pytest plugin's client hook installed (which adds the
header and reads ``X-Apirec-Miss``) against the same request without it. The sides take turns,
round by round; each figure is the median per request. Target (issue 23): nothing measurable
on a replayed request, a ratio within the noise of 1.0.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import apirec
from apirec.servers import asgi_middleware, wsgi_middleware
from apirec.servers.clients import HOOKS

TEST_ID = "tests/test_app.py::test_chat"


@apirec.record(name="bench.answer")
def answer(question: str) -> dict[str, str]:
    return {"answer": question.upper(), "model": "m1"}


async def handler(request: Request) -> JSONResponse:
    return JSONResponse(answer("what is in the box"))


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "application/json")])
    return [str(answer("what is in the box")).encode()]


def _scope(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }


def _asgi_side(app: Any, headers: list[tuple[bytes, bytes]], n: int) -> Callable[[], float]:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    async def run() -> float:
        start = time.perf_counter()
        for _ in range(n):
            await app(_scope(headers), receive, send)
        return (time.perf_counter() - start) / n

    return lambda: asyncio.run(run())


def _wsgi_side(app: Any, environ: dict[str, Any], n: int) -> Callable[[], float]:
    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        return lambda data: None

    def run() -> float:
        start = time.perf_counter()
        for _ in range(n):
            body = app(dict(environ), start_response)
            for _part in body:
                pass
            close = getattr(body, "close", None)
            if close is not None:
                close()
        return (time.perf_counter() - start) / n

    return run


def _http_side(url: str, n: int, hooked: bool) -> Callable[[], float]:
    def run() -> float:
        if hooked:
            HOOKS.install(lambda test_id, value, where: None)
        try:
            with apirec.test_context(TEST_ID), httpx.Client() as client:
                start = time.perf_counter()
                for _ in range(n):
                    client.get(url)
                return (time.perf_counter() - start) / n
        finally:
            HOOKS.uninstall()

    return run


def _rows(sides: dict[str, tuple[Callable[[], float], Callable[[], float]]], rounds: int) -> None:
    print(f"{'request':<44} {'baseline us':>12} {'apirec us':>10} {'ratio':>6}")
    for name, (base, ours) in sides.items():
        base_times, our_times = [], []
        for _ in range(rounds):  # turns, so a busy neighbour slows both alike
            base_times.append(base())
            our_times.append(ours())
        b, o = statistics.median(base_times) * 1e6, statistics.median(our_times) * 1e6
        print(f"{name:<44} {b:>12.1f} {o:>10.1f} {o / b:>6.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    n, rounds = (300, 3) if args.quick else (2000, 5)
    app = Starlette(routes=[Route("/", handler)])
    header = [(b"x-apirec-test-id", TEST_ID.encode())]
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.input": None}
    with tempfile.TemporaryDirectory() as directory:
        with apirec.test_context(TEST_ID), apirec.recording(directory, mode="record"):
            answer("what is in the box")
        with apirec.recording(directory, mode="replay", repeats="last"):
            from tests.served_apps import Served

            served = Served(app).start()  # the same app, without the middleware
            try:
                in_test = apirec.test_context(TEST_ID)
                with in_test:  # the baseline's calls are keyed under the same test
                    _rows(
                        {
                            "ASGI app, in-process": (
                                _asgi_side(app, [], n),
                                _asgi_side(asgi_middleware(app), header, n),
                            ),
                            "WSGI app, in-process": (
                                _wsgi_side(wsgi_app, environ, n),
                                _wsgi_side(
                                    wsgi_middleware(wsgi_app),
                                    {**environ, "HTTP_X_APIREC_TEST_ID": TEST_ID},
                                    n,
                                ),
                            ),
                            "httpx over loopback (uvicorn), client hook": (
                                _http_side(served.url, max(n // 10, 30), hooked=False),
                                _http_side(served.url, max(n // 10, 30), hooked=True),
                            ),
                        },
                        rounds,
                    )
            finally:
                served.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
