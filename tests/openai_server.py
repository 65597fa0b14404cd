"""A small OpenAI-compatible HTTP server on 127.0.0.1, for tests with the real openai SDK.

Starlette app served by uvicorn in a thread. Deterministic answers:

- ``POST /v1/chat/completions``: echoes the last user message word by word ("You said: ...");
  with ``tools`` it calls the first tool with ``{"query": <message>}``; ``stream=true`` sends
  the same as server-sent events, one chunk per word (and a usage chunk when asked).
  Model ``"bad-model"`` gets a 400 with an OpenAI error body; model ``"busy-twice"`` gets a
  429 (rate limited, with ``retry-after: 0``) for the first two requests with a given last user
  message, then the answer; model ``"breaks-midway"`` streams
  two chunks, then an error event; model ``"gated"`` streams its first chunk, then waits for
  ``gate`` to be set before sending the rest (``sent`` counts the chunks sent).
- ``POST /v1/completions``: the prompt back (legacy completions), streamed word by word too.
- ``POST /v1/embeddings``: one vector of 8 floats per input, derived from the text.
- ``GET /v1/models``: two models.

``requests`` counts the requests served, so tests can show replay never reached it.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

CREATED = 1_700_000_000
BAD_REQUEST = {
    "error": {
        "message": "The model `bad-model` does not exist",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }
}

RATE_LIMITED = {
    "error": {
        "message": "Rate limit reached, please try again",
        "type": "rate_limit_error",
        "param": None,
        "code": "rate_limit_exceeded",
    }
}


def reply_words(messages: list[dict[str, Any]]) -> list[str]:
    last = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    return ["You", " said:", *(" " + w for w in str(last).split())]


def _tool_call(tools: list[dict[str, Any]], text: str) -> dict[str, Any]:
    return {
        "id": "call_0",
        "type": "function",
        "function": {
            "name": tools[0]["function"]["name"],
            "arguments": json.dumps({"query": text}),
        },
    }


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }


def _sse(data: Any) -> bytes:
    return f"data: {json.dumps(data)}\n\n".encode()


class OpenAIServer:
    def __init__(self) -> None:
        self.requests = 0
        self.sent = 0
        self.gate = threading.Event()
        self.refused: dict[str, int] = {}  # model "busy-twice": 429s sent, per last message
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self.chat, methods=["POST"]),
                Route("/v1/completions", self.completions, methods=["POST"]),
                Route("/v1/embeddings", self.embeddings, methods=["POST"]),
                Route("/v1/models", self.models, methods=["GET"]),
            ]
        )
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self.base_url = ""

    def start(self) -> OpenAIServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test OpenAI server did not start")
            time.sleep(0.005)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    async def chat(self, request: Request) -> Response:
        self.requests += 1
        body = await request.json()
        model = body["model"]
        if model == "bad-model":
            return JSONResponse(BAD_REQUEST, status_code=400)
        words = reply_words(body["messages"])
        if model == "busy-twice":
            said = "".join(words)
            if self.refused.get(said, 0) < 2:
                self.refused[said] = self.refused.get(said, 0) + 1
                return JSONResponse(RATE_LIMITED, status_code=429, headers={"retry-after": "0"})
        tools = body.get("tools")
        if body.get("stream"):
            return StreamingResponse(self._stream(body, words), media_type="text/event-stream")
        message: dict[str, Any] = {"role": "assistant", "content": "".join(words)}
        finish = "stop"
        if tools:
            message = {"role": "assistant", "content": None}
            message["tool_calls"] = [_tool_call(tools, "".join(words[2:]).strip())]
            finish = "tool_calls"
        return JSONResponse(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": CREATED,
                "model": model,
                "choices": [
                    {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
                ],
                "usage": {"prompt_tokens": 5, "completion_tokens": len(words), "total_tokens": 9},
            },
            headers={"x-request-id": f"req_{self.requests}"},  # the SDK's ``_request_id``
        )

    async def _stream(self, body: dict[str, Any], words: list[str]) -> AsyncIterator[bytes]:
        model = body["model"]
        self.sent += 1
        yield _sse(_chunk(model, {"role": "assistant", "content": ""}))
        if model == "gated" and not await asyncio.to_thread(self.gate.wait, 10):
            return  # never opened: the test has failed already; end the response
        if model == "breaks-midway":
            yield _sse(_chunk(model, {"content": words[0]}))
            yield _sse({"error": {"message": "upstream overloaded", "type": "server_error"}})
            return
        tools = body.get("tools")
        if tools:
            call = _tool_call(tools, "".join(words[2:]).strip())
            arguments = call["function"]["arguments"]
            call["function"]["arguments"] = ""
            yield _sse(_chunk(model, {"tool_calls": [{"index": 0, **call}]}))
            for start in range(0, len(arguments), 7):
                piece = {"index": 0, "function": {"arguments": arguments[start : start + 7]}}
                yield _sse(_chunk(model, {"tool_calls": [piece]}))
            yield _sse(_chunk(model, {}, "tool_calls"))
        else:
            for word in words:
                self.sent += 1
                yield _sse(_chunk(model, {"content": word}))
            yield _sse(_chunk(model, {}, "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {"prompt_tokens": 5, "completion_tokens": len(words), "total_tokens": 9}
            yield _sse({**_chunk(model, {}), "choices": [], "usage": usage})
        yield b"data: [DONE]\n\n"

    async def completions(self, request: Request) -> Response:
        """Legacy completions: the prompt's words back, one chunk per word when streamed."""
        self.requests += 1
        body = await request.json()
        words = [" " + w for w in str(body["prompt"]).split()]

        def completion(text: str, finish: str | None) -> dict[str, Any]:
            choice = {"index": 0, "text": text, "finish_reason": finish, "logprobs": None}
            return {
                "id": "cmpl-1",
                "object": "text_completion",
                "created": CREATED,
                "model": body["model"],
                "choices": [choice],
            }

        if body.get("stream"):

            async def chunks() -> AsyncIterator[bytes]:
                for word in words:
                    yield _sse(completion(word, None))
                yield _sse(completion("", "stop"))
                yield b"data: [DONE]\n\n"

            return StreamingResponse(chunks(), media_type="text/event-stream")
        return JSONResponse(completion("".join(words), "stop"))

    async def embeddings(self, request: Request) -> Response:
        self.requests += 1
        body = await request.json()
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {
                "object": "embedding",
                "index": i,
                "embedding": [round(((len(text) * (k + 1)) % 17) / 17, 6) for k in range(8)],
            }
            for i, text in enumerate(inputs)
        ]
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": len(inputs), "total_tokens": len(inputs)},
            }
        )

    async def models(self, request: Request) -> Response:
        self.requests += 1
        data = [
            {"id": name, "object": "model", "created": CREATED, "owned_by": "apirec-tests"}
            for name in ("gpt-test", "gpt-test-mini")
        ]
        return JSONResponse({"object": "list", "data": data})
