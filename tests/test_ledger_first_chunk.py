"""first_chunk_seconds is the time to a stream's first chunk.

docs/recordings-and-stores.md: '`first_chunk_seconds` the time to a stream's first chunk'. For
the stainless SDKs (openai, anthropic) the stored stream begins with apirec's HttpHead (the
status and headers), stamped when the headers came, so first_chunk_seconds is the time to the
headers, not to the first token: a model that thinks 0.6 s before its first token records
~0.0 s, and a paced replay yields the first token at once."""

from __future__ import annotations

import asyncio
import json

import openai

import apirec
from apirec import integrations
from tests.openai_server import OpenAIServer


class SlowFirstToken(OpenAIServer):
    async def _stream(self, body, words):  # headers at once, the first chunk 0.6 s later
        await asyncio.sleep(0.6)
        async for event in super()._stream(body, words):
            yield event


def test_first_chunk_seconds_is_the_time_to_the_first_chunk(store_dir):
    server = SlowFirstToken().start()
    try:
        client = openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)
        with apirec.recording(store_dir, mode="record") as rec:
            integrations.patch(rec, "openai")
            for _ in client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True
            ):
                pass
        client.close()
    finally:
        server.stop()
    [path] = store_dir.rglob("*.json")
    ledger = json.loads(path.read_text())["ledger"]
    assert ledger["seconds"] >= 0.6
    assert ledger["first_chunk_seconds"] >= 0.5, ledger
