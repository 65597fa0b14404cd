"""A small fake of Cohere's v2 HTTP API on 127.0.0.1, for tests with the real cohere SDK.

- ``POST /v2/chat``: answers "You said: <last user message>"; with ``stream`` the events
  Cohere sends (``message-start``, ``content-delta`` per word, ``message-end``) as SSE.
- ``POST /v2/embed``: float vectors of 4 derived from each text.
- ``POST /v2/rerank``: the documents by how many words they share with the query.
Model ``"missing"`` gets a 404 (the SDK's ``NotFoundError``), ``"bad"`` a 400
(``BadRequestError``), ``"busy"`` a 429 and ``"down"`` a 503. Answers carry a ``set-cookie``
that recordings must not keep.
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
ERRORS = {"missing": 404, "bad": 400, "busy": 429, "down": 503}
USAGE = {"billed_units": {"input_tokens": 3, "output_tokens": 5}, "tokens": {"input_tokens": 3}}


def _sse(data: dict[str, Any]) -> bytes:
    return f"event: {data['type']}\ndata: {json.dumps(data)}\n\n".encode()


class CohereServer(LoopbackServer):
    def routes_of(self) -> list[Any]:
        return [
            Route("/v2/chat", self.chat, methods=["POST"]),
            Route("/v2/embed", self.embed, methods=["POST"]),
            Route("/v2/rerank", self.rerank, methods=["POST"]),
        ]

    async def _body(self, request: Request) -> dict[str, Any]:
        self.served(request.url.path)
        body: dict[str, Any] = await request.json()
        return body

    def _refused(self, body: dict[str, Any]) -> Response | None:
        status = ERRORS.get(body.get("model", ""))
        if status is None:
            return None
        return JSONResponse({"message": f"model {body['model']!r}"}, status, headers=PRIVATE)

    async def chat(self, request: Request) -> Response:
        body = await self._body(request)
        if refused := self._refused(body):
            return refused
        last = next((m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), "")
        words = ["You", " said:", *(" " + w for w in str(last).split())]
        if not body.get("stream"):
            message = {"role": "assistant", "content": [{"type": "text", "text": "".join(words)}]}
            answer = {"id": "c-1", "finish_reason": "COMPLETE", "message": message, "usage": USAGE}
            return JSONResponse(answer, headers=PRIVATE)

        async def events() -> AsyncIterator[bytes]:
            start = {"message": {"role": "assistant", "content": []}}
            yield _sse({"type": "message-start", "id": "c-1", "delta": start})
            for word in words:
                delta = {"message": {"content": {"text": word}}}
                yield _sse({"type": "content-delta", "index": 0, "delta": delta})
            end = {"finish_reason": "COMPLETE", "usage": USAGE}
            yield _sse({"type": "message-end", "delta": end})

        return StreamingResponse(events(), media_type="text/event-stream", headers=PRIVATE)

    async def embed(self, request: Request) -> Response:
        body = await self._body(request)
        if refused := self._refused(body):
            return refused
        vectors = [
            [round(((len(t) * (k + 3)) % 11) / 11, 6) for k in range(4)] for t in body["texts"]
        ]
        answer = {
            "id": "e-1",
            "response_type": "embeddings_by_type",
            "embeddings": {"float": vectors},
            "texts": body["texts"],
        }
        return JSONResponse(answer, headers=PRIVATE)

    async def rerank(self, request: Request) -> Response:
        body = await self._body(request)
        if refused := self._refused(body):
            return refused
        query = set(body["query"].split())
        scores = [len(query & set(d.split())) / (len(query) or 1) for d in body["documents"]]
        ranked = sorted(range(len(scores)), key=lambda i: -scores[i])
        results = [{"index": i, "relevance_score": scores[i]} for i in ranked]
        return JSONResponse({"id": "r-1", "results": results}, headers=PRIVATE)
