"""Rerank requests keyed as llama-stack's (OGX's) recorder keyed them (f68c98a3c, v0.6.0):
``integrations.patch(rec, "aiohttp", keys="llama-stack")``.

Upstream patches ``aiohttp.ClientSession.post`` and records only URLs containing ``/rerank``
(NVIDIA's ``.../reranking``, vLLM's ``/rerank`` as its provider called it through aiohttp),
keyed by URL and JSON payload like the httpx passthroughs
(:class:`apirec.integrations.llama_stack_http.HttpKeys`), stored as ``{"status", "body":
<the JSON answer>, "is_streaming": false}``. What ``post`` gives back, recorded or replayed, is
the answer read in full: a stand-in of aiohttp's response with ``status``, ``json()``,
``text()``, ``read()`` and ``raise_for_status()``, usable as ``async with session.post(...)``
(as upstream's) or awaited. Other requests go through untouched.
"""

from __future__ import annotations

import functools
import importlib
import json
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from apirec.integrations.llama_stack_http import HttpKeys, recording_active
from apirec.record.wrapping import Patch, wrap

if TYPE_CHECKING:
    from apirec.record.recording import Recording

RERANK = "/rerank"


def patch_aiohttp(rec: Recording) -> list[Patch]:
    importlib.import_module("aiohttp")
    patch = PostPatch("aiohttp.ClientSession.post", name="POST rerank", keying=HttpKeys())
    return [rec.start_patch(patch)]


class PostPatch(Patch):
    """``aiohttp.ClientSession.post`` to a rerank URL: recorded by status and JSON body."""

    def build(self, original: Any, options: dict[str, Any]) -> Any:
        aiohttp: Any = importlib.import_module("aiohttp")

        @functools.wraps(original)
        async def post_json(session: Any, **kwargs: Any) -> dict[str, Any]:
            async with original(session, **kwargs) as response:
                # as upstream: the body read as JSON whatever its content type
                return {"status": response.status, "body": await response.json(content_type=None)}

        recorded = wrap(post_json, **options)

        @functools.wraps(original)
        def post(session: Any, url: Any, **kwargs: Any) -> Any:
            if RERANK not in str(url) or not recording_active():
                return original(session, url, **kwargs)
            answer = recorded.__get__(session, type(session))(url=url, **kwargs)
            return _Answered(answer, aiohttp, str(url))

        post.__apirec_original__ = original  # type: ignore[attr-defined]
        return post


class _Answered:
    """What ``session.post(...)`` gives for a rerank URL: awaited or entered, the answer."""

    def __init__(self, answer: Any, aiohttp: Any, url: str) -> None:
        self._answer, self._aiohttp, self._url = answer, aiohttp, url

    async def _response(self) -> Response:
        answer = await self._answer
        return Response(answer["status"], answer["body"], self._aiohttp, self._url)

    def __await__(self) -> Generator[Any, None, Response]:
        return self._response().__await__()

    async def __aenter__(self) -> Response:
        return await self._response()

    async def __aexit__(self, *exc: object) -> None:
        return None


class Response:
    """The recorded answer as much of ``aiohttp.ClientResponse`` as a rerank client reads."""

    def __init__(self, status: int, body: Any, aiohttp: Any, url: str) -> None:
        self.status, self._body, self._aiohttp = status, body, aiohttp
        multidict: Any = importlib.import_module("multidict")  # aiohttp's own dependencies
        self.url = importlib.import_module("yarl").URL(url)
        self.method = "POST"
        self.headers = multidict.CIMultiDictProxy(
            multidict.CIMultiDict({"Content-Type": "application/json"})
        )
        self.ok = status < 400

    async def json(self, **kwargs: Any) -> Any:
        return self._body

    async def text(self, **kwargs: Any) -> str:
        return json.dumps(self._body)

    async def read(self) -> bytes:
        return json.dumps(self._body).encode()

    def raise_for_status(self) -> None:
        if self.ok:
            return
        info = self._aiohttp.RequestInfo(self.url, "POST", self.headers, self.url)
        raise self._aiohttp.ClientResponseError(
            info, (), status=self.status, message=str(self._body), headers=self.headers
        )

    def release(self) -> None:
        return None

    def close(self) -> None:
        return None
