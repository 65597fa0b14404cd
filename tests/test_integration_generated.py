"""Any SDK generated like openai's, by its import name (groq here), and the registry's errors."""

from __future__ import annotations

import json

import groq
import pytest

from apirec.integrations import UnknownIntegration, patch
from apirec.integrations.registry import module_for
from tests.integration_helpers import record_then_replay

MESSAGES = [{"role": "user", "content": "name a llama"}]
sync_and_async = pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])


@pytest.fixture
async def client():
    made = []

    def make(base_url, *, is_async):
        cls = groq.AsyncGroq if is_async else groq.Groq
        made.append(cls(base_url=base_url.removesuffix("/v1"), api_key="sk-test", max_retries=0))
        return made[-1]

    yield make
    for c in made:
        if isinstance(c, groq.AsyncGroq):
            await c.close()
        else:
            c.close()


async def maybe(value, is_async):
    return await value if is_async else value


@sync_and_async
async def test_groq_records_and_replays_plain_calls_and_streams(
    is_async, openai_server, closed_url, store_dir, client
):
    async def run(url):
        c = client(url, is_async=is_async)
        plain = await maybe(c.chat.completions.create(model="m", messages=MESSAGES), is_async)
        stream = await maybe(
            c.chat.completions.create(model="m", messages=MESSAGES, stream=True), is_async
        )
        assert isinstance(stream, groq.AsyncStream if is_async else groq.Stream)
        chunks = [x async for x in stream] if is_async else list(stream)
        with pytest.raises(groq.BadRequestError) as error:
            await maybe(c.chat.completions.create(model="bad-model", messages=MESSAGES), is_async)
        return plain, chunks, stream.response.status_code, error.value.body

    live, replayed = await record_then_replay(store_dir, openai_server, closed_url, run, "groq")
    assert replayed == live
    assert type(replayed[0]) is groq.types.chat.ChatCompletion
    assert replayed[0].choices[0].message.content == "You said: name a llama"
    assert replayed[2] == 200


def test_sdks_generated_like_openai_go_to_the_stainless_integration():
    assert module_for("groq") == module_for("openai") == "apirec.integrations.stainless"


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("no_such_sdk_anywhere", "'no_such_sdk_anywhere' is not an SDK apirec knows, nor an"),
        ("json", "'json' is not an SDK apirec knows"),
    ],
)
def test_unknown_or_missing_sdks_are_a_clear_error_listing_the_known_names(name, says, store_dir):
    import apirec

    with apirec.recording(store_dir, mode="replay") as rec:
        with pytest.raises(UnknownIntegration) as error:
            patch(rec, "openai", name)
        assert rec._patches == []  # every name is checked before anything is patched
    message = str(error.value)
    assert says in message
    for known in ("anthropic", "openai", "ollama", "google.genai", "mcp", "tavily"):
        assert repr(known) not in message or known == name
        assert known in message


async def test_a_resource_the_integration_never_saw_is_covered(
    openai_server, closed_url, store_dir, client
):
    # a newer SDK's resource: a class defined after the SDK was hooked, reaching the API
    # through the client's request path as generated resources do
    from groq._resource import SyncAPIResource
    from groq.types.chat import ChatCompletion

    import apirec

    with apirec.recording(store_dir, mode="replay") as rec:
        patch(rec, "groq")  # hooked now, before the new class exists

    class Agents(SyncAPIResource):
        def run(self, *, task: str, timeout: float | None = None) -> ChatCompletion:
            body = {"model": "m", "messages": [{"role": "user", "content": task}]}
            return self._post("/openai/v1/chat/completions", body=body, cast_to=ChatCompletion)

    async def run(url):
        return Agents(client(url, is_async=False)).run(task="plan a walk", timeout=3)

    live, replayed = await record_then_replay(store_dir, openai_server, closed_url, run, "groq")
    assert replayed == live
    assert replayed.choices[0].message.content == "You said: plan a walk"
    (path,) = store_dir.glob("*.json")
    request = json.loads(path.read_text())["request"]
    assert request["function"].endswith("never_saw_is_covered.<locals>.Agents.run")
    assert request["args"] == {"task": "plan a walk"}  # the timeout left out
