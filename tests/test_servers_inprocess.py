"""the same middleware-wrapped app, tested in-process (Starlette's
TestClient, httpx's ASGITransport: the most common way to test a FastAPI app). No header is
added (not a loopback host, not httpx's HTTPTransport), so the middleware serves the request
as "no test": the handler's calls, which would belong to the running test without the
middleware, are keyed and stored under no test (and identical calls of two tests collide)."""

from __future__ import annotations

import asyncio

import httpx
from starlette.testclient import TestClient

from tests.served_apps import starlette_app


def test_testclient_requests_are_served_in_the_running_test(request) -> None:
    with TestClient(starlette_app()) as client:
        assert client.get("/async").json()["test"] == request.node.nodeid


def test_asgi_transport_requests_are_served_in_the_running_test(request) -> None:
    async def main() -> str | None:
        transport = httpx.ASGITransport(app=starlette_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            return (await c.get("/async")).json()["test"]

    assert asyncio.run(main()) == request.node.nodeid
