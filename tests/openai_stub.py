"""A small OpenAI-compatible HTTP server on 127.0.0.1 for the integration tests.

Answers chat completions (plain and streamed as server-sent events), legacy completions,
embeddings and the model list; a request for model ``"bad-model"`` gets a 400 error in the
OpenAI shape. Each answer carries a fresh id and the request count, so a test can tell a
replayed answer (old id, no new request) from a live one.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class StubServer:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.models = ["stub-chat", "stub-embed"]

    def next_id(self) -> int:
        with self._lock:
            return next(self._ids)

    @property
    def count(self) -> int:
        return len(self.requests)


def _chat(n: int, body: dict[str, Any]) -> dict[str, Any]:
    text = " ".join(m.get("content", "") for m in body.get("messages", []) if isinstance(m, dict))
    return {
        "id": f"chatcmpl-{n}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": f"echo #{n}: {text}"},
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
    }


def _chunks(n: int, body: dict[str, Any]) -> list[dict[str, Any]]:
    words = ["one", "two", "three"]
    chunks = []
    for i, word in enumerate([*words, None]):
        delta = {"content": word} if word else {}
        if i == 0:
            delta["role"] = "assistant"
        chunks.append(
            {
                "id": f"chatcmpl-{n}",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {"index": 0, "delta": delta, "finish_reason": None if word else "stop"}
                ],
            }
        )
    return chunks


def _completion(n: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"cmpl-{n}",
        "object": "text_completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [{"index": 0, "text": f" #{n}", "finish_reason": "stop", "logprobs": None}],
    }


def _embeddings(n: int, body: dict[str, Any]) -> dict[str, Any]:
    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
    return {
        "object": "list",
        "model": body["model"],
        "data": [
            {"object": "embedding", "index": i, "embedding": [n + 0.25, i + 0.5, -1.125]}
            for i, _ in enumerate(inputs)
        ],
        "usage": {"prompt_tokens": 2, "total_tokens": 2},
    }


def _handler(stub: StubServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            stub.requests.append(("GET", self.path, {}))
            if self.path.rstrip("/").endswith("/models"):
                models = [
                    {"id": m, "object": "model", "created": 1700000000 + i, "owned_by": "stub"}
                    for i, m in enumerate(stub.models)
                ]
                self._send(200, {"object": "list", "data": models})
            else:
                self._send(404, {"error": {"message": "no such route", "type": "not_found"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            stub.requests.append(("POST", self.path, body))
            n = stub.next_id()
            if body.get("model") == "bad-model":
                error = {
                    "message": "the model 'bad-model' does not exist",
                    "type": "invalid_request_error",
                    "param": "model",
                    "code": None,
                }
                self._send(400, {"error": error})
                return
            path = self.path.rstrip("/")
            if path.endswith("/chat/completions") and body.get("stream"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for chunk in _chunks(n, body):
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
            elif path.endswith("/chat/completions"):
                self._send(200, _chat(n, body))
            elif path.endswith("/completions"):
                self._send(200, _completion(n, body))
            elif path.endswith("/embeddings"):
                self._send(200, _embeddings(n, body))
            else:
                self._send(404, {"error": {"message": "no such route", "type": "not_found"}})

    return Handler


@contextmanager
def serve() -> Iterator[tuple[str, StubServer]]:
    """Run the stub on a free 127.0.0.1 port; yields ``(base_url, stub)``."""
    stub = StubServer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
