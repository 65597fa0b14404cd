"""Shown end to end (issue 23, C): a test project starts a Starlette app through
``python -m apirec run -- uvicorn app:app``; the app calls the real openai client against the
loopback fake; two tests send it HTTP requests. Recorded once, the calls replay with the
upstream stopped, each recording carrying the id of the test that sent the request; a call
the recordings lack fails the test that caused it, and never goes out."""

from __future__ import annotations

import json
import re
import sys

import pytest

from tests.openai_server import OpenAIServer

APP = """
import os

import openai
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from apirec.servers import asgi_middleware


async def ask(request: Request) -> JSONResponse:
    client = openai.AsyncOpenAI(base_url=os.environ["UPSTREAM_URL"], max_retries=0)
    reply = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": request.query_params["q"]}],
    )
    return JSONResponse({"answer": reply.choices[0].message.content, "pid": os.getpid()})


app = asgi_middleware(Starlette(routes=[Route("/ask", ask)]))
"""

CONFTEST = """
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

UVICORN = str(Path(sys.executable).with_name("uvicorn"))  # the console script


def _free_port():
    with socket.socket() as probe:  # uvicorn's workers cannot be handed a bound socket
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listens(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _start(port):
    # the mode is the run's: --apirec-mode reaches the server through APIREC_MODE
    command = [
        sys.executable, "-m", "apirec", "run", "--dir", "server-recordings",
        "--integrations", "openai", "--",
        UVICORN, "app:app", "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
        *WORKERS,
    ]
    # its own process group: if it does not start, its workers go with it
    server = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, start_new_session=True)
    log = []
    # drained all along: a server blocked writing to a full pipe would never listen
    reader = threading.Thread(target=lambda: log.extend(server.stderr), daemon=True)
    reader.start()
    return server, log, reader


@pytest.fixture(scope="session")
def app_url():
    deadline = time.monotonic() + 180  # a loaded CI machine starts workers slowly
    for attempt in range(5):
        port = _free_port()
        server, log, reader = _start(port)
        try:
            # ours once uvicorn says it runs there (it has bound the port) and the port takes
            # connections (the line can come first under --workers); another test's server
            # may take the probed port first: then uvicorn exits, and we try another port
            while not (f"127.0.0.1:{port}" in "".join(log) and _listens(port)):
                if server.poll() is not None:
                    break
                assert time.monotonic() < deadline, "".join(log)
                time.sleep(0.05)
        except BaseException:
            os.killpg(server.pid, signal.SIGKILL)  # never left running when it did not start
            raise
        if server.poll() is None:
            break
        reader.join(timeout=10)
        taken = "address already in use" in "".join(log).lower()
        assert taken and attempt < 4, "".join(log)
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    code = server.wait(timeout=30)
    reader.join(timeout=10)
    Path("server.log").write_text("".join(log) + f"exit {code}\\n")
"""

TESTS = """
import httpx


def test_greeting(app_url):
    reply = httpx.get(app_url + "/ask", params={"q": "hello there"}).json()
    assert reply["answer"] == "You said: hello there"


def test_farewell(app_url):
    reply = httpx.get(app_url + "/ask", params={"q": "QUESTION"}).json()
    assert reply["answer"] == "You said: QUESTION"
"""


def _project(pytester: pytest.Pytester, workers: tuple[str, ...]) -> None:
    pytester.makepyfile(app=APP)
    pytester.makeconftest(CONFTEST + f"\nWORKERS = {list(workers)!r}\n")
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider -p no:randomly\n")


def _run(pytester: pytest.Pytester, mode: str, question: str) -> pytest.RunResult:
    pytester.makepyfile(test_app=TESTS.replace("QUESTION", question))
    return pytester.runpytest_subprocess(f"--apirec-mode={mode}")


def _server_counts(pytester: pytest.Pytester, status: int) -> dict[str, int]:
    """The server's summary lines (one per process that saw calls), added up."""
    log = (pytester.path / "server.log").read_text()
    # uvicorn's own exit status on SIGTERM, as without apirec: one process re-raises the
    # signal it handled (-15), the supervisor of --workers exits 0
    assert log.endswith(f"exit {status}\n"), log
    counts = dict.fromkeys(("replayed", "recorded", "live", "missed"), 0)
    for line in log.splitlines():
        if line.startswith("apirec run [pid "):
            for number, what in re.findall(r"(\d+) (replayed|recorded|live|missed)", line):
                counts[what] += int(number)
    return counts


def _stored(pytester: pytest.Pytester) -> list[dict[str, object]]:
    where = pytester.path / "server-recordings"
    return [json.loads(p.read_text()) for p in sorted(where.glob("*.json"))]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize(
    ("workers", "status"),
    [((), -15), (("--workers", "2"), 0)],
    ids=["one-process", "two-workers"],
)
def test_an_app_under_apirec_run_records_for_two_tests_then_replays_offline(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    workers: tuple[str, ...],
    status: int,
) -> None:
    _project(pytester, workers)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-served-0123456789")
    upstream = OpenAIServer().start()
    monkeypatch.setenv("UPSTREAM_URL", upstream.base_url)
    try:
        _run(pytester, "record", "good night").assert_outcomes(passed=2)
        assert upstream.requests == 2
    finally:
        upstream.stop()
    assert _server_counts(pytester, status) == {
        "replayed": 0,
        "recorded": 2,
        "live": 0,
        "missed": 0,
    }
    entries = _stored(pytester)
    assert sorted(str(e["test_id"]) for e in entries) == [
        "test_app.py::test_farewell",
        "test_app.py::test_greeting",
    ]
    asked = {e["test_id"]: json.dumps(e["request"]) for e in entries}
    assert "good night" in asked["test_app.py::test_farewell"]
    assert "hello there" in asked["test_app.py::test_greeting"]

    # replay: the upstream is stopped and no key is set; the server guards the network
    monkeypatch.delenv("OPENAI_API_KEY")
    _run(pytester, "replay", "good night").assert_outcomes(passed=2)
    assert _server_counts(pytester, status) == {
        "replayed": 2,
        "recorded": 0,
        "live": 0,
        "missed": 0,
    }
    assert len(_stored(pytester)) == 2

    if workers:
        return  # the rest is the same with one process
    # a question never recorded: the server misses, and the test that asked fails with it
    result = _run(pytester, "replay", "see you")
    result.assert_outcomes(passed=1, failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_farewell*",
            "*the server that served this test's request GET http://127.0.0.1:*/ask?q=see*"
            "met a replay error; the test fails:*",
            "*No recording of openai.chat.completions.create()*",
            "*To record it, run the test with the mode (the server must follow it):*",
            "*pytest test_app.py::test_farewell --apirec-mode=record-if-missing*",
            "*through `apirec run` and passes the mode on*APIREC_MODE*",
        ]
    )
    # never the server's own command line, which records nothing
    assert "uvicorn app:app" not in result.stdout.str()
    log = (pytester.path / "server.log").read_text()
    assert "APIREC_MODE=record-if-missing " not in log
    assert _server_counts(pytester, status) == {
        "replayed": 1,
        "recorded": 0,
        "live": 0,
        "missed": 1,
    }
    assert upstream.requests == 2
