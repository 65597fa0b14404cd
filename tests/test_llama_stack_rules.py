"""keys="llama-stack": the upstream recorder's hashing rules, old and current, on its own files.

``tests/data/llama_stack/ogx/`` holds upstream (OGX) recordings chosen so each one is found
only through one rule (see its README). Each replays in place through the real SDK client,
with the recorded test id, a transport that fails on any request and the network guarded.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import ollama
import openai
import pytest

import apirec
from apirec import integrations
from apirec.integrations.llama_stack_rules import (
    CURRENT,
    FORMULAS,
    http_key,
    inference_key,
    normalized,
    tool_key,
)
from tests.ollama_server import OllamaServer
from tests.paths import LLAMA_STACK
from tests.test_llama_stack_replay import NoNetwork, call_sdk, expected_models, http

OGX = LLAMA_STACK / "ogx"
UUID = "0a1b2c3d-4e5f-4a6b-8c9d-0e1f2a3b4c5d"

# each sample file -> the rule without which apirec would not find it
RULE_OF = {
    "responses/recordings/1f7f4726b3271546e67f50afb573d25464cb32df99289e4bb9a6a816912a47b8.json": (
        "bedrock stream_options (v0.5.0)"
    ),
    "responses/recordings/1a5a9da6382b176bc38f4f8a71701400d59ac9148fb1fda532b67e1dfde0ed0a.json": (
        "project_id, a recorded error (v0.6.2)"
    ),
    "responses/recordings/ff55116840a3cc1745623d8d3f8a277e79e2a2c5d88521844f2d260a97450726.json": (
        "project_id (v0.6.2)"
    ),
    "common/recordings/models-83953d70762b611d7b1e6ff232b53374ee7c35538fb0392cf9d92f27815c4fc6"
    "-c99eb79a.json": "project_id in a model list (v0.6.2)",
    "responses/recordings/912468ad85f5b2a6f9866cc7ebf8ae28854952ecf4c0273c74f8dd258d22acda.json": (
        "file_search placeholders (v0.8.0)"
    ),
    "responses/recordings/1e171766576921b1462c0773e012b63fbc42df98f9612af5eef7613e2b967900.json": (
        "named by the v0.6.2 formula (before file_search)"
    ),
    "responses/recordings/2443581bf4a71f7b26e3aef9715a65a1cb5ab62249e691e77dcfec2e00be302b.json": (
        "named by the v0.2.24 formula (no normalisation)"
    ),
    "responses/recordings/df8f92d7d926f80ed3c47254b24dc51490199da16f6518e922078b85b3c75127.json": (
        "rounding (v0.2.24)"
    ),
}


def _key_of(path: Path) -> str:
    return path.stem.split("-")[1] if path.stem.startswith("models-") else path.stem


async def _replay_openai(copy: Path, entry: dict[str, Any], transport: NoNetwork) -> Any:
    request = entry["request"]
    endpoint, url = request["endpoint"], request["url"]
    client = openai.AsyncOpenAI(
        base_url=url[: -len(endpoint)],
        api_key="sk-replay",
        max_retries=0,
        http_client=http.AsyncClient(transport=http.MockTransport(transport)),
    )
    async with client, apirec.recording(copy, mode="replay") as rec:
        integrations.patch(rec, "openai", keys="llama-stack")
        with apirec.test_context(entry.get("test_id")):
            streamed = entry["response"].get("is_streaming")
            return await call_sdk(client, endpoint, request["body"], streamed)


@pytest.mark.parametrize("name", sorted(RULE_OF), ids=lambda n: RULE_OF[n])
async def test_upstream_recording_replays_in_place(name, tmp_path):
    path = OGX / name
    entry = json.loads(path.read_text())
    copy = tmp_path / "recordings"
    shutil.copytree(path.parent, copy)
    transport = NoNetwork()
    response = entry["response"]
    if response.get("is_exception"):
        with pytest.raises(openai.APIStatusError) as raised:
            await _replay_openai(copy, entry, transport)
        data = response["exception_data"]
        assert (type(raised.value).__name__, raised.value.status_code) == (
            data["type"],
            data["status_code"],
        )
        return
    result = await _replay_openai(copy, entry, transport)
    if path.name.startswith("models-"):
        assert result == expected_models(path, entry)
    else:
        assert result == apirec.decode(entry["response"]["body"])
    assert transport.requests == []


def test_each_sample_needs_its_rule():
    """The sample is honest: no file is found by the raw formula of the first recorder."""
    raw = FORMULAS[-2]  # v0.2.24 before normalisation: test id, nothing else
    for name, rule in RULE_OF.items():
        entry = json.loads((OGX / name).read_text())
        request = entry["request"]
        keys = [
            inference_key("POST", request["url"], request["body"], entry["test_id"], f)
            for f in FORMULAS
        ]
        assert _key_of(OGX / name) in keys, name
        if "v0.2.24 formula" not in rule:
            assert keys[FORMULAS.index(raw)] != _key_of(OGX / name), name


async def test_ollama_ps_health_check_replays_without_the_server(tmp_path):
    name = "files/recordings/108e7edbe4a967fdb8befc0df3d3c10c336afca41aad421e653e4b02eab2a632.json"
    entry = json.loads((OGX / name).read_text())
    copy = tmp_path / "recordings"
    shutil.copytree((OGX / name).parent, copy)
    transport = NoNetwork()
    # the provider's own host: upstream keyed every ollama call under localhost:11434
    client = ollama.AsyncClient(
        host="http://10.1.2.3:8080", transport=http.MockTransport(transport)
    )
    async with client, apirec.recording(copy, mode="replay") as rec:
        integrations.patch(rec, "ollama", keys="llama-stack")
        with apirec.test_context(entry["test_id"]):
            answer = await client.ps()
    assert isinstance(answer, ollama.ProcessResponse)
    assert answer == ollama.ProcessResponse.model_validate(entry["response"]["body"]["__data__"])
    assert transport.requests == []


@pytest.fixture
def ollama_server():
    server = OllamaServer().start()
    yield server
    server.stop()


async def test_ollama_calls_are_recorded_as_upstream_names_them(ollama_server, tmp_path):
    with apirec.recording(tmp_path, mode="record") as rec:
        integrations.patch(rec, "ollama", keys="llama-stack")
        test_id = apirec.test_context("tests/integration/x/test_y.py::test_z")
        with test_id, ollama.Client(host=ollama_server.url) as client:
            live = client.chat(model="llama3.2", messages=[{"role": "user", "content": "hi"}])
    body = {"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]}
    key = inference_key(
        "POST", "http://localhost:11434/api/chat", body, "tests/integration/x/test_y.py::test_z"
    )
    entry = json.loads((tmp_path / f"{key}.json").read_text())
    assert entry["request"]["endpoint"] == "/api/chat"
    data = entry["response"]["body"]["__data__"]
    assert data["created_at"] == "1970-01-01T00:00:00.000000Z"
    assert data.get("total_duration") in (0, None)
    with apirec.recording(tmp_path, mode="replay") as rec:
        integrations.patch(rec, "ollama", keys="llama-stack")
        with apirec.test_context("tests/integration/x/test_y.py::test_z"):
            async with ollama.AsyncClient(host="http://127.0.0.1:9") as replayer:
                again = await replayer.chat(
                    model="llama3.2", messages=[{"role": "user", "content": "hi"}]
                )
    assert again.message.content == live.message.content


async def test_responses_api_is_keyed_and_replayed(openai_server, tmp_path, make_client):
    test_id = "tests/integration/responses/test_basic.py::test_one"
    with apirec.recording(tmp_path, mode="record") as rec:
        integrations.patch(rec, "openai", keys="llama-stack")
        with apirec.test_context(test_id):
            live = await make_client(openai_server.base_url).responses.create(
                model="gpt-test", input="hello", temperature=0.123456789
            )
    url = f"{openai_server.base_url}/v1/responses"
    body = {"model": "gpt-test", "input": "hello", "temperature": 0.12346}  # rounded, as upstream
    assert (tmp_path / f"{inference_key('POST', url, body, test_id)}.json").exists()
    with apirec.recording(tmp_path, mode="replay") as rec:
        integrations.patch(rec, "openai", keys="llama-stack")
        with apirec.test_context(test_id):
            again = await make_client(openai_server.base_url).responses.create(
                model="gpt-test", input="hello", temperature=0.123456789
            )
    assert again.output_text == live.output_text


def test_keys_llama_stack_names_what_it_covers(tmp_path):
    with apirec.recording(tmp_path, mode="replay") as rec:
        with pytest.raises(integrations.UnknownIntegration, match="openai, ollama"):
            integrations.patch(rec, "tavily", keys="llama-stack")
        with pytest.raises(ValueError, match="do not apply"):
            integrations.patch(rec, "openai", keys="llama-stack", ignore=["user"])
        with pytest.raises(ValueError, match="valid key scheme"):
            integrations.patch(rec, "openai", keys="llama")


# each rule as upstream implements it, written out independently


def test_floats_round_to_five_places_and_long_decimals_in_strings_too():
    body = {"temperature": 0.123456789, "messages": [{"content": "pi is 3.14159265 not 2.5"}]}
    assert normalized(body) == {
        "temperature": 0.12346,
        "messages": [{"content": "pi is 3.14159 not 2.5"}],
    }


def test_file_search_values_become_placeholders():
    text = (
        f"[1] document_id: {UUID}, score: 0.8123, attributes: {{'region': 'us'}} "
        f"see <|{UUID}|> and score: 1e-3"
    )
    assert normalized(text) == (
        "[1] document_id: __NORMALIZED__, score: __NORMALIZED__ "
        "see <|__NORMALIZED__|> and score: __NORMALIZED__"
    )
    older = FORMULAS[1]  # v0.6.2: only the decimals
    assert normalized(text, older) == text.replace("0.8123", "0.81230")


def test_project_id_leaves_extra_body_and_extra_query_of_roots_only():
    body = {
        "extra_body": {"project_id": "p1", "guided_choice": ["a"]},
        "extra_query": {"project_id": "p1"},
        "nested": {"extra_body": {"project_id": "kept"}},
        "items": [{"extra_query": {"project_id": "gone"}}],  # list items start over as roots
    }
    assert normalized(body) == {
        "extra_body": {"guided_choice": ["a"]},
        "extra_query": {},
        "nested": {"extra_body": {"project_id": "kept"}},
        "items": [{"extra_query": {}}],
    }
    assert body["extra_body"]["project_id"] == "p1"  # the caller's body is untouched


def test_bedrock_stream_options_only_at_the_top_and_only_for_bedrock_hosts():
    body = {"stream_options": {"include_usage": True}, "x": {"stream_options": 1}}
    bedrock = "https://bedrock-runtime.us-west-2.amazonaws.com/openai/v1/chat/completions"
    other = "https://api.openai.com/v1/v1/chat/completions"
    assert inference_key("POST", bedrock, body, None) == inference_key(
        "POST", bedrock, {"x": {"stream_options": 1}}, None
    )
    assert inference_key("POST", other, body, None) != inference_key(
        "POST", other, {"x": {"stream_options": 1}}, None
    )


def test_model_lists_are_shared_only_on_their_own_paths():
    one = inference_key("POST", "http://h/v1/models", {}, "t1")
    assert one == inference_key("POST", "http://h/v1/models", {}, "t2")
    assert inference_key("POST", "http://h/v1/openai/v1/models", {}, "t1") == inference_key(
        "POST", "http://h/v1/openai/v1/models", {}, None
    )
    # a base URL ending in /v1 makes the path /v1/v1/models: per test, as upstream
    assert inference_key("POST", "http://h/v1/v1/models", {}, "t1") != inference_key(
        "POST", "http://h/v1/v1/models", {}, "t2"
    )


def test_http_and_tool_keys_are_upstreams_formulas():
    import hashlib

    payload = {"query": "q", "documents": ["a"], "score": 0.1234567}
    expected = hashlib.sha256(
        json.dumps(
            {
                "test_id": "t",
                "url": "http://h/v1/rerank",
                "method": "POST",
                "payload": {"query": "q", "documents": ["a"], "score": 0.12346},
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()
    assert http_key("http://h/v1/rerank", "post", payload, "t") == expected
    text = json.dumps(
        {"provider": "tavily", "tool_name": "web_search", "kwargs": {"query": "q"}},
        sort_keys=True,
    )
    assert (
        tool_key("tavily", "web_search", {"query": "q"})
        == hashlib.sha256(text.encode()).hexdigest()
    )


def test_every_formula_names_its_upstream_commit():
    assert FORMULAS[0] is CURRENT
    for formula in FORMULAS:
        assert len(formula.commit) == 40 and formula.version.startswith("v")


GENAI = {
    "responses/recordings/d3bd848685b27d00da1d27e337d2adace1261b5544baf08529a4079d0821e471.json": (
        "generate_content"
    ),
    "responses/recordings/86173aaf2711983be162981db93ecfb3ccf702bbe89f810dc893445daf205f1f.json": (
        "generate_content_stream"
    ),
}


@pytest.mark.parametrize("name", sorted(GENAI), ids=lambda n: GENAI[n])
async def test_google_genai_recordings_replay_in_place(name, tmp_path):
    from google import genai
    from google.genai import types

    entry = json.loads((OGX / name).read_text())
    copy = tmp_path / "recordings"
    shutil.copytree((OGX / name).parent, copy)
    body = entry["request"]["body"]
    # nothing listens there; the network is guarded besides
    client = genai.Client(api_key="replay", http_options={"base_url": "http://127.0.0.1:9"})
    with apirec.recording(copy, mode="replay") as rec:
        integrations.patch(rec, "google.genai", keys="llama-stack")
        method = getattr(client.aio.models, GENAI[name])
        with apirec.test_context(entry["test_id"]):
            # the SDK's own types, as the stack passes them
            config = types.GenerateContentConfig.model_validate(body["config"])
            result = await method(model=body["model"], contents=body["contents"], config=config)
            if entry["response"]["is_streaming"]:
                result = [chunk async for chunk in result]
    recorded = entry["response"]["body"]
    if isinstance(recorded, list):
        assert result == [types.GenerateContentResponse.model_validate(c) for c in recorded]
    else:
        assert result == types.GenerateContentResponse.model_validate(recorded)
    assert rec.stats.replayed == 1


async def test_google_genai_calls_are_recorded_as_upstream_names_them(tmp_path):
    from google import genai
    from google.genai import types

    from tests.genai_server import GenAIServer

    server = GenAIServer().start()
    test_id = "tests/integration/x/test_y.py::test_gemini"
    config = types.GenerateContentConfig(temperature=0.3333333)
    try:
        client = genai.Client(api_key="k", http_options={"base_url": server.url})
        with apirec.recording(tmp_path, mode="record") as rec:
            integrations.patch(rec, "google.genai", keys="llama-stack")
            with apirec.test_context(test_id):
                live = await client.aio.models.generate_content(
                    model="gemini-x", contents="hello", config=config
                )
                chunks = await client.aio.models.generate_content_stream(
                    model="gemini-x", contents="hello there"
                )
                streamed = [c.text async for c in chunks]
    finally:
        server.stop()
    body = {"model": "gemini-x", "contents": "hello", "config": {"temperature": 0.3333333}}
    key = inference_key("POST", "vertexai:///generate_content", body, test_id)
    entry = json.loads((tmp_path / f"{key}.json").read_text())
    assert entry["request"]["body"] == body
    assert "__type__" not in entry["response"]["body"]  # upstream's dumps, untyped
    with apirec.recording(tmp_path, mode="replay") as rec:
        integrations.patch(rec, "google.genai", keys="llama-stack")
        with apirec.test_context(test_id):
            again = await client.aio.models.generate_content(
                model="gemini-x", contents="hello", config=config
            )
            chunks = await client.aio.models.generate_content_stream(
                model="gemini-x", contents="hello there"
            )
            assert [c.text async for c in chunks] == streamed
    assert isinstance(again, types.GenerateContentResponse)
    assert again.text == live.text


PASSTHROUGH = {
    "messages/recordings/2a5f7014ddf9a3d359fbf59a195e4762d47ef1768f98b2f1c7af55788e7fe6d8.json": (
        "messages"
    ),
    "common/recordings/cf0be7f9e2ebfc78903aa4ada30204585952f77bc5acb3ff7702bd7878d44b44.json": (
        "messages, a 400"
    ),
    "messages/recordings/f22657bfd86db6348c0a0d0b17332dcfc038b345d2a7be8da4b880a433d36a52.json": (
        "messages, streamed"
    ),
    "interactions/recordings/36a00e747aef2ae388935ed0594b579735c5b0ca21f758c501c3c1985a1bb892"
    ".json": "interactions, a 400",
    "interactions/recordings/df62e523dd87272e5c55c19d29a36f73aabf0a05969ccc611b6d434bfa1c255d"
    ".json": "interactions, streamed",
}


@pytest.mark.parametrize("name", sorted(PASSTHROUGH), ids=lambda n: PASSTHROUGH[n])
async def test_passthrough_recordings_replay_in_place(name, tmp_path):
    import httpx

    entry = json.loads((OGX / name).read_text())
    copy = tmp_path / "recordings"
    shutil.copytree((OGX / name).parent, copy)
    request, response = entry["request"], entry["response"]
    transport = NoNetwork()
    async with httpx.AsyncClient(transport=httpx.MockTransport(transport)) as client:
        with apirec.recording(copy, mode="replay") as rec:
            integrations.patch(rec, "httpx", keys="llama-stack")
            with apirec.test_context(entry["test_id"]):
                if response["is_streaming"]:
                    async with client.stream(
                        "POST", request["url"], json=request["payload"]
                    ) as streamed:
                        lines = [line async for line in streamed.aiter_lines()]
                    assert lines == response["body"]
                else:
                    answer = await client.post(request["url"], json=request["payload"])
                    assert answer.status_code == response["status"]
                    assert answer.json() == response["body"]
    assert rec.stats.replayed == 1
    assert transport.requests == []


async def test_passthrough_is_recorded_as_upstream_names_it(tmp_path):
    import httpx

    from tests.anthropic_server import AnthropicServer

    server = AnthropicServer().start()
    test_id = "tests/integration/messages/test_messages.py::test_one"
    payload = {
        "model": "claude-test",
        "max_tokens": 20,
        "messages": [{"role": "user", "content": "hello"}],
    }
    url = f"{server.base_url}/messages"
    try:
        async with httpx.AsyncClient() as client:
            with apirec.recording(tmp_path, mode="record") as rec:
                integrations.patch(rec, "httpx", keys="llama-stack")
                with apirec.test_context(test_id):
                    live = await client.post(url, json=payload)
                    other = await client.get(f"{server.base_url}/models")  # not a passthrough
    finally:
        server.stop()
    assert rec.stats.recorded == 1 and other.status_code in (200, 404)
    entry = json.loads((tmp_path / f"{http_key(url, 'POST', payload, test_id)}.json").read_text())
    stored = {"test_id": test_id, "url": url, "method": "POST", "payload": payload}
    assert entry["request"] == stored
    assert entry["response"]["status"] == live.status_code
    assert entry["response"]["body"] == live.json()
    async with httpx.AsyncClient() as client:
        with apirec.recording(tmp_path, mode="replay") as rec:
            integrations.patch(rec, "httpx", keys="llama-stack")
            with apirec.test_context(test_id):
                again = await client.post(url, json=payload)
    assert (again.status_code, again.json()) == (live.status_code, live.json())
