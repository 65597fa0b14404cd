"""Raw HTTP requests keyed as llama-stack's (OGX's) recorder keyed them: the Messages
passthrough (``/v1/messages``, adb81a7c9, v0.7.2) and Gemini's Interactions passthrough
(``/interactions``, 879f1b34b, v0.8.0), made with ``httpx.AsyncClient.post`` and ``.stream``.

Upstream keys such a request by ``{"test_id", "url", "method", "payload"}`` (the ``json=``
argument, normalised as inference bodies: :func:`apirec.integrations.llama_stack_rules.http_key`)
and stores ``{"status", "body": <the JSON answer>}``, or for a stream the answer's lines
(``is_streaming``, no status). Replayed, ``post`` returns an ``httpx.Response`` with the
recorded status and JSON body; ``stream`` a response whose ``aiter_lines`` gives the recorded
lines (status 200, ``text/event-stream``, as upstream). Other requests go through untouched.
"""

from __future__ import annotations

import functools
import importlib
import json
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from apirec.integrations import llama_stack_rules as rules
from apirec.integrations.llama_stack import redacted
from apirec.keys.spec import Entry, KeySpec
from apirec.record.context import active_recording
from apirec.record.wrapping import Patch, wrap

if TYPE_CHECKING:
    from apirec.record.recording import Recording

PASSTHROUGH = ("/v1/messages", "/interactions")
STREAM_HEADERS = {"content-type": "text/event-stream", "anthropic-version": "2023-06-01"}


def is_passthrough(url: str) -> bool:
    return any(part in url for part in PASSTHROUGH)


class HttpKeys:
    """Keys a raw HTTP request by URL and JSON payload (:mod:`apirec.keys.spec`'s Keying)."""

    def key(
        self,
        spec: KeySpec,
        instance: Any,
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        test_id: str | None,
    ) -> tuple[str, dict[str, Any]]:
        url, payload = str(kwargs["url"]), kwargs.get("json") or {}
        request = {"test_id": test_id, "url": url, "method": "POST", "payload": redacted(payload)}
        return rules.http_key(url, "POST", payload, test_id), request

    def stored(
        self, key: str, request: Mapping[str, Any], response: dict[str, Any]
    ) -> tuple[dict[str, Any], str | None]:
        answer = response.get("body")
        if not response.get("is_streaming") and isinstance(answer, dict) and "status" in answer:
            response = {**response, "status": answer["status"], "body": answer["body"]}
        return response, None

    def replayed(self, response: dict[str, Any]) -> dict[str, Any]:
        """The stored answer as the recorded function returns it (status and body)."""
        if response.get("is_streaming") or response.get("is_exception"):
            return response
        answer = {"status": response.get("status", 200), "body": response.get("body")}
        return {**response, "body": answer}

    def aliases(self, request: Mapping[str, Any], test_id: str | None) -> list[str]:
        url, payload = request.get("url"), request.get("payload")
        if not isinstance(url, str):
            return []
        return rules.http_keys(url, "POST", payload, test_id)[1:]

    def choose(self, request: Mapping[str, Any], entries: list[Entry]) -> Entry | None:
        return None

    def error(self, request: Mapping[str, Any], data: Mapping[str, Any]) -> BaseException | None:
        return None


def patch_httpx(rec: Recording) -> list[Patch]:
    importlib.import_module("httpx")
    options: dict[str, Any] = {"keying": HttpKeys()}
    return [
        rec.start_patch(PostPatch("httpx.AsyncClient.post", name="POST passthrough", **options)),
        rec.start_patch(
            StreamPatch("httpx.AsyncClient.stream", name="POST passthrough stream", **options)
        ),
    ]


def recording_active() -> bool:
    rec = active_recording()
    return rec is not None and not rec.passes_through


class PostPatch(Patch):
    """``httpx.AsyncClient.post`` to a passthrough URL: recorded by status and JSON body."""

    def build(self, original: Any, options: dict[str, Any]) -> Any:
        httpx: Any = importlib.import_module("httpx")

        @functools.wraps(original)
        async def post_json(client: Any, **kwargs: Any) -> dict[str, Any]:
            response = await original(client, **kwargs)
            return {"status": response.status_code, "body": response.json()}

        recorded = wrap(post_json, **options)

        @functools.wraps(original)
        async def post(client: Any, url: Any, **kwargs: Any) -> Any:
            if not is_passthrough(str(url)) or not recording_active():
                return await original(client, url, **kwargs)
            answer = await recorded.__get__(client, type(client))(url=url, **kwargs)
            return httpx.Response(
                status_code=answer["status"],
                headers={"content-type": "application/json"},
                content=json.dumps(answer["body"]).encode(),
                request=httpx.Request("POST", str(url)),
            )

        post.__apirec_original__ = original  # type: ignore[attr-defined]
        return post


class StreamPatch(Patch):
    """``httpx.AsyncClient.stream`` to a passthrough URL: recorded as the answer's lines."""

    def build(self, original: Any, options: dict[str, Any]) -> Any:
        httpx: Any = importlib.import_module("httpx")

        @functools.wraps(original)
        async def stream_lines(client: Any, method: str, **kwargs: Any) -> AsyncIterator[str]:
            async with original(client, method, **kwargs) as response:
                response.raise_for_status()
                async for line in response.aiter_lines():
                    yield line

        recorded = wrap(stream_lines, **options)

        @functools.wraps(original)
        def stream(client: Any, method: str, url: Any, **kwargs: Any) -> Any:
            if not is_passthrough(str(url)) or not recording_active():
                return original(client, method, url, **kwargs)
            lines = recorded.__get__(client, type(client))(method, url=url, **kwargs)
            return _Lines(lines, httpx.Headers(STREAM_HEADERS))

        stream.__apirec_original__ = original  # type: ignore[attr-defined]
        return stream


class _Lines:
    """What ``async with client.stream(...) as response`` gives: the recorded lines."""

    def __init__(self, lines: Any, headers: Any) -> None:
        self._lines = lines
        self.status_code = 200
        self.headers = headers

    async def __aenter__(self) -> _Lines:
        return self

    async def __aexit__(self, *exc: object) -> None:
        close = getattr(self._lines, "aclose", None)
        if close is not None:
            await close()

    def raise_for_status(self) -> None:
        return None

    async def aiter_lines(self) -> AsyncIterator[str]:
        async for line in self._lines:
            yield line
