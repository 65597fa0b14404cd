"""keys="llama-stack": keys, file names, request shape and id rewriting, recorded then replayed."""

from __future__ import annotations

import hashlib
import json
import os

import openai
import pytest

import apirec
from apirec.integrations.llama_stack import (
    LlamaStackKeys,
    model_ids_digest,
    plain,
    request_hash,
)
from apirec.integrations.openai import patch_openai
from apirec.stores.json_store import JsonStore
from tests.paths import LLAMA_STACK

MESSAGES = [{"role": "user", "content": "name a llama"}]
TEST_ID = "tests/integration/test_llamas.py::test_names[gpt]"
FIXTURES = LLAMA_STACK
MODELS = ["gpt-test", "gpt-test-mini"]


def formula(url: str, body: dict, test_id: str | None) -> str:
    """The README's formula, written out independently of apirec's code."""
    from urllib.parse import urlparse

    text = json.dumps(
        {"method": "POST", "endpoint": urlparse(url).path, "body": body, "test_id": test_id},
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def test_request_hash_reproduces_every_seed_name(fixtures_dir):
    seeds = sorted((fixtures_dir / "seeds").glob("*.json"))
    assert len(seeds) == 5
    for path in seeds:
        entry = json.loads(path.read_text())
        request = entry["request"]
        assert request_hash("POST", request["url"], request["body"], entry["test_id"]) == path.stem


def test_model_ids_digest_reproduces_model_list_names(fixtures_dir):
    files = sorted(fixtures_dir.glob("sample/*/recordings/models-*.json"))
    assert len(files) == 15
    for path in files:
        ids = [m["__data__"]["id"] for m in json.loads(path.read_text())["response"]["body"]]
        assert path.stem.split("-")[2] == model_ids_digest(ids), path.name


async def test_recorded_file_is_named_and_shaped_like_llama_stacks(
    openai_server, closed_url, store_dir, make_client
):
    base_url = openai_server.base_url
    with apirec.recording(store_dir, mode="record") as rec:
        patch_openai(rec, keys="llama-stack")
        with apirec.test_context(TEST_ID):
            live = await make_client(base_url).chat.completions.create(
                model="gpt-test", messages=MESSAGES, temperature=0.25, user=openai.omit
            )
    url = f"{base_url}/v1/chat/completions"  # base URL then endpoint: /v1/v1/... as upstream
    body = {"model": "gpt-test", "messages": MESSAGES, "temperature": 0.25}
    key = formula(url, body, TEST_ID)
    path = store_dir / f"{key}.json"
    assert [p.name for p in store_dir.glob("*.json")] == [path.name]
    entry = json.loads(path.read_text())
    assert path.read_text() == json.dumps(entry, indent=2) + "\n"
    assert entry["test_id"] == TEST_ID
    assert entry["request"] == {
        "method": "POST",
        "url": url,
        "headers": {},
        "body": body,
        "endpoint": "/v1/chat/completions",
        "model": "gpt-test",
    }
    data = entry["response"]["body"]["__data__"]
    assert (data["id"], data["created"]) == (f"rec-{key[:12]}", 0)
    assert live.id == "chatcmpl-1"  # the caller got the live answer untouched

    # read back by the same code path, from anywhere: only the URL's path is in the key
    with apirec.recording(store_dir, mode="replay") as rec:
        patch_openai(rec, keys="llama-stack")
        with apirec.test_context(TEST_ID):
            replayed = await make_client(closed_url).chat.completions.create(**body)
        with pytest.raises(apirec.RecordingNotFound):  # another test: another key
            await make_client(closed_url).chat.completions.create(**body)
    assert replayed.id == f"rec-{key[:12]}"
    assert replayed.choices == live.choices
    assert openai_server.requests == 1


async def test_model_list_files_carry_the_ids_digest(
    openai_server, closed_url, store_dir, make_client
):
    base_url = openai_server.base_url
    with apirec.recording(store_dir, mode="record") as rec, apirec.test_context(None):
        patch_openai(rec, keys="llama-stack")
        live = await make_client(base_url).models.list()
    key = formula(f"{base_url}/v1/models", {}, None)  # no test: JSON null in the key
    (path,) = store_dir.glob("*.json")
    assert path.name == f"models-{key}-{model_ids_digest(MODELS)}.json"
    body = json.loads(path.read_text())["response"]["body"]
    assert [m["__data__"]["id"] for m in body] == MODELS  # model ids are names: kept
    # used as the store lists it, so the pytest plugin never counts it as unused
    ((listed, index, _),) = JsonStore(store_dir).entries()
    assert (listed, index) in rec.used

    with apirec.recording(store_dir, mode="replay") as rec, apirec.test_context(None):
        patch_openai(rec, keys="llama-stack")
        replayed = [m async for m in make_client(closed_url).models.list()]
    assert replayed == live.data
    assert (listed, index) in rec.used
    assert openai_server.requests == 1


async def test_status_error_is_stored_in_llama_stack_form(
    openai_server, closed_url, store_dir, make_client
):
    base_url = openai_server.base_url
    with apirec.recording(store_dir, mode="record") as rec:
        patch_openai(rec, keys="llama-stack")
        with pytest.raises(openai.BadRequestError) as live:
            await make_client(base_url).chat.completions.create(
                model="bad-model", messages=MESSAGES
            )
    (path,) = store_dir.glob("*.json")
    response = json.loads(path.read_text())["response"]
    assert response["is_exception"] is True
    assert response["exception_data"] == {
        "category": "provider_sdk",
        "provider": "openai",
        "type": "BadRequestError",
        "message": str(live.value),
        "status_code": 400,
        "body": live.value.body,
    }
    with apirec.recording(store_dir, mode="replay") as rec:
        patch_openai(rec, keys="llama-stack")
        with pytest.raises(openai.BadRequestError) as replayed:
            await make_client(closed_url).chat.completions.create(
                model="bad-model", messages=MESSAGES
            )
    assert (replayed.value.status_code, replayed.value.body) == (400, live.value.body)
    assert replayed.value.response.status_code == 400


@pytest.mark.parametrize(
    ("status", "type_name", "expected"),
    [
        (400, "BadRequestError", openai.BadRequestError),
        (429, "SomeProviderError", openai.RateLimitError),  # unknown name: by status code
        (503, "ServiceUnavailable", openai.InternalServerError),
        (418, "Teapot", openai.APIStatusError),
    ],
)
def test_recorded_provider_errors_become_sdk_classes(status, type_name, expected):
    from apirec.integrations.openai import status_error

    data = {"category": "provider_sdk", "type": type_name, "message": "m", "status_code": status}
    error = status_error({**data, "body": {"code": "x"}}, "https://api.example/v1/v1/models")
    assert type(error) is expected
    assert (error.status_code, error.body, str(error)) == (status, {"code": "x"}, "m")


def test_secrets_in_the_body_are_redacted_in_the_file_not_the_key():
    keys = LlamaStackKeys("/v1/embeddings", base_url=lambda _: "https://api.example/v1/")
    body = {"model": "m", "input": "x", "extra_headers": {"Authorization": "Bearer sk-live"}}
    key, request = keys.key(None, object(), (), body, None)  # type: ignore[arg-type]
    assert key == formula("https://api.example/v1/v1/embeddings", body, None)
    assert request["body"]["extra_headers"] == {"Authorization": "<redacted>"}
    assert "sk-live" not in json.dumps(request)


def test_arguments_that_are_not_json_data_are_named():
    with pytest.raises(apirec.UnhashableArgument) as error:
        plain({"messages": [{"role": "user", "content": object()}]}, "body")
    assert error.value.parameter == "body.messages[0].content"
    assert "builtins.object" in str(error.value)


def test_several_model_lists_under_one_key_prefer_the_same_url_then_merge():
    keys = LlamaStackKeys("/v1/models", base_url=lambda _: "")

    def listing(url: str, *ids: str) -> dict:
        models = [{"__type__": "openai.types.model.Model", "__data__": {"id": i}} for i in ids]
        return {"request": {"url": url}, "response": {"body": models, "is_streaming": False}}

    a = listing("http://a/v1/v1/models", "m2", "m1")
    b = listing("http://b/v1/v1/models", "x")
    c = listing("http://a/v1/v1/models", "m3", "m1")
    assert keys.choose({"url": "http://b/v1/v1/models"}, [a, b, c]) == b
    merged = keys.choose({"url": "http://a/v1/v1/models"}, [a, b, c])
    assert [m["__data__"]["id"] for m in merged["response"]["body"]] == ["m1", "m2", "m3"]
    everything = keys.choose({"url": "http://elsewhere/v1/models"}, [a, b])
    assert [m["__data__"]["id"] for m in everything["response"]["body"]] == ["m1", "m2", "x"]


async def test_sync_and_async_clients_share_llama_stack_keys(
    openai_server, closed_url, store_dir, make_client, request
):
    base_url = openai_server.base_url
    sync_client = make_client(base_url, is_async=False)
    with apirec.recording(store_dir, mode="record") as rec:
        patch_openai(rec, keys="llama-stack")
        live = sync_client.embeddings.create(model="embed-test", input=["llama"])
    body = {"model": "embed-test", "input": ["llama"]}
    key = formula(f"{base_url}/v1/embeddings", body, request.node.nodeid)  # the plugin's test id
    assert (store_dir / f"{key}.json").is_file()
    with apirec.recording(store_dir, mode="replay") as rec:
        patch_openai(rec, keys="llama-stack")
        replayed = await make_client(closed_url).embeddings.create(
            model="embed-test", input=["llama"]
        )
    assert replayed == live
    assert openai_server.requests == 1


async def test_streamed_chunks_get_stable_ids(
    openai_server, closed_url, store_dir, make_client, request
):
    body = {"model": "gpt-test", "messages": MESSAGES, "stream": True}
    with apirec.recording(store_dir, mode="record") as rec:
        patch_openai(rec, keys="llama-stack")
        stream = await make_client(openai_server.base_url).chat.completions.create(**body)
        live = [chunk async for chunk in stream]
    key = formula(f"{openai_server.base_url}/v1/chat/completions", body, request.node.nodeid)
    response = json.loads((store_dir / f"{key}.json").read_text())["response"]
    assert response["is_streaming"] is True
    assert len(response["body"]) == len(live) >= 3
    assert {(c["__data__"]["id"], c["__data__"]["created"]) for c in response["body"]} == {
        (f"rec-{key[:12]}", 0)
    }
    with apirec.recording(store_dir, mode="replay") as rec:
        patch_openai(rec, keys="llama-stack")
        stream = await make_client(closed_url).chat.completions.create(**body)
        replayed = [chunk async for chunk in stream]
    assert [c.choices for c in replayed] == [c.choices for c in live]
    assert {c.id for c in replayed} == {f"rec-{key[:12]}"}
    assert openai_server.requests == 1


@pytest.mark.parametrize(
    "path",
    sorted(
        p.relative_to(FIXTURES)
        for p in FIXTURES.glob("sample/*/recordings/*.json")
        if '"is_exception": true' in p.read_text()
    ),
    ids=str,
)
def test_every_recorded_error_in_the_corpus_becomes_the_sdk_class(path):
    from apirec.integrations.openai import status_error

    entry = json.loads((FIXTURES / path).read_text())
    data = entry["response"]["exception_data"]
    error = status_error(data, entry["request"]["url"])
    assert type(error) is getattr(openai, data["type"])
    assert (error.status_code, error.body) == (data["status_code"], data["body"])
    assert error.request.url == entry["request"]["url"]


async def test_record_mode_replaces_an_outdated_model_list(openai_server, store_dir, make_client):
    base_url = openai_server.base_url
    key = formula(f"{base_url}/v1/models", {}, None)
    stale = store_dir / f"models-{key}-0badf00d.json"
    stale.write_text(json.dumps({"response": {"body": [], "is_streaming": False}}))
    os.utime(stale, (1_000_000_000, 1_000_000_000))
    other = store_dir / f"models-{'0' * 64}-0badf00d.json"  # another key's list stays
    other.write_text(stale.read_text())
    with apirec.recording(store_dir, mode="record") as rec, apirec.test_context(None):
        patch_openai(rec, keys="llama-stack")
        await make_client(base_url).models.list()
    assert sorted(p.name for p in store_dir.glob("*.json")) == sorted(
        [other.name, f"models-{key}-{model_ids_digest(MODELS)}.json"]
    )


async def test_a_miss_shows_the_closest_llama_stack_recording(
    fixtures_dir, tmp_path, closed_url, make_client
):
    seed = (
        fixtures_dir / "seeds/007c4711219f0fe25bd410d6dd8b18eae1251c3e83ab1f8d1d85ce86f5e197f3.json"
    )
    entry = json.loads(seed.read_text())
    store = tmp_path / "recordings"
    store.mkdir()
    (store / seed.name).write_bytes(seed.read_bytes())
    body = entry["request"]["body"]
    asked = [{"role": "user", "content": body["messages"][0]["content"].replace("S?", "T?")}]
    with apirec.recording(store, mode="replay") as rec, apirec.test_context(entry["test_id"]):
        patch_openai(rec, keys="llama-stack")
        with pytest.raises(apirec.RecordingNotFound) as miss:
            await make_client(closed_url).chat.completions.create(**{**body, "messages": asked})
    message = str(miss.value)
    assert miss.value.function == "POST /v1/chat/completions"
    assert f"Closest stored call of POST /v1/chat/completions: {store / seed.name}" in message
    assert (
        '+      "content": "Which planet has rings around it with a name starting with letter T?",'
        in message
    )
