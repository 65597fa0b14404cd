"""The pytest plugin and a server under test in another process: each test's requests to
loopback carry its id (httpx, sync and async, requests and aiohttp), other hosts get nothing
(not even through a redirect), and a replay miss in the server fails the test that sent the
request, with the miss message."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

CONFTEST = """
import os, subprocess, sys
import pytest

@pytest.fixture(scope="session")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("server-recordings")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.served_server", str(directory), os.environ["SERVER_MODE"]],
        cwd={repo!r}, stdout=subprocess.PIPE, text=True,
        env={{**os.environ, "PYTHONPATH": {repo!r}}},
    )
    line = process.stdout.readline()
    assert line.startswith("PORT "), line
    yield "http://127.0.0.1:" + line.split()[1]
    process.terminate()
    process.wait(timeout=10)
"""

TESTS = """
import aiohttp, httpx, requests
import apirec

def test_httpx(server):
    assert httpx.get(server + "/async").json()["test"] == "test_it.py::test_httpx"

async def test_httpx_async(server):
    async with httpx.AsyncClient() as client:
        seen = (await client.get(server + "/task")).json()
    assert seen["test"] == "test_it.py::test_httpx_async"

def test_requests(server):
    assert requests.get(server + "/sync").json()["test"] == "test_it.py::test_requests"

def test_localhost_by_name(server):
    url = server.replace("127.0.0.1", "localhost")
    assert requests.get(url + "/async").json()["test"] == "test_it.py::test_localhost_by_name"

def test_a_session_client_made_before(server, session_client):
    assert session_client.get(server + "/async").json()["test"] == (
        "test_it.py::test_a_session_client_made_before"
    )

def test_no_test_no_header(server):
    with apirec.test_context(None):
        assert httpx.get(server + "/async").json() == {"test": None, "header": None}

async def test_aiohttp(server):
    async with aiohttp.ClientSession() as session:
        async with session.get(server + "/async") as response:
            assert (await response.json())["test"] == "test_it.py::test_aiohttp"

async def test_aiohttp_base_url(server):
    async with aiohttp.ClientSession(base_url=server) as session:
        async with session.get("/sync", params={"a": 1}) as response:
            assert (await response.json())["test"] == "test_it.py::test_aiohttp_base_url"

def test_test_headers():
    assert apirec.test_headers() == {"X-Apirec-Test-Id": "test_it.py::test_test_headers"}
"""

SESSION_CLIENT = """
@pytest.fixture(scope="session")
def session_client():
    import httpx
    with httpx.Client() as client:
        yield client
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST.format(repo=str(REPO)) + SESSION_CLIENT)
    pytester.makeini(
        "[pytest]\naddopts = -p no:cacheprovider -p no:randomly\nasyncio_mode = auto\n"
        "asyncio_default_fixture_loop_scope = function\n"
    )
    return pytester


def test_a_tests_requests_to_loopback_carry_its_id(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SERVER_MODE", "record")
    project.makepyfile(test_it=TESTS)
    result = project.runpytest_subprocess()
    result.assert_outcomes(passed=9)


def test_other_hosts_get_no_header(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, own_address: str
) -> None:
    monkeypatch.setenv("SERVER_MODE", "record")
    project.makepyfile(
        test_it=f"""
import asyncio
import aiohttp, httpx, requests
from tests.served_apps import Served, starlette_app

async def aiohttp_get(url):
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            return await response.json()

def test_elsewhere():
    served = Served(starlette_app(), host="0.0.0.0").start()
    try:
        url = "http://{own_address}:" + str(served.port) + "/async"
        assert httpx.get(url).json()["header"] is None
        assert requests.get(url).json()["header"] is None
        assert asyncio.run(aiohttp_get(url))["header"] is None
        local = "http://127.0.0.1:" + str(served.port) + "/async"
        assert httpx.get(local).json()["header"] == "test_it.py::test_elsewhere"
    finally:
        served.stop()
"""
    )
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    result = project.runpytest_subprocess()
    result.assert_outcomes(passed=1)


def test_a_redirect_to_another_host_gets_no_header(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, own_address: str
) -> None:
    """A loopback server redirecting elsewhere: the hop to the other host carries no test id
    (each client follows the redirect itself), the hop back to loopback carries it again."""
    monkeypatch.setenv("SERVER_MODE", "record")
    project.makepyfile(
        test_it=f"""
import asyncio
import aiohttp, httpx, requests
from starlette.applications import Starlette
from starlette.responses import RedirectResponse
from starlette.routing import Route
from tests.served_apps import Served, async_handler

async def away(request):
    return RedirectResponse("http://{own_address}:" + str(served.port) + "/async")

async def back(request):
    return RedirectResponse("http://127.0.0.1:" + str(served.port) + "/async")

app = Starlette(routes=[
    Route("/async", async_handler), Route("/away", away), Route("/back", back),
])
served = Served(app, host="0.0.0.0").start()

async def aiohttp_get(url):
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            return str(response.url), await response.json()

def test_redirected():
    away = "http://127.0.0.1:" + str(served.port) + "/away"
    back = "http://{own_address}:" + str(served.port) + "/back"
    elsewhere = "http://{own_address}:" + str(served.port) + "/async"
    local = "http://127.0.0.1:" + str(served.port) + "/async"
    url, seen = asyncio.run(aiohttp_get(away))
    assert url == elsewhere and seen["header"] is None
    assert asyncio.run(aiohttp_get(back))[1]["header"] == "test_it.py::test_redirected"
    assert httpx.get(away, follow_redirects=True).json()["header"] is None
    assert httpx.get(back, follow_redirects=True).json()["header"] == (
        "test_it.py::test_redirected"
    )
    assert requests.get(away).json()["header"] is None
    assert requests.get(back).json()["header"] == "test_it.py::test_redirected"
    assert httpx.get(local).json()["header"] == "test_it.py::test_redirected"
"""
    )
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    result = project.runpytest_subprocess()
    result.assert_outcomes(passed=1)


def test_a_miss_in_the_server_fails_the_test_that_sent_the_request(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SERVER_MODE", "replay")  # nothing recorded: every call misses
    project.makepyfile(
        test_it="""
import aiohttp, httpx, requests

def test_fine(server):
    assert httpx.get(server + "/async").status_code == 200

def test_swallowed(server):
    assert requests.get(server + "/ask-swallowed?q=one").json() == {"answer": "fallback"}

async def test_streamed(server):
    async with httpx.AsyncClient() as client:
        response = await client.get(server + "/ask-streamed?q=two")
    assert response.text == "data: error\\n\\n"

def test_failed_request(server):
    assert httpx.get(server + "/ask?q=three").status_code == 500

async def test_aiohttp_swallowed(server):
    async with aiohttp.ClientSession() as session:
        async with session.get(server + "/ask-swallowed?q=four") as response:
            assert await response.json() == {"answer": "fallback"}

async def test_aiohttp_raised(server):
    async with aiohttp.ClientSession(raise_for_status=True) as session:
        try:
            await session.get(server + "/ask?q=five")
        except aiohttp.ClientResponseError as e:
            assert e.status == 500
        else:
            raise AssertionError("no error")

async def test_aiohttp_fine(server):
    async with aiohttp.ClientSession() as session:
        async with session.get(server + "/sync") as response:
            assert (await response.json())["test"] == "test_it.py::test_aiohttp_fine"

def test_after(server):
    assert httpx.get(server + "/sync").json()["test"] == "test_it.py::test_after"
"""
    )
    result = project.runpytest_subprocess()
    result.assert_outcomes(passed=8, errors=5)
    output = result.stdout.str()
    for name, question in (
        ("swallowed", "one"),
        ("streamed", "two"),
        ("failed_request", "three"),
        ("aiohttp_swallowed", "four"),
        ("aiohttp_raised", "five"),
    ):
        result.stdout.fnmatch_lines(
            [
                f"*ERROR at teardown of test_{name}*",
                "*the server that served this test's request GET http://127.0.0.1:*"
                f"/{'ask-swallowed' if name.endswith('swallowed') else 'ask'}*{question}* met a "
                "replay error; the test fails:*",
                "*served.answer*",
            ]
        )
    assert "ERROR at teardown of test_fine" not in output
    assert "ERROR at teardown of test_after" not in output
    assert "ERROR at teardown of test_aiohttp_fine" not in output


def test_the_header_is_never_part_of_a_key(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Recorded through the plugin (the SDK's request to the loopback fake carries the test
    id), the call replays outside pytest, where no header can exist: the same key."""
    import openai

    import apirec
    from apirec.integrations.openai import patch_openai
    from tests.openai_server import OpenAIServer

    server = OpenAIServer().start()
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider -p no:randomly\n")
    pytester.makepyfile(
        test_it=f"""
import openai, pytest

@pytest.mark.apirec({str(tmp_path)!r}, mode="record", integrations=["openai"])
def test_chat():
    client = openai.OpenAI(api_key="sk-test", base_url={server.base_url!r})
    reply = client.chat.completions.create(
        model="m", messages=[{{"role": "user", "content": "hello there"}}]
    )
    assert reply.choices[0].message.content == "You said: hello there"
"""
    )
    try:
        pytester.runpytest_subprocess().assert_outcomes(passed=1)
    finally:
        server.stop()
    stored = "".join(p.read_text() for p in tmp_path.rglob("*.json")).lower()
    assert "test_it.py::test_chat" in stored and "apirec-test-id" not in stored
    client = openai.OpenAI(api_key="sk-test", base_url=server.base_url)
    test = apirec.test_context("test_it.py::test_chat")
    with test, apirec.recording(tmp_path, mode="replay") as rec:
        patch_openai(rec)
        reply = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hello there"}]
        )
    assert reply.choices[0].message.content == "You said: hello there"


def test_a_client_the_plugin_does_not_hook_checks_with_raise_for_miss(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SERVER_MODE", "replay")  # nothing recorded: every call misses
    project.makepyfile(
        test_it="""
import urllib.request
import pytest
import apirec
from apirec.errors import RecordingNotFound
from apirec.servers import raise_for_miss

def get(url):
    request = urllib.request.Request(url, headers=apirec.test_headers())
    with urllib.request.urlopen(request) as response:
        return response.headers

def test_missed(server):
    headers = get(server + "/ask-swallowed?q=one")
    with pytest.raises(RecordingNotFound, match="(?s)GET /ask-swallowed met a replay.*served"):
        raise_for_miss(headers, where="GET /ask-swallowed")
    pairs = [(name.lower(), value) for name, value in headers.items()]
    with pytest.raises(RecordingNotFound):
        raise_for_miss(pairs)

def test_nothing_missed(server):
    raise_for_miss(get(server + "/sync"))
    raise_for_miss({})
"""
    )
    result = project.runpytest_subprocess()
    result.assert_outcomes(passed=2)
