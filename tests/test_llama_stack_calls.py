"""keys="llama-stack" beyond openai's create: the calls upstream's recorder patched.

ollama (the ``ps`` health check...), the Responses API, google-genai, the Messages and
Interactions passthroughs (httpx) and the tavily tool runtime: upstream's own recordings of
each replay in place (copied in ``tests/data/ogx/``), and new ones are written
under upstream's names and shapes.
"""

from __future__ import annotations

import json
import shutil
import sys
from typing import Any

import ollama
import pytest
from pydantic import BaseModel

import apirec
from apirec import integrations
from apirec.integrations.llama_stack_rules import http_key, inference_key, tool_key
from tests.ollama_server import OllamaServer
from tests.paths import OGX
from tests.test_llama_stack_replay import NoNetwork, http


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
    assert again.created_at == live.created_at  # a number: only ollama's timestamps are reset


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


class ToolInvocationResult(BaseModel):
    """ogx_api.tools.ToolInvocationResult's fields (the type upstream's tavily files hold)."""

    content: Any = None
    error_message: str | None = None
    error_code: int | None = None
    metadata: dict[str, Any] | None = None


ToolInvocationResult.__module__ = "ogx_api.tools"  # where its recordings say it lives
TAVILY = (
    "responses/recordings/661e959c98b894f6daf608d415bbf64f6a5a1af0eef8012354886062b9244f7b.json"
)


@pytest.fixture
def tavily_runtime(monkeypatch):
    """ogx (the stack) is not installable here: its tavily tool runtime stands at its real
    module path, calling the tavily fake when asked, and its result type at its own."""
    import types

    import httpx

    from apirec.integrations.llama_stack_calls import TAVILY_RUNTIMES
    from tests.tavily_server import TavilyServer

    server = TavilyServer().start()

    class TavilySearchToolRuntimeImpl:
        calls = 0

        async def invoke_tool(self, tool_name, kwargs, authorization=None):
            type(self).calls += 1
            async with httpx.AsyncClient() as client:
                found = await client.post(f"{server.url}/search", json=kwargs)
            return ToolInvocationResult(content=json.dumps(found.json()))

    parts = TAVILY_RUNTIMES[0].split(".")
    for i in range(1, len(parts) + 1):
        monkeypatch.setitem(sys.modules, ".".join(parts[:i]), types.ModuleType(".".join(parts[:i])))
    sys.modules[TAVILY_RUNTIMES[0]].TavilySearchToolRuntimeImpl = TavilySearchToolRuntimeImpl
    results = types.ModuleType("ogx_api.tools")
    results.ToolInvocationResult = ToolInvocationResult
    monkeypatch.setitem(sys.modules, "ogx_api", types.ModuleType("ogx_api"))
    monkeypatch.setitem(sys.modules, "ogx_api.tools", results)
    yield TavilySearchToolRuntimeImpl
    server.stop()


async def test_tavily_tool_invocations_replay_in_place(tavily_runtime, tmp_path):
    entry = json.loads((OGX / TAVILY).read_text())
    copy = tmp_path / "recordings"
    shutil.copytree((OGX / TAVILY).parent, copy)
    request = entry["request"]
    with apirec.recording(copy, mode="replay", trusted_modules=["ogx_api"]) as rec:
        integrations.patch(rec, "tavily", keys="llama-stack")
        # another test, another time: tool invocations are keyed without the test id
        with apirec.test_context("tests/integration/other.py::test_other"):
            result = await tavily_runtime().invoke_tool(
                request["tool_name"], request["kwargs"], authorization="Bearer t"
            )
    assert result.content == entry["response"]["body"]["__data__"]["content"]
    assert type(result).__name__ == "ToolInvocationResult"
    assert tavily_runtime.calls == 0


async def test_tavily_tool_invocations_are_recorded_as_upstream_names_them(
    tavily_runtime, tmp_path
):
    arguments = {"query": "llama diet"}
    with apirec.recording(tmp_path, mode="record") as rec:
        integrations.patch(rec, "tavily", keys="llama-stack")
        with apirec.test_context("tests/integration/tools/test_t.py::test_search"):
            live = await tavily_runtime().invoke_tool(
                tool_name="web_search", kwargs=arguments, authorization="Bearer secret"
            )
    entry = json.loads(
        (tmp_path / f"{tool_key('tavily', 'web_search', arguments)}.json").read_text()
    )
    assert entry["request"] == {
        "test_id": "tests/integration/tools/test_t.py::test_search",
        "provider": "tavily",
        "tool_name": "web_search",
        "kwargs": arguments,
    }
    assert "secret" not in json.dumps(entry)
    with apirec.recording(tmp_path, mode="replay", trusted_modules=["ogx_api"]) as rec:
        integrations.patch(rec, "tavily", keys="llama-stack")
        again = await tavily_runtime().invoke_tool("web_search", arguments)
    assert tavily_runtime.calls == 1
    assert type(again) is type(live)
    assert again == live


def test_tavily_without_the_stack_is_a_clear_error(tmp_path):
    unknown = pytest.raises(integrations.UnknownIntegration, match="TavilySearchToolRuntimeImpl")
    with apirec.recording(tmp_path, mode="replay") as rec, unknown:
        integrations.patch(rec, "tavily", keys="llama-stack")
