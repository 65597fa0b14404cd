"""The answers of the generic httpx fallback (``integrations.patch(rec, "httpx")``), for
``ls``, ``show`` and ``diff``.

That integration stores a response as a stream whatever its body: a head (``{"status",
"headers"}``) then the body's bytes as they were read. Only a body of a streaming content type
(server-sent events, NDJSON) is a stream to a person; any other is shown as one body, JSON
parsed.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from apirec.gate.placeholders import DATA, TYPE

# content types whose body is a sequence of events, not one document
_STREAM_TYPES = ("text/event-stream", "ndjson", "jsonl", "json-seq")
_BYTES = "builtins.bytes"


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: list[list[str]]
    body: bytes | None  # None: part of it is stored in blobs/ (not read by the CLI)
    chunks: int

    @property
    def content_type(self) -> str:
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value
        return ""

    @property
    def streamed(self) -> bool:
        kind = self.content_type.lower()
        return any(t in kind for t in _STREAM_TYPES)

    def describe(self, readable: Any, full: bool) -> list[str]:
        """``show``'s lines: status, headers and the body (JSON through ``readable``)."""
        lines = [f"status:    {self.status}"]
        lines += [f"header:    {name}: {value}" for name, value in self.headers]
        if self.body is None:
            return [*lines, f"body:      {self.chunks} chunks, some in blobs/ (--json shows them)"]
        text = self._text()
        if text is None:
            return [*lines, f"body:      <{len(self.body):,} bytes, not text>"]
        if not self.streamed and "json" in self.content_type.lower():
            try:
                return [*lines, "body:      " + readable(json.loads(text))]
            except ValueError:
                pass
        body = text.splitlines()
        if self.streamed:
            lines.append(f"stream:    {self.chunks} chunks, {len(body)} lines")
        if not full and len(body) > 40:
            body = [
                *body[:30],
                f"... {len(body) - 35} more lines (--full shows all) ...",
                *body[-5:],
            ]
        return [*lines, "body:", *("  " + line for line in body)]

    def _text(self) -> str | None:
        assert self.body is not None
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            return None


def http_answer(response: Any) -> HttpAnswer | None:
    """The response as the httpx fallback stored it, or None for any other recording."""
    body = response.get("body") if isinstance(response, dict) else None
    if not response.get("is_streaming") or response.get("is_exception"):
        return None
    if not isinstance(body, list) or not body or not _is_head(body[0]):
        return None
    parts: list[bytes] | None = []
    for chunk in body[1:]:
        part = _bytes(chunk)
        if part is None:
            if not (isinstance(chunk, dict) and chunk.get(TYPE) == _BYTES):
                return None  # not bytes: not this integration's shape
            parts = None  # bytes in a blob
        elif parts is not None:
            parts.append(part)
    head = body[0]
    joined = None if parts is None else b"".join(parts)
    return HttpAnswer(head["status"], head["headers"], joined, len(body) - 1)


def _is_head(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == {"status", "headers"}
        and isinstance(value["status"], int)
        and isinstance(value["headers"], list)
        and all(
            isinstance(h, list) and len(h) == 2 and all(isinstance(p, str) for p in h)
            for h in value["headers"]
        )
    )


def _bytes(chunk: Any) -> bytes | None:
    if isinstance(chunk, bytes):
        return chunk
    if isinstance(chunk, dict) and chunk.get(TYPE) == _BYTES and isinstance(chunk.get(DATA), str):
        try:
            return base64.b64decode(chunk[DATA], validate=True)
        except (binascii.Error, ValueError):
            return None
    return None
