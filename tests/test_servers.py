"""apirec.servers: the middleware serves each request in the context of the test that sent it,
and sends the replay errors met while serving it back in ``X-Apirec-Miss``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

import apirec
from apirec.servers import asgi_middleware
from apirec.servers.carriers import MAX_MISS_HEADER, carried_test_id, decode_errors, encode_errors
from tests.served_apps import Served, starlette_app, wsgi_app

ID = "tests/test_x.py::test_one[a b%]"


@pytest.fixture
def asgi() -> Iterator[Served]:
    served = Served(starlette_app()).start()
    yield served
    served.stop()


@pytest.fixture
def wsgi() -> Iterator[Served]:
    served = Served(wsgi_app, wsgi=True).start()
    yield served
    served.stop()


def _get(url: str, **headers: str) -> httpx.Response:
    with apirec.test_context(None):  # the outer plugin adds no header of its own
        return httpx.get(url, headers=headers, timeout=10)


@pytest.mark.parametrize("path", ["/async", "/sync", "/task"])
def test_asgi_handlers_and_their_tasks_run_in_the_senders_test(asgi: Served, path: str) -> None:
    header = apirec.servers.carriers.header_value(ID)
    assert _get(asgi.url + path, **{"X-Apirec-Test-Id": header}).json()["test"] == ID


@pytest.mark.parametrize("path", ["/async", "/sync", "/task"])
def test_without_the_header_a_request_belongs_to_no_test(asgi: Served, path: str) -> None:
    # this test's own id is the process-wide fallback: the middleware must not leak it
    assert _get(asgi.url + path).json()["test"] is None


@pytest.mark.parametrize(
    "header", ["X-OGX-Provider-Data", "X-LlamaStack-Provider-Data", "x-ogx-provider-data"]
)
def test_llama_stacks_provider_data_carries_the_test_id(asgi: Served, header: str) -> None:
    data = json.dumps({"openai_api_key": "k", "__test_id": ID})
    assert _get(asgi.url + "/async", **{header: data}).json()["test"] == ID


def test_provider_data_without_a_test_id_is_no_test() -> None:
    assert carried_test_id([("X-OGX-Provider-Data", '{"k": 1}')]) is None
    assert carried_test_id([("X-OGX-Provider-Data", "not json")]) is None
    assert carried_test_id([("X-OGX-Provider-Data", '"a string"')]) is None
    ours = [("x-apirec-test-id", "t1"), ("X-OGX-Provider-Data", '{"__test_id": "t2"}')]
    assert carried_test_id(ours) == "t1"


@pytest.mark.parametrize("path", ["/thread", "/plain"])
def test_wsgi_serves_in_the_senders_test(wsgi: Served, path: str) -> None:
    assert _get(wsgi.url + path, **{"X-Apirec-Test-Id": "t/1.py::a"}).json()["test"] == "t/1.py::a"
    assert _get(wsgi.url + path).json()["test"] is None


@pytest.mark.parametrize("path", ["/ask", "/ask-swallowed", "/ask-streamed"])
def test_a_miss_in_the_server_goes_back_with_the_response(
    asgi: Served, tmp_path: Path, path: str
) -> None:
    with apirec.recording(tmp_path, mode="replay") as rec:
        response = _get(asgi.url + path + "?q=where", **{"X-Apirec-Test-Id": "t.py::miss"})
    count, errors = decode_errors(response.headers["x-apirec-miss"])
    assert count == 1
    assert errors[0]["type"] == "RecordingNotFound"
    assert errors[0]["function"] == "served.answer"
    assert errors[0]["test_id"] == "t.py::miss"
    assert "served.answer" in errors[0]["message"]
    assert len(rec.misses) == 1


def test_a_blocked_connection_in_the_server_goes_back_too(asgi: Served, tmp_path: Path) -> None:
    with apirec.recording(tmp_path, mode="replay"):
        response = _get(asgi.url + "/connect", **{"X-Apirec-Test-Id": "t.py::net"})
    assert response.json() == {"error": "NetworkBlocked"}
    count, errors = decode_errors(response.headers["x-apirec-miss"])
    assert count == 1 and errors[0]["type"] == "NetworkBlocked"
    assert "192.0.2.1" in errors[0]["message"]


def test_no_miss_no_header_and_no_test_no_header(asgi: Served, tmp_path: Path) -> None:
    with apirec.recording(tmp_path, mode="record"):
        ok = _get(asgi.url + "/ask", **{"X-Apirec-Test-Id": "t.py::ok"})
    assert ok.status_code == 200 and "x-apirec-miss" not in ok.headers
    with apirec.recording(tmp_path, mode="replay"):
        anonymous = _get(asgi.url + "/ask?q=other")
    assert anonymous.status_code == 500 and "x-apirec-miss" not in anonymous.headers


def test_wsgi_sends_a_miss_back(wsgi: Served, tmp_path: Path) -> None:
    with apirec.recording(tmp_path, mode="replay"):
        response = _get(wsgi.url + "/ask", **{"X-Apirec-Test-Id": "t.py::w"})
    assert response.status_code == 500
    assert decode_errors(response.headers["x-apirec-miss"])[1][0]["function"] == "served.answer"


def test_a_raw_asgi_app_that_raises_answers_500_with_the_miss(tmp_path: Path) -> None:
    async def raw(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            from tests.served_apps import answer

            answer("raw")  # raises the miss: no response at all from the app

    served = Served(asgi_middleware(raw)).start()
    try:
        with apirec.recording(tmp_path, mode="replay"):
            response = _get(served.url, **{"X-Apirec-Test-Id": "t.py::raw"})
    finally:
        served.stop()
    assert response.status_code == 500
    assert decode_errors(response.headers["x-apirec-miss"])[1][0]["test_id"] == "t.py::raw"


def test_the_miss_header_stays_small_and_ascii() -> None:
    errors = [apirec.RecordingNotFound("é\x7f\n" + "x" * 50_000, function="f")] * 30
    value = encode_errors(errors)
    assert len(value) <= MAX_MISS_HEADER
    assert all(32 <= ord(c) < 127 for c in value)
    count, carried = decode_errors(value)
    assert count == 30 and carried and carried[0]["message"].startswith("é\x7f\n")
    huge_id = apirec.RecordingNotFound("m", test_id="t" * 20_000)
    assert len(encode_errors([huge_id])) <= MAX_MISS_HEADER


def test_lifespan_passes_through() -> None:
    started: list[bool] = []

    async def lifespan(app: Starlette) -> Iterator[None]:  # type: ignore[misc]
        started.append(True)
        yield

    import contextlib

    app = Starlette(lifespan=contextlib.asynccontextmanager(lifespan))  # type: ignore[arg-type]
    config = uvicorn.Config(asgi_middleware(app), host="127.0.0.1", port=0, lifespan="on")
    served = Served(app)
    served._server = uvicorn.Server(config)
    import threading

    served._thread = threading.Thread(target=served._server.run, daemon=True)
    served.start()
    served.stop()
    assert started == [True]


def test_test_headers() -> None:
    with apirec.test_context("a.py::b"):
        assert apirec.test_headers() == {"X-Apirec-Test-Id": "a.py::b"}
    with apirec.test_context(None):
        assert apirec.test_headers() == {}
