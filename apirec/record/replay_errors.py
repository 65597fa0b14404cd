"""The errors a replayed answer raises: a recorded exception in the call's own format, the
end of a stream that was stored truncated, and a function whose stream kind changed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apirec.codec.exception_data import rebuild_error
from apirec.errors import ApirecError, IncompleteRecording
from apirec.record.calls import Call

# what a stored stream's "stream_kind" says, by whether it is async
KINDS = {True: "async", False: "sync"}
Where = Callable[[Call, int], str]  # the file of a call's stored answer


def incomplete(
    call: Call, response: dict[str, Any], where: str, location: str
) -> IncompleteRecording:
    """What replay raises past the end of a stream stored truncated (``response``)."""
    body = response.get("body")
    reason = str(response.get("truncated_reason") or "no reason stored")
    return IncompleteRecording(
        f"{call.function}() read past the end of a stream stored truncated in {where}: "
        f"it was cut after {len(body) if isinstance(body, list) else 0} chunks while it "
        f"was recorded ({reason}); record it again in full (delete the file and run in "
        f"record-if-missing mode)",
        file=where,
        reason=reason,
        function=call.function,
        key=call.key,
        arguments=call.arguments,
        location=location,
        test_id=call.test_id,
    )


def format_error(
    call: Call, data: dict[str, Any], where: str, trusted: tuple[str, ...]
) -> BaseException:
    """A recorded exception rebuilt by the call's keying if it knows the format."""
    error = call.keying.error(call.request or {}, data) if call.keying is not None else None
    if error is not None:
        return error
    return rebuild_error(data, trusted, where)


def check_stream_kind(
    call: Call, slot: int, response: dict[str, Any], is_async: bool, where: Where
) -> None:
    """A ``@record`` function recorded as a stream of one kind (sync or async) and now of the
    other: its stored answer cannot be handed back as what the function now returns."""
    stored = response.get("stream_kind", KINDS[is_async])
    if not call.own_kind or stored == KINDS[is_async]:
        return
    now = KINDS[is_async]
    raise ApirecError(
        f"{call.function}() was recorded as {'an' if stored == 'async' else 'a'} {stored} "
        f"stream ({where(call, slot)}) but is now {'an' if now == 'async' else 'a'} {now} one (a "
        f"{'generator' if now == 'sync' else 'async generator'} or a function returning "
        f"{'an iterator' if now == 'sync' else 'an async iterator'}): record it again "
        f"(run in record mode, or delete the file and run in record-if-missing mode)"
    )
