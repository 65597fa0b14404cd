"""apirec: record what function calls return, and replay it in tests.

Put ``@apirec.record`` on a provider method (or ``rec.patch(...)`` a client method), run the
suite once against the real service, commit the recordings, and every later run is offline,
fast and exact, with the caller's own streaming, retry and tool-use logic still running.
"""

from __future__ import annotations

import datetime as _dt
import os as _os
from collections.abc import Callable as _Callable
from collections.abc import Iterable as _Iterable
from collections.abc import Mapping as _Mapping
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from apirec.errors import (
    ApirecError,
    BudgetExceeded,
    DecodeError,
    EncodeError,
    ExpiredRecording,
    ExpiredRecordingWarning,
    IncompleteRecording,
    InvalidExpiry,
    InvalidMode,
    InvalidStore,
    NetworkBlocked,
    NothingRecordedWarning,
    RecordingNotFound,
    ReplayedError,
    SequenceExhausted,
    StoreError,
    UnhashableArgument,
)
from apirec.record.lazy_module import lazy_attributes as _lazy_attributes
from apirec.record.modes import Mode

# importing apirec.record.modes bound the subpackage `apirec.record` here; the public name is
# the decorator, served by __getattr__ (the package binds itself only on its first import)
globals().pop("record", None)

if _TYPE_CHECKING:
    from apirec.codec.envelope import decode, encode
    from apirec.record import error_policy as _error_policy
    from apirec.record import recording as _recording
    from apirec.record.context import test_context
    from apirec.record.recording import Recording
    from apirec.record.wrapping import patch, record
else:  # what the annotations name, resolved at run time when asked (typing.get_type_hints)
    from apirec.record.lazy_module import LazyModule as _LazyModule

    _error_policy = _LazyModule("apirec.record.error_policy")  # type: ignore[assignment]
    _recording = _LazyModule("apirec.record.recording")  # type: ignore[assignment]

# Loaded on first use (PEP 562), so `import apirec` (and the pytest plugin, which imports this
# package first) does not pull in the recorder, codec, stores, pydantic, msgpack, xxhash, wrapt.
_LAZY = {
    "decode": "apirec.codec.envelope",
    "encode": "apirec.codec.envelope",
    "test_context": "apirec.record.context",
    "Recording": "apirec.record.recording",
    "patch": "apirec.record.wrapping",
    "record": "apirec.record.wrapping",
}


__getattr__ = _lazy_attributes("apirec", _LAZY, globals())


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__version__ = "0.1.0"


def recording(
    path: str | _os.PathLike[str] = "recordings",
    *,
    mode: Mode | str | None = None,
    store: str = "json",
    trusted_modules: _Iterable[str] = (),
    strict_types: bool = True,
    test_id: str | None = None,
    stream_rest_chunks: int | None = None,
    stream_rest_seconds: float | None = None,
    block_network: bool | None = None,
    allow_hosts: _Iterable[str] | None = None,
    max_age: str | _dt.timedelta | None = None,
    on_expired: str | None = None,
    store_errors: _error_policy.StoreErrors = "permanent",
    repeats: str | None = None,
    scrub: _Iterable[_Any] = (),
    replay_timing: str | float | None = None,
    remote: str | None = None,
    remote_options: _Mapping[str, str] | None = None,
) -> _recording.Recording:
    """Record or replay, into or from the store at ``path``, the calls made while active.

    ``mode`` is one of :class:`Mode` (default: ``APIREC_MODE``, else ``replay``). ``store`` is
    ``"json"`` (one pretty file per answer) or ``"msgpack"`` (one compact file).
    ``mode="compare"`` calls live, stores nothing, and lists in ``rec.compared`` how each live
    answer differs from the stored one (structure, then content; "new" when none is stored).
    ``trusted_modules`` lists packages decoding may import although the process has not
    imported them; ``strict_types=False`` returns raw data (with a warning) for types that
    cannot be resolved instead of raising :class:`DecodeError`. ``test_id`` fixes the key
    scope instead of :func:`test_context`.

    A stream the caller stops reading early is read to its end when it is closed or the
    block ends, but at most ``stream_rest_chunks`` more chunks (default 10,000) for at most
    ``stream_rest_seconds`` (default 30); past that it is stored truncated, with a warning.

    In ``replay`` mode the recording blocks the network while open: connections, data sent on
    connections opened earlier, and name lookups. Loopback passes, except the servers its
    answers were recorded against; the hosts, addresses and CIDR networks in ``allow_hosts``
    pass. A call that goes past the patches raises :class:`NetworkBlocked`.
    ``block_network=False`` turns that off, and also lets this recording's calls through when
    it is nested in a guarding one. Unset, they come from ``APIREC_BLOCK_NETWORK`` and
    ``APIREC_ALLOW_HOSTS`` (comma-separated), else the guard is on with no extra hosts.

    ``max_age`` (``"30d"``, ``"12h"``, ``"90m"`` or a ``timedelta``) makes stored answers
    older than that expired; ``on_expired`` says what replaying one does: ``"warn"`` (the
    default) replays it with an :class:`ExpiredRecordingWarning`, ``"fail"`` raises
    :class:`ExpiredRecording`, ``"record"`` (in ``record-if-missing`` mode) calls through and
    stores the new answer in its place; in replay mode ``"record"`` fails as ``"fail"`` does.
    An answer recorded before apirec stored ``recorded_at`` never expires.

    In the recording modes an error that says "try again" (HTTP 408, 409, 429, 5xx on the
    exception or its ``response``; timeouts; connection errors, the SDKs' included) reaches
    the caller but is not stored, so a retry loop's final answer is what gets recorded:
    ``store_errors="permanent"`` (the default). ``store_errors="all"`` stores every error; a
    callable ``(exception) -> bool`` decides per error. :class:`NetworkBlocked` is never stored.

    The n-th identical call gets the n-th recorded answer. A call past the end of its recorded
    sequence raises :class:`SequenceExhausted` (a :class:`RecordingNotFound`) in replay mode
    (``repeats="exact"``, the default; ``APIREC_REPEATS``), so a loop that now makes one call
    more fails; ``repeats="last"`` gives it the last answer again. ``rec.unplayed()`` lists the
    answers stored for this recording's test and calls that it did not replay.

    Every entry passes the write gate before it is stored: secrets (by name, token shape and
    in URLs) become ``"<redacted>"``, and keys are computed from that form. ``scrub`` adds
    regular expressions (or callables ``str -> str``) it applies to requests, keys and answers.

    ``replay_timing="recorded"`` replays at the recorded pace: an answer waits as long as its
    live call took, a stream yields each chunk when it came (``0.5``: twice as fast;
    ``APIREC_REPLAY_TIMING``); off by default.

    ``remote`` (``"s3://bucket/prefix"``, ``gs://``, ``az://``, ``file://``, or a read-only
    ``https://`` copy; ``APIREC_REMOTE``) keeps payloads over 64 KiB (large bytes, large
    answer bodies) in object storage, named by their sha256, and a small reference in the
    recording; replay reads them through a local cache (``APIREC_CACHE_DIR``) checked
    against the digest, and the guard lets the remote's host through. Credentials and
    endpoints come from the storage's own settings (``AWS_ENDPOINT_URL``...) and
    ``remote_options``; none of it is stored. Needs ``pip install 'apirec[s3]'`` (or
    ``[gcs]``, ``[azure]``).

    A context manager (``with`` / ``async with``) and a decorator; active process-wide while
    open, and nestable (the innermost wins). ``rec.patch(target, ...)`` wraps code you do not
    own until the block ends.
    """
    from apirec.record.recording import Recording

    return Recording(
        path,
        mode=mode,
        store=store,
        trusted_modules=trusted_modules,
        strict_types=strict_types,
        test_id=test_id,
        stream_rest_chunks=stream_rest_chunks,
        stream_rest_seconds=stream_rest_seconds,
        block_network=block_network,
        allow_hosts=allow_hosts,
        max_age=max_age,
        on_expired=on_expired,
        store_errors=store_errors,
        repeats=repeats,
        scrub=scrub,
        replay_timing=replay_timing,
        remote=remote,
        remote_options=remote_options,
    )


def register_type(
    cls: type, encode: _Callable[[_Any], _Any], decode: _Callable[[_Any], _Any]
) -> None:
    """Teach the codec a type: ``encode(value)`` gives JSON-ready data, ``decode(data)`` the value.

    Registered types are stored as ``{"__type__": "module.QualName", "__data__": ...}`` and
    rebuilt without importing anything.
    """
    if not isinstance(cls, type):
        raise TypeError(f"register_type needs a class, not {cls!r}")
    for role, function in (("encode", encode), ("decode", decode)):
        if not callable(function):
            raise TypeError(f"register_type({cls.__qualname__}): {role} must be callable")
    if cls in (str, int, float, bool, type(None), list, dict):
        # the codec stores these as JSON and never looks them up: a rule would be ignored
        raise TypeError(f"register_type: {cls.__qualname__} is stored as JSON, not registered")
    from apirec.codec.type_resolution import REGISTRY as _REGISTRY

    _REGISTRY.add(cls, encode, decode)


def test_headers() -> dict[str, str]:
    """The header that tells a server under test which test a request belongs to:
    ``{"X-Apirec-Test-Id": <test id>}`` inside a test (:func:`test_context`; the pytest
    plugin sets one per test), else ``{}``.

    The pytest plugin adds it by itself to requests to loopback hosts made with httpx,
    requests or aiohttp; give it to other clients. A server wrapped in
    ``apirec.servers.asgi_middleware`` or ``wsgi_middleware`` serves the request in that
    test's context.
    """
    from apirec.record.context import current_test_id
    from apirec.servers.carriers import TEST_ID_HEADER, header_value

    test_id = current_test_id()
    return {} if test_id is None else {TEST_ID_HEADER: header_value(test_id)}


test_headers.__test__ = False  # type: ignore[attr-defined]  # `from apirec import` it in tests


__all__ = [
    "ApirecError",
    "BudgetExceeded",
    "DecodeError",
    "EncodeError",
    "ExpiredRecording",
    "ExpiredRecordingWarning",
    "IncompleteRecording",
    "InvalidExpiry",
    "InvalidMode",
    "InvalidStore",
    "Mode",
    "NetworkBlocked",
    "NothingRecordedWarning",
    "Recording",
    "RecordingNotFound",
    "ReplayedError",
    "SequenceExhausted",
    "StoreError",
    "UnhashableArgument",
    "decode",
    "encode",
    "patch",
    "record",
    "recording",
    "register_type",
    "test_context",
    "test_headers",
]
