"""docs/servers.md, "Each call under its test": "calls outside any
request (start-up, health checks) belong to no test". A task the app starts at start-up
(lifespan: a provider health-check poller, a cache warmer) has no test id of its own, so it
falls back to the process-wide stack: while any test's request is being served, its calls
are keyed and stored under that test (which one depends on timing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SERVER = r"""
import asyncio, json, sys, threading
import httpx, uvicorn
from apirec.record.context import current_test_id
from apirec.servers import asgi_middleware
from apirec.servers.carriers import header_value

seen = {}
in_request = None
release = None

async def poller():
    # started at start-up: outside any request, so it belongs to no test
    await in_request.wait()
    seen["poller"] = current_test_id()
    release.set()

async def app(scope, receive, send):
    global in_request, release
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                in_request, release = asyncio.Event(), asyncio.Event()
                app.task = asyncio.create_task(poller())
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    seen["handler"] = current_test_id()
    in_request.set()
    await release.wait()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})

server = uvicorn.Server(uvicorn.Config(asgi_middleware(app), host="127.0.0.1", port=0,
                                       log_level="critical", lifespan="on"))
thread = threading.Thread(target=server.run, daemon=True)
thread.start()
while not server.started:
    pass
port = server.servers[0].sockets[0].getsockname()[1]
httpx.get(f"http://127.0.0.1:{port}/",
          headers={"X-Apirec-Test-Id": header_value("tests/test_a.py::test_a")}, timeout=20)
server.should_exit = True
thread.join(10)
print(json.dumps(seen))
"""


def test_a_start_up_task_belongs_to_no_test_while_a_request_is_served() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SERVER], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["handler"] == "tests/test_a.py::test_a"
    assert seen["poller"] is None, seen
