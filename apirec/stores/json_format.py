"""A recording's stored form as JSON: its bytes (:func:`dumps`, :func:`stored_form`),
reading them back (:func:`parse`, faster with msgspec) and the shape every recording must
have (:func:`check_entry`). Used by the JSON store and by the CLI."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from apirec.errors import StoreError
from apirec.gate.placeholders import TYPE
from apirec.gate.rules import Rules
from apirec.stores import blobs, metadata
from apirec.stores.blobs import JSON_BODY
from apirec.stores.gated import gated

if TYPE_CHECKING:  # the remote imports this module's readers
    from apirec.stores.remote.payloads import RemotePayloads

Entry = dict[str, Any]


def dumps(entry: Entry) -> bytes:
    """The stored bytes of a recording: indent 2, trailing newline, keys in recorded order."""
    return (json.dumps(entry, indent=2) + "\n").encode("utf-8")


def stored_form(
    entry: Entry, rules: Rules, remote: RemotePayloads | None, where: str
) -> tuple[bytes, dict[str, bytes]]:
    """The bytes to write for ``entry`` (the recording ``where``) and the payloads that go to
    ``blobs/``, after the write gate (``rules``: the user's ``scrub=``). With a ``remote``,
    the payloads (large bodies too) are uploaded here, before the recording that refers to
    them is written, and none is left for ``blobs/``."""
    entry = gated(entry, rules)
    data = dumps(entry)
    if remote is not None:
        if len(data) <= blobs.MIN_SIZE:
            return data, {}
        stored, payloads = remote.split(entry)
        remote.upload(payloads, where)
        return (dumps(stored) if payloads else data), {}
    if not blobs.might_hold_large_bytes(len(data)):
        return data, {}
    stored, payloads = blobs.split(entry)
    return (dumps(stored) if payloads else data), payloads


def check_entry(entry: Any, where: str) -> Entry:
    """Fail with the file and the field when a recording does not have the expected shape."""
    if not isinstance(entry, dict):
        raise _fail(where, f"a recording must be a JSON object, found {_kind(entry)}")
    response = entry.get("response")
    if not isinstance(response, dict):
        raise _fail(where, f"'response' must be an object, found {_kind(response)}")
    if "body" not in response:
        raise _fail(where, "'response' has no 'body'")
    for flag in ("is_streaming", "is_exception"):
        if flag in response and not isinstance(response[flag], bool):
            raise _fail(where, f"'response.{flag}' must be true or false")
    streamed = response.get("is_streaming") and not response.get("is_exception")
    if streamed and not isinstance(response["body"], list) and not _kept_apart(response["body"]):
        raise _fail(where, "a streamed 'response.body' must be a list")
    if "exception_data" in response and not isinstance(response["exception_data"], dict | None):
        raise _fail(where, "'response.exception_data' must be an object")
    test_id = entry.get("test_id")
    if test_id is not None and not isinstance(test_id, str):
        raise _fail(where, "'test_id' must be a string or null")
    if "request" in entry and not isinstance(entry["request"], dict):
        raise _fail(where, "'request' must be an object")
    if "recorded_at" in entry or "versions" in entry:
        metadata.check(entry, where)
    return entry


def _kept_apart(body: Any) -> bool:
    """A body kept as an object of a remote store (checked in full when it is read)."""
    return isinstance(body, dict) and body.get(TYPE) == JSON_BODY


def _fail(where: str, problem: str) -> StoreError:
    return StoreError(f"{where}: {problem}", path=where)


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _loads(raw: bytes) -> Any:
    """``json.loads(raw)``, faster with msgspec installed (the ``fast`` extra): what msgspec
    reads it reads to the same values (integers of any size, floats correctly rounded, key
    order kept); what it refuses (NaN, Infinity, lone surrogates, a BOM, bad bytes...) goes
    to the standard library, which reads it or raises its own error, as without msgspec."""
    decode = _fast_decoder()
    if decode is not None:
        try:
            return decode(raw)
        except Exception:  # any refusal: the standard library decides
            pass
    return json.loads(raw)


@functools.cache
def _fast_decoder() -> Callable[[bytes], Any] | None:
    # imported when the first recording is read: a run that reads none does not pay for it
    try:
        from msgspec.json import Decoder
    except ImportError:  # the standard library reads every recording alone
        return None
    return Decoder().decode


def parse(raw: bytes, where: str) -> Entry:
    try:
        entry = _loads(raw)
    except json.JSONDecodeError as e:
        raise StoreError(
            f"{where}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})", path=where
        ) from None
    except (UnicodeDecodeError, RecursionError, ValueError) as e:
        raise StoreError(f"{where}: not valid JSON ({type(e).__name__}: {e})", path=where) from None
    return check_entry(entry, where)


# a recording that starts with its test id, as apirec and the seeds' recorder write them
_LEADING_TEST_ID = re.compile(rb'\A\s*\{\s*"test_id"\s*:\s*("(?:[^"\\\x00-\x1f]|\\.)*")\s*[,}]')


def leading_test_id(raw: bytes) -> str | None:
    """The test id a recording names as its first field, or None when it does not (another
    first field, a null test id) or may name another one further on: a second
    ``"test_id"`` anywhere (a duplicate key, which a JSON reader takes instead; a nested one)
    leaves it to the whole file's parse."""
    found = _LEADING_TEST_ID.match(raw)
    if found is None or raw.count(b'"test_id"') != 1:
        return None
    try:
        value = json.loads(found[1])
    except ValueError:
        return None
    return value if isinstance(value, str) else None
