"""A small HTTP API on 127.0.0.1 and a small client of it built on httpx: an SDK with no
integration of its own, for the tests of ``integrations.patch(rec, "httpx")``.

- ``POST /forecast``: ``{"city", "days"}`` -> the forecast (JSON); an unknown city is a 404.
- ``POST /forecast/stream``: the same, one server-sent event per day, then ``data: [DONE]``.
- ``POST /upload``: a multipart upload -> its file's name and size.
- ``GET /busy``: a 429 the first time, then ``{"ok": true}``.
Answers carry a ``set-cookie`` that recordings must not keep.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.loopback import LoopbackServer

PRIVATE = {"set-cookie": "session=cookie-secret"}
SKIES = ["sunny", "cloudy", "rainy"]


def _days(city: str, days: int) -> list[dict[str, Any]]:
    return [{"day": d, "city": city, "sky": SKIES[(len(city) + d) % 3]} for d in range(days)]


class WeatherServer(LoopbackServer):
    def __init__(self) -> None:
        super().__init__()
        self.busy = 0
        self.authorizations: list[str] = []

    def routes_of(self) -> list[Any]:
        return [
            Route("/forecast", self.forecast, methods=["POST"]),
            Route("/forecast/stream", self.stream, methods=["POST"]),
            Route("/upload", self.upload, methods=["POST"]),
            Route("/busy", self.busy_once, methods=["GET"]),
        ]

    async def _body(self, request: Request) -> dict[str, Any]:
        self.served(request.url.path)
        self.authorizations.append(request.headers.get("authorization", ""))
        body: dict[str, Any] = await request.json()
        return body

    async def forecast(self, request: Request) -> Response:
        body = await self._body(request)
        if body["city"] == "Atlantis":
            return JSONResponse({"error": "no such city"}, status_code=404, headers=PRIVATE)
        return JSONResponse({"days": _days(body["city"], body["days"])}, headers=PRIVATE)

    async def stream(self, request: Request) -> Response:
        body = await self._body(request)

        async def events() -> AsyncIterator[bytes]:
            for day in _days(body["city"], body["days"]):
                yield f"data: {json.dumps(day)}\n\n".encode()
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream", headers=PRIVATE)

    async def upload(self, request: Request) -> Response:
        self.served(request.url.path)
        async with request.form() as form:
            upload: Any = form["file"]
            content = await upload.read()
            return JSONResponse({"name": upload.filename, "size": len(content)})

    async def busy_once(self, request: Request) -> Response:
        self.served(request.url.path)
        self.busy += 1
        if self.busy == 1:
            return JSONResponse({"error": "slow down"}, status_code=429, headers=PRIVATE)
        return JSONResponse({"ok": True})


class Weather:
    """The in-house SDK: a sync client of the weather API on httpx."""

    def __init__(self, base_url: str, api_key: str = "sk-weather-key") -> None:
        headers = {"authorization": f"Bearer {api_key}"}
        self.http = httpx.Client(base_url=base_url, headers=headers)

    def forecast(self, city: str, days: int = 2) -> list[dict[str, Any]]:
        response = self.http.post("/forecast", json={"city": city, "days": days})
        response.raise_for_status()
        days_: list[dict[str, Any]] = response.json()["days"]
        return days_

    def stream(self, city: str, days: int = 2) -> Iterator[dict[str, Any]]:
        with self.http.stream("POST", "/forecast/stream", json={"city": city, "days": days}) as r:
            for line in r.iter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    yield json.loads(line[len("data: ") :])

    def upload(self, name: str, content: bytes) -> dict[str, Any]:
        result: dict[str, Any] = self.http.post("/upload", files={"file": (name, content)}).json()
        return result

    def close(self) -> None:
        self.http.close()


class AsyncWeather:
    """The same SDK's async client."""

    def __init__(self, base_url: str, api_key: str = "sk-weather-key") -> None:
        headers = {"authorization": f"Bearer {api_key}"}
        self.http = httpx.AsyncClient(base_url=base_url, headers=headers)

    async def forecast(self, city: str, days: int = 2) -> list[dict[str, Any]]:
        response = await self.http.post("/forecast", json={"city": city, "days": days})
        response.raise_for_status()
        days_: list[dict[str, Any]] = response.json()["days"]
        return days_

    async def stream(self, city: str, days: int = 2) -> AsyncIterator[dict[str, Any]]:
        body = {"city": city, "days": days}
        async with self.http.stream("POST", "/forecast/stream", json=body) as r:
            async for line in r.aiter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    yield json.loads(line[len("data: ") :])

    async def close(self) -> None:
        await self.http.aclose()
