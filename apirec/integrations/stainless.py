"""SDKs generated like openai's (Stainless): openai, anthropic, groq, together... by import name.

Every call of such an SDK passes through ``SyncAPIClient.request`` / ``AsyncAPIClient.request``
of its ``_base_client``: resource methods, ``.parse()``, the ``.stream()`` helpers,
``.with_raw_response``, ``.with_streaming_response``, binary bodies, pages. apirec hooks that
path (and the resource methods, for names, keys and speed: :mod:`.stainless_methods`) once per
process; the hooks call straight through unless a recording that patched the SDK is open, so
resources of a newer SDK are covered with no change here. A request made inside a resource
method is keyed by that method's call (``openai.chat.completions.create`` and its arguments);
any other (a next page, ``client.get(...)``) by HTTP (``openai GET /models`` and its query,
body and headers). What is stored and rebuilt: :mod:`.stainless_replies`.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import threading
from typing import TYPE_CHECKING, Any, get_origin

from apirec.integrations import stainless_replies as replies
from apirec.integrations.stainless_methods import CURRENT, key_kwargs, wrap_method
from apirec.integrations.stainless_methods import call_name as _call_name
from apirec.keys.spec import KeySpec
from apirec.record.context import recording_lookup
from apirec.record.modes import Mode
from apirec.record.wrapping import Patch

if TYPE_CHECKING:
    from apirec.integrations.registry import Options
    from apirec.record.recording import Recording

# SDK import name -> the options of the recordings that patched it, latest last
_enabled: dict[str, list[Options]] = {}
_installed: dict[str, _Sdk] = {}
_install_lock = threading.Lock()


def patch_sdk(rec: Recording, sdk: str, options: Options) -> list[Patch]:
    """Record and replay every call of ``sdk`` while ``rec`` is open."""
    return [rec.start_patch(SdkPatch(sdk, options))]


class SdkPatch(Patch):
    """Routes ``sdk``'s calls to the active recording while started."""

    def __init__(self, sdk: str, options: Options) -> None:
        super().__init__(f"{sdk}._base_client.SyncAPIClient.request")
        self.sdk = sdk
        self.sdk_options = options

    def start(self) -> Patch:
        if not self.active:
            install(self.sdk)
            with _install_lock:
                _enabled.setdefault(self.sdk, []).append(self.sdk_options)
            self.active = True
        return self

    def stop(self) -> None:
        if self.active:
            with _install_lock:
                stack = _enabled[self.sdk]
                stack.reverse()  # the latest one with these options goes
                stack.remove(self.sdk_options)
                stack.reverse()
            self.active = False


def _router(sdk: str) -> Any:
    get, stack = recording_lookup()

    def route() -> tuple[Recording, Options] | None:
        options = _enabled.get(sdk)
        if not options:
            return None
        rec = get()
        if rec is None or not rec.is_open:
            if not stack:
                return None
            rec = stack[-1]
        return rec, options[-1]

    return route


class _Sdk:
    """One SDK's hooks, installed once per process."""

    def __init__(self, sdk: str) -> None:
        self.sdk = sdk
        self.route = _router(sdk)
        base = importlib.import_module(f"{sdk}._base_client")
        self.httpx: Any = getattr(base, "httpx2", None) or base.httpx
        streaming = importlib.import_module(f"{sdk}._streaming")
        self.streams = (streaming.Stream, streaming.AsyncStream)
        self.raw_header = str(getattr(base, "RAW_RESPONSE_HEADER", "X-Stainless-Raw-Response"))
        self._http_specs: dict[tuple[str, Options], KeySpec] = {}
        self.convert = self._convert
        self.aconvert = self._aconvert
        base.SyncAPIClient.request = self._hook(base.SyncAPIClient.request, is_async=False)
        base.AsyncAPIClient.request = self._hook(base.AsyncAPIClient.request, is_async=True)
        resource = importlib.import_module(f"{sdk}._resource")
        for root in (resource.SyncAPIResource, resource.AsyncAPIResource):
            self._watch(root)

    # -- resource methods ----------------------------------------------------------------

    def _watch(self, root: type) -> None:
        """Wrap the resource classes there are, and those defined later."""
        todo = [root]
        while todo:
            cls = todo.pop()
            self.wrap_class(cls)
            todo.extend(cls.__subclasses__())
        wrap_class = self.wrap_class
        previous = root.__dict__.get("__init_subclass__")

        def init_subclass(cls: type, **kwargs: Any) -> None:
            if previous is not None:
                previous.__func__(cls, **kwargs)
            else:
                super(root, cls).__init_subclass__(**kwargs)
            wrap_class(cls)

        root.__init_subclass__ = classmethod(init_subclass)  # type: ignore[assignment]

    def wrap_class(self, cls: type) -> None:
        if "__apirec_wrapped__" in cls.__dict__:
            return
        for name, value in list(cls.__dict__.items()):
            if name.startswith("_") or not inspect.isfunction(value):
                continue  # properties, cached_property objects, helpers: not calls
            full = _call_name(self.sdk, cls.__module__, name)
            setattr(cls, name, wrap_method(value, full, self.route, self.convert, self.aconvert))
        cls.__apirec_wrapped__ = True  # type: ignore[attr-defined]

    # -- the request path ----------------------------------------------------------------

    def _hook(self, original: Any, *, is_async: bool) -> Any:
        original = getattr(original, "__apirec_original__", original)
        route, live = self.route, Mode.LIVE
        if is_async:

            @functools.wraps(original)
            async def request_async(
                client: Any, cast_to: Any, options: Any, *, stream: bool = False, **more: Any
            ) -> Any:
                routed = route()
                if routed is None or routed[0].mode is live:
                    if routed is not None:
                        routed[0].count_live()
                    return await original(client, cast_to, options, stream=stream, **more)
                kind = self._kind(cast_to, options, stream)

                async def fetch(*_: Any, **__: Any) -> Any:
                    result = await original(client, cast_to, options, stream=stream, **more)
                    return await self._storable_async(result, kind)

                entry = CURRENT.get()
                if entry is not None and entry.capture and not entry.used:
                    entry.used = True
                    return await fetch()
                spec, instance, args, kwargs = self._keyed(entry, kind, options, routed[1])
                result = await routed[0].call_async(spec, fetch, instance, args, kwargs)
                out = await self._rebuild_async(result, kind, client, cast_to, options, stream, more)
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
            if routed is None or routed[0].mode is live:
                if routed is not None:
                    routed[0].count_live()
                return original(client, cast_to, options, stream=stream, **more)
            kind = self._kind(cast_to, options, stream)

            def fetch(*_: Any, **__: Any) -> Any:
                result = original(client, cast_to, options, stream=stream, **more)
                return self._storable(result, kind)

            entry = CURRENT.get()
            if entry is not None and entry.capture and not entry.used:
                entry.used = True
                return fetch()
            spec, instance, args, kwargs = self._keyed(entry, kind, options, routed[1])
            result = routed[0].call_sync(spec, fetch, instance, args, kwargs)
            out = self._rebuild(result, kind, client, cast_to, options, stream, more)
            if entry is not None and instance is entry.resource:
                entry.returned = (out, kind)
            return out

        request.__apirec_original__ = original  # type: ignore[attr-defined]
        return request

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
                shared=shared,  # the same servers answer in every test
            )
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

    def _rebuild(
        self, result: Any, kind: str, client: Any, cast_to: Any, options: Any, stream: bool, more: Any
    ) -> Any:
        if isinstance(result, replies.HttpReply):
            response = self._response_of(result, options)
            return client._process_response(
                cast_to=cast_to, options=options, response=response, stream=stream, **more
            )
        if kind == "page" and callable(getattr(options, "post_parser", None)):
            return options.post_parser(result)  # the page's client, to fetch the next one
        return self._convert(result, client, "")

    async def _rebuild_async(
        self, result: Any, kind: str, client: Any, cast_to: Any, options: Any, stream: bool, more: Any
    ) -> Any:
        if isinstance(result, replies.HttpReply):
            response = self._response_of(result, options)
            return await client._process_response(
                cast_to=cast_to, options=options, response=response, stream=stream, **more
            )
        if kind == "page" and callable(getattr(options, "post_parser", None)):
            return options.post_parser(result)
        return await self._aconvert(result, client, "")

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

    def _convert(self, result: Any, client: Any, function: str) -> Any:
        if isinstance(result, replies.HttpReply):
            raise replies.not_rebuildable(function)
        if not hasattr(type(result), "__next__") or isinstance(result, self.streams[0]):
            return result
        live = result.__dict__.get("_source") if hasattr(result, "__dict__") else None
        first = next(result)
        live_stream = live.stream if isinstance(live, _Live) else None
        return replies.sdk_stream(result, first, client, self.httpx, live_stream, self.streams[0])

    async def _aconvert(self, result: Any, client: Any, function: str) -> Any:
        if isinstance(result, replies.HttpReply):
            raise replies.not_rebuildable(function)
        if not hasattr(type(result), "__anext__") or isinstance(result, self.streams[1]):
            return result
        live = result.__dict__.get("_source") if hasattr(result, "__dict__") else None
        first = await result.__anext__()
        live_stream = live.stream if isinstance(live, _Live) else None
        return replies.sdk_stream(result, first, client, self.httpx, live_stream, self.streams[1])


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


def install(sdk: str) -> None:
    """Hook ``sdk`` once per process (idempotent)."""
    with _install_lock:
        if sdk not in _installed:
            _installed[sdk] = _Sdk(sdk)
