"""A small fake of Mistral's HTTP API on 127.0.0.1, for tests with the real mistralai SDK.

- ``POST /v1/chat/completions``: answers "You said: <last user message>"; with ``tools`` it
  calls the first tool with ``{"city": <message>}``; ``stream`` sends one SSE chunk per word,
  then ``data: [DONE]``.
- ``POST /v1/fim/completions``: the prompt back, streamed word by word too.
- ``POST /v1/embeddings``: vectors of 4 floats derived from each input.
Model ``"missing"`` gets a 422 (``{"detail": [...]}``, the SDK's ``HTTPValidationError``),
model ``"forbidden"`` a 401 (``SDKError``), model ``"busy"`` a 429 and model ``"down"`` a 503.
Answers carry a ``set-cookie`` that recordings must not keep.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.loopback import LoopbackServer

PRIVATE = {"set-cookie": "session=cookie-secret"}
ERRORS = {
    "missing": (422, {"detail": [{"loc": ["body", "model"], "msg": "no such model", "type": "x"}]}),
    "forbidden": (401, {"message": "Unauthorized", "request_id": "r-1"}),
    "busy": (429, {"message": "Requests rate limit exceeded"}),
    "down": (503, {"message": "Service unavailable"}),
}


def _vector(text: str) -> list[float]:
    return [round(((len(text) * (k + 3)) % 11) / 11, 6) for k in range(4)]


def _sse(data: Any) -> bytes:
    return f"data: {json.dumps(data)}\n\n".encode()


class MistralServer(LoopbackServer):
    def routes_of(self) -> list[Any]:
        return [
            Route("/v1/chat/completions", self.chat, methods=["POST"]),
            Route("/v1/fim/completions", self.fim, methods=["POST"]),
            Route("/v1/embeddings", self.embeddings, methods=["POST"]),
        ]

    async def _body(self, request: Request) -> dict[str, Any]:
        self.served(request.url.path)
        body: dict[str, Any] = await request.json()
        return body

    def _answer(self, body: dict[str, Any], words: list[str], tool_call: Any) -> Response:
        model = body["model"]
        if model in ERRORS:
            status, error = ERRORS[model]
            return JSONResponse(error, status_code=status, headers=PRIVATE)
        usage = {
            "prompt_tokens": 3,
            "completion_tokens": len(words),
            "total_tokens": 3 + len(words),
        }
        head = {"id": f"cmpl-{self.requests}", "model": model, "created": 1700000000}
        if not body.get("stream"):
            message = {"role": "assistant", "content": "".join(words), "tool_calls": tool_call}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            answer = {**head, "object": "chat.completion", "choices": [choice], "usage": usage}
            return JSONResponse(answer, headers=PRIVATE)

        async def chunks() -> AsyncIterator[bytes]:
            for i, word in enumerate(words):
                delta = {"role": "assistant", "content": word} if i == 0 else {"content": word}
                choice = {"index": 0, "delta": delta, "finish_reason": None}
                yield _sse({**head, "object": "chat.completion.chunk", "choices": [choice]})
            end = {"index": 0, "delta": {"content": ""}, "finish_reason": "stop"}
            yield _sse(
                {**head, "object": "chat.completion.chunk", "choices": [end], "usage": usage}
            )
            yield b"data: [DONE]\n\n"

        return StreamingResponse(chunks(), media_type="text/event-stream", headers=PRIVATE)

    async def chat(self, request: Request) -> Response:
        body = await self._body(request)
        last = next((m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), "")
        words = ["You", " said:", *(" " + w for w in str(last).split())]
        tools = body.get("tools")
        tool_call = None
        if tools:
            name = tools[0]["function"]["name"]
            arguments = json.dumps({"city": last})
            tool_call = [{"id": "call-1", "function": {"name": name, "arguments": arguments}}]
        return self._answer(body, words, tool_call)

    async def fim(self, request: Request) -> Response:
        body = await self._body(request)
        return self._answer(body, [" " + w for w in body["prompt"].split()], None)

    async def embeddings(self, request: Request) -> Response:
        body = await self._body(request)
        model = body["model"]
        if model in ERRORS:
            status, error = ERRORS[model]
            return JSONResponse(error, status_code=status, headers=PRIVATE)
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {"object": "embedding", "embedding": _vector(t), "index": i}
            for i, t in enumerate(inputs)
        ]
        usage = {"prompt_tokens": len(inputs), "total_tokens": len(inputs)}
        answer = {"id": "emb-1", "object": "list", "model": model, "data": data, "usage": usage}
        return JSONResponse(answer, headers=PRIVATE)
