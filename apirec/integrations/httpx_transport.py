"""Any SDK built on httpx, with no integration of its own: requests record and replay where
the SDK hands them to httpx (``integrations.patch(rec, "httpx")``; ``"httpx2"`` for httpx's
successor).

``Client.send`` and ``AsyncClient.send`` are patched, the one path every request of an httpx
client takes. A request is keyed by its method, URL and body: a JSON body parsed (so key order
and spacing do not count), a form's fields as name-value pairs (so the gate's names rule reads
them), a compressed body decompressed, text as text (:mod:`.http_bodies`); headers are never
keyed (they carry credentials, client versions, trace ids). The write gate scrubs credentials
in the URL and body before they are keyed or stored, as everywhere. The answer is stored as its
status, headers (cookies and account headers redacted; the encoding and length headers dropped,
as the body is stored decoded) and body, read as a stream, and replayed as an
``httpx.Response`` built from them: the SDK parses it as it parses a live one, server-sent
events and NDJSON streams included. A response with a transient status (408, 409, 429, 5xx)
reaches the caller but is not stored, as transient errors are not
(:mod:`apirec.record.error_policy`), so an SDK's retry records the answer that ended it; stored
all the same (``store_errors="all"``), it replays as the recorded response (status, headers,
body), so the SDK's retries and its own exception run as they ran live.

The recordings are all named ``httpx.send`` (or ``httpx2.send``); sync and async clients share
them. A request made inside a call already intercepted (a typed integration's, a ``@record``
function's: :data:`apirec.streams.tape.IN_CALL`) is that call's, and goes through unrecorded.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import importlib
import inspect
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from apirec.integrations import http_bodies
from apirec.integrations.defaults import check_user_ignores, is_sensitive_header, normalizer
from apirec.integrations.registry import Options
from apirec.keys.marks import REDACTED
from apirec.record.error_policy import TRANSIENT_STATUSES
from apirec.record.wrapping import Patch, wrap
from apirec.streams.tape import IN_CALL

if TYPE_CHECKING:
    from apirec.record.recording import Recording

# headers that describe the body as it came over the wire; it is stored decoded
_WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def patch_sdk(rec: Recording, sdk: str, options: Options) -> list[Patch]:
    """Record and replay every request of ``sdk``'s (httpx's) clients while ``rec`` is open."""
    http: Any = importlib.import_module(sdk)
    check_user_ignores(sdk, [_exchange_parameters], options)
    patch_options = {
        "name": f"{sdk}.send",
        "ignore": list(options.ignore),
        "normalize": normalizer(None, options),
        "service_errors": (TransientResponse,),  # and transport errors, which are transient
        "scrub": options.scrub,
    }
    rest = rec.settings.stream_rest_seconds
    return [
        rec.start_patch(SendPatch(f"{sdk}.{cls}.send", http, rest, **patch_options))
        for cls in ("Client", "AsyncClient")
    ]


def _exchange_parameters(method: str, url: str, body: Any) -> None:
    """The parameters a request is keyed by (for ``ignore=`` names: ``body.request_id``)."""


class TransientResponse(Exception):
    """A response with a transient status: raised inside the recorded call so that it is not
    stored (by default), caught around it so that the caller gets the response all the same."""

    # the response itself, while recording; a replayed one (rebuilt from its stored
    # attributes, without __init__) has none and is rebuilt from status, headers and body
    _live: Any = None

    def __init__(self, status_code: int, headers: list[list[str]], content: bytes) -> None:
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code
        self.headers = headers
        self.content = content


def _stored_headers(headers: Any) -> list[list[str]]:
    return [
        [name, REDACTED if is_sensitive_header(name) else value]
        for name, value in headers.multi_items()
        if name.lower() not in _WIRE_HEADERS
    ]


def request_body(request: Any) -> Any:
    """The request's body as keyed and stored (:mod:`.http_bodies`)."""
    return http_bodies.request_body(request.content, request.headers)


class SendPatch(Patch):
    """``Client.send`` or ``AsyncClient.send``: the request keyed, the response stored as its
    head and body chunks, and rebuilt as a response of the same httpx on replay."""

    def __init__(self, target: str, http: Any, rest_seconds: float, **options: Any) -> None:
        super().__init__(target, **options)
        self.http = http
        self.rest_seconds = rest_seconds

    def build(self, original: Any, options: dict[str, Any]) -> Any:
        if inspect.iscoroutinefunction(original):
            return _async_send(original, self.http, options)
        return _sync_send(original, self.http, options, self.rest_seconds)


def _response(http: Any, head: Any, stream: Any, request: Any) -> Any:
    response = http.Response(
        head["status"], headers=head["headers"], stream=stream, request=request
    )
    response.elapsed = dt.timedelta(0)  # set by httpx's own sending only; SDKs may log it
    return response


def _transient(http: Any, error: TransientResponse, request: Any) -> Any:
    if error._live is not None:
        return error._live
    response = http.Response(
        error.status_code, headers=error.headers, content=error.content, request=request
    )
    response.elapsed = dt.timedelta(0)
    return response


def _sync_send(original: Any, http: Any, options: dict[str, Any], rest_seconds: float) -> Any:
    live: ContextVar[tuple[Any, Any, dict[str, Any], list[Any]]] = ContextVar("apirec_httpx_send")

    def send(method: str, url: str, body: Any) -> Iterator[Any]:
        client, request, kwargs, responses = live.get()
        response = original(client, request, **{**kwargs, "stream": True})
        responses.append(response)  # for the rest's wall-time bound (Body.close)
        if response.status_code in TRANSIENT_STATUSES:
            response.read()
            error = TransientResponse(
                response.status_code, _stored_headers(response.headers), response.content
            )
            error._live = response
            raise error
        return _chunks(response)

    recorded = wrap(send, **options)

    class Body(http.SyncByteStream):  # type: ignore[misc]
        def __init__(self, chunks: Any, responses: list[Any]) -> None:
            self.chunks = chunks
            self.responses = responses

        def __iter__(self) -> Iterator[bytes]:
            try:
                for chunk in self.chunks:  # noqa: UP028 (yield from would close it unbounded)
                    yield chunk
            except GeneratorExit:  # the caller broke off: the rest read within the bound
                self.close()
                raise

        def close(self) -> None:
            # closing reads the rest within stream_rest_seconds, checked between chunks; a
            # server gone quiet is cut off at that time by shutting its socket down
            with _cut_after(rest_seconds, self.responses):
                self.chunks.close()

    @functools.wraps(original)
    def replacement(client: Any, request: Any, *, stream: bool = False, **kwargs: Any) -> Any:
        if IN_CALL.get():  # made by a call already intercepted (a typed integration's)
            return original(client, request, stream=stream, **kwargs)
        request.read()
        responses: list[Any] = []
        token = live.set((client, request, kwargs, responses))
        try:
            chunks = recorded(request.method, str(request.url), request_body(request))
        except TransientResponse as error:
            return _transient(http, error, request)
        finally:
            live.reset(token)
        response = _response(http, next(chunks), Body(chunks, responses), request)
        if not stream:
            try:
                response.read()
            finally:
                response.close()
        return response

    replacement.__apirec_original__ = original  # type: ignore[attr-defined]
    return replacement


@contextlib.contextmanager
def _cut_after(seconds: float, responses: list[Any]) -> Iterator[None]:
    """Shut the live responses' sockets down if the block takes longer than ``seconds``: a
    blocked read then ends, and the stream is stored as far as it went, with a warning."""
    if all(getattr(r, "is_closed", True) for r in responses):  # read to its end, or replayed
        yield
        return
    timer = threading.Timer(seconds, _shut_down, (responses,))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _shut_down(responses: list[Any]) -> None:
    for response in responses:
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _chunks(response: Any) -> Iterator[Any]:
    try:
        yield {"status": response.status_code, "headers": _stored_headers(response.headers)}
        yield from response.iter_bytes()
    finally:
        response.close()


def _async_send(original: Any, http: Any, options: dict[str, Any]) -> Any:
    live: ContextVar[tuple[Any, Any, dict[str, Any]]] = ContextVar("apirec_httpx_send")

    async def send(method: str, url: str, body: Any) -> AsyncIterator[Any]:
        client, request, kwargs = live.get()
        response = await original(client, request, **{**kwargs, "stream": True})
        if response.status_code in TRANSIENT_STATUSES:
            await response.aread()
            error = TransientResponse(
                response.status_code, _stored_headers(response.headers), response.content
            )
            error._live = response
            raise error
        return _async_chunks(response)

    recorded = wrap(send, **options)

    class Body(http.AsyncByteStream):  # type: ignore[misc]
        def __init__(self, chunks: Any) -> None:
            self.chunks = chunks

        async def __aiter__(self) -> AsyncIterator[bytes]:
            async for chunk in self.chunks:
                yield chunk

        async def aclose(self) -> None:
            await self.chunks.aclose()

    @functools.wraps(original)
    async def replacement(client: Any, request: Any, *, stream: bool = False, **kwargs: Any) -> Any:
        if IN_CALL.get():  # made by a call already intercepted (a typed integration's)
            return await original(client, request, stream=stream, **kwargs)
        await request.aread()
        token = live.set((client, request, kwargs))
        try:
            chunks = await recorded(request.method, str(request.url), request_body(request))
        except TransientResponse as error:
            return _transient(http, error, request)
        finally:
            live.reset(token)
        response = _response(http, await chunks.__anext__(), Body(chunks), request)
        if not stream:
            try:
                await response.aread()
            finally:
                await response.aclose()
        return response

    replacement.__apirec_original__ = original  # type: ignore[attr-defined]
    return replacement


async def _async_chunks(response: Any) -> AsyncIterator[Any]:
    try:
        yield {"status": response.status_code, "headers": _stored_headers(response.headers)}
        async for chunk in response.aiter_bytes():
            yield chunk
    finally:
        await response.aclose()
