"""The test id on a test's requests to loopback servers, and the replay errors they send back.

Installed by the pytest plugin for each of httpx, requests and aiohttp once it is imported
(this module never imports them): a request to a loopback host (127.0.0.0/8, ::1,
``localhost``, 0.0.0.0) made while a test runs gets ``X-Apirec-Test-Id: <test id>`` unless
it has one, and a response that carries ``X-Apirec-Miss`` is reported. The header is added
where each request leaves (httpx's transports, requests' adapter, aiohttp's ClientRequest: one
hop at a time, so a redirect to another host does not carry it) and, for httpx and requests,
removed again after, so the caller's request object is left as it was (aiohttp's per-hop
request is its own, and its ``request_info`` shows what was sent). It is added below the
SDKs, so it is never part of a key.

The patches are process-wide, like the sockets the network guard wraps; :data:`HOOKS` is
their one record.
"""

from __future__ import annotations

import sys
import urllib.parse
import weakref
from collections.abc import Callable
from typing import Any

from apirec.guard.addresses import is_local
from apirec.record.context import current_test_id
from apirec.servers.carriers import MISS_HEADER, TEST_ID_HEADER, header_value

# (test id, the X-Apirec-Miss value, "METHOD url") for the test whose request it answered
Report = Callable[[str, str, str], None]


class _Hooks:
    def __init__(self) -> None:
        self.report: Report | None = None
        self.patched: dict[str, list[tuple[Any, str, Any]]] = {}

    def install(self, report: Report) -> None:
        """Patch every client library imported so far (again: cheap once each is done)."""
        self.report = report
        for name, patch in _PATCHES.items():
            if name not in self.patched and name in sys.modules:
                self.patched[name] = patch(sys.modules[name])

    def uninstall(self) -> None:
        for saved in self.patched.values():
            for owner, attribute, original in saved:
                setattr(owner, attribute, original)
        self.patched.clear()
        self.report = None

    def answered(self, test_id: str, value: str | None, where: str) -> None:
        if value is not None and self.report is not None:
            self.report(test_id, value, where)


HOOKS = _Hooks()


def loopback(host: str | None) -> bool:
    return bool(host) and is_local(host.strip("[]"))  # type: ignore[union-attr]


def _replace(owner: Any, attribute: str, make: Callable[[Any], Any]) -> tuple[Any, str, Any]:
    original = owner.__dict__[attribute]
    setattr(owner, attribute, make(original))
    return owner, attribute, original


def _patch_httpx(httpx: Any) -> list[tuple[Any, str, Any]]:
    def init(original: Any) -> Any:
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            # the proxy it was made with (a client's proxy=, or the environment's): its pool
            # may be replaced later, so read it here
            proxy = kwargs.get("proxy")
            if proxy is not None:
                url = getattr(proxy, "url", proxy)
                self._apirec_proxy_host = str(httpx.URL(str(url)).host)

        return __init__

    def sync(original: Any) -> Any:
        def handle_request(self: Any, request: Any) -> Any:
            test_id = _adds(request.headers, request.url.host, _httpx_proxy(self))
            if test_id is None:
                return original(self, request)
            try:
                response = original(self, request)
            finally:
                del request.headers[TEST_ID_HEADER]
            HOOKS.answered(test_id, response.headers.get(MISS_HEADER), _where(request))
            return response

        return handle_request

    def asynchronous(original: Any) -> Any:
        async def handle_async_request(self: Any, request: Any) -> Any:
            test_id = _adds(request.headers, request.url.host, _httpx_proxy(self))
            if test_id is None:
                return await original(self, request)
            try:
                response = await original(self, request)
            finally:
                del request.headers[TEST_ID_HEADER]
            HOOKS.answered(test_id, response.headers.get(MISS_HEADER), _where(request))
            return response

        return handle_async_request

    return [
        _replace(httpx.HTTPTransport, "__init__", init),
        _replace(httpx.AsyncHTTPTransport, "__init__", init),
        _replace(httpx.HTTPTransport, "handle_request", sync),
        _replace(httpx.AsyncHTTPTransport, "handle_async_request", asynchronous),
    ]


def _httpx_proxy(transport: Any) -> str | None:
    """The proxy host an httpx transport sends through, if any (a transport made before the
    hooks were installed: read from its connection pool)."""
    host = getattr(transport, "_apirec_proxy_host", None)
    if host is not None:
        return str(host)
    url = getattr(getattr(transport, "_pool", None), "_proxy_url", None)
    if url is None:
        return None
    raw = getattr(url, "host", b"")
    return raw.decode("ascii", "replace") if isinstance(raw, bytes) else str(raw)


def _patch_requests(requests: Any) -> list[tuple[Any, str, Any]]:
    import requests.adapters  # imported by requests itself: already loaded
    import requests.utils

    def make(original: Any) -> Any:
        def send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            host = urllib.parse.urlsplit(request.url or "").hostname
            # the proxies the session resolved for it (its own and the environment's)
            proxies = kwargs.get("proxies", args[4] if len(args) > 4 else None)
            proxy = requests.utils.select_proxy(request.url, proxies) if proxies else None
            test_id = _adds(request.headers, host, _proxy_host(proxy))
            if test_id is None:
                return original(self, request, *args, **kwargs)
            try:
                response = original(self, request, *args, **kwargs)
            finally:
                del request.headers[TEST_ID_HEADER]
            HOOKS.answered(test_id, response.headers.get(MISS_HEADER), _where(request))
            return response

        return send

    return [_replace(requests.adapters.HTTPAdapter, "send", make)]


def _patch_aiohttp(aiohttp: Any) -> list[tuple[Any, str, Any]]:
    # aiohttp follows redirects inside ClientSession._request with the headers it was given,
    # so the id goes on each hop's own ClientRequest as it is sent: a redirect to another
    # host does not carry it. The response is read later (start), after send returns it.
    sent: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()

    def send(original: Any) -> Any:
        async def send(self: Any, conn: Any) -> Any:
            # this hop's own proxy (aiohttp resolved proxy=, the session's and the
            # environment's into it): one not on loopback never sees the id
            proxy = getattr(self, "proxy", None)
            proxy_host = None if proxy is None else str(proxy.host or "")
            test_id = _adds(self.headers, self.url.host, proxy_host)
            response = await original(self, conn)
            if test_id is not None:
                sent[response] = test_id
            return response

        return send

    def start(original: Any) -> Any:
        async def start(self: Any, connection: Any) -> Any:
            response = await original(self, connection)
            test_id = sent.pop(self, None)
            if test_id is not None:  # every hop, so raise_for_status cannot hide a miss
                HOOKS.answered(test_id, self.headers.get(MISS_HEADER), _where(self))
            return response

        return start

    return [
        _replace(aiohttp.ClientRequest, "send", send),
        _replace(aiohttp.ClientResponse, "start", start),
    ]


_PATCHES: dict[str, Callable[[Any], list[tuple[Any, str, Any]]]] = {
    "httpx": _patch_httpx,
    "requests": _patch_requests,
    "aiohttp": _patch_aiohttp,
}


def _adds(headers: Any, host: str | None, proxy: str | None = None) -> str | None:
    """Add the test id to a loopback request's headers; the id added, or None. A request
    sent through a proxy that is not on loopback never carries it: the proxy would see it."""
    test_id = current_test_id()
    if test_id is None or not loopback(host) or TEST_ID_HEADER in headers:
        return None
    if proxy is not None and not loopback(proxy):
        return None
    headers[TEST_ID_HEADER] = header_value(test_id)
    return test_id


def _proxy_host(proxy: str | None) -> str | None:
    if not proxy:
        return None
    split = urllib.parse.urlsplit(proxy if "://" in proxy else "//" + proxy)
    return split.hostname or proxy


def _where(request: Any) -> str:
    return f"{request.method} {request.url}"
