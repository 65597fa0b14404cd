"""What a stored recording is about, for people: function, test, arguments, kind of answer.

Reads both shapes found in recording directories: apirec's own (``request.function`` /
``args`` / ``key``) and llama-stack's (HTTP ``method``/``url``/``endpoint``/``body``, tool
invocations ``provider``/``tool_name``/``kwargs``, file processors ``provider``/``api``).
Used only by the CLI, miss diagnostics and the pytest plugin's unused-recording report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlparse

from apirec.stores import ledger
from apirec.stores.json_store import Entry


@dataclass(frozen=True)
class EntryInfo:
    function: str
    test_id: str | None
    key: str
    index: int
    streamed: bool
    error: bool
    size: int  # of the file and of the blobs it refers to
    path: str
    recorded_at: str | None = None  # as stored; None when the recording does not say
    blobs: tuple[str, ...] = ()  # digests of the blobs it refers to (apirec.stores.blobs)
    # what the live call took and spent, from its ledger (apirec.stores.ledger); None: unknown
    seconds: float | None = None
    tokens: int | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def function_of(request: Mapping[str, Any]) -> str:
    """The called function's name, whatever recorder wrote the file."""
    if isinstance(request.get("function"), str):
        return str(request["function"])
    if "tool_name" in request:
        return f"{request.get('provider', '?')}.{request['tool_name']}"
    if "url" in request or "endpoint" in request:
        endpoint = request.get("endpoint") or urlparse(str(request.get("url", ""))).path
        method = request.get("method")
        return f"{method} {endpoint}" if method else str(endpoint)
    if "api" in request:
        return f"{request.get('provider', '?')}.{request['api']}"
    return "?"


def arguments_of(request: Mapping[str, Any]) -> Any:
    """The call's arguments as stored (apirec ``args``, HTTP ``body``, tool ``kwargs``...)."""
    for field in ("args", "body", "payload", "kwargs"):
        if field in request:
            return request[field]
    skip = {"test_id", "provider", "api", "function", "key"}
    return {k: v for k, v in request.items() if k not in skip}


def test_id_of(entry: Entry) -> str | None:
    test_id = entry.get("test_id")
    if test_id is None:
        request = entry.get("request")
        if isinstance(request, dict):
            test_id = request.get("test_id")
    return test_id if isinstance(test_id, str) else None


def info(
    entry: Entry, key: str, index: int, path: str, size: int, blobs: tuple[str, ...] = ()
) -> EntryInfo:
    request = entry.get("request")
    response = entry["response"]
    seconds, usage, _ = ledger.read(entry)
    return EntryInfo(
        function=function_of(request) if isinstance(request, dict) else "?",
        test_id=test_id_of(entry),
        key=key,
        index=index,
        streamed=bool(response.get("is_streaming")),
        error=bool(response.get("is_exception")),
        size=size,
        path=path,
        recorded_at=entry.get("recorded_at") if isinstance(entry.get("recorded_at"), str) else None,
        blobs=blobs,
        seconds=seconds,
        tokens=sum(usage.get(k, 0) for k in ("input_tokens", "output_tokens")) if usage else None,
    )
