"""What a call of an SDK generated like openai's stores, and the SDK objects rebuilt from it.

A plain call stores its decoded value (a model keeps its ``_request_id``). A stream stores an
:class:`HttpHead` (status, headers) as its first chunk, then its events: replay gives the
SDK's own ``Stream``/``AsyncStream`` class with ``.response`` carrying the recorded status and
headers, which the ``.stream()`` helpers read. Raw responses (``.with_raw_response``,
``.with_streaming_response``) and binary bodies store the HTTP answer (:class:`HttpReply`) and
are rebuilt by the SDK itself from it, so ``.parse()``, ``.content``, ``.iter_bytes()`` and
``.write_to_file()`` work as they do live. Stored headers are data from a pull request: the
write gate replaces cookies, credentials and organisation/project names (apirec.gate).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from apirec.errors import ApirecError, called
from apirec.record.error_policy import ANSWERED

# what the recorded body no longer is: httpx has decoded and joined it already
_TRANSPORT_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


@dataclass
class HttpHead:
    """The start of a recorded stream: what its ``.response`` says (no chunk of the caller's:
    :data:`apirec.streams.completeness.STREAM_HEAD`)."""

    apirec_stream_head: ClassVar[bool] = True
    status_code: int
    headers: list[list[str]]
    method: str
    url: str
    stream_class: str


@dataclass
class HttpReply:
    """A whole recorded HTTP answer, for raw responses and binary bodies."""

    status_code: int
    headers: list[list[str]]
    method: str
    url: str
    content: bytes


def stored_headers(headers: Any) -> list[list[str]]:
    """The response headers as stored: transport ones left out (the write gate replaces the
    private ones: cookies, credentials, organisation and project)."""
    return [
        [name.lower(), value]
        for name, value in headers.multi_items()
        if name.lower() not in _TRANSPORT_HEADERS
    ]


def _where(response: Any) -> tuple[str, str]:
    request = response.request
    return request.method, str(request.url.copy_with(query=None))


def _class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def head_of(stream: Any) -> HttpHead:
    response = stream.response
    method, url = _where(response)
    cls = type(stream)
    return HttpHead(
        response.status_code, stored_headers(response.headers), method, url, _class_path(cls)
    )


def reply_of(response: Any) -> HttpReply:
    """``response`` (read already) as stored."""
    method, url = _where(response)
    headers = stored_headers(response.headers)
    return HttpReply(response.status_code, headers, method, url, response.content)


def http_response_of(result: Any) -> Any:
    """The httpx response behind what the SDK returned for a raw or binary call."""
    for name in ("http_response", "response"):
        inner = getattr(result, name, None)
        if inner is not None and hasattr(inner, "status_code"):
            return inner
    return result


def storable_stream(stream: Any) -> Iterator[Any]:
    """A live SDK stream as recorded: its head, then its events."""
    stream.__dict__["_apirec_storable"] = _started = _storable_stream(stream)
    return _started


def storable_async_stream(stream: Any) -> AsyncIterator[Any]:
    stream.__dict__["_apirec_storable"] = _started = _storable_async_stream(stream)
    return _started


def _storable_stream(stream: Any) -> Iterator[Any]:
    try:
        yield head_of(stream)
        yield from stream
    finally:
        stream.close()


async def _storable_async_stream(stream: Any) -> AsyncIterator[Any]:
    try:
        yield head_of(stream)
        async for event in stream:
            yield event
    finally:
        await stream.close()


@functools.lru_cache(maxsize=256)
def _parsed_url(httpx: Any, url: str) -> Any:
    """``httpx.URL(url)``, parsed once per URL (a URL is immutable; a Request copies it)."""
    return httpx.URL(url)


def fake_response(httpx: Any, status: int, headers: Any, method: str, url: str, **more: Any) -> Any:
    request = httpx.Request(
        method, _parsed_url(httpx, url), headers=more.pop("request_headers", None)
    )
    return httpx.Response(status, headers=headers, request=request, **more)


def _stream_class(path: str, caller_kind: type) -> type:
    """The recorded stream class, of the caller's kind (``caller_kind``: the SDK's ``Stream``
    or ``AsyncStream``): one recording serves sync and async clients, so a stream recorded
    as ``AsyncFooStream`` replays to a sync caller as ``FooStream``, and back."""
    module_name, _, name = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except (ImportError, ValueError):
        return caller_kind
    twin = name.removeprefix("Async") if name.startswith("Async") else f"Async{name}"
    for candidate in (getattr(module, name, None), getattr(module, twin, None)):
        if isinstance(candidate, type) and issubclass(candidate, caller_kind):
            return candidate
    return caller_kind


_HEAD = "_apirec_head"  # a replayed stream's recorded head, for its ``.response``


class ReplayedResponse:
    """A replayed stream's ``.response``, built from its recorded head when first read (a
    test that only reads the chunks never needs it), then kept. Set once on the SDK's stream
    classes (:func:`lazy_responses`); it gives way to the ``response`` a live stream keeps
    in its own ``__dict__`` (no ``__set__``: the instance's attribute comes first)."""

    def __get__(self, stream: Any, owner: type | None = None) -> Any:
        if stream is None:
            return self
        recorded = stream.__dict__.get(_HEAD)
        if recorded is None:
            raise AttributeError(f"{type(stream).__name__!r} object has no attribute 'response'")
        return stream.__dict__.setdefault("response", fake_response(*recorded))


def lazy_responses(*classes: type) -> None:
    """Replayed streams of ``classes`` (the SDK's ``Stream``/``AsyncStream``, and their
    subclasses) build their ``.response`` when it is first read; a class that defines a
    ``response`` of its own keeps it (its replayed streams get one built at once)."""
    for cls in classes:
        if not any("response" in vars(c) for c in cls.__mro__):
            setattr(cls, "response", ReplayedResponse())  # noqa: B010  (a class of the SDK's)


class _Prepended:
    """A replayed stream recorded before heads were stored: its first event given back."""

    def __init__(self, first: Any, rest: Any) -> None:
        self._first: list[Any] = [first]
        self._rest = rest

    def __iter__(self) -> _Prepended:
        return self

    def __next__(self) -> Any:
        return self._first.pop() if self._first else next(self._rest)

    def __aiter__(self) -> _Prepended:
        return self

    async def __anext__(self) -> Any:
        return self._first.pop() if self._first else await self._rest.__anext__()

    def close(self) -> Any:
        return self._rest.close()


def sdk_stream(events: Any, first: Any, client: Any, httpx: Any, live: Any, kind: type) -> Any:
    """The SDK's stream class over recorded or replayed ``events`` (``first`` read already),
    of the caller's ``kind`` (the SDK's ``Stream`` or ``AsyncStream``).

    While recording (``live`` is the SDK's stream), closing the stream or its response reads
    the rest first, so a stream broken off is still stored whole.
    """
    if isinstance(first, HttpHead):
        head: HttpHead | None = first
    else:  # recorded before heads were stored: the events only
        head, events = None, _Prepended(first, events)
    cls = _stream_class(head.stream_class, kind) if head else kind
    stream: Any = object.__new__(cls)
    if live is not None:
        stream.__dict__.update(live.__dict__)
        _drain_on_close(stream, events, live)
        _keep_until_client_closes(client, events)
    else:
        status, headers = (head.status_code, head.headers) if head else (200, [])
        method, url = (head.method, head.url) if head else ("POST", "http://replayed.invalid/")
        recorded = (httpx, status, headers, method, url)
        if isinstance(getattr(cls, "response", None), ReplayedResponse):
            stream.__dict__[_HEAD] = recorded  # built when first read
        else:
            stream.response = fake_response(*recorded)
        stream._client, stream._cast_to, stream._options = client, None, None
    stream._iterator = events
    return stream


def _reading(live: Any) -> bool:
    """Whether the stream is being read now (its generators close the response at their end):
    the rest is being read already."""
    for name in ("_iterator", "_apirec_storable"):
        generator = live.__dict__.get(name)
        if getattr(generator, "gi_running", False) or getattr(generator, "ag_running", False):
            return True
    return False


def _drain_on_close(stream: Any, events: Any, live: Any) -> None:
    response = live.response
    if hasattr(events, "__anext__"):
        response_aclose = response.aclose

        async def aclose_response() -> None:
            if not events.finished and not _reading(live):
                await events.drain()
            await response_aclose()

        async def close() -> None:
            await events.aclose()

        response.aclose = aclose_response
        stream.close = close
        return
    response_close = response.close

    def close_response() -> None:
        if not events.finished and not _reading(live):
            events.drain()
        response_close()

    response.close = close_response
    stream.close = events.close


_OPEN = "_apirec_open_streams"


def _keep_until_client_closes(client: Any, events: Any) -> None:
    """Closing the client closes its connections: the streams it is still recording are
    finished first (:func:`finishing_close`), the rest being readable only until then."""
    streams = [s for s in client.__dict__.get(_OPEN, ()) if not s.finished]
    streams.append(events)
    client.__dict__[_OPEN] = streams


def _still_open(client: Any) -> list[Any]:
    streams = client.__dict__.pop(_OPEN, None) if hasattr(client, "__dict__") else None
    return [s for s in streams or () if not s.finished]


def finishing_close(original: Callable[[Any], None]) -> Callable[[Any], None]:
    """``SyncAPIClient.close``, finishing the client's open recorded streams first."""
    original = getattr(original, "__apirec_original__", original)

    @functools.wraps(original)
    def close(client: Any) -> None:
        try:
            for stream in _still_open(client):
                stream.drain()
        finally:
            original(client)

    close.__apirec_original__ = original  # type: ignore[attr-defined]
    return close


def afinishing_close(
    original: Callable[[Any], Coroutine[Any, Any, None]],
) -> Callable[[Any], Coroutine[Any, Any, None]]:
    """``AsyncAPIClient.close``, finishing the client's open recorded streams first."""
    original = getattr(original, "__apirec_original__", original)

    @functools.wraps(original)
    async def close(client: Any) -> None:
        try:
            for stream in _still_open(client):
                await stream.drain()
        finally:
            await original(client)

    close.__apirec_original__ = original  # type: ignore[attr-defined]
    return close


def not_rebuildable(function: str) -> ApirecError:
    return ApirecError(
        f"{called(function)} replayed a raw HTTP answer where apirec expected a value or a stream: "
        "record it again (delete its file and run in record-if-missing mode)"
    )


def marking_answered(original: Callable[..., Any]) -> Callable[..., Any]:
    """``SyncAPIClient._process_response``: an error raised in it (the reply fails the model
    of ``.parse()``) came after the service answered: stored as the call's answer
    (:data:`apirec.record.error_policy.ANSWERED`)."""
    original = getattr(original, "__apirec_original__", original)

    @functools.wraps(original)
    def process(client: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(client, *args, **kwargs)
        except Exception as error:
            ANSWERED.set(error)
            raise

    process.__apirec_original__ = original  # type: ignore[attr-defined]
    return process


def amarking_answered(original: Callable[..., Any]) -> Callable[..., Any]:
    """:func:`marking_answered` for ``AsyncAPIClient._process_response``."""
    original = getattr(original, "__apirec_original__", original)

    @functools.wraps(original)
    async def process(client: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await original(client, *args, **kwargs)
        except Exception as error:
            ANSWERED.set(error)
            raise

    process.__apirec_original__ = original  # type: ignore[attr-defined]
    return process
