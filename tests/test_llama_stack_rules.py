"""keys="llama-stack": the upstream recorder's hashing rules, old and current, on its own files.

``tests/data/ogx/`` holds upstream (OGX) recordings chosen so each one is found
only through one rule (see its README). Each replays in place through the real SDK client,
with the recorded test id, a transport that fails on any request and the network guarded.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

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
from tests.paths import OGX
from tests.test_llama_stack_replay import NoNetwork, call_sdk, expected_models, http

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


def test_keys_llama_stack_names_what_it_covers(tmp_path):
    with apirec.recording(tmp_path, mode="replay") as rec:
        with pytest.raises(integrations.UnknownIntegration, match="openai, ollama"):
            integrations.patch(rec, "mcp", keys="llama-stack")
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
