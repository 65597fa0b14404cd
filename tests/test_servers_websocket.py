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
