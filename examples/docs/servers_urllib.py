"""docs/servers.md: a client the plugin does not hook (urllib) sends the test id itself and
checks the response for a replay error the server carried back."""

import tempfile
import threading
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import apirec
import apirec.servers
from apirec.errors import RecordingNotFound


@apirec.record
def answer(question: str) -> str:
    return "live: " + question


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    try:  # the server's app turns a miss into a fallback: the test must still fail
        body = answer(environ["QUERY_STRING"])
    except RecordingNotFound:
        body = "fallback"
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body.encode()]


class Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


def check(url: str) -> None:
    request = urllib.request.Request(url, headers=apirec.test_headers())
    with urllib.request.urlopen(request) as response:
        apirec.servers.raise_for_miss(response.headers, where=f"GET {url}")


server = make_server("127.0.0.1", 0, apirec.servers.wsgi_middleware(app), handler_class=Quiet)
threading.Thread(target=server.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{server.server_port}/ask?hello"
# nothing recorded, so the call misses; test_context as while pytest runs that test
with (
    apirec.recording(tempfile.mkdtemp(), mode="replay"),
    apirec.test_context("test_app.py::test_ask"),
):
    try:
        check(url)
    except RecordingNotFound as e:
        print(str(e).splitlines()[0])
    else:
        raise SystemExit("the miss did not come back")
server.shutdown()
