"""A small fake of ollama's HTTP API on 127.0.0.1, for tests with the real ollama SDK.

- ``POST /api/chat``: answers "You said: <last user message>"; with ``tools`` it calls the
  first tool with ``{"city": <message>}``; ``stream`` sends one NDJSON line per word.
- ``POST /api/generate``: the prompt back, streamed word by word too.
- ``POST /api/embed`` / ``POST /api/embeddings``: vectors of 4 floats derived from the text.
- ``POST /api/web_search`` / ``POST /api/web_fetch``: ollama.com's web tools (the SDK calls
  them at https://ollama.com: :class:`ToTheFake` takes its requests here instead).
Model ``"missing"`` gets a 404 ``{"error": ...}`` as ollama sends; model ``"breaks-midway"``
streams one line, then an ``{"error": ...}`` line.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.loopback import LoopbackServer

CREATED = "2026-01-01T00:00:00Z"


def _vector(text: str) -> list[float]:
    return [round(((len(text) * (k + 3)) % 11) / 11, 6) for k in range(4)]


class OllamaServer(LoopbackServer):
    def routes_of(self) -> list[Any]:
        return [
            Route("/api/chat", self.chat, methods=["POST"]),
            Route("/api/generate", self.generate, methods=["POST"]),
            Route("/api/embed", self.embed, methods=["POST"]),
            Route("/api/embeddings", self.embeddings, methods=["POST"]),
            Route("/api/web_search", self.web_search, methods=["POST"]),
            Route("/api/web_fetch", self.web_fetch, methods=["POST"]),
        ]

    async def _body(self, request: Request) -> dict[str, Any]:
        self.served(request.url.path)
        body: dict[str, Any] = await request.json()
        return body

    def _answer(self, body: dict[str, Any], words: list[str], part: Any) -> Response:
        model = body["model"]
        if model == "missing":
            return JSONResponse({"error": f"model '{model}' not found"}, status_code=404)
        done = {"model": model, "created_at": CREATED, "done": True, "done_reason": "stop"}
        if not body.get("stream", True):
            return JSONResponse({**part("".join(words)), **done, "eval_count": len(words)})

        async def lines() -> AsyncIterator[bytes]:
            for i, word in enumerate(words):
                if model == "breaks-midway" and i == 1:
                    yield json.dumps({"error": "the runner stopped"}).encode() + b"\n"
                    return
                line = {"model": model, "created_at": CREATED, "done": False, **part(word)}
                yield json.dumps(line).encode() + b"\n"
            yield json.dumps({**part(""), **done, "eval_count": len(words)}).encode() + b"\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    async def chat(self, request: Request) -> Response:
        body = await self._body(request)
        last = next((m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), "")
        words = ["You", " said:", *(" " + w for w in last.split())]
        tools = body.get("tools")

        def part(text: str) -> dict[str, Any]:
            message: dict[str, Any] = {"role": "assistant", "content": text}
            if tools and text:
                name = tools[0]["function"]["name"]
                message["tool_calls"] = [{"function": {"name": name, "arguments": {"city": last}}}]
            return {"message": message}

        return self._answer(body, words, part)

    async def generate(self, request: Request) -> Response:
        body = await self._body(request)
        words = [" " + w for w in body.get("prompt", "").split()]
        return self._answer(body, words, lambda text: {"response": text})

    async def embed(self, request: Request) -> Response:
        body = await self._body(request)
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        if body["model"] == "missing":
            return JSONResponse({"error": "model 'missing' not found"}, status_code=404)
        return JSONResponse({"model": body["model"], "embeddings": [_vector(t) for t in inputs]})

    async def embeddings(self, request: Request) -> Response:
        body = await self._body(request)
        return JSONResponse({"embedding": _vector(body["prompt"])})

    async def web_search(self, request: Request) -> Response:
        body = await self._body(request)
        results = [
            {"title": f"{body['query']} {i}", "url": f"https://example.org/{i}", "content": "..."}
            for i in range(body.get("max_results", 3))
        ]
        return JSONResponse({"results": results})

    async def web_fetch(self, request: Request) -> Response:
        body = await self._body(request)
        return JSONResponse({"title": body["url"], "content": "A page.", "links": []})


class ToTheFake(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An httpx transport that sends requests for another host (https://ollama.com) to the
    fake: ``ollama.Client(host=..., mounts={"https://ollama.com": ToTheFake(fake.url)})``."""

    def __init__(self, url: str) -> None:
        self.url = httpx.URL(url)
        self.sync = httpx.HTTPTransport()
        self.async_ = httpx.AsyncHTTPTransport()

    def _moved(self, request: httpx.Request) -> httpx.Request:
        request.url = request.url.copy_with(
            scheme=self.url.scheme, host=self.url.host, port=self.url.port
        )
        return request

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.sync.handle_request(self._moved(request))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.async_.handle_async_request(self._moved(request))

    def close(self) -> None:
        self.sync.close()

    async def aclose(self) -> None:
        await self.async_.aclose()
