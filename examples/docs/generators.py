"""docs/streams-and-errors.md: a function of your own that streams, recorded and replayed."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator

import apirec


class my_provider:
    calls = 0

    @classmethod
    async def stream(cls, prompt: str) -> AsyncIterator[str]:
        cls.calls += 1
        for word in f"you asked: {prompt}".split():
            await asyncio.sleep(0.01)  # a slow, paid token stream
            yield word


@apirec.record(name="llm.tokens")
async def tokens(prompt: str):  # async generator functions work as they are
    async for token in my_provider.stream(prompt):
        yield token


async def main() -> None:
    with apirec.recording("tests/recordings", mode="record"):
        recorded = [token async for token in tokens("why is the sky blue")]
    with apirec.recording("tests/recordings"):  # replay: token by token, the provider untouched
        replayed = [token async for token in tokens("why is the sky blue")]
    assert replayed == recorded == ["you", "asked:", "why", "is", "the", "sky", "blue"]
    assert my_provider.calls == 1


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        asyncio.run(main())
    print("a recorded async generator replayed")
