"""Review 21: compare mode against a service that answers as the real providers do, with a new
answer id and creation time on every call (openai's ``chatcmpl-...`` and ``created``,
anthropic's ``msg_...``).

docs/staying-true.md, "Compare": "content then: the values that differ (HTTP headers are left
out: dates and request ids change on every call)"; `--apirec-compare=strict` fails the run when
"anything changed". The loopback fakes of the suite answer with a fixed id and time, which hides
that an unchanged answer of a real provider is never `same`: every call of every nightly run is
reported as a content difference, and a strict run always fails.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from .plugin_helpers import setup

_ids = itertools.count(1)


class _Chat(BaseHTTPRequestHandler):
    """POST /v1/chat/completions: the same text every time, a new id and time every call."""

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        body = json.loads(self.rfile.read(length))
        n = next(_ids)
        answer = {
            "id": f"chatcmpl-{n:08x}{n * 7919:08x}",
            "object": "chat.completion",
            "created": 1_700_000_000 + n,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": "The same answer."},
                }
            ],
            "usage": {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9},
        }
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def provider() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Chat)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


TEST = """
import os, openai, pytest

@pytest.mark.apirec(integrations=["openai"])
def test_chat():
    with openai.OpenAI(base_url=os.environ["PROVIDER"], api_key="sk-test", max_retries=0) as c:
        reply = c.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hello"}]
        )
    assert reply.choices[0].message.content == "The same answer."
"""


def test_an_unchanged_answer_with_a_new_id_is_the_same(pytester, monkeypatch, provider):
    monkeypatch.setenv("PROVIDER", provider)
    setup(pytester)
    pytester.makepyfile(test_chat=TEST)
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=1)
    result = pytester.runpytest(
        "--apirec-mode=compare", "--apirec-compare=strict", "--apirec-compare-report=r.json"
    )
    result.assert_outcomes(passed=1)
    report = json.loads((pytester.path / "r.json").read_text())
    (call,) = report["tests"]["test_chat.py::test_chat"]
    assert call["outcome"] == "same", call["differences"]
    assert result.ret == pytest.ExitCode.OK
