"""docs/servers.md shows ``apirec.test_headers()`` on a websocket
``connect`` ("for any other client"), but the ASGI middleware passes websocket scopes through
untouched, so a websocket handler's calls belong to no test."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

import apirec
from apirec.record.context import current_test_id
from apirec.servers import asgi_middleware
from tests.served_apps import Served

websockets_sync = pytest.importorskip("websockets.sync.client")

ID = "tests/test_ws.py::test_chat"


async def seen(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({"test": current_test_id()})
    await websocket.close()


def app() -> Any:
    return asgi_middleware(Starlette(routes=[WebSocketRoute("/ws", seen)]))


def test_a_websocket_sent_with_test_headers_is_served_in_that_test() -> None:
    served = Served(app()).start()
    try:
        with apirec.test_context(ID):
            headers = apirec.test_headers()
        assert headers == {"X-Apirec-Test-Id": ID}
        url = f"ws://127.0.0.1:{served.port}/ws"
        with websockets_sync.connect(url, additional_headers=headers) as ws:
            import json

            got = json.loads(ws.recv())
        assert got["test"] == ID, got
    finally:
        served.stop()


@apirec.record(name="servers.websocket.lookup")
def lookup(question: str) -> str:
    return question


def test_a_websockets_miss_goes_back_in_the_accept_and_to_the_log(
    tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    import asyncio
    import contextlib

    async def ws_app(scope: Any, receive: Any, send: Any) -> None:
        with contextlib.suppress(apirec.RecordingNotFound):  # the app swallows it
            lookup("before accept")
        await send({"type": "websocket.accept", "headers": []})
        await send({"type": "websocket.close", "code": 1000})

    sent: list[dict[str, Any]] = []

    async def main() -> None:
        scope = {
            "type": "websocket",
            "path": "/ws",
            "headers": [(b"x-apirec-test-id", ID.encode())],
        }

        async def receive() -> dict[str, Any]:
            return {"type": "websocket.connect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await asgi_middleware(ws_app)(scope, receive, send)

    with apirec.test_context(None), apirec.recording(tmp_path, mode="replay"):
        asyncio.run(main())
    headers = dict(sent[0]["headers"])
    assert sent[0]["type"] == "websocket.accept" and b"x-apirec-miss" in headers
    assert ID in caplog.text and "servers.websocket.lookup" in caplog.text
