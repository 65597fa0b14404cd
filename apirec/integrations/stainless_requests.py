"""The request path of an SDK generated like openai's: every call passes here.

``SyncAPIClient.request`` / ``AsyncAPIClient.request`` are replaced by hooks that key the
request (by the resource method call it is for, else by HTTP), record or replay it through the
active recording, and hand back the SDK's own objects. Installed by
:mod:`apirec.integrations.stainless`.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, get_origin

from apirec.codec.exception_data import note_rebuilt
from apirec.codec.exception_http import recorded_exchange
from apirec.errors import ApirecError
from apirec.integrations import stainless_replies as replies
from apirec.integrations.credentials import PLACEHOLDER
from apirec.integrations.stainless_methods import CURRENT, Route, key_kwargs
from apirec.keys.spec import KeySpec
from apirec.streams.recording import AsyncRecordingStream, RecordingStream
from apirec.streams.replay import (
    AsyncReplayStream,
    PacedAsyncReplayStream,
    PacedReplayStream,
    ReplayStream,
)

if TYPE_CHECKING:
    from apirec.integrations.registry import Options


_MAX_HTTP_SPECS = 512
# what a replayed status error's note says of its .response and .request (complete_error)
REBUILT = (
    "response and request rebuilt from the recorded status, method, URL and response headers "
    "(secret ones redacted; no body: the error's .body has it; no request headers)"
)
MADE_UP = (
    "response and request made up (recorded before apirec kept them): the recorded status "
    "code and request id, the client's base URL, no other headers, no body"
)
# the streams apirec hands out while recording or replaying (paced or not): made into the
# SDK's own, their recorded head taken off first (the head is not a chunk)
_SYNC = frozenset({RecordingStream, ReplayStream, PacedReplayStream})
_ASYNC = frozenset({AsyncRecordingStream, AsyncReplayStream, PacedAsyncReplayStream})


class RequestHooks:
    """The hooks of one SDK's request path (what it needs set by the subclass)."""

    sdk: str
    route: Route
    httpx: Any
    streams: tuple[type, type]
    raw_header: str
    service_errors: tuple[type[BaseException], ...]
    _http_specs: dict[tuple[str, Options], KeySpec]

    def _hook(self, original: Any, *, is_async: bool) -> Any:
        original = getattr(original, "__apirec_original__", original)
        route = self.route
        if is_async:

            @functools.wraps(original)
            async def request_async(
                client: Any, cast_to: Any, options: Any, *, stream: bool = False, **more: Any
            ) -> Any:
                routed = route()
                if routed is None or routed[0].passes_through:
                    if routed is not None:
                        routed[0].count_live()
                    return await original(client, cast_to, options, stream=stream, **more)
                kind = self._kind(cast_to, options, stream)
                cast_to = _final_cast_to(client, cast_to, options)

                async def fetch(*_: Any, **__: Any) -> Any:
                    refuse_placeholder(client)
                    result = await original(client, cast_to, options, stream=stream, **more)
                    return await self._storable_async(result, kind)

                entry = CURRENT.get()
                if entry is not None and entry.capture and not entry.used:
                    entry.used = True
                    return await fetch()
                spec, instance, args, kwargs = self._keyed(entry, kind, options, routed[1])
                try:
                    result = await routed[0].call_async(spec, fetch, instance, args, kwargs)
                except Exception as error:
                    self.complete_error(error, client)
                    raise
                sent = (client, cast_to, options, stream, more)
                out = await self._rebuild_async(result, kind, sent)
                if entry is not None and instance is entry.resource:
                    entry.returned = (out, kind)
                return out

            request_async.__apirec_original__ = original  # type: ignore[attr-defined]
            return request_async

        @functools.wraps(original)
        def request(
            client: Any, cast_to: Any, options: Any, *, stream: bool = False, **more: Any
        ) -> Any:
            routed = route()
            if routed is None or routed[0].passes_through:
                if routed is not None:
                    routed[0].count_live()
                return original(client, cast_to, options, stream=stream, **more)
            kind = self._kind(cast_to, options, stream)
            cast_to = _final_cast_to(client, cast_to, options)

            def fetch(*_: Any, **__: Any) -> Any:
                refuse_placeholder(client)
                result = original(client, cast_to, options, stream=stream, **more)
                return self._storable(result, kind)

            entry = CURRENT.get()
            if entry is not None and entry.capture and not entry.used:
                entry.used = True
                return fetch()
            spec, instance, args, kwargs = self._keyed(entry, kind, options, routed[1])
            try:
                result = routed[0].call_sync(spec, fetch, instance, args, kwargs)
            except Exception as error:
                self.complete_error(error, client)
                raise
            out = self._rebuild(result, kind, (client, cast_to, options, stream, more))
            if entry is not None and instance is entry.resource:
                entry.returned = (out, kind)
            return out

        request.__apirec_original__ = original  # type: ignore[attr-defined]
        return request

    def complete_error(self, error: BaseException, client: Any) -> None:
        """A replayed status error gets the ``.response`` and ``.request`` the SDK's has:
        rebuilt from the recorded status, method, URL and response headers; for a recording
        made before apirec kept them, made up from the recorded status code and request id
        (under both names these SDKs read it by) at the client's base URL. The error's note
        says which."""
        status = getattr(error, "status_code", None)
        if not isinstance(status, int) or "response" in vars(error):
            return
        recorded = recorded_exchange(error)
        if recorded is not None:
            response = replies.fake_response(
                self.httpx,
                recorded["status_code"],
                recorded["headers"],
                recorded["method"],
                recorded["url"],
            )
            how = REBUILT
        else:
            request_id = getattr(error, "request_id", None)
            headers = []
            if isinstance(request_id, str):
                headers = [["x-request-id", request_id], ["request-id", request_id]]
            base = str(getattr(client, "base_url", "http://replayed.invalid/"))
            response = replies.fake_response(self.httpx, status, headers, "POST", base)
            how = MADE_UP
        error.response = response  # type: ignore[attr-defined]
        error.request = response.request  # type: ignore[attr-defined]
        note_rebuilt(error, ("response", "request"), how)

    def _kind(self, cast_to: Any, options: Any, stream: bool) -> str:
        headers = options.headers if isinstance(options.headers, dict) else {}
        if any(str(k).lower() == self.raw_header.lower() for k in headers):
            return "http"
        origin = get_origin(cast_to) or cast_to
        if isinstance(origin, type) and hasattr(origin, "iter_bytes"):
            return "http"  # binary bodies, httpx responses
        if isinstance(origin, type) and hasattr(origin, "_set_private_attributes"):
            return "page"
        return "stream" if stream else "value"

    def _keyed(self, entry: Any, kind: str, options: Any, opts: Options) -> tuple[Any, ...]:
        """(spec, instance, args, kwargs): by the method call the request is for, or by HTTP."""
        # Pages are keyed by HTTP: an async list() makes its request after it has returned.
        if entry is not None and not entry.used and kind != "page":
            entry.used = True
            return entry.spec, entry.resource, entry.args, entry.kwargs
        if entry is not None:
            entry.used = True
        method = str(options.method).upper()
        url = str(options.url)
        spec = self._http_specs.get((f"{method} {url}", opts))
        if spec is None:
            shared = method == "GET" and url.rstrip("/").endswith("/models")
            spec = KeySpec(
                _http_request,
                name=f"{self.sdk} {method} {url}",
                ignore=list(opts.ignore),
                normalize=opts.normalize,
                service_errors=self.service_errors,
                scrub=opts.scrub,
                shared=shared,  # the same servers answer in every test
            )
            if len(self._http_specs) >= _MAX_HTTP_SPECS:  # paths with ids: keep it bounded
                self._http_specs.clear()
            self._http_specs[(f"{method} {url}", opts)] = spec
        return spec, None, (), _http_arguments(options)

    # -- what is stored, and what the caller gets ------------------------------------------

    def _storable(self, result: Any, kind: str) -> Any:
        if kind == "http":
            response = replies.http_response_of(result)
            response.read()
            return replies.reply_of(response)
        if kind == "stream" and isinstance(result, self.streams[0]):
            return _Live(result, replies.storable_stream(result))
        return result

    async def _storable_async(self, result: Any, kind: str) -> Any:
        if kind == "http":
            response = replies.http_response_of(result)
            await response.aread()
            return replies.reply_of(response)
        if kind == "stream" and isinstance(result, self.streams[1]):
            return _LiveAsync(result, replies.storable_async_stream(result))
        return result

    def _rebuild(self, result: Any, kind: str, sent: tuple[Any, ...]) -> Any:
        """What the caller gets: the SDK's objects (``sent``: the arguments of the request)."""
        client, cast_to, options, stream, more = sent
        if isinstance(result, replies.HttpReply):
            response = self._response_of(result, options)
            return client._process_response(
                cast_to=cast_to, options=options, response=response, stream=stream, **more
            )
        if kind == "page" and callable(getattr(options, "post_parser", None)):
            return options.post_parser(result)  # the page's client, to fetch the next one
        return self.convert(result, client, "")

    async def _rebuild_async(self, result: Any, kind: str, sent: tuple[Any, ...]) -> Any:
        client, cast_to, options, stream, more = sent
        if isinstance(result, replies.HttpReply):
            response = self._response_of(result, options)
            return await client._process_response(
                cast_to=cast_to, options=options, response=response, stream=stream, **more
            )
        if kind == "page" and callable(getattr(options, "post_parser", None)):
            return options.post_parser(result)
        return await self.aconvert(result, client, "")

    def _response_of(self, reply: replies.HttpReply, options: Any) -> Any:
        headers = options.headers if isinstance(options.headers, dict) else {}
        sent = {k: v for k, v in headers.items() if isinstance(v, str)}
        return replies.fake_response(
            self.httpx,
            reply.status_code,
            reply.headers,
            reply.method,
            reply.url,
            content=reply.content,
            request_headers=sent,
        )

    def convert(self, result: Any, client: Any, function: str) -> Any:
        if isinstance(result, replies.HttpReply):
            raise replies.not_rebuildable(function)
        if type(result) not in _SYNC:  # a value: as it came
            return result
        live = result.__dict__.get("_source") if hasattr(result, "__dict__") else None
        first = next(result)
        live_stream = live.stream if isinstance(live, _Live) else None
        return replies.sdk_stream(result, first, client, self.httpx, live_stream, self.streams[0])

    async def aconvert(self, result: Any, client: Any, function: str) -> Any:
        if isinstance(result, replies.HttpReply):
            raise replies.not_rebuildable(function)
        if type(result) not in _ASYNC:
            return result
        live = result.__dict__.get("_source") if hasattr(result, "__dict__") else None
        first = await result.__anext__()
        live_stream = live.stream if isinstance(live, _Live) else None
        return replies.sdk_stream(result, first, client, self.httpx, live_stream, self.streams[1])


def refuse_placeholder(client: Any) -> None:
    """A client built with apirec's replay placeholder for a key (in a run that replays) must
    not call the service: its answer would be a refusal of that key, stored as the answer."""
    if getattr(client, "api_key", None) == PLACEHOLDER:
        raise ApirecError(
            f"this {type(client).__name__} was built while a recording replayed, with apirec's "
            f"placeholder for its API key ({PLACEHOLDER!r}), and now calls the service: "
            "build the client with the real key (set it in the environment) to record"
        )


def _final_cast_to(client: Any, cast_to: Any, options: Any) -> Any:
    """The type the SDK will build (``.with_streaming_response`` names it in a header that
    the SDK takes out of the options): wanted again when the answer is replayed."""
    override = getattr(client, "_maybe_override_cast_to", None)
    return override(cast_to, options) if override is not None else cast_to


class _Live:
    """A live SDK stream being recorded: iterated as its head then its events; keeps the
    SDK's stream object for the one handed to the caller."""

    def __init__(self, stream: Any, events: Any) -> None:
        self.stream = stream
        self._events = events

    def __iter__(self) -> _Live:
        return self

    def __next__(self) -> Any:
        return next(self._events)

    def close(self) -> None:
        self._events.close()


class _LiveAsync(_Live):
    def __aiter__(self) -> _LiveAsync:
        return self

    async def __anext__(self) -> Any:
        return await self._events.__anext__()

    async def aclose(self) -> None:
        await self._events.aclose()


def _http_request(
    method: str, url: str, query: Any = None, body: Any = None, headers: Any = None
) -> None:
    """What a request made outside any resource method is keyed by (its signature only)."""


def _http_arguments(options: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {"method": str(options.method).upper(), "url": str(options.url)}
    if options.params:
        arguments["query"] = dict(options.params)
    body = options.json_data
    extra = getattr(options, "extra_json", None)
    if isinstance(body, dict) and isinstance(extra, dict) and extra:
        body = {**body, **extra}
    if body is not None:
        arguments["body"] = body
    headers = options.headers if isinstance(options.headers, dict) else {}
    kept = key_kwargs({"extra_headers": headers}).get("extra_headers")
    if kept:
        arguments["headers"] = kept
    return arguments
