"""docs/servers.md, complete: an app whose SDK calls run under `apirec run`, each filed under
the test that sent the request. Run as a script, it runs its own tests with pytest twice:
recording against the stand-in API, then replaying with the stand-in stopped."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import openai
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from websockets.sync.client import connect

import apirec
from apirec.servers import asgi_middleware  # or wsgi_middleware for Flask, Django...

# The app


async def ask(request: Request) -> JSONResponse:
    reply = await openai.AsyncOpenAI().chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": request.query_params["q"]}],
    )
    return JSONResponse({"answer": reply.choices[0].message.content})


async def whoami(websocket: WebSocket) -> None:
    """Sends back the test id the client's handshake carried."""
    await websocket.accept()
    await websocket.send_text(websocket.headers.get("x-apirec-test-id", ""))
    await websocket.close()


def create_app() -> Starlette:
    return Starlette(routes=[Route("/ask", ask), WebSocketRoute("/whoami", whoami)])


app = asgi_middleware(create_app())

# Its tests


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


PORT = free_port()  # yours can be fixed; here runs may overlap


def wait_until_listening(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert time.monotonic() < deadline and server.poll() is None, "the app did not start"
            time.sleep(0.05)


@pytest.fixture(scope="session")
def app_url():
    # fmt: off
    server = subprocess.Popen([
        sys.executable, "-m", "apirec", "run", "--dir", "server-recordings",
        "--integrations", "openai", "--", "uvicorn", "chat_app:app", "--port", str(PORT),
    ])
    # fmt: on
    wait_until_listening(PORT, server)
    yield f"http://127.0.0.1:{PORT}"
    server.terminate()  # the recording closes; the exit status is uvicorn's
    server.wait(timeout=30)


def test_ask(app_url):
    reply = httpx.get(app_url + "/ask", params={"q": "What is the capital of France?"}).json()
    assert reply["answer"] == "Paris."


def test_a_websocket_carries_the_test_id(app_url, request):
    url = app_url.replace("http://", "ws://") + "/whoami"
    with connect(url, additional_headers=apirec.test_headers()) as websocket:
        assert websocket.recv() == request.node.nodeid


# Run as a script: record, then replay offline


def run_tests(mode: str) -> str:
    """Runs this file's tests; gives what the server said as it exited."""
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",  # uvicorn
        "PYTHONPATH": str(Path(__file__).parent),  # where uvicorn finds chat_app
    }
    Path("pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\nfilterwarnings = error\n"
    )
    # -s: the server's stderr (its summary line as it exits) reaches ours
    command = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider"]
    done = subprocess.run(
        [*command, __file__, f"--apirec-mode={mode}", "--rootdir", ".", "-c", "pytest.ini"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stderr


def main() -> None:
    from _services import stand_in

    with stand_in():
        said = run_tests("record")
    assert "0 replayed, 1 recorded, 0 live, 0 missed (mode record" in said, said
    stored = [json.loads(p.read_text()) for p in Path("server-recordings").glob("*.json")]
    assert len(stored) == 1, stored  # the chat call, under the test whose request made it
    assert "test_ask" in json.dumps(stored[0]), stored[0]
    said = run_tests("replay")  # the stand-in is gone, and so are the keys
    assert "1 replayed, 0 recorded, 0 live, 0 missed (mode replay" in said, said


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        main()
    print("an app under apirec run: recorded per test, then replayed offline")
