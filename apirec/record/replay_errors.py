"""The errors a replayed answer raises: a recorded exception in the call's own format, the
end of a stream that was stored truncated, a call past the end of its recorded sequence, and a
function whose stream kind changed."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from apirec.codec.exception_data import rebuild_error
from apirec.errors import ApirecError, IncompleteRecording, SequenceExhausted, called
from apirec.record.calls import Call
from apirec.record.miss_diagnostics import pretty
from apirec.record.record_advice import default_record_command
from apirec.streams.completeness import caller_chunks

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
        f"{called(call.function)} read past the end of a stream stored truncated in {where}: "
        f"it was cut after {caller_chunks(body) if isinstance(body, list) else 0} chunks while it "
        f"was recorded ({reason}); record it again in full (delete the file and run in "
        f"record-if-missing mode)",
        file=where,
        reason=reason,
        **_about(call, location),
    )


def _about(call: Call, location: str) -> dict[str, Any]:
    """What a replay miss says about its call (:class:`~apirec.RecordingNotFound`'s fields)."""
    return {
        "function": call.function,
        "key": call.key,
        "arguments": call.arguments,
        "location": location,
        "test_id": call.test_id,
    }


def format_error(
    call: Call, data: dict[str, Any], where: str, trusted: tuple[str, ...]
) -> BaseException:
    """A recorded exception rebuilt by the call's keying if it knows the format."""
    error = call.keying.error(call.request or {}, data) if call.keying is not None else None
    if error is not None:
        return error
    return rebuild_error(data, trusted, where)


def past_the_end(
    call: Call, recorded: int, files: list[str], location: str, record_command: Any
) -> SequenceExhausted:
    """The miss of call ``call.index + 1`` of a key whose sequence holds ``recorded`` answers."""
    n = call.index + 1
    short = call.function.rsplit(".", 1)[-1]
    names = [os.path.basename(f) if os.path.dirname(f) == location else f for f in files]
    shown = names if len(names) <= 3 else [names[0], "...", names[-1]]
    record = record_command if isinstance(record_command, str) and record_command else None
    lines = [
        f"call {n} of {called(call.function)} but {recorded} "
        f"{'answer was' if recorded == 1 else 'answers were'} recorded for it (mode 'replay'): "
        f"the code under test now makes this call more often than when it was recorded.",
        f"  key:       {call.key}",
        f"  test:      {call.test_id or '(none)'}",
        f"  store:     {location}",
        f"  recorded:  {', '.join(shown)}",
        "  arguments:",
        *("    " + line for line in pretty(call.arguments).splitlines()),
        "To record it as the next answer, run:",
        "  " + (record or default_record_command()),
        f"If {short}() may be asked again for the same answer (polling, a health check), let "
        f"it repeat the last one: repeats='last' on @apirec.record, or for the whole recording "
        f"(so for SDK integration calls) on apirec.recording(), @pytest.mark.apirec, "
        f"--apirec-repeats, ini apirec_repeats or APIREC_REPEATS.",
    ]
    return SequenceExhausted(
        "\n".join(lines),
        call_number=n,
        recorded=recorded,
        **_about(call, location),
    )


def check_stream_kind(
    call: Call, slot: int, response: dict[str, Any], is_async: bool, where: Where
) -> None:
    """A ``@record`` function recorded as a stream of one kind (sync or async) and now of the
    other, or a generator function recorded returning a value (or the other way round): its
    stored answer cannot be handed back as what the function now returns."""
    if not call.own_kind:
        return
    streaming = response.get("is_streaming") is True
    generator = "an async generator" if is_async else "a generator"
    if call.own_kind == "generator" and not streaming and not response.get("is_exception"):
        raise _record_again(call, slot, where, "returning a value", f"{generator} function")
    if streaming and call.own_kind != "generator" and response.get("generator") is True:
        stored_kind = (
            "an async generator" if response.get("stream_kind") == "async" else ("a generator")
        )
        now = "an async" if is_async else "a plain"
        raise _record_again(call, slot, where, f"{stored_kind} function", f"{now} function")
    stored = response.get("stream_kind", KINDS[is_async])
    if not streaming or stored == KINDS[is_async]:
        return
    now = KINDS[is_async]
    raise ApirecError(
        f"{called(call.function)} was recorded as {'an' if stored == 'async' else 'a'} {stored} "
        f"stream ({where(call, slot)}) but is now {'an' if now == 'async' else 'a'} {now} one (a "
        f"{'generator' if now == 'sync' else 'async generator'} or a function returning "
        f"{'an iterator' if now == 'sync' else 'an async iterator'}): record it again "
        f"(run in record mode, or delete the file and run in record-if-missing mode)"
    )


def _record_again(call: Call, slot: int, where: Where, then: str, now: str) -> ApirecError:
    return ApirecError(
        f"{called(call.function)} was recorded as {then} ({where(call, slot)}) but is now {now}, "
        f"so its stored answer cannot be handed back as what it returns now: record it again "
        f"(run in record mode, or delete the file and run in record-if-missing mode)"
    )
