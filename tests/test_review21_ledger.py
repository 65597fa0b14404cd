"""Review 21: the ledger of answers the SDKs return through ``with_raw_response`` and
``with_streaming_response`` (what LangChain's openai client calls, and what code that reads
rate-limit headers uses).

docs/recordings-and-stores.md, "The ledger": ``usage`` holds the tokens the provider reported
and ``model`` the model it said it used, "read from the answer itself: openai (chat, responses,
embeddings), anthropic ... whichever way it was recorded". Without them the savings summary,
``apirec stats`` and a token budget count these calls as free. These ways in store the HTTP
answer itself (its body as bytes: JSON, or a stream's server-sent events); the ledger's one
reader reads the documents in it (apirec/stores/http_documents.py), as it does for any SDK
recorded at httpx's ``send``.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import anthropic
import ollama
import openai
import pytest

import apirec
from apirec import integrations
from apirec.stores.ledger import usage_and_model
from tests.ollama_server import OllamaServer

HI = [{"role": "user", "content": "llamas eat grass"}]
FIVE_AND_FIVE = {"input_tokens": 5, "output_tokens": 5}  # what the fakes report for HI


def only_entry(store_dir: Path) -> dict[str, Any]:
    [path] = store_dir.glob("*.json")
    return json.loads(path.read_text())


def only_ledger(store_dir: Path) -> dict[str, Any]:
    return only_entry(store_dir)["ledger"]


async def settle(value):
    return await value if hasattr(value, "__await__") else value


async def openai_raw_call(client, how: str, streamed: bool) -> str:
    """One call of the openai chat through a raw way in; returns the text the caller read."""
    more: dict[str, Any] = {}
    if streamed:
        more = {"stream": True, "stream_options": {"include_usage": True}}
    create = getattr(client.chat.completions, how).create
    if how == "with_raw_response":
        answer = await settle((await settle(create(model="gpt-4o", messages=HI, **more))).parse())
        return await chunks_text(answer) if streamed else answer.choices[0].message.content
    manager = create(model="gpt-4o", messages=HI, **more)
    if isinstance(client, openai.AsyncOpenAI):
        async with manager as reply:
            answer = await reply.parse()
            return await chunks_text(answer) if streamed else answer.choices[0].message.content
    with manager as reply:
        answer = reply.parse()
        return await chunks_text(answer) if streamed else answer.choices[0].message.content


async def chunks_text(stream) -> str:
    chunks = [chunk async for chunk in stream] if hasattr(stream, "__aiter__") else list(stream)
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("how", ["with_raw_response", "with_streaming_response"])
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_openai_raw_responses_keep_usage_and_model(
    openai_server, make_client, store_dir, how, streamed, is_async
):
    client = make_client(openai_server.base_url, is_async=is_async)
    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "openai")
        live = await openai_raw_call(client, how, streamed)
    assert live == "You said: llamas eat grass"
    entry = only_entry(store_dir)
    assert entry["response"]["body"]["__type__"].endswith("HttpReply")  # the HTTP answer
    ledger = entry["ledger"]
    assert ledger.get("model") == "gpt-4o", ledger
    assert ledger.get("usage") == FIVE_AND_FIVE, ledger
    # and the answer replays as recorded, the ledger untouched
    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "openai")
        openai_server.stop()
        assert await openai_raw_call(client, how, streamed) == live
    assert only_ledger(store_dir) == ledger


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("how", ["with_raw_response", "with_streaming_response"])
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_anthropic_raw_responses_keep_usage_and_model(
    anthropic_server, store_dir, how, streamed, is_async
):
    cls = anthropic.AsyncAnthropic if is_async else anthropic.Anthropic
    client = cls(base_url=anthropic_server.base_url, api_key="sk-ant-test", max_retries=0)
    create = getattr(client.messages, how).create
    args: dict[str, Any] = {"model": "claude-x", "max_tokens": 20, "messages": HI}
    if streamed:
        args["stream"] = True
    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "anthropic")
        if how == "with_raw_response":
            answer = await settle((await settle(create(**args))).parse())
        elif is_async:
            async with create(**args) as reply:
                answer = await reply.parse()
        else:
            with create(**args) as reply:
                answer = reply.parse()
        if streamed:
            events = [e async for e in answer] if is_async else list(answer)
            assert events[0].type == "message_start"
            reported = events[0].message.usage.input_tokens, events[-2].usage.output_tokens
        else:
            reported = answer.usage.input_tokens, answer.usage.output_tokens
    await settle(client.close())
    ledger = only_ledger(store_dir)
    assert ledger.get("model") == "claude-x", ledger
    input_tokens, output_tokens = reported
    assert ledger.get("usage") == {"input_tokens": input_tokens, "output_tokens": output_tokens}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_an_sdk_recorded_at_httpx_send_keeps_usage_and_model(store_dir, stream):
    """The real ollama SDK through the generic httpx patch: its answer is stored as a head
    and byte chunks (NDJSON when streamed), read for the ledger the same way."""
    server = OllamaServer().start()
    try:
        with (
            ollama.Client(host=server.url) as client,
            apirec.recording(store_dir, mode="record") as rec,
        ):
            integrations.patch(rec, "httpx")
            reply = client.chat(model="llama3.2", messages=HI, stream=stream)
            parts = list(reply) if stream else [reply]
    finally:
        server.stop()
    ledger = only_ledger(store_dir)
    assert ledger.get("model") == "llama3.2", ledger
    assert ledger.get("usage") == {"output_tokens": parts[-1].eval_count}, ledger


def _bytes(data: bytes) -> dict[str, Any]:
    return {"__type__": "builtins.bytes", "__data__": base64.b64encode(data).decode()}


def _reply(content_type: str, body: bytes) -> dict[str, Any]:
    reply = {
        "status_code": 200,
        "headers": [["content-type", content_type]],
        "content": _bytes(body),
    }
    return {"body": {"__type__": "x.HttpReply", "__data__": reply}, "is_streaming": False}


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        (  # server-sent events: the end marker and comments carry nothing, lines may be CRLF
            "text/event-stream; charset=utf-8",
            b': ping\r\nevent: message_start\r\ndata: {"message": {"model": "m-1", '
            b'"usage": {"input_tokens": 7, "output_tokens": 1}}}\r\n\r\n'
            b'data: {"usage": {"output_tokens": 9}}\n\ndata: [DONE]\n\n',
            ({"input_tokens": 7, "output_tokens": 9}, "m-1"),
        ),
        (
            "application/x-ndjson",
            b'{"model": "m-2", "eval_count": 1}\n{"model": "m-2", "eval_count": 4}\n',
            ({"output_tokens": 4}, "m-2"),
        ),
        (
            "application/json",
            b'{"model": "m-3", "usage": {"prompt_tokens": 2}}',
            ({"input_tokens": 2}, "m-3"),
        ),
        # a body that is not JSON, or a type that carries none, is read as reporting nothing
        ("application/json", b"not json", ({}, None)),
        ("audio/mpeg", b'{"model": "m-4", "usage": {"prompt_tokens": 2}}', ({}, None)),
    ],
)
def test_http_bodies_are_read_by_their_content_type(content_type, body, expected):
    assert usage_and_model(_reply(content_type, body)) == expected
