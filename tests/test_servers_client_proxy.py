"""where the test id header goes. docs/servers.md: "Requests to
any other host never get it". (Redirects from loopback to another host, through httpx and
requests, were checked and hold.)"""

from __future__ import annotations

from typing import Any

import httpx
import requests  # imported before the tests run: the plugin hooks it
import urllib3


def test_a_loopback_request_through_a_proxy_on_another_host_carries_no_id() -> None:
    """A test's request to 127.0.0.1 sent through an HTTP proxy elsewhere (HTTP_PROXY with no
    NO_PROXY, or ``proxy=``): the header is added (the target is loopback) and handed to the
    proxy connection, i.e. sent to the proxy host. Shown by replacing the proxy transport's
    connection pool with a stub that records what it would have sent."""
    transport = httpx.HTTPTransport(proxy="http://proxy.corp.example:3128")
    sent: list[dict[str, str]] = []

    class Pool:
        def handle_request(self, request: Any) -> Any:
            import httpcore

            sent.append({k.decode().lower(): v.decode() for k, v in request.headers})
            return httpcore.Response(200, headers=[], content=b"{}")

        def close(self) -> None:
            pass

        def __enter__(self) -> Any:
            return self

        def __exit__(self, *args: Any) -> None:
            pass

    transport._pool = Pool()  # type: ignore[assignment]
    with httpx.Client(transport=transport) as c:
        c.get("http://127.0.0.1:8321/v1/models")
    assert sent and "x-apirec-test-id" not in sent[0], sent


def _stub_pools(client: httpx.Client) -> list[dict[str, str]]:
    """Every proxy transport of ``client`` answers from a stub that keeps what it was sent."""
    import httpcore

    sent: list[dict[str, str]] = []

    class Pool:
        def handle_request(self, request: Any) -> Any:
            sent.append({k.decode().lower(): v.decode() for k, v in request.headers})
            return httpcore.Response(200, headers=[], content=b"{}")

        def close(self) -> None:
            pass

        def __exit__(self, *args: Any) -> None:
            pass

    for transport in client._mounts.values():
        if transport is not None:
            transport._pool = Pool()  # type: ignore[attr-defined]
    return sent


def test_an_environment_proxy_elsewhere_gets_no_id(monkeypatch: Any) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.corp.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with httpx.Client() as c:
        sent = _stub_pools(c)
        c.get("http://127.0.0.1:8321/v1/models")
    assert sent and "x-apirec-test-id" not in sent[0], sent


def test_a_loopback_proxy_still_gets_the_id(monkeypatch: Any) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with httpx.Client() as c:
        sent = _stub_pools(c)
        c.get("http://127.0.0.1:8321/v1/models")
    assert sent and "x-apirec-test-id" in sent[0], sent


def test_requests_through_a_proxy_elsewhere_gets_no_id() -> None:
    sent: list[dict[str, str]] = []

    class Connection:
        def urlopen(self, **kwargs: Any) -> Any:
            sent.append({k.lower(): v for k, v in kwargs["headers"].items()})
            import io

            return urllib3.HTTPResponse(body=io.BytesIO(b"{}"), status=200, preload_content=False)

    class Adapter(requests.adapters.HTTPAdapter):
        def get_connection_with_tls_context(self, *args: Any, **kwargs: Any) -> Any:
            return Connection()

    with requests.Session() as session:
        session.mount("http://", Adapter())
        for proxy, carried in (("http://proxy.corp.example:3128", False), (None, True)):
            proxies = {"http": proxy} if proxy else {}
            session.get("http://127.0.0.1:8321/v1/models", proxies=proxies)
            assert ("x-apirec-test-id" in sent[-1]) is carried, (proxy, sent[-1])
