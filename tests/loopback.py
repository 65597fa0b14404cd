"""Serve a Starlette app on 127.0.0.1 in a thread: the base of the SDK fakes in tests/.

``requests`` counts what the fake served, so a test shows that replay reached nothing.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn
from starlette.applications import Starlette


class LoopbackServer:
    def __init__(self) -> None:
        self.requests = 0
        self.paths: list[str] = []
        config = uvicorn.Config(
            Starlette(routes=self.routes_of()),
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self.url = ""

    def routes_of(self) -> list[Any]:
        raise NotImplementedError

    def served(self, path: str) -> None:
        self.requests += 1
        self.paths.append(path)

    def start(self) -> Any:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the fake {type(self).__name__} did not start")
            time.sleep(0.005)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
