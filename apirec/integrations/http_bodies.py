"""A request body as the httpx fallback keys and stores it (:mod:`.httpx_transport`).

Its fields are what the write gate reads by name, as it reads a JSON body's: an urlencoded
form is its ``[name, value]`` pairs, a multipart form its parts (``[name, text]``, or
``[name, {"filename", "content_type", "content"}]`` for a file), so ``client_secret=`` or a
``name="api_key"`` part is scrubbed wherever it stands, also beside a binary file. A body sent
compressed (``Content-Encoding: gzip`` or ``deflate``) is read decompressed: gzip's header
holds the time it was made, which would change the key every second. A body that does not
parse as its type says is kept as text (or bytes), as before.
"""

from __future__ import annotations

import json
import re
import zlib
from typing import Any
from urllib.parse import parse_qsl

# a compressed body is read up to this size decompressed: a key is no place for a zip bomb
_MAX_DECOMPRESSED = 64 * 1024 * 1024
_PARAM = r'{}="((?:[^"\\]|\\.)*)"'


def request_body(content: bytes, headers: Any) -> Any:
    """The body of a request with ``headers`` (any mapping with ``get``), as keyed."""
    if not content:
        return None
    content = _decompressed(content, headers.get("content-encoding", ""))
    kind = headers.get("content-type", "")
    base = kind.split(";")[0].strip().lower()
    if "json" in base:
        try:
            return json.loads(content)
        except ValueError:
            pass
    if base == "application/x-www-form-urlencoded":
        form = _urlencoded(content)
        if form is not None:
            return {"form": form}
    if base.startswith("multipart/") and "boundary=" in kind:
        boundary = kind.split("boundary=", 1)[1].split(";")[0].strip().strip('"').encode()
        parts = _multipart(content, boundary)
        if parts is not None:
            return {"multipart": parts}
        content = content.replace(boundary, b"<boundary>")  # its random boundary never keyed
    return _text(content)


def _text(content: bytes) -> str | bytes:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content


def _decompressed(content: bytes, encoding: str) -> bytes:
    coding = encoding.strip().lower()
    if coding not in ("gzip", "x-gzip", "deflate"):
        return content
    # gzip (with its header) or zlib-wrapped deflate; raw deflate as some servers expect it
    for wbits in (16 + zlib.MAX_WBITS,) if "gzip" in coding else (zlib.MAX_WBITS, -15):
        try:
            inflate = zlib.decompressobj(wbits)
            out = inflate.decompress(content, _MAX_DECOMPRESSED)
        except zlib.error:
            continue
        if inflate.eof and not inflate.unconsumed_tail:
            return out
    return content  # not what it says, or too large: keyed as sent


def _urlencoded(content: bytes) -> list[list[str]] | None:
    try:
        text = content.decode("utf-8")
        return [[k, v] for k, v in parse_qsl(text, keep_blank_values=True, strict_parsing=True)]
    except (UnicodeDecodeError, ValueError):
        return None


def _multipart(content: bytes, boundary: bytes) -> list[list[Any]] | None:
    """``[name, value]`` of each part, or None when ``content`` is not such a body."""
    if not boundary:
        return None
    pieces = content.split(b"--" + boundary)
    if len(pieces) < 2 or not pieces[-1].startswith(b"--"):
        return None
    parts: list[list[Any]] = []
    for piece in pieces[1:-1]:
        if not piece.startswith(b"\r\n") or not piece.endswith(b"\r\n"):
            return None
        head, sep, data = piece[2:-2].partition(b"\r\n\r\n")
        if not sep:
            return None
        fields = _part_head(head.decode("latin-1"))
        if fields is None:
            return None
        name, filename, content_type = fields
        if filename is None and content_type is None:
            parts.append([name, _text(data)])
        else:
            parts.append(
                [name, {"filename": filename, "content_type": content_type, "content": _text(data)}]
            )
    return parts


def _part_head(head: str) -> tuple[str, str | None, str | None] | None:
    """A part's field name, file name and content type (from its headers)."""
    disposition = content_type = None
    for line in head.split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-disposition":
            disposition = value
        elif name.strip().lower() == "content-type":
            content_type = value.strip()
    if disposition is None:
        return None
    field = re.search(r"(?:^|;)\s*" + _PARAM.format("name"), disposition)
    if field is None:
        return None
    filename = re.search(r"(?:^|;)\s*" + _PARAM.format("filename"), disposition)
    return field.group(1), filename.group(1) if filename else None, content_type
