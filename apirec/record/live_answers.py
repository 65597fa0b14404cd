"""A live call's answer on its way to the store: a value encoded and saved at once, a stream
wrapped so that it is saved when it ends (:func:`~apirec.streams.recording.record_stream`)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from apirec.codec.envelope import encode_result
from apirec.errors import EncodeError, called
from apirec.record.calls import Call
from apirec.record.stored_answers import Answers
from apirec.streams.recording import is_stream, record_stream
from apirec.streams.tape import Tape


def finish_live(
    answers: Answers,
    keep: Callable[[Tape], None],
    call: Call,
    result: Any,
    *,
    async_stream: bool,
    policy: str | Callable[[BaseException], bool] | None = None,
) -> Any:
    """What a live call returned, stored (a stream: when it ends) and handed back."""
    if is_stream(result):
        kind: dict[str, Any] = {}
        if call.own_kind:
            kind["stream_kind"] = "async" if async_stream else "sync"
        if call.own_kind == "generator":  # not to be replayed to a plain function
            kind["generator"] = True

        def save(response: dict[str, Any], chunk_times: list[float]) -> str:
            slot = answers.save(call, {**response, **kind}, chunk_times)
            return answers.where(call, slot)

        return record_stream(
            result,
            call.function,
            async_stream=async_stream,
            save=save,
            keep=keep,
            # an error that cut the stream is judged as one at call time (store_errors=)
            fail=lambda error, response: answers.failed(call, error, policy, response),
        )
    try:
        body = encode_result(result, f"the result of {called(call.function)}")
    except BaseException as error:
        answers.abandon(call)
        if inspect.iscoroutine(result):
            raise _coroutine_returned(call.function, result) from error
        raise
    answers.save(call, {"body": body, "is_streaming": False})
    return result


def _coroutine_returned(function: str, coroutine: Any) -> EncodeError:
    """A plain ``def`` that returned a coroutine: apirec stores values, not work not yet done.
    The coroutine never ran (nothing happened), so closing it is safe."""
    coroutine.close()  # no "never awaited" warning: the error says it all
    return EncodeError(
        f"{called(function)} returned a coroutine, not a value: decorate the async def that makes "
        f"it (or await it inside {function.rsplit('.', 1)[-1]}() and make that async), so "
        f"apirec records what it returns when awaited"
    )
