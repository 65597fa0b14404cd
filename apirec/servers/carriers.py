"""What travels over HTTP between a test and the server it calls: the test id, one way, and
the replay errors the server met while serving it, the other way.

Standard library only: the pytest plugin's start-up reads this module.
"""

from __future__ import annotations

import json
import string
import urllib.parse
from collections.abc import Iterable
from typing import Any

TEST_ID_HEADER = "X-Apirec-Test-Id"
MISS_HEADER = "X-Apirec-Miss"
# llama-stack's own carrier: its test client puts the test id in the provider-data header's
# JSON as "__test_id" (llama-stack 0.3, #3737); the header was renamed when the project
# became OGX (#5613). Both are read, so its server mode switches without client changes.
PROVIDER_DATA_HEADERS = ("x-ogx-provider-data", "x-llamastack-provider-data")
PROVIDER_DATA_FIELD = "__test_id"

# A response header must pass every client's limit: aiohttp reads at most 8190 bytes a line.
MAX_MISS_HEADER = 6000
_MAX_ERRORS = 20


# printable ASCII passes as it is; '%' and anything else (a test id need not be ASCII) is
# percent-encoded, so any test id is a valid header value
_SAFE = "".join(c for c in string.printable if c not in "%" + string.whitespace)


def header_value(test_id: str) -> str:
    """The ``X-Apirec-Test-Id`` value of a test id."""
    return urllib.parse.quote(test_id, safe=_SAFE)


def carried_test_id(headers: Iterable[tuple[str, str]]) -> str | None:
    """The test id a request carries: ``X-Apirec-Test-Id``, else llama-stack's provider data.

    ``headers``: (name, value) pairs, names in any case."""
    own: str | None = None
    provider: dict[str, str] = {}
    for name, value in headers:
        lowered = name.lower()
        if lowered == "x-apirec-test-id":
            own = urllib.parse.unquote(value.strip())
        elif lowered in PROVIDER_DATA_HEADERS:
            provider[lowered] = value
    if own:
        return own
    for name in PROVIDER_DATA_HEADERS:
        found = _from_provider_data(provider.get(name))
        if found:
            return found
    return None


_OWN = TEST_ID_HEADER.lower().encode("ascii")
_PROVIDER = tuple(name.encode("ascii") for name in PROVIDER_DATA_HEADERS)


def scope_test_id(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """:func:`carried_test_id` of an ASGI scope's headers (lower-case names, as bytes):
    read on every request, so only the two carriers are decoded."""
    found = [
        (name.decode("ascii"), value.decode("latin-1"))
        for name, value in headers
        if name == _OWN or name in _PROVIDER
    ]
    return carried_test_id(found) if found else None


def _from_provider_data(value: str | None) -> str | None:
    if not value:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None  # not ours to judge: llama-stack reports its own bad provider data
    test_id = data.get(PROVIDER_DATA_FIELD) if isinstance(data, dict) else None
    return test_id if isinstance(test_id, str) and test_id else None


def encode_errors(errors: Iterable[BaseException]) -> str:
    """The ``X-Apirec-Miss`` value for replay errors: JSON in printable ASCII, at most
    :data:`MAX_MISS_HEADER` characters (long messages are cut and say so)."""
    items = [
        {
            "type": type(e).__name__,
            "message": str(e),
            **{a: str(getattr(e, a)) for a in ("function", "test_id") if getattr(e, a, None)},
        }
        for e in errors
    ]
    data: dict[str, Any] = {"count": len(items), "errors": items[:_MAX_ERRORS]}
    text = _ascii(data)
    budget = MAX_MISS_HEADER
    while len(text) > MAX_MISS_HEADER and data["errors"]:
        # shorten the longest message first; drop errors past the first when that is not enough
        budget = budget * 3 // 4
        for item in data["errors"]:
            if len(item["message"]) > budget:
                item["message"] = item["message"][:budget] + _CUT
        if budget < 200:
            # one error, and none when even that does not fit (a huge test id): the count stays
            data["errors"] = data["errors"][:1] if budget >= 50 else []
        text = _ascii(data)
    return text


_CUT = "\n... (cut to fit the response header; the server's log has the whole message)"


def _ascii(data: Any) -> str:
    # ensure_ascii escapes all but printable ASCII and DEL, which no header value may hold
    return json.dumps(data, ensure_ascii=True, separators=(",", ":")).replace("\x7f", "\\u007f")


def decode_errors(value: str) -> tuple[int, list[dict[str, str]]]:
    """How many replay errors an ``X-Apirec-Miss`` value reports, and those it carries."""
    try:
        data = json.loads(value)
        count = int(data["count"])
        errors = [
            {str(k): str(v) for k, v in item.items()}
            for item in data["errors"]
            if isinstance(item, dict)
        ]
    except (ValueError, KeyError, TypeError, AttributeError):
        return 1, [{"type": "RecordingNotFound", "message": f"(unreadable: {value[:500]!r})"}]
    return max(count, len(errors)), errors
