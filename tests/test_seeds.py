"""The five seed recordings, served on replay through a decorated streaming function.

Each seed is a streamed gpt-4o chat completion recorded by llama-stack. The file is copied
as it is under the key apirec computes for the call (read from the replay miss), then
replayed: the chunks must come back as openai ``ChatCompletionChunk`` objects whose assembled
text and tool calls equal what the raw JSON holds.
"""

from __future__ import annotations

import json
import shutil

import pytest
from openai.types.chat import ChatCompletionChunk

import apirec
from apirec.streams.replay import AsyncReplayStream
from tests.paths import LLAMA_STACK

SEEDS = LLAMA_STACK / "seeds"
SEED_FILES = sorted(SEEDS.glob("*.json"))


@apirec.record(name="openai.chat.completions.create")
async def chat(model: str, messages: list[dict], **options):
    raise AssertionError("a replay must never call the provider")
    yield  # an async generator function: a streaming provider


def expected_from_json(body: list[dict]) -> tuple[str, dict[int, dict[str, str]]]:
    """Text and tool calls, straight from the stored JSON (no openai types involved)."""
    text = ""
    calls: dict[int, dict[str, str]] = {}
    for envelope in body:
        for choice in envelope["__data__"]["choices"]:
            delta = choice["delta"]
            text += delta.get("content") or ""
            for call in delta.get("tool_calls") or []:
                slot = calls.setdefault(call["index"], {"id": "", "name": "", "arguments": ""})
                slot["id"] += call.get("id") or ""
                function = call.get("function") or {}
                slot["name"] += function.get("name") or ""
                slot["arguments"] += function.get("arguments") or ""
    return text, calls


async def assemble(stream) -> tuple[list[ChatCompletionChunk], str, dict[int, dict[str, str]]]:
    """What an application does with a streamed completion: typed attribute access only."""
    chunks, text, calls = [], "", {}
    async for chunk in stream:
        chunks.append(chunk)
        for choice in chunk.choices:
            text += choice.delta.content or ""
            for call in choice.delta.tool_calls or []:
                slot = calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
                slot["id"] += call.id or ""
                if call.function is not None:
                    slot["name"] += call.function.name or ""
                    slot["arguments"] += call.function.arguments or ""
    return chunks, text, calls


def test_the_five_seeds_are_there():
    assert len(SEED_FILES) == 5, f"expected the five seeds in {SEEDS}"


@pytest.mark.parametrize("seed", SEED_FILES, ids=lambda p: p.name[:12])
async def test_seed_replays_as_typed_chunks(seed, tmp_path):
    recording = json.loads(seed.read_text())
    body = recording["response"]["body"]
    request = recording["request"]["body"]
    arguments = {k: v for k, v in request.items() if k != "stream"}
    assert recording["response"]["is_streaming"] is True

    with apirec.test_context(recording["test_id"]):
        async with apirec.recording(tmp_path, mode="replay"):
            with pytest.raises(apirec.RecordingNotFound) as miss:
                chat(**arguments)
        shutil.copyfile(seed, tmp_path / f"{miss.value.key}.json")  # the file as it is

        async with apirec.recording(tmp_path, mode="replay") as rec:
            stream = chat(**arguments)
            assert isinstance(stream, AsyncReplayStream)
            chunks, text, calls = await assemble(stream)
    assert rec.stats.replayed == 1

    expected_text, expected_calls = expected_from_json(body)
    assert expected_text or expected_calls  # each seed carries an answer
    assert text == expected_text
    assert calls == expected_calls
    for call in calls.values():
        json.loads(call["arguments"])  # complete JSON once assembled
    assert len(chunks) == len(body)
    assert all(type(c) is ChatCompletionChunk for c in chunks)
    # Field for field what the file holds, the extra "obfuscation" field included.
    assert [c.model_dump(mode="json", exclude_unset=True) for c in chunks] == [
        e["__data__"] for e in body
    ]
