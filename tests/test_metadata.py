"""Issue 13 point 1: every recording says when it was made (``recorded_at``) and with which
package versions (``versions``); recordings without them keep working everywhere."""

from __future__ import annotations

import datetime as dt
import json
import re
from importlib import metadata as importlib_metadata

import openai
import pytest
import tavily.errors
from google.genai import types as genai_types
from openai.types.chat import ChatCompletionChunk
from openai.types.model import Model

import apirec
from apirec.stores import metadata

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@apirec.record(name="meta.model")
def model(name):
    return Model(id=name, created=1, object="model", owned_by="me")


@apirec.record(name="meta.plain")
def plain(x):
    return {"x": x, "when": dt.date(2026, 1, 2), "ids": (1, 2)}


@apirec.record(name="meta.fails")
def fails():
    raise openai.OpenAIError("no key")


@apirec.record(name="meta.tavily_fails")
def tavily_fails():
    raise tavily.errors.InvalidAPIKeyError("bad key")


@apirec.record(name="meta.genai")
def genai():
    return genai_types.Content(role="model", parts=[genai_types.Part(text="hi")])


@apirec.record(name="meta.stream")
def stream(n):
    for i in range(n):
        yield ChatCompletionChunk(
            id=f"c{i}", choices=[], created=1, model="m", object="chat.completion.chunk"
        )


def only_file(path):
    (found,) = [p for p in path.rglob("*.json") if ".apirec-tmp" not in p.parts]
    return found


def record_one(path, function, *args, store="json"):
    with apirec.recording(path, mode="record", store=store):
        try:
            result = function(*args)
            if hasattr(result, "__next__"):
                result = list(result)
        except Exception:
            pass


def stored_entry(path, store):
    if store == "json":
        return json.loads(only_file(path).read_text())
    from apirec.stores.msgpack.store import MsgpackStore

    ms = MsgpackStore(path)
    try:
        ((key, index, _),) = list(ms.entries())
        return ms.read(key, index)
    finally:
        ms.close()


@pytest.mark.parametrize("store", ["json", "msgpack"])
@pytest.mark.parametrize(
    ("function", "args", "packages"),
    [
        (model, ("gpt",), {"openai": "openai"}),
        (stream, (3,), {"openai": "openai"}),
        (fails, (), {"openai": "openai"}),
        (plain, (1,), {}),  # dict, datetime.date, tuple: no package
        (tavily_fails, (), {"tavily": "tavily-python"}),  # distribution named otherwise
        (genai, (), {"google.genai": "google-genai"}),  # a namespace of several distributions
    ],
    ids=["model", "stream", "exception", "stdlib-only", "tavily", "namespace"],
)
def test_each_recording_stores_when_and_the_versions_of_its_types(
    tmp_path, store, function, args, packages
):
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    record_one(tmp_path, function, *args, store=store)
    after = dt.datetime.now(dt.UTC)

    entry = stored_entry(tmp_path, store)
    assert STAMP.match(entry["recorded_at"]), entry["recorded_at"]
    when = dt.datetime.fromisoformat(entry["recorded_at"])
    assert before <= when <= after
    expected = {"apirec": apirec.__version__}
    expected |= {key: importlib_metadata.version(dist) for key, dist in packages.items()}
    assert entry["versions"] == expected


def test_metadata_comes_first_in_the_file_for_people_reading_it(tmp_path):
    record_one(tmp_path, model, "gpt")
    keys = list(json.loads(only_file(tmp_path).read_text()))
    assert keys[:3] == ["test_id", "recorded_at", "versions"]


def test_a_recording_without_the_metadata_replays_as_before(tmp_path):
    record_one(tmp_path, model, "gpt")
    path = only_file(tmp_path)
    entry = json.loads(path.read_text())
    del entry["recorded_at"], entry["versions"]
    path.write_text(json.dumps(entry))
    with apirec.recording(tmp_path, mode="replay", max_age="1d", on_expired="fail"):
        assert model("gpt").id == "gpt"
    assert metadata.recorded_at(entry) is None
    assert metadata.versions(entry) == {}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("recorded_at", "yesterday", "'recorded_at' must be an ISO 8601 time with its time zone"),
        ("recorded_at", "2026-01-02T03:04:05", "'recorded_at' must be an ISO 8601 time"),
        ("recorded_at", 1767225600, "found 1767225600"),
        ("versions", ["openai"], "'versions' must be an object of package names"),
        ("versions", {"openai": 3}, "'versions' must be an object of package names"),
    ],
)
def test_malformed_metadata_is_a_store_error_naming_the_file(tmp_path, field, value, message):
    record_one(tmp_path, model, "gpt")
    path = only_file(tmp_path)
    entry = json.loads(path.read_text())
    entry[field] = value
    path.write_text(json.dumps(entry))
    with (
        apirec.recording(tmp_path, mode="replay"),
        pytest.raises(apirec.StoreError, match=re.escape(message)) as raised,
    ):
        model("gpt")
    assert str(path) in str(raised.value)


def test_a_recorded_at_with_an_offset_reads_as_utc():
    entry = {"recorded_at": "2026-12-03T01:15:04+02:00"}
    assert metadata.recorded_at(entry) == dt.datetime(2026, 12, 2, 23, 15, 4, tzinfo=dt.UTC)


def test_type_names_walks_deep_data_without_recursion():
    deep: object = {"__type__": "pkg.Leaf", "__data__": {}}
    for _ in range(5000):
        deep = [{"k": deep}]
    names = metadata.type_names({"body": [{"__type__": "a.B", "__data__": [deep]}]})
    assert names == {"a.B", "pkg.Leaf"}


@pytest.mark.parametrize(
    "name",
    ["builtins.tuple", "datetime.datetime", "apirec.errors.ReplayedError", "tests.x.Y", "nodot"],
)
def test_standard_library_apirec_and_code_not_installed_name_no_package(name):
    assert metadata.package_of(name) is None


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (45, "45s"),
        (90 * 60, "1h 30m"),
        (12 * 3600, "12h"),
        (30 * 86400, "30d"),
        (45 * 86400 + 3 * 3600 + 600, "45d 3h"),
        (10 * 86400 + 1, "10d"),
        (3600 + 5, "1h"),
        (-5, "in the future"),
    ],
)
def test_format_age(seconds, text):
    assert metadata.format_age(dt.timedelta(seconds=seconds)) == text
