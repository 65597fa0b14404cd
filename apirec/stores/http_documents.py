"""HTTP answers stored as bytes, read as the JSON documents their bodies carry (for the ledger).

Some ways in store the HTTP answer itself rather than the SDK's value: the raw responses of
the SDKs generated like openai's (``.with_raw_response``, ``.with_streaming_response``: a
whole reply, ``{status_code, headers, content}``) and any SDK recorded at httpx's
``send`` (a stream of a head, ``{status, headers}``, then byte chunks). Their usage and model
are inside the body: one JSON document, or a stream's events (server-sent events, NDJSON).
Read here from the stored (encoded) form, so the ledger has one reader for every way in.
Bodies of other types (audio, files, text) carry no usage and are never decoded.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from typing import Any

_BYTES = frozenset({"builtins.bytes", "builtins.bytearray"})


def _bytes(value: Any) -> bytes | None:
    """The bytes of an encoded ``bytes`` value (``{"__type__": "builtins.bytes", ...}``)."""
    if not isinstance(value, dict) or value.get("__type__") not in _BYTES:
        return None
    data = value.get("__data__")
    if not isinstance(data, str):
        return None  # a blob reference, or damaged: nothing to read
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None


def _content_type(headers: Any) -> str:
    if not isinstance(headers, list):
        return ""
    for pair in headers:
        if isinstance(pair, list | tuple) and len(pair) == 2:
            name, value = pair
            if str(name).lower() == "content-type":
                return str(value).split(";")[0].strip().lower()
    return ""


def _json(text: bytes | str) -> Iterator[Any]:
    try:
        yield json.loads(text)
    except ValueError:  # not JSON (an SSE "[DONE]", a cut-off line): carries no usage
        return


def documents(content_type: str, body: bytes) -> list[Any]:
    """The JSON documents in an HTTP body of ``content_type``: the body itself when it is
    JSON, each event's data in server-sent events, each line in NDJSON; none otherwise."""
    if content_type == "application/json" or content_type.endswith("+json"):
        return list(_json(body))
    if content_type == "text/event-stream":
        lines = (line.strip() for line in body.splitlines())
        return [
            doc
            for line in lines
            if line.startswith(b"data:")
            for doc in _json(line.removeprefix(b"data:").strip())
        ]
    if content_type in ("application/x-ndjson", "application/jsonl", "application/json-seq"):
        return [doc for line in body.splitlines() if line.strip() for doc in _json(line)]
    return []


def reply_documents(data: Any) -> list[Any] | None:
    """The documents of a whole HTTP answer stored as one value (``headers`` and the body's
    bytes in ``content``); ``None`` when ``data`` (unwrapped) is not one."""
    if not isinstance(data, dict) or "headers" not in data or "content" not in data:
        return None
    body = _bytes(data["content"])
    if body is None:
        return None
    return documents(_content_type(data["headers"]), body)


def stream_documents(parts: list[Any]) -> list[Any] | None:
    """The documents of an HTTP answer stored as a stream: a head (``status``, ``headers``)
    then the body's byte chunks, joined first (a chunk may end mid-line); ``None`` when the
    stream is not one."""
    if not parts or not isinstance(parts[0], dict):
        return None
    head = parts[0]
    if "status" not in head or "headers" not in head:
        return None
    chunks = [_bytes(part) for part in parts[1:]]
    if any(chunk is None for chunk in chunks):
        return None
    return documents(_content_type(head["headers"]), b"".join(c for c in chunks if c))
