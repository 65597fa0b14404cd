"""a background task that outlives its request's response.

docs/servers.md: such a task's calls belong to "its request's test while another request of
that test is served". The test id follows that rule (found by equality on the process-wide
stack), but the replay errors it raises follow another one (its request's ``Carried`` found
by identity, else the latest request served): they are sent back to whichever test's
request was entered last, here another test, which fails for a miss not its own while the
test whose call missed passes."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

import apirec
from apirec.record.context import current_test_id
from apirec.servers import asgi_middleware
from apirec.servers.carriers import decode_errors, header_value


@apirec.record(name="review23.background")
def lookup(question: str) -> str:
    return question


def test_a_background_tasks_miss_goes_back_to_the_test_its_call_was_keyed_under(
    tmp_path: Path,
) -> None:
    go = asyncio.Event()
    done = asyncio.Event()
    release = asyncio.Event()
    seen: dict[str, Any] = {}
    tasks: list[asyncio.Task[None]] = []

    async def later() -> None:
        await go.wait()
        seen["test"] = current_test_id()
        # the app swallows the miss; the middleware must still carry it back
        with contextlib.suppress(apirec.RecordingNotFound):
            lookup("from the background")
        done.set()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["path"] == "/start":
            tasks.append(asyncio.create_task(later()))  # outlives this response
        else:
            await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    wrapped = asgi_middleware(app)

    async def request(path: str, test_id: str) -> dict[str, str]:
        scope = {
            "type": "http",
            "method": "GET",
            "path": path,
            "headers": [(b"x-apirec-test-id", header_value(test_id).encode())],
        }
        headers: dict[str, str] = {}

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers.update((k.decode(), v.decode()) for k, v in message["headers"])

        await wrapped(scope, receive, send)
        return headers

    async def main() -> tuple[dict[str, str], dict[str, str]]:
        await request("/start", "test_a.py::test_a")  # answered; its task still waits
        a2 = asyncio.create_task(request("/wait", "test_a.py::test_a"))
        await asyncio.sleep(0.01)
        b = asyncio.create_task(request("/wait", "test_b.py::test_b"))
        await asyncio.sleep(0.01)
        go.set()
        await done.wait()
        release.set()
        return await a2, await b

    with apirec.test_context(None), apirec.recording(tmp_path, mode="replay"):
        a2_headers, b_headers = asyncio.run(main())

    assert seen["test"] == "test_a.py::test_a"  # keyed under test a: as documented
    # ... so its miss belongs to test a's request, not test b's
    assert "x-apirec-miss" not in b_headers, decode_errors(b_headers["x-apirec-miss"])
    assert "x-apirec-miss" in a2_headers
    assert json.loads(a2_headers["x-apirec-miss"])["count"] == 1
