"""The keying seam: a function keyed, stored and found by another format's rules."""

from __future__ import annotations

import json

import pytest

import apirec
from apirec.record.wrapping import wrap


class UpperKeys:
    """A toy format: key = the upper-cased query, request stored as {"q": ...}."""

    def __init__(self) -> None:
        self.errors: list[dict] = []

    def key(self, spec, instance, args, kwargs, test_id):
        query = kwargs.get("query", args[0] if args else "")
        return query.upper(), {"q": query, "test": test_id}

    def stored(self, key, request, response):
        named = f"toy-{key}-v1.json" if key.startswith("NAMED") else None
        return {**response, "body": {"wrapped": response["body"]}}, named

    def aliases(self, request, test_id):
        return [f"OLD{request['q'].upper()}"]

    def choose(self, request, entries):
        return entries[-1]

    def error(self, request, data):
        self.errors.append(dict(data))
        return KeyError(data.get("message")) if data.get("toy") else None


def search(query: str) -> str:
    return f"result for {query}"


@pytest.fixture
def toy():
    keys = UpperKeys()
    return keys, wrap(search, name="toy.search", keying=keys)


def test_key_request_and_stored_response_come_from_the_keying(toy, store_dir):
    _, recorded = toy
    with apirec.recording(store_dir, mode="record"), apirec.test_context("t::1"):
        assert recorded("llamas") == "result for llamas"
    entry = json.loads((store_dir / "LLAMAS.json").read_text())
    assert entry["request"] == {"q": "llamas", "test": "t::1"}
    assert entry["response"]["body"] == {"wrapped": "result for llamas"}
    assert entry["test_id"] == "t::1"


def test_named_files_and_other_names_are_read_back(toy, store_dir):
    _, recorded = toy
    with apirec.recording(store_dir, mode="record"):
        recorded("named one")
    assert [p.name for p in store_dir.glob("*.json")] == ["toy-NAMED ONE-v1.json"]
    # a name with a space is not a key the glob fallback may match
    with apirec.recording(store_dir, mode="replay"), pytest.raises(apirec.RecordingNotFound):
        recorded("named one")

    (store_dir / "toy-NAMEDTWO-v1.json").write_text(
        json.dumps({"response": {"body": {"a": 1}, "is_streaming": False}})
    )
    (store_dir / "toy-NAMEDTWO-v2.json").write_text(
        json.dumps({"response": {"body": {"b": 2}, "is_streaming": False}})
    )
    with apirec.recording(store_dir, mode="replay") as rec:
        first = recorded("namedtwo")
        assert first == {"b": 2}  # choose() picked the last of the two
        first["b"] = "changed by the caller"
        assert recorded("namedtwo") == {"b": 2}  # the next identical call: as stored
        assert recorded("namedtwo") == {"b": 2}
    assert rec.stats.replayed == 3


def test_aliases_are_tried_on_a_miss(toy, store_dir):
    _, recorded = toy
    (store_dir / "OLDALPACA.json").write_text(
        json.dumps({"response": {"body": "from the old formula", "is_streaming": False}})
    )
    with apirec.recording(store_dir, mode="replay"):
        assert recorded("alpaca") == "from the old formula"


def test_the_keying_may_rebuild_recorded_errors(toy, store_dir):
    keys, recorded = toy
    for key, toy_flag in (("BOOM", True), ("PLAIN", False)):
        data = {"type": "builtins.ValueError", "message": "bad", "args": ["bad"], "toy": toy_flag}
        response = {"body": None, "is_streaming": False, "is_exception": True}
        (store_dir / f"{key}.json").write_text(
            json.dumps({"response": {**response, "exception_data": data}})
        )
    with apirec.recording(store_dir, mode="replay"):
        with pytest.raises(KeyError):
            recorded("boom")
        with pytest.raises(ValueError, match="bad"):  # None from the keying: apirec's rules
            recorded("plain")
    assert [e["toy"] for e in keys.errors] == [True, False]


def test_errors_name_the_file_an_answer_was_found_in(toy, store_dir):
    _, recorded = toy
    bad = {"__type__": "nowhere.Missing", "__data__": {}}
    path = store_dir / "toy-NAMEDBAD-v1.json"
    path.write_text(json.dumps({"response": {"body": bad, "is_streaming": False}}))
    with apirec.recording(store_dir, mode="replay"), pytest.raises(apirec.DecodeError) as error:
        recorded("namedbad")
    assert str(path) in str(error.value)
