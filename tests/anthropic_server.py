"""A small Anthropic-compatible HTTP server on 127.0.0.1, for tests with the real anthropic SDK.

Served like :mod:`tests.openai_server` (its thread and counters). Deterministic answers:

- ``POST /v1/messages``: the last user message back, word by word ("You said: ..."); with
  ``stream=true`` as the server-sent events ``messages.stream()`` reads. Model ``"bad-model"``
  gets a 400 with an Anthropic error body; model ``"breaks-midway"`` streams its start and one
  word, then an ``error`` event the request caused (not transient); model
  ``"overloaded-once"``, the first time per last user message, an ``overloaded_error`` event
  there instead, and the whole answer after that; model ``"echo-key"`` answers with the
  caller's key and message in 8-character pieces (a secret cut across stream events).
- ``POST /v1/messages/count_tokens``: the number of words in the messages.

Answers carry a ``request-id`` and private headers (a cookie, an organisation id).

``change`` (as :mod:`tests.openai_server`'s) alters the messages answered from then on:
``"text"`` ("You wrote: ..."), ``"added"`` (a new usage field, ``cache_read_input_tokens``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.openai_server import OpenAIServer

BAD_REQUEST = {
    "type": "error",
    "error": {"type": "invalid_request_error", "message": "model: bad-model does not exist"},
}
PRIVATE_HEADERS = {
    "set-cookie": "session=cookie-secret-1",
    "anthropic-organization-id": "org-secret-2",
}


def _words(messages: list[dict[str, Any]]) -> list[str]:
    last = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    if isinstance(last, list):  # content blocks
        last = " ".join(b.get("text", "") for b in last)
    return ["You", " said:", *(" " + w for w in str(last).split())]


def _message(model: str, text: str | None, stop: str | None, output_tokens: int) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [] if text is None else [{"type": "text", "text": text}],
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": 5, "output_tokens": output_tokens},
    }


def _event(data: dict[str, Any]) -> bytes:
    return f"event: {data['type']}\ndata: {json.dumps(data)}\n\n".encode()


class AnthropicServer(OpenAIServer):
    def routes(self) -> list[Route]:
        return [
            Route("/v1/messages", self.messages, methods=["POST"]),
            Route("/v1/messages/count_tokens", self.count_tokens, methods=["POST"]),
        ]

    def headers(self) -> dict[str, str]:
        return {"request-id": f"req_{self.requests}", **PRIVATE_HEADERS}

    async def messages(self, request: Request) -> Response:
        self.requests += 1
        body = await request.json()
        model = body["model"]
        if model == "bad-model":
            return JSONResponse(BAD_REQUEST, status_code=400, headers=self.headers())
        words = _words(body["messages"])
        if self.change == "text":
            words[1] = " wrote:"
        if model == "echo-key":  # the caller's key and message back, in 8-character pieces
            bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
            key = request.headers.get("x-api-key") or bearer  # newer SDKs send a Bearer
            said = f"Your key is {key}. You said:{''.join(words[2:])}"
            words = [said[start : start + 8] for start in range(0, len(said), 8)]
        if body.get("stream"):
            return StreamingResponse(
                self._stream(model, words), media_type="text/event-stream", headers=self.headers()
            )
        answer = self._changed(_message(model, "".join(words), "end_turn", len(words)))
        return JSONResponse(answer, headers=self.headers())

    def _changed(self, message: dict[str, Any]) -> dict[str, Any]:
        if self.change == "added":
            message["usage"]["cache_read_input_tokens"] = 0
        return message

    async def _stream(self, model: str, words: list[str]) -> AsyncIterator[bytes]:
        start = self._changed(_message(model, None, None, 0))
        yield _event({"type": "message_start", "message": start})
        block = {"type": "text", "text": ""}
        yield _event({"type": "content_block_start", "index": 0, "content_block": block})
        for n, word in enumerate(words):
            delta = {"type": "text_delta", "text": word}
            yield _event({"type": "content_block_delta", "index": 0, "delta": delta})
            if model == "breaks-midway" and n == 0:
                error = {"type": "invalid_request_error", "message": "Output blocked by policy"}
                yield _event({"type": "error", "error": error})
                return
            said = "".join(words)
            if model == "overloaded-once" and n == 0 and not self.broken.get(said):
                self.broken[said] = 1
                error = {"type": "overloaded_error", "message": "Overloaded"}
                yield _event({"type": "error", "error": error})
                return
        yield _event({"type": "content_block_stop", "index": 0})
        delta = {"stop_reason": "end_turn", "stop_sequence": None}
        usage = {"output_tokens": len(words)}
        yield _event({"type": "message_delta", "delta": delta, "usage": usage})
        yield _event({"type": "message_stop"})

    async def count_tokens(self, request: Request) -> Response:
        self.requests += 1
        body = await request.json()
        return JSONResponse({"input_tokens": len(_words(body["messages"])) - 2})
