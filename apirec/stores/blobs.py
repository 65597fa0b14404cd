"""Large binary values kept out of the JSON: references in place of base64 (DESIGN §11).

A ``builtins.bytes`` or ``builtins.bytearray`` envelope holding more than :data:`MIN_SIZE`
bytes (audio, images, files) is stored by the JSON store as a reference::

    {"__type__": "builtins.bytes", "__blob__": "<sha256, 64 lowercase hex digits>", "size": n}

and its bytes once, in ``blobs/<sha256>`` beside the recording (:mod:`apirec.stores.blob_files`),
so identical payloads share one file. This module only turns entries into the stored form and
back, given a function that reads a blob: no file is touched here. The swap is exact both
ways: only canonical base64 (what the codec writes) is moved out, so the entry read back is
the entry written, byte for byte, and the codec never sees a reference.

A reference is data from a pull request: it is accepted only in exactly that shape, with a
digest of 64 lowercase hex digits (never a path), and the blob read must have that digest.

With a remote store (``remote=``, DESIGN §15) the same references name objects in object
storage instead of ``blobs/`` files, and one more kind is made: a response body whose compact
JSON is over :data:`MIN_SIZE` (embeddings, long documents) is kept as an object of that JSON
(:func:`split_body`), referred to at ``$.response.body`` only::

    {"__type__": "apirec.json", "__blob__": "<sha256>", "size": n}

Large bytes are moved out first, so such a body object may itself hold bytes references (one
level: never another body reference); :func:`join` resolves both.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from apirec.errors import StoreError

# the keys of a typed value, from the pure gate: reading needs no codec (pydantic)
from apirec.gate.placeholders import DATA, TYPE

BLOB = "__blob__"
SIZE = "size"
MIN_SIZE = 64 * 1024  # payloads of more bytes than this go to blobs/
MARKER = b'"__blob__"'  # in a file's bytes when (and only when apirec wrote) a reference
_TYPES = frozenset({"builtins.bytes", "builtins.bytearray"})
JSON_BODY = "apirec.json"  # the type of a reference to a response body kept as JSON
_MIN_TEXT = 4 * ((MIN_SIZE + 1 + 2) // 3)  # base64 length of MIN_SIZE + 1 bytes
_DIGEST = re.compile(r"[0-9a-f]{64}")

Fetch = Callable[[str, int], bytes]


def might_hold_large_bytes(size: int) -> bool:
    """Whether a dump of ``size`` characters can hold a payload over :data:`MIN_SIZE`."""
    return size >= _MIN_TEXT


def is_digest(text: str) -> bool:
    return _DIGEST.fullmatch(text) is not None


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def split(entry: Any) -> tuple[Any, dict[str, bytes]]:
    """``entry`` with its large payloads replaced by references, and those payloads by
    digest. Returns ``entry`` itself (not a copy) when there are none."""
    found: dict[str, bytes] = {}
    return _split(entry, found), found


def _split(value: Any, found: dict[str, bytes]) -> Any:
    t = type(value)
    if t is dict:
        if len(value) == 2 and value.get(TYPE) in _TYPES:
            text = value.get(DATA)
            if type(text) is str and len(text) >= _MIN_TEXT:
                data = _canonical(text)
                if data is not None and len(data) > MIN_SIZE:
                    digest = digest_of(data)
                    found[digest] = data
                    return {TYPE: value[TYPE], BLOB: digest, SIZE: len(data)}
            return value
        out = None
        for k, v in value.items():
            new = _split(v, found)
            if new is not v:
                if out is None:
                    out = dict(value)
                out[k] = new
        return value if out is None else out
    if t is list:
        items = None
        for i, v in enumerate(value):
            new = _split(v, found)
            if new is not v:
                if items is None:
                    items = list(value)
                items[i] = new
        return value if items is None else items
    return value


def split_body(entry: Any) -> tuple[Any, dict[str, bytes]]:
    """``entry`` with its ``response.body`` replaced by a reference when the body's compact
    JSON is over :data:`MIN_SIZE`, and that JSON by digest; ``entry`` itself when it is not.
    (A remote store's second step, after :func:`split`.)"""
    response = entry.get("response") if type(entry) is dict else None
    if type(response) is not dict or "body" not in response:
        return entry, {}
    body = response["body"]
    if type(body) is dict and body.get(TYPE) in _TYPES and BLOB in body:
        return entry, {}  # one large bytes value, moved out already
    data = body_bytes(body)
    if len(data) <= MIN_SIZE:
        return entry, {}
    digest = digest_of(data)
    ref = {TYPE: JSON_BODY, BLOB: digest, SIZE: len(data)}
    return {**entry, "response": {**response, "body": ref}}, {digest: data}


def body_bytes(body: Any) -> bytes:
    """The stored form of a body kept as an object: compact JSON, ASCII (lone surrogates
    and all escaped), key order kept, so the body read back is the body written."""
    return json.dumps(body, separators=(",", ":")).encode("ascii")


def _canonical(text: str) -> bytes | None:
    """The bytes of ``text`` if it is base64 exactly as the codec writes it (so the bytes
    give the same text back), else None."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if base64.b64encode(data) == text.encode("ascii") else None


def join(entry: Any, fetch: Fetch, where: str, keep: Callable[[str], bool] | None = None) -> Any:
    """``entry`` with every reference replaced by its payload's envelope, read by
    ``fetch(digest, size)``; a malformed reference is a :class:`StoreError` at ``where``.
    ``keep(digest)`` true: that reference stays as it is (checked, not read)."""
    texts: dict[tuple[str, int], str] = {}

    def text_of(digest: str, size: int) -> str:  # a payload repeated (stream chunks): read once
        text = texts.get((digest, size))
        if text is None:
            text = texts[(digest, size)] = base64.b64encode(fetch(digest, size)).decode("ascii")
        return text

    def body_of(digest: str, size: int, place: list[str]) -> Any:
        if place != [".response", ".body"]:
            at = "$" + "".join(place)
            raise StoreError(
                f"{where}: a body reference at {at} is malformed: only $.response.body may "
                f"be kept as a JSON object",
                path=where,
            )
        body = _load_body(fetch(digest, size), digest, where)
        return _join(body, text_of, where, [".response", ".body(object)"], None, keep)

    try:
        return _join(entry, text_of, where, [], body_of, keep)
    except RecursionError:
        raise StoreError(f"{where}: nested too deeply", path=where) from None


def _join(
    value: Any,
    text_of: Callable[[str, int], str],
    where: str,
    place: list[str],
    body_of: Callable[[str, int, list[str]], Any] | None,
    keep: Callable[[str], bool] | None,
) -> Any:
    t = type(value)
    if t is dict:
        if BLOB in value and TYPE in value:
            digest, size = check_reference(value, where, place)
            if keep is not None and keep(digest):
                return value
            if value[TYPE] == JSON_BODY:
                if body_of is None:  # inside a body object: never another body
                    at = "$" + "".join(place)
                    raise StoreError(
                        f"{where}: a body reference at {at} is malformed: a body object "
                        f"cannot refer to another",
                        path=where,
                    )
                return body_of(digest, size, place)
            return {TYPE: value[TYPE], DATA: text_of(digest, size)}
        out = None
        for k, v in value.items():
            place.append(f".{k}")
            new = _join(v, text_of, where, place, body_of, keep)
            place.pop()
            if new is not v:
                if out is None:
                    out = dict(value)
                out[k] = new
        return value if out is None else out
    if t is list:
        items = None
        for i, v in enumerate(value):
            place.append(f"[{i}]")
            new = _join(v, text_of, where, place, body_of, keep)
            place.pop()
            if new is not v:
                if items is None:
                    items = list(value)
                items[i] = new
        return value if items is None else items
    return value


def check_reference(value: dict[str, Any], where: str, place: list[str]) -> tuple[str, int]:
    """``(digest, size)`` of a well-formed reference; otherwise a :class:`StoreError`."""
    digest, size = value.get(BLOB), value.get(SIZE)
    problem = None
    if set(value) != {TYPE, BLOB, SIZE}:
        problem = f"it must have exactly the keys {TYPE}, {BLOB} and {SIZE}"
    elif value[TYPE] not in _TYPES and value[TYPE] != JSON_BODY:
        problem = (
            f"only bytes and bytearray are stored as blobs (and response bodies, {JSON_BODY}, "
            f"as objects of a remote store)"
        )
    elif not (type(digest) is str and _DIGEST.fullmatch(digest)):
        problem = f"{BLOB} must be a sha256 digest, 64 lowercase hex digits"
    elif not (type(size) is int and size >= 0):
        problem = f"{SIZE} must be a whole number of bytes"
    if problem is not None:
        at = "$" + "".join(place)
        raise StoreError(f"{where}: a blob reference at {at} is malformed: {problem}", path=where)
    return digest, size  # type: ignore[return-value]


def references(entry: Any, where: str) -> Iterator[tuple[str, int]]:
    """``(digest, size)`` of every reference in ``entry`` (a stored recording)."""
    stack: list[Any] = [entry]
    while stack:
        value = stack.pop()
        if type(value) is dict:
            if BLOB in value and TYPE in value:
                yield check_reference(value, where, [])
            else:
                stack.extend(value.values())
        elif type(value) is list:
            stack.extend(value)


def body_references(entry: Any, where: str) -> Iterator[tuple[str, int]]:
    """``(digest, size)`` of the body references in ``entry`` (a stored recording): the
    objects that may hold further (bytes) references of their own."""
    response = entry.get("response") if type(entry) is dict else None
    body = response.get("body") if type(response) is dict else None
    if type(body) is dict and body.get(TYPE) == JSON_BODY and BLOB in body:
        yield check_reference(body, where, [".response", ".body"])


def all_references(entry: Any, fetch: Fetch, where: str) -> set[str]:
    """The digests of every object ``entry`` needs: its references, and those inside its
    body object (read by ``fetch(digest, size)``, checked) (``apirec gc``, ``verify``)."""
    found = {d for d, _ in references(entry, where)}
    for digest, size in body_references(entry, where):
        body = _load_body(fetch(digest, size), digest, where)
        for inner, _ in references(body, where):
            found.add(inner)
    return found


def join_body(entry: Any, fetch: Fetch, where: str) -> Any:
    """``entry`` with only its body reference (if any) replaced by the body, whose own bytes
    references stay in place (``apirec show``: people see the body, sizes for the bytes)."""
    for digest, size in body_references(entry, where):
        body = _load_body(fetch(digest, size), digest, where)
        return {**entry, "response": {**entry["response"], "body": body}}
    return entry


def _load_body(data: bytes, digest: str, where: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as e:
        raise StoreError(
            f"{where}: the body object {digest} it refers to is not JSON ({e})", path=where
        ) from None
