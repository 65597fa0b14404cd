"""The OpenAI examples of README.md, docs/integrations.md, docs/streams-and-errors.md and
docs/staying-true.md, complete: each records against the stand-in API, then replays with the
stand-in stopped, no API key set and the network closed, and gets the same answers back."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time

import openai
from _services import stand_in
from openai import AsyncOpenAI, OpenAI

import apirec
from apirec import integrations

msgs = [{"role": "user", "content": "What is the capital of France?"}]
messages = msgs
prompt = [{"role": "user", "content": "busy: what is the capital of France?"}]


def name_your_sdks() -> str | None:
    with apirec.recording("tests/recordings") as rec:
        integrations.patch(rec, "openai", "mcp")  # or pytest --apirec-integrations=openai,mcp
        client = OpenAI()
        reply = client.chat.completions.create(model="gpt-4o", messages=msgs)
    return reply.choices[0].message.content


def sdks_and_helpers() -> list[str]:
    with apirec.recording("tests/recordings") as rec:  # replay, or APIREC_MODE
        integrations.patch(rec, "openai", "anthropic", "mcp")  # import names
        client = OpenAI()
        reply = client.chat.completions.create(model="gpt-4o", messages=messages)
    seen = [reply.choices[0].message.content or ""]
    with apirec.recording("tests/recordings") as rec:
        integrations.patch(rec, "openai", "anthropic", "groq")
        client = OpenAI()
        reply = client.chat.completions.create(model="gpt-4o", messages=messages)
        with client.chat.completions.stream(model="gpt-4o", messages=messages) as stream:
            for event in stream:  # the helper's events, on replay too
                seen.append(event.type)
    return seen


async def stream_and_error() -> list[str]:
    pieces = []
    async with apirec.recording("tests/recordings") as rec:
        integrations.patch(rec, "openai")
        client = AsyncOpenAI()
        # with the client patched: integrations.patch(rec, "openai")
        stream = await client.chat.completions.create(model="gpt-4o", messages=msgs, stream=True)
        async for chunk in stream:  # ChatCompletionChunk objects, on replay too
            print(chunk.choices[0].delta.content or "", end="")
            pieces.append(chunk.choices[0].delta.content or "")

        try:
            await client.chat.completions.create(model="no-such-model", messages=msgs)
        except openai.BadRequestError as e:  # the SDK's own class, on replay too
            assert e.status_code == 400
            pieces.append(str(e.body))
    print()
    return pieces


async def streams_page() -> list[str]:
    pieces = []
    async with apirec.recording("tests/recordings") as rec:
        integrations.patch(rec, "openai")
        client = AsyncOpenAI()
        stream = await client.chat.completions.create(
            model="gpt-4o", messages=msgs, stream=True, stream_options={"include_usage": True}
        )
        async with stream:  # the replayed stream also closes like the SDK's
            async for chunk in stream:  # ChatCompletionChunk objects, one at a time
                if chunk.choices:  # the last one holds the usage alone
                    print(chunk.choices[0].delta.content or "", end="")
                    pieces.append(chunk.choices[0].delta.content or "")
    print()
    with apirec.recording("tests/recordings") as rec:
        integrations.patch(rec, "openai")
        client = OpenAI()
        try:
            client.chat.completions.create(model="no-such-model", messages=msgs)
        except openai.BadRequestError as e:  # the SDK's own class, on replay too
            assert e.status_code == 400 and e.body["code"] == "model_not_found"
    return pieces


def ask(client, prompt):
    for attempt in range(3):  # your retry loop (or tenacity's)
        try:
            return client.chat.completions.create(model="gpt-4o", messages=prompt)
        except openai.RateLimitError:
            time.sleep(2**attempt)


def retries() -> str | None:
    if os.environ.get("APIREC_MODE") == "record":
        client = OpenAI(max_retries=0)  # your loop sees the 429s, not the SDK's own retries
        with apirec.recording("recordings", mode="record") as rec:
            integrations.patch(rec, "openai")
            ask(client, prompt)  # 429, 429, 200: only the 200 is stored
    with apirec.recording("recordings") as rec:  # replay: the 200, at once
        integrations.patch(rec, "openai")
        reply = ask(OpenAI(max_retries=0), prompt)
    return reply.choices[0].message.content


async def run_all() -> list[object]:
    return [
        name_your_sdks(),
        sdks_and_helpers(),
        await stream_and_error(),
        await streams_page(),
        retries(),
    ]


def main() -> None:
    with stand_in():
        os.environ["APIREC_MODE"] = "record"
        recorded = asyncio.run(run_all())
    os.environ["APIREC_MODE"] = "replay"  # the stand-in is gone, and so is the API key
    assert "OPENAI_API_KEY" not in os.environ
    replayed = asyncio.run(run_all())
    assert replayed == recorded, (recorded, replayed)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        main()
    print("openai examples: recorded, then replayed offline")
