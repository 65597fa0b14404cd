"""A small fake of the Gemini API (google-genai's ``/v1beta/models/...``) on 127.0.0.1.

- ``:generateContent``: "You said: <last user text>" (as JSON ``{"name": <text>, "minutes": 5}``
  when asked for JSON); with function declarations in ``tools``
  it calls the first one with ``{"city": <text>}`` unless the request already carries a
  function response (then it answers with that response's text).
- ``:streamGenerateContent?alt=sse``: the same as server-sent events, one chunk per word.
- ``:embedContent`` / ``:batchEmbedContents``: vectors of 4 floats derived from the text.
- ``:countTokens``: the number of words in the request's contents.
Model ``missing`` gets a 404 Google error body; model ``breaks-midway`` streams one chunk, then
an ``{"error": ...}`` event (a 400: errors that say "try again" are not stored). Answers set
a cookie.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.loopback import LoopbackServer


def _error(code: int, status: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}


def _texts(body: dict[str, Any]) -> list[str]:
    return [p["text"] for c in body.get("contents", []) for p in c.get("parts", []) if "text" in p]


def _function_response(body: dict[str, Any]) -> Any:
    parts = [p for c in body.get("contents", []) for p in c.get("parts", [])]
    return next((p["functionResponse"] for p in parts if "functionResponse" in p), None)


def _vector(text: str) -> list[float]:
    return [round(((len(text) * (k + 5)) % 13) / 13, 6) for k in range(4)]


class GenAIServer(LoopbackServer):
    def routes_of(self) -> list[Any]:
        return [Route("/{path:path}", self.dispatch, methods=["POST"])]

    async def dispatch(self, request: Request) -> Response:
        self.served(request.url.path)
        body = await request.json()
        model, _, method = request.url.path.rsplit("/", 1)[-1].partition(":")
        if model == "missing":
            error = _error(404, "NOT_FOUND", f"models/{model} is not found")
            return JSONResponse(error, status_code=404)
        if method == "embedContent":
            return JSONResponse({"embedding": {"values": _vector(json.dumps(body["content"]))}})
        if method == "batchEmbedContents":
            vectors = [{"values": _vector(json.dumps(r["content"]))} for r in body["requests"]]
            return JSONResponse({"embeddings": vectors})
        if method == "countTokens":
            return JSONResponse({"totalTokens": len(json.dumps(body["contents"]).split())})
        if method == "streamGenerateContent":
            return StreamingResponse(self._stream(model, body), media_type="text/event-stream")
        answer = self._answer(model, body, self._words(body), "STOP")
        return JSONResponse(answer, headers={"set-cookie": "session=s3cr3t", "x-trace": "t1"})

    def _words(self, body: dict[str, Any]) -> list[str]:
        answered = _function_response(body)
        if answered is not None:
            return ["It", " is", " " + str(answered["response"].get("result", ""))]
        return ["You", " said:", *(" " + w for w in (_texts(body) or [""])[-1].split())]

    def _answer(
        self, model: str, body: dict[str, Any], words: list[str], finish: str | None
    ) -> dict[str, Any]:
        declarations = [d for t in body.get("tools", []) for d in t.get("functionDeclarations", [])]
        part: dict[str, Any] = {"text": "".join(words)}
        if body.get("generationConfig", {}).get("responseMimeType") == "application/json":
            part = {"text": json.dumps({"name": (_texts(body) or [""])[-1], "minutes": 5})}
        if declarations and _function_response(body) is None:
            city = (_texts(body) or [""])[-1]
            part = {"functionCall": {"name": declarations[0]["name"], "args": {"city": city}}}
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": [part]}, "index": 0}
        if finish:
            candidate["finishReason"] = finish
        return {
            "candidates": [candidate],
            "usageMetadata": {"promptTokenCount": 3, "totalTokenCount": 3 + len(words)},
            "modelVersion": model,
            "responseId": f"resp-{self.requests}",
        }

    async def _stream(self, model: str, body: dict[str, Any]) -> AsyncIterator[bytes]:
        words = self._words(body)
        for i, word in enumerate(words):
            if model == "breaks-midway" and i == 1:
                error = _error(400, "FAILED_PRECONDITION", "the stream broke")
                yield f"data: {json.dumps(error)}\r\n\r\n".encode()
                return
            last = i == len(words) - 1
            chunk = self._answer(model, body, [word], "STOP" if last else None)
            yield f"data: {json.dumps(chunk)}\r\n\r\n".encode()
