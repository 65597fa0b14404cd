"""where the test id header goes. docs/servers.md: "Requests to
any other host never get it". (Redirects from loopback to another host, through httpx and
requests, were checked and hold.)"""

from __future__ import annotations

from typing import Any

import httpx


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
