"""The replay fast paths give exactly what the full paths give, and never share state."""

import copy
import functools
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, ConfigDict

import apirec
from apirec.codec.replay_plans import once, plan
from apirec.keys.canonical import Canonicalizer, _Slow
from apirec.keys.spec import KeySpec

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
        | st.tuples(inner, inner)
    ),
    max_leaves=30,
)


@given(json_values)
def test_fast_canonical_form_equals_the_full_one(value):
    canon = Canonicalizer()
    full = canon.value(value, "x", None, None)  # also learns which names are secrets
    try:
        fast = canon.plain(value)
    except _Slow:
        return  # a secret inside: only the full path may handle it
    assert json.dumps(fast, sort_keys=False) == json.dumps(full, sort_keys=False)


@pytest.mark.parametrize(
    "value",
    [
        # a web-search tool's schema: its "query" property is no query string
        {"tools": [{"parameters": {"properties": {"query": {"type": "string"}}}}]},
        {"query": {"q": "llamas", "page": 2}, "headers": {"Accept": "text/plain"}},
        {"query": ["a", "b"], "extra_headers": None},
    ],
)
def test_a_dict_holding_headers_or_query_parameters_stays_on_the_fast_path(value):
    """Such a key's value takes the full path; the dict around it need not (a tool schema with a
    "query" property made the key of every call twice as slow)."""
    canon = Canonicalizer()
    full = canon.value(value, "x", None, None)
    assert canon.plain(value) == full


@pytest.mark.parametrize(
    "value",
    [
        {"query": {"key": "AIzaSyA1234567890abcdefghijklmnopqrstuv"}},
        {"headers": {"X-Api-Key": "k"}},
    ],
)
def test_a_secret_in_headers_or_query_parameters_still_takes_the_full_path(value):
    canon = Canonicalizer()
    canon.value(value, "x", None, None)
    with pytest.raises(_Slow):
        canon.plain(value)


argument_names = st.sampled_from(
    ["messages", "model", "api_key", "token", "extra_headers", "headers", "query", "input", "x"]
)


@pytest.mark.parametrize(
    "options", [{}, {"ignore": ["input", "messages.id"], "redact": ["x", "model.secret"]}]
)
@given(args=st.dictionaries(argument_names, json_values, max_size=5))
def test_each_argument_canonical_as_by_the_full_path(options, args):
    """Arguments under ordinary names try the fast path first (the names learnt once):
    their canonical form is the one every argument gets without it, call after call."""

    def call(**kwargs: Any) -> None: ...

    fast, full = KeySpec(call, name="call", **options), KeySpec(call, name="call", **options)
    full._is_fast = lambda name: False  # every argument by the full path
    for _ in range(2):
        assert json.dumps(fast.canonical(dict(args))) == json.dumps(full.canonical(dict(args)))


def test_secrets_at_depth_stay_redacted_call_after_call():
    def call(messages: list, extra_headers: dict | None = None) -> None: ...

    spec = KeySpec(call, name="call")
    args = {"messages": [{"role": "user"}], "extra_headers": {"X-Api-Key": "sk-1", "a": 1.23456789}}
    first = spec.canonical(spec.bind(None, (), args))
    for _ in range(3):  # the fast path takes over once the names are known
        again = spec.canonical(spec.bind(None, (), args))
        assert again == first
    for_key, for_store = first
    assert for_key["extra_headers"] == {"a": 1.234568}
    assert for_store["extra_headers"]["X-Api-Key"] == "<redacted>"
    other = {**args, "extra_headers": {"X-Api-Key": "sk-2", "a": 1.23456789}}
    assert spec.key(spec.canonical(spec.bind(None, (), other))[0], None) == spec.key(for_key, None)


class Loose(BaseModel):
    model_config = ConfigDict(extra="allow")
    meta: Any = None
    tags: list[str] = []


def fixture_chat(fixtures_dir):
    path = next(
        p
        for p in sorted((fixtures_dir / "sample/inference/recordings").glob("*.json"))
        if '"openai.types.chat.chat_completion.ChatCompletion"' in p.read_text()
    )
    return json.loads(path.read_text())["response"]["body"]


def fixture_embedding(fixtures_dir):
    path = next(
        p
        for p in sorted((fixtures_dir / "sample").rglob("*.json"))
        if '"openai.types.create_embedding_response.CreateEmbeddingResponse"' in p.read_text()
    )
    return json.loads(path.read_text())["response"]["body"]


@pytest.mark.parametrize("which", ["chat", "embedding", "loose"])
def test_plan_builds_what_decode_builds_every_time(fixtures_dir, which):
    if which == "loose":
        body = apirec.encode(Loose(meta={"a": [1.5] * 40}, tags=["t"] * 40, more=[{"x": 1}] * 40))
    else:
        body = (fixture_chat if which == "chat" else fixture_embedding)(fixtures_dir)
    make = plan(body, trusted_modules=[__name__])
    expected = apirec.decode(body, trusted_modules=[__name__])
    first, second = make(), make()
    # the first replay's way: no plan, and no copy (the recorder never decodes that data again)
    plain = once(copy.deepcopy(body), trusted_modules=[__name__])
    for replayed in (first, second, make(), plain):
        assert type(replayed) is type(expected)
        assert replayed == expected
        assert replayed.model_fields_set == expected.model_fields_set
        assert replayed.model_dump(mode="json", exclude_unset=True) == body["__data__"]
    assert first is not second
    dump = first.model_dump()
    _mutate_everything(first)
    _mutate_everything(plain)
    assert second.model_dump() == dump == make().model_dump()
    assert once(copy.deepcopy(body), trusted_modules=[__name__]).model_dump() == dump


def _mutate_everything(value):
    """Append to every list, add a key to every dict, reachable from ``value``."""
    if isinstance(value, BaseModel):
        for v in (*vars(value).values(), *(value.__pydantic_extra__ or {}).values()):
            _mutate_everything(v)
    elif isinstance(value, list):
        for v in value:
            _mutate_everything(v)
        value.append("mutated")
    elif isinstance(value, dict):
        for v in list(value.values()):
            _mutate_everything(v)
        value["mutated"] = True


@pytest.mark.parametrize("store", ["json", "msgpack"])
async def test_mutating_a_replay_never_changes_the_next_one(tmp_path, store):
    answer = Loose(
        meta={"nested": {"deep": [1, 2]}, "list": [[1], {"a": 1}]},
        tags=["x"],
        surplus={"kept": ["by", "reference"]},
    )

    @apirec.record(name="loose")
    async def ask(q: str) -> Loose:
        return answer.model_copy(deep=True)

    with apirec.recording(tmp_path, mode="record", store=store):
        await ask("q")
    original = answer.model_dump()
    with apirec.recording(tmp_path, mode="replay", store=store, repeats="last") as rec:
        for _ in range(3):  # past the end of the sequence: the same stored answer again
            got = await ask("q")
            assert got.model_dump() == original
            got.meta["nested"]["deep"].append(3)
            got.meta["list"][1]["a"] = 2
            got.meta["new"] = True
            got.tags.append("y")
            got.surplus["kept"].append("mutated")
            got.surplus["other"] = 1
        assert rec.stats.replayed == 3


async def test_mutating_a_replayed_chat_completion_never_changes_the_next(tmp_path, fixtures_dir):
    body = fixture_chat(fixtures_dir)

    @apirec.record(name="chat")
    async def chat(prompt: str) -> ChatCompletion:
        return apirec.decode(body)

    with apirec.recording(tmp_path, mode="record"):
        await chat("hi")
    with apirec.recording(tmp_path, mode="replay", repeats="last"):  # replayed twice
        first = await chat("hi")
        first.choices[0].message.content = "changed"
        first.choices.clear()
        if first.usage is not None:
            first.usage.total_tokens = -1
        second = await chat("hi")
    assert second == apirec.decode(body) and second.choices


def test_decode_never_returns_the_data_it_was_given():
    data = {"__type__": f"{__name__}.Loose", "__data__": {"meta": {"a": [1]}, "x": {"b": []}}}
    decoded = apirec.decode(data, trusted_modules=[__name__])
    decoded.meta["a"].append(2)
    decoded.x["b"].append(1)
    assert data["__data__"] == {"meta": {"a": [1]}, "x": {"b": []}}


@pytest.mark.parametrize(
    "value",
    [{1: "a", "b": 2}, {"b": {2: [1.0000001]}, "a": ()}, {"z": 1, "a": {"y": 2, "b": 3}}],
)
def test_canonical_form_is_stable_across_calls_and_key_orders(value):
    def call(x): ...

    spec = KeySpec(call, name="call")
    reordered = dict(reversed(list(value.items())))
    keys = {spec.key(spec.canonical({"x": v})[0], None) for v in (value, value, reordered, value)}
    assert len(keys) == 1
    assert spec.canonical({"x": value})[0] == {"x": Canonicalizer().value(value, "x", None, None)}


def test_header_pairs_stay_redacted_call_after_call():
    def fetch(url: str, headers: list) -> None: ...

    spec = KeySpec(fetch, name="fetch")
    args = {"url": "u", "headers": [("Authorization", "Bearer s3cret"), ("Accept", "json")]}
    stored = [spec.canonical(spec.bind(None, (), args))[1] for _ in range(3)]
    assert all(s == stored[0] for s in stored)
    assert stored[0]["headers"] == [["Authorization", "<redacted>"], ["Accept", "json"]]


def test_openai_answers_keep_the_plan_that_validates_the_stored_payload(fixtures_dir):
    # the fast plan: an answer holding nothing of its payload is validated from it, no copy
    # (apirec.codec.replay_plans._shares proves it; an unknown container would cost a copy)
    chat = fixture_chat(fixtures_dir)
    chunk = next(
        item
        for p in sorted((fixtures_dir / "sample").rglob("*.json"))
        if '"openai.types.chat.chat_completion_chunk.ChatCompletionChunk"' in p.read_text()
        for item in json.loads(p.read_text())["response"]["body"]
        if isinstance(item, dict) and "ChatCompletionChunk" in item.get("__type__", "")
    )
    for body in (chat, chunk):
        assert isinstance(plan(body), functools.partial)
