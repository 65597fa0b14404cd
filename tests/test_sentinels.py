"""The SDKs' not-given sentinels are left out of keys and stored requests, anywhere.

``NOT_GIVEN``/``not_given``/``omit`` of the real openai SDK, the same classes of any SDK
generated like it (``tests/lookalike_sdk/_types.py`` stands for anthropic's, groq's...) and
pydantic-ai's ``Unset``: a call passing them, at the top or nested in dicts, lists and header
pairs, is the call without them, for ``@apirec.record`` and ``rec.patch`` alike.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import openai
import pytest

import apirec
from tests.lookalike_sdk import _types as sdk_types
from tests.lookalike_sdk import _utils as sdk_utils
from tests.lookalike_sdk.resources import Messages

SENTINELS = {
    "openai.NOT_GIVEN": openai.NOT_GIVEN,
    "openai.not_given": openai.not_given,
    "openai.omit": openai.omit,
    "sdk.NOT_GIVEN": sdk_types.NOT_GIVEN,
    "sdk.not_given": sdk_types.not_given,
    "sdk.omit": sdk_types.omit,
    "pydantic_ai.UNSET": sdk_utils.UNSET,
}


@apirec.record(name="sentinels.chat")
def chat(
    messages: list[Any],
    *,
    temperature: Any = None,
    extra_headers: Any = None,
    options: Any = None,
    **extra: Any,
) -> str:
    return f"{len(messages)} messages"


def stored(root: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(root.rglob("*.json"))]


def with_sentinel(s: Any) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """Calls passing ``s`` in every place it travels; each is the plain call ``chat(["hi"])``
    or, for the nested ones, the call with that place holding only the other values."""
    return [
        ((["hi"],), {"temperature": s}),
        ((["hi"],), {"top_p": s}),  # through **extra
        ((["hi"],), {"extra_headers": {"X-Stainless-Retry-Count": s, "X-Trace": "t"}}),
        ((["hi"],), {"extra_headers": [("X-Stainless-Retry-Count", s), ("X-Trace", "t")]}),
        ((["hi"],), {"options": {"sampling": {"seed": s, "n": 2}}}),
        ((["hi", s],), {}),
    ]


WITHOUT = [
    ((["hi"],), {}),
    ((["hi"],), {}),
    ((["hi"],), {"extra_headers": {"X-Trace": "t"}}),
    ((["hi"],), {"extra_headers": [("X-Trace", "t")]}),
    ((["hi"],), {"options": {"sampling": {"n": 2}}}),
    ((["hi"],), {}),
]


@pytest.mark.parametrize("sentinel", SENTINELS.values(), ids=SENTINELS.keys())
def test_a_call_with_sentinels_anywhere_is_the_call_without_them(sentinel, tmp_path):
    with apirec.recording(tmp_path, mode="record"):
        for args, kwargs in WITHOUT:
            chat(*args, **kwargs)
    with apirec.recording(tmp_path, mode="replay") as replay:
        for args, kwargs in with_sentinel(sentinel):
            chat(*args, **kwargs)
    assert replay.stats.missed == 0 and replay.stats.replayed == len(WITHOUT)
    # the plain call, two header spellings and the options
    assert len({entry["request"]["key"] for entry in stored(tmp_path)}) == 4


@pytest.mark.parametrize("sentinel", SENTINELS.values(), ids=SENTINELS.keys())
def test_sentinels_are_not_stored(sentinel, tmp_path):
    with apirec.recording(tmp_path, mode="record"):
        for args, kwargs in with_sentinel(sentinel):
            chat(*args, **kwargs)
    requests = [entry["request"]["args"] for entry in stored(tmp_path)]
    text = json.dumps(requests)  # the test id in each file names the sentinel
    for trace in ("NOT_GIVEN", "NotGiven", "Omit", "Unset", "Retry-Count", "seed", "__type__"):
        assert trace not in text
    assert {"messages": ["hi"]} in requests


def test_rec_patch_on_an_sdk_generated_like_openai(tmp_path):
    """Its defaults are ``not_given``/``omit``; callers pass the other instance, or nest them."""
    target = "tests.lookalike_sdk.resources.Messages.create"
    messages = [{"role": "user", "content": "hi"}]
    calls = [  # the second is the first with sentinels in it
        {"model": "m", "messages": messages, "metadata": {}, "extra_headers": {}},
        {
            "model": "m",
            "messages": messages,
            "max_tokens": sdk_types.NOT_GIVEN,
            "temperature": sdk_types.Omit(),
            "metadata": {"user_id": sdk_types.not_given},
            "extra_headers": {"X-Stainless-Timeout": sdk_types.omit},
        },
    ]
    with apirec.recording(tmp_path, mode="record") as rec:
        rec.patch(target)
        first = Messages().create(**calls[0])
    with apirec.recording(tmp_path, mode="replay") as rec:
        rec.patch(target, repeats="last")  # one answer for both spellings: the same key
        assert [Messages().create(**call) for call in calls] == [first, first]
    assert rec.stats.replayed == 2


@dataclasses.dataclass
class Omit:
    """Named like a sentinel but carrying data: a real argument, never dropped."""

    header: str


class Unset:
    def __init__(self) -> None:
        self.reason = "carries data"


class NotGivenButNamedOtherwise:
    def __bool__(self) -> bool:
        return False


def test_look_alikes_that_carry_data_are_not_dropped(tmp_path):
    with apirec.recording(tmp_path, mode="record"):
        chat(["hi"], options=Omit("X-Trace"))
        with pytest.raises(apirec.UnhashableArgument, match="Unset"):
            chat(["hi"], options=Unset())
        with pytest.raises(apirec.UnhashableArgument, match="NotGivenButNamedOtherwise"):
            chat(["hi"], options=NotGivenButNamedOtherwise())
    (entry,) = stored(tmp_path)
    assert entry["request"]["args"]["options"] == {"header": "X-Trace"}


def test_rec_patch_on_the_real_openai_sdk_drops_its_sentinels(openai_server, make_client, tmp_path):
    client = make_client(openai_server.base_url, is_async=False)
    target = "openai.resources.chat.completions.Completions.create"
    messages = [{"role": "user", "content": "llamas eat grass"}]
    with apirec.recording(tmp_path, mode="record") as rec:
        rec.patch(target)
        live = client.chat.completions.create(
            model="gpt-test", messages=messages, extra_headers={"X-Trace": "t"}
        )
    openai_server.stop()
    with apirec.recording(tmp_path, mode="replay") as rec:
        rec.patch(target)
        replayed = client.chat.completions.create(
            model="gpt-test",
            messages=messages,
            temperature=openai.NOT_GIVEN,  # not the signature's own default object
            user=openai.omit,
            timeout=openai.NOT_GIVEN,
            extra_headers={"X-Trace": "t", "X-Stainless-Retry-Count": openai.omit},
        )
    assert replayed == live
    assert rec.stats.replayed == 1
