"""README's "Three ways in" (and docs/how-it-works.md), complete: decorate, activate, patch.

Each way records once into a temporary directory, then replays; the asserts show replay
returned what was recorded without running the real code.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time

from mylib import agent, search
from pydantic import BaseModel

import apirec


class ChatReply(BaseModel):
    text: str
    at: float


def drop_timestamps(arguments: dict) -> dict:
    return {k: v for k, v in arguments.items() if k != "sent_at"}


RAN = {"embed": 0, "chat": 0}


@apirec.record  # name defaults to module.QualName
def embed(text: str, model: str = "small") -> list[float]:
    RAN["embed"] += 1
    return [len(text) / 10, 0.5]  # stands for a slow, paid embedding call


@apirec.record(name="llm.chat", ignore=["request_id"], normalize=drop_timestamps, shared=False)
async def chat(
    messages: list[dict], *, temperature: float = 0.0, request_id: str | None = None
) -> ChatReply:
    RAN["chat"] += 1
    return ChatReply(text=f"You said {messages[-1]['content']}", at=time.time())


async def main() -> None:
    # 1. decorate, and 2. activate a recording: record once, then replay
    with apirec.recording("tests/recordings", mode="record-if-missing"):
        reply = await chat([{"role": "user", "content": "hi"}])
        vector = embed("llamas")
    with apirec.recording("tests/recordings"):  # replay, the default
        assert await chat([{"role": "user", "content": "hi"}], request_id="x") == reply
        assert embed("llamas") == vector
    await test_chat()  # the recording as a decorator: replays the same answer
    assert RAN == {"embed": 1, "chat": 1}

    # 3. patch code you do not own, for the length of a block; APIREC_MODE=record as
    # `pytest --apirec-mode=record` sets it, for the recordings opened without mode=
    os.environ["APIREC_MODE"] = "record"
    with apirec.recording("tests/recordings") as rec:
        rec.patch("mylib.search.web_search")  # a function of a library you use
        hits = await agent.research("llamas")  # calls mylib.search.web_search inside
    del os.environ["APIREC_MODE"]
    with apirec.recording("tests/recordings"):  # noqa: SIM117 - as the README shows it
        with apirec.patch("mylib.search.web_search"):  # goes to whichever recording is active
            assert await agent.research("llamas") == hits
    assert search.CALLS["n"] == 1


@apirec.recording("tests/recordings")
async def test_chat():
    reply = await chat([{"role": "user", "content": "hi"}], request_id="another-id")
    assert reply.text == "You said hi"


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        asyncio.run(main())
    print("three ways: recorded, then replayed")
