"""The HTTP answer behind an exception (openai's ``APIStatusError.response``), as data.

An SDK's status error holds the live ``response`` (and its ``request``): objects, not data, so
:mod:`apirec.codec.exception_data` cannot store them. What code reads of them is: the status,
the request's method and URL, and the response headers (``retry-after``, ``x-request-id``).
These are stored as ``http_response`` (:func:`http_exchange`), without the body (the error
keeps it as ``body``) and without the headers about the body's transport (``content-length``,
``content-encoding``, ``transfer-encoding``): the write gate, which every stored entry
passes, replaces secret headers (cookies, credentials, organisation and project names) and
credentials in the URL. Read by duck typing: the core imports no HTTP library. On replay the
recorded exchange is kept on the rebuilt error (:func:`keep_exchange`) for an SDK's
integration, which can build its own response objects from it (:func:`recorded_exchange`);
nothing else rebuilds them. Recordings written before hold no ``http_response``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apirec.errors import DecodeError

KEY = "http_response"  # in the stored exception data
_KEPT = "_apirec_http_response"  # on a replayed error
# about the body's bytes in transit, which are not stored: untrue of a response without them
_TRANSPORT = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def http_exchange(error: BaseException) -> dict[str, Any] | None:
    """``error.response`` as data (status, method, URL, headers), or None when the error
    holds no HTTP response (read by its shape: ``status_code``, ``headers``, ``request``)."""
    response = vars(error).get("response") if hasattr(error, "__dict__") else None
    if response is None:
        return None
    try:  # a response of another shape (or one whose request is unset) is no HTTP exchange
        status = response.status_code
        request = response.request
        method, url = request.method, str(request.url)
        headers = response.headers
        items = headers.multi_items() if hasattr(headers, "multi_items") else headers.items()
        pairs = [[str(name).lower(), str(value)] for name, value in items]
    except Exception:
        return None
    if type(status) is not int or not isinstance(method, str):
        return None
    return {
        "status_code": status,
        "method": method,
        "url": url,
        "headers": [pair for pair in pairs if pair[0] not in _TRANSPORT],
    }


def keep_exchange(error: BaseException, data: Mapping[str, Any], where: str) -> None:
    """Keep the recorded ``http_response`` of ``data`` on the replayed ``error``; one that is
    not what :func:`http_exchange` writes is a :class:`DecodeError` naming the file."""
    exchange = data.get(KEY)
    if exchange is None:
        return
    problem = _problem(exchange)
    if problem:
        raise DecodeError(
            f"recorded {KEY} {problem}; record the call again",
            file=where,
            place=f"$.response.exception_data.{KEY}",
        )
    error.__dict__[_KEPT] = exchange


def recorded_exchange(error: BaseException) -> Mapping[str, Any] | None:
    """The recorded ``http_response`` of a replayed error (None: none was recorded)."""
    kept = vars(error).get(_KEPT) if hasattr(error, "__dict__") else None
    return kept if isinstance(kept, Mapping) else None


def _problem(exchange: Any) -> str:
    if not isinstance(exchange, Mapping):
        return "must be an object"
    if type(exchange.get("status_code")) is not int:
        return "status_code must be an integer"
    for name in ("method", "url"):
        if not isinstance(exchange.get(name), str):
            return f"{name} must be a string"
    headers = exchange.get("headers")
    if not isinstance(headers, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
        for pair in headers
    ):
        return "headers must be a list of [name, value] strings"
    return ""
