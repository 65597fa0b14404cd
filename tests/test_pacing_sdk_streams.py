"""Review of issue 21 (adversarial): replay_timing="recorded" must not change what is replayed.

docs/pytest.md / how-it-works: a paced replay yields each chunk when it came live; the values
are the recorded ones. Through the real openai and anthropic clients (stainless SDKs, whose
stored streams begin with apirec's HttpHead), a paced replay hands the HttpHead to the caller
as the first chunk: openai callers get an extra, foreign chunk; anthropic's stream helper
crashes (AttributeError: 'HttpHead' object has no attribute 'type')."""

from __future__ import annotations

import anthropic
import openai

import apirec
from apirec import integrations

HI = [{"role": "user", "content": "llamas eat grass"}]


def test_a_paced_openai_stream_replays_the_recorded_chunks(openai_server, store_dir):
    client = openai.OpenAI(base_url=openai_server.base_url, api_key="sk-test", max_retries=0)

    def chunks():
        stream = client.chat.completions.create(model="gpt-4o", messages=HI, stream=True)
        return [type(chunk).__name__ + repr(chunk) for chunk in stream]

    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "openai")
        live = chunks()
    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "openai")
        assert chunks() == live  # unpaced: holds
    with apirec.recording(store_dir, mode="replay", replay_timing="recorded") as rec:
        integrations.patch(rec, "openai")
        paced = chunks()
    client.close()
    assert [c[:20] for c in paced] == [c[:20] for c in live]
    assert paced == live


async def test_a_paced_anthropic_stream_replays(anthropic_server, store_dir):
    async with anthropic.AsyncAnthropic(
        base_url=anthropic_server.base_url, api_key="sk-ant-test", max_retries=0
    ) as client:

        async def text():
            async with client.messages.stream(
                model="claude-x", max_tokens=50, messages=HI
            ) as stream:
                return [t async for t in stream.text_stream]

        with apirec.recording(store_dir, mode="record") as rec:
            integrations.patch(rec, "anthropic")
            live = await text()
        with apirec.recording(store_dir, mode="replay", replay_timing="recorded") as rec:
            integrations.patch(rec, "anthropic")
            assert await text() == live
