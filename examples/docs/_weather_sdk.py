"""A tiny weather SDK that sends its requests with httpx: docs/integrations.md's example of an
SDK with no integration of its own (examples/docs/more_sdks.py records it with "httpx")."""

from __future__ import annotations

from typing import Any

import httpx


class Client:
    def __init__(self, base_url: str = "https://api.weather.example") -> None:
        self._http = httpx.Client(base_url=base_url)

    def forecast(self, city: str) -> dict[str, Any]:
        response = self._http.get("/v1/forecast", params={"city": city})
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer
