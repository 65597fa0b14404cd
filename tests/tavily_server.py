"""A small fake of the Tavily API on 127.0.0.1, for tests with the real tavily-python SDK.

``POST /search``, ``/extract``, ``/crawl``, ``/map`` answer in the API's shapes, derived from
the request. ``POST /research`` starts a task (or, with ``stream``, sends its events, one per
word); ``GET /research/{id}`` answers "pending" the first time, then the result. Query
``"bad"`` gets a 400 and query ``"forbidden"`` a 432 (plan limit), with Tavily's
``{"detail": {"error": ...}}`` body.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.loopback import LoopbackServer


class TavilyServer(LoopbackServer):
    polls = 0  # GET /research/{id} since the task started

    def routes_of(self) -> list[Any]:
        return [
            Route(f"/{name}", getattr(self, name), methods=["POST"])
            for name in ("search", "extract", "crawl", "map", "research")
        ] + [Route("/research/{request_id}", self.get_research, methods=["GET"])]

    async def _body(self, request: Request) -> dict[str, Any]:
        self.served(request.url.path)
        body: dict[str, Any] = await request.json()
        return body

    async def search(self, request: Request) -> Response:
        body = await self._body(request)
        query = body["query"]
        if query in ("bad", "forbidden"):
            status = 400 if query == "bad" else 432
            return JSONResponse({"detail": {"error": f"{query} query"}}, status_code=status)
        results = [
            {
                "title": f"{query} {i}",
                "url": f"https://example.org/{i}",
                "content": f"About {query}",
                "score": 0.9 - i / 10,
            }
            for i in range(body.get("max_results", 2))
        ]
        answer = f"{query}: yes" if body.get("include_answer") else None
        return JSONResponse({"query": query, "answer": answer, "results": results})

    async def extract(self, request: Request) -> Response:
        body = await self._body(request)
        urls = body["urls"] if isinstance(body["urls"], list) else [body["urls"]]
        results = [{"url": u, "raw_content": f"Text of {u}"} for u in urls]
        return JSONResponse({"results": results, "failed_results": []})

    async def crawl(self, request: Request) -> Response:
        body = await self._body(request)
        pages = [f"{body['url']}/page{i}" for i in range(body.get("limit", 2))]
        results = [{"url": p, "raw_content": f"Text of {p}"} for p in pages]
        return JSONResponse({"base_url": body["url"], "results": results})

    async def map(self, request: Request) -> Response:
        body = await self._body(request)
        pages = [f"{body['url']}/page{i}" for i in range(body.get("limit", 2))]
        return JSONResponse({"base_url": body["url"], "results": pages})

    async def research(self, request: Request) -> Response:
        body = await self._body(request)
        words = ["Llamas", " are", " camelids."]
        if not body.get("stream"):
            self.polls = 0
            return JSONResponse({"request_id": "r-1", "status": "pending", "input": body["input"]})

        async def events() -> AsyncIterator[bytes]:
            for word in words:
                yield f"data: {json.dumps({'content': word})}\n\n".encode()

        return StreamingResponse(events(), media_type="text/event-stream")

    async def get_research(self, request: Request) -> Response:
        self.served(request.url.path)
        self.polls += 1
        if self.polls == 1:
            return JSONResponse({"request_id": "r-1", "status": "pending"}, status_code=202)
        return JSONResponse({"request_id": "r-1", "status": "completed", "content": "Camelids."})
