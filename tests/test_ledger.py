"""The ledger: what each live call took and what the provider reported, stored with its answer
(issue 21, point 1), through the real SDK clients against the loopback fakes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anthropic
import ollama
import pytest
from google import genai
from google.genai import types

import apirec
from apirec import integrations
from apirec.stores.ledger import read, usage_and_model
from tests.ollama_server import OllamaServer

HI = [{"role": "user", "content": "llamas eat grass"}]  # 3 words: the fakes say 5 more


def ledgers(store_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()).get("ledger") for p in sorted(store_dir.glob("*.json"))]


def only_ledger(store_dir: Path) -> dict[str, Any]:
    [ledger] = ledgers(store_dir)
    assert ledger is not None
    assert 0 <= ledger["seconds"] < 30
    return ledger


async def test_openai_chat_stores_time_usage_and_model(openai_server, make_client, store_dir):
    client = make_client(openai_server.base_url)
    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "openai")
        await client.chat.completions.create(model="gpt-4o", messages=HI)
    ledger = only_ledger(store_dir)
    assert ledger["usage"] == {"input_tokens": 5, "output_tokens": 5}
    assert ledger["model"] == "gpt-4o"
    assert "first_chunk_seconds" not in ledger


async def test_openai_stream_stores_the_first_chunk_and_the_usage_chunk(
    openai_server, make_client, store_dir
):
    client = make_client(openai_server.base_url)
    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "openai")
        stream = await client.chat.completions.create(
            model="gpt-4o", messages=HI, stream=True, stream_options={"include_usage": True}
        )
        async for _ in stream:
            pass
    ledger = only_ledger(store_dir)
    assert 0 <= ledger["first_chunk_seconds"] <= ledger["seconds"]
    assert ledger["usage"] == {"input_tokens": 5, "output_tokens": 5}


async def test_openai_embeddings(openai_server, make_client, store_dir):
    client = make_client(openai_server.base_url)
    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "openai")
        await client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    assert only_ledger(store_dir)["usage"] == {"input_tokens": 2}


async def test_anthropic_stream_adds_up_start_and_delta(anthropic_server, store_dir):
    async with anthropic.AsyncAnthropic(
        base_url=anthropic_server.base_url, api_key="sk-ant-test", max_retries=0
    ) as client:
        with apirec.recording(store_dir, mode="record") as rec:
            integrations.patch(rec, "anthropic")
            async with client.messages.stream(
                model="claude-x", max_tokens=50, messages=HI
            ) as stream:
                await stream.get_final_message()
    ledger = only_ledger(store_dir)
    # input from message_start's message.usage, output from message_delta's usage
    assert ledger["usage"] == {"input_tokens": 5, "output_tokens": 5}
    assert ledger["model"] == "claude-x"
    assert ledger["first_chunk_seconds"] <= ledger["seconds"]


def test_ollama_counts_at_the_top_of_the_last_part(store_dir):
    server = OllamaServer().start()
    try:
        with (
            ollama.Client(host=server.url) as client,
            apirec.recording(store_dir, mode="record") as rec,
        ):
            integrations.patch(rec, "ollama")
            for _ in client.chat(model="llama3.2", messages=HI, stream=True):
                pass
    finally:
        server.stop()
    ledger = only_ledger(store_dir)
    assert ledger["usage"]["output_tokens"] == 5
    assert ledger["model"] == "llama3.2"


def test_genai_usage_metadata(store_dir):
    from tests.genai_server import GenAIServer

    server = GenAIServer().start()
    try:
        options = types.HttpOptions(base_url=server.url)
        client = genai.Client(api_key="k-test", http_options=options)
        with apirec.recording(store_dir, mode="record") as rec:
            integrations.patch(rec, "google.genai")
            client.models.generate_content(model="gemini-2.5-flash", contents="llamas eat grass")
        client.close()
    finally:
        server.stop()
    assert only_ledger(store_dir)["usage"]["input_tokens"] == 3


def test_a_function_of_your_own_has_time_only(store_dir):
    @apirec.record(name="slow.add")
    def add(a: int, b: int) -> int:
        return a + b

    with apirec.recording(store_dir, mode="record"):
        add(1, 2)
    assert only_ledger(store_dir).keys() == {"seconds"}


def test_replay_writes_nothing_and_old_recordings_read_as_unknown(store_dir):
    @apirec.record(name="slow.add")
    def add(a: int, b: int) -> int:
        return a + b

    with apirec.recording(store_dir, mode="record"):
        add(1, 2)
    [path] = store_dir.glob("*.json")
    before = path.read_bytes()
    with apirec.recording(store_dir):
        assert add(1, 2) == 3
    assert path.read_bytes() == before
    entry = json.loads(before)
    assert read(entry)[0] is not None
    del entry["ledger"]  # as recorded before the ledger
    assert read(entry) == (None, {}, None)
    # damaged ledgers are unknown too, never an error: the ledger is only a report
    for damaged in ("x", {"seconds": "1", "usage": {"input_tokens": True}}, {"usage": []}):
        assert read({**entry, "ledger": damaged}) == (None, {}, None)
    # and so are numbers no live call gives: a day's wait or more, negative or absurd counts
    # (a summary of a file from a pull request once said "saved 6739026759869h 27m")
    absurd = {"seconds": 1e16, "usage": {"input_tokens": -5, "output_tokens": 1e300}}
    assert read({**entry, "ledger": absurd}) == (None, {}, None)
    assert read({**entry, "ledger": {"seconds": -1.0}}) == (None, {}, None)


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        (  # openai chat, with details
            {
                "prompt_tokens": 100,
                "completion_tokens": 20,
                "prompt_tokens_details": {"cached_tokens": 64},
                "completion_tokens_details": {"reasoning_tokens": 12},
            },
            {"input_tokens": 100, "output_tokens": 20, "cached_tokens": 64, "reasoning_tokens": 12},
        ),
        (  # openai responses
            {
                "input_tokens": 7,
                "output_tokens": 3,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens_details": {"reasoning_tokens": 2},
            },
            {"input_tokens": 7, "output_tokens": 3, "cached_tokens": 0, "reasoning_tokens": 2},
        ),
        (  # anthropic, cache reads
            {"input_tokens": 9, "output_tokens": 4, "cache_read_input_tokens": 1000},
            {"input_tokens": 1009, "output_tokens": 4, "cached_tokens": 1000},
        ),
        (  # cohere's billed units
            {"billed_units": {"input_tokens": 11, "output_tokens": 6}},
            {"input_tokens": 11, "output_tokens": 6},
        ),
    ],
)
def test_usage_shapes_of_each_sdk(usage, expected):
    envelope = {"__type__": "x.Answer", "__data__": {"model": "m-1", "usage": usage}}
    assert usage_and_model({"body": envelope, "is_streaming": False}) == (expected, "m-1")
