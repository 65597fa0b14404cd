"""Issue 13 point 3: ``max_age=`` and ``on_expired=`` on ``apirec.recording()``.

Recordings are made old by writing a ``recorded_at`` in the past into the file (and, where it
matters, an mtime with ``os.utime``): no test sleeps.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import time

import pytest

import apirec
from apirec.record.expiry import parse_max_age
from apirec.stores.convert import convert

calls: list[tuple[str, int]] = []


@apirec.record(name="exp.ask")
def ask(n):
    calls.append(("ask", n))
    return {"n": n, "call": len(calls)}


@apirec.record(name="exp.aask")
async def aask(n):
    calls.append(("aask", n))
    await asyncio.sleep(0)
    return {"n": n, "call": len(calls)}


@apirec.record(name="exp.again")
def again():
    """The same call answered in sequence: the n-th call gets the n-th answer."""
    calls.append(("again", 0))
    return len(calls)


@pytest.fixture(autouse=True)
def _fresh_calls():
    calls.clear()


def recorded(path, *steps, store="json"):
    with apirec.recording(path, mode="record", store=store):
        for function, *args in steps:
            result = function(*args)
            if asyncio.iscoroutine(result):
                asyncio.run(result)


def json_files(path):
    """The recording files, a sequence in answer order (``key.json``, ``key.1.json``...)."""

    def order(p):
        key, *index = p.name.split(".")[:-1]
        return key, int(index[0]) if index else 0

    return sorted(path.glob("*.json"), key=order)


def age_file(path, days, *, mtime_days=None):
    """Make the recording in ``path`` look ``days`` old (recorded_at); its mtime is set apart."""
    entry = json.loads(path.read_text())
    when = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    entry["recorded_at"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    path.write_text(json.dumps(entry, indent=2))
    stamp = time.time() - 86400 * (mtime_days if mtime_days is not None else 0)
    os.utime(path, (stamp, stamp))


# -- warn --------------------------------------------------------------------------------------


def test_warn_replays_the_expired_answer_with_a_warning_naming_file_and_age(tmp_path):
    recorded(tmp_path, (ask, 1))
    (path,) = json_files(tmp_path)
    age_file(path, 40)
    with (
        apirec.recording(tmp_path, mode="replay", max_age="30d", repeats="last") as rec,
        pytest.warns(apirec.ExpiredRecordingWarning) as caught,
    ):
        assert ask(1) == {"n": 1, "call": 1}
        assert ask(1) == {"n": 1, "call": 1}  # the same answer again: warned once
    assert calls == [("ask", 1)]  # only the recording run called it
    (caught_one,) = caught
    assert caught_one.filename == __file__  # the line that made the call
    warning = caught_one.message
    assert str(path) in str(warning)
    assert "recorded 40d ago" in str(warning) and "more than max_age=30d" in str(warning)
    assert warning.file == str(path)
    assert dt.timedelta(days=40) <= warning.age < dt.timedelta(days=40, minutes=5)
    assert warning.max_age == dt.timedelta(days=30)
    assert rec.stats.replayed == 2 and not rec.misses


def test_warn_is_the_default_and_a_young_answer_replays_silently(tmp_path):
    recorded(tmp_path, (ask, 1), (ask, 2))
    young, old = json_files(tmp_path)  # sorted by key: which is which does not matter here
    age_file(old, 3)
    age_file(young, 1)
    with (
        apirec.recording(tmp_path, mode="replay", max_age=dt.timedelta(days=2)),
        pytest.warns(apirec.ExpiredRecordingWarning, match="recorded 3d ago"),
    ):
        ask(1), ask(2)
    with apirec.recording(tmp_path, mode="replay", max_age="3d1h"):
        ask(1), ask(2)  # filterwarnings=error: any warning would fail


# -- fail --------------------------------------------------------------------------------------


def test_fail_raises_expired_recording_naming_file_age_and_max_age(tmp_path):
    recorded(tmp_path, (ask, 1))
    (path,) = json_files(tmp_path)
    age_file(path, 2)
    with (
        apirec.recording(tmp_path, mode="replay", max_age="12h", on_expired="fail") as rec,
        pytest.raises(apirec.ExpiredRecording) as raised,
    ):
        ask(1)
    error = raised.value
    assert isinstance(error, apirec.RecordingNotFound)  # pytest shows a failed test
    message = str(error)
    assert message.startswith("exp.ask(): ")
    assert str(path) in message and "recorded 2d ago" in message
    assert "more than max_age=12h" in message
    assert "re-record it in record-if-missing mode with on_expired='record'" in message
    assert error.file == str(path) and error.max_age == dt.timedelta(hours=12)
    assert error.recorded_at == json.loads(path.read_text())["recorded_at"]
    assert error.function == "exp.ask" and error.arguments == {"n": 1}
    assert rec.misses == [error] and rec.stats.missed == 1


def test_fail_in_record_if_missing_mode_fails_too_and_calls_nothing(tmp_path):
    recorded(tmp_path, (ask, 1))
    (path,) = json_files(tmp_path)
    age_file(path, 2)
    calls.clear()
    with (
        apirec.recording(tmp_path, mode="record-if-missing", max_age="1d", on_expired="fail"),
        pytest.raises(apirec.ExpiredRecording),
    ):
        ask(1)
    assert calls == []


# -- record ------------------------------------------------------------------------------------


@pytest.mark.parametrize("store", ["json", "msgpack"])
def test_record_re_records_only_the_expired_answers_this_run_asks_for(tmp_path, store):
    json_dir = tmp_path / "json"
    recorded(json_dir, (again,), (again,), (again,), (ask, 1), (ask, 2))
    files = {p.name: p for p in json_files(json_dir)}
    entries = {name: json.loads(p.read_text()) for name, p in files.items()}
    sequence = [n for n, e in entries.items() if e["request"]["function"] == "exp.again"]
    asks = {e["request"]["args"]["n"]: n for n, e in entries.items() if "n" in e["request"]["args"]}
    assert len(sequence) == 3 and sorted(asks) == [1, 2]
    for name in (sequence[1], asks[1], asks[2]):  # the 2nd answer of the sequence, both asks
        age_file(files[name], 10)
    entries = {name: json.loads(p.read_text()) for name, p in files.items()}
    run_dir = json_dir
    if store == "msgpack":
        run_dir = tmp_path / "msgpack"
        convert(json_dir, run_dir, to="msgpack")
    calls.clear()

    with apirec.recording(
        run_dir, mode="record-if-missing", max_age="7d", on_expired="record", store=store
    ) as rec:
        assert again() == 1  # answer 1: fresh, replayed
        assert again() == 1  # answer 2: expired, called: the first live call of this run
        assert again() == 3  # answer 3: fresh, replayed
        assert ask(1) == {"n": 1, "call": 2}  # expired, called; ask(2) is not asked for
    assert calls == [("again", 0), ("ask", 1)]
    assert rec.stats.recorded == 2 and rec.stats.replayed == 2

    after_dir = run_dir
    if store == "msgpack":
        after_dir = tmp_path / "after"
        convert(run_dir, after_dir, to="json")
    after = {p.name: json.loads(p.read_text()) for p in json_files(after_dir)}
    assert set(after) == set(entries)  # replaced in place: no file added, none removed
    assert after[sequence[1]]["response"]["body"] == 1  # the new answer, in the old one's place
    assert after[asks[1]]["response"]["body"] == {"n": 1, "call": 2}
    renewed = dt.datetime.fromisoformat(after[asks[1]]["recorded_at"])
    assert dt.datetime.now(dt.UTC) - renewed < dt.timedelta(minutes=5)
    for name in (sequence[0], sequence[2], asks[2]):
        assert after[name] == entries[name]  # the others untouched, the expired ask(2) too

    # the next run replays everything it asks for, with no warning and no call
    calls.clear()
    with apirec.recording(run_dir, mode="replay", max_age="7d", store=store):
        assert [again(), again(), again(), ask(1)] == [1, 1, 3, {"n": 1, "call": 2}]
    assert calls == []


def test_record_works_on_the_async_path(tmp_path):
    recorded(tmp_path, (aask, 5))
    (path,) = json_files(tmp_path)
    age_file(path, 10)
    calls.clear()

    async def run():
        with apirec.recording(
            tmp_path, mode="record-if-missing", max_age="1w", on_expired="record"
        ):
            return await aask(5)

    assert asyncio.run(run()) == {"n": 5, "call": 1}
    assert calls == [("aask", 5)]
    assert json.loads(path.read_text())["response"]["body"] == {"n": 5, "call": 1}


def test_record_in_replay_mode_fails_and_says_it_cannot_record(tmp_path):
    recorded(tmp_path, (ask, 1))
    (path,) = json_files(tmp_path)
    age_file(path, 10)
    before = path.read_bytes()
    calls.clear()
    with (
        apirec.recording(tmp_path, mode="replay", max_age="7d", on_expired="record"),
        pytest.raises(apirec.ExpiredRecording, match="cannot record it in replay mode"),
    ):
        ask(1)
    assert calls == [] and path.read_bytes() == before


def test_an_interrupted_re_recording_keeps_the_expired_answer_in_place(tmp_path):
    recorded(tmp_path, (again,), (again,))
    first, second = json_files(tmp_path)
    age_file(first, 10)
    before = first.read_bytes(), second.read_bytes()

    @apirec.record(name="exp.again")
    def interrupted():
        raise KeyboardInterrupt

    with apirec.recording(tmp_path, mode="record-if-missing", max_age="7d", on_expired="record"):
        with pytest.raises(KeyboardInterrupt):
            interrupted()
        assert again() == 2  # the second answer is still the second: no hole, no shift
    assert (first.read_bytes(), second.read_bytes()) == before


async def test_record_replaces_an_expired_llama_stack_model_list(
    openai_server, store_dir, make_client
):
    """A model list is filed by the digest of its ids: the new list goes under a new name, and
    the expired one goes (as in record mode), not left to be merged into the next replays."""
    from apirec.integrations.llama_stack import model_ids_digest, request_hash
    from apirec.integrations.openai import patch_openai

    base_url = openai_server.base_url
    key = request_hash("POST", f"{base_url}/v1/models", {}, None)  # llama-stack says POST
    stale = store_dir / f"models-{key}-0badf00d.json"
    entry = {
        "test_id": None,
        "recorded_at": "2026-01-01T00:00:00Z",
        "request": {"method": "GET", "url": f"{base_url}/v1/models", "body": {}},
        "response": {"body": [], "is_streaming": False},
    }
    stale.write_text(json.dumps(entry))
    with (
        apirec.recording(
            store_dir, mode="record-if-missing", max_age="30d", on_expired="record"
        ) as rec,
        apirec.test_context(None),
    ):
        patch_openai(rec, keys="llama-stack")
        models = [m.id async for m in make_client(base_url).models.list()]
    assert models == ["gpt-test", "gpt-test-mini"]
    renewed = f"models-{key}-{model_ids_digest(models)}.json"
    assert sorted(p.name for p in store_dir.glob("*.json")) == [renewed]

    openai_server.stop()
    with (
        apirec.recording(store_dir, mode="replay", max_age="30d") as rec,
        apirec.test_context(None),
    ):
        patch_openai(rec, keys="llama-stack")
        assert [m.id async for m in make_client(base_url).models.list()] == models


# -- age unknown, modes that ignore expiry -----------------------------------------------------


def test_a_recording_without_recorded_at_never_expires_whatever_its_mtime(tmp_path):
    recorded(tmp_path, (ask, 1))
    (path,) = json_files(tmp_path)
    entry = json.loads(path.read_text())
    del entry["recorded_at"]
    path.write_text(json.dumps(entry))
    old = time.time() - 400 * 86400
    os.utime(path, (old, old))
    with apirec.recording(tmp_path, mode="replay", max_age="1d", on_expired="fail"):
        assert ask(1) == {"n": 1, "call": 1}


def test_recorded_at_decides_not_the_mtime(tmp_path):
    recorded(tmp_path, (ask, 1))
    (path,) = json_files(tmp_path)
    age_file(path, 10, mtime_days=0)  # a fresh checkout: new mtime, old recording
    with (
        apirec.recording(tmp_path, mode="replay", max_age="7d", on_expired="fail"),
        pytest.raises(apirec.ExpiredRecording),
    ):
        ask(1)


@pytest.mark.parametrize("mode", ["record", "live"])
def test_record_and_live_modes_ignore_expiry(tmp_path, mode):
    recorded(tmp_path, (ask, 1))
    (path,) = json_files(tmp_path)
    age_file(path, 10)
    calls.clear()
    with apirec.recording(tmp_path, mode=mode, max_age="1d", on_expired="fail"):
        ask(1)
    assert calls == [("ask", 1)]


# -- the environment ---------------------------------------------------------------------------


def test_the_environment_layer_under_the_arguments(tmp_path, monkeypatch):
    recorded(tmp_path, (ask, 1))
    (path,) = json_files(tmp_path)
    age_file(path, 10)
    monkeypatch.setenv("APIREC_MAX_AGE", "7d")
    monkeypatch.setenv("APIREC_EXPIRED", "fail")
    with (
        apirec.recording(tmp_path, mode="replay"),
        pytest.raises(apirec.ExpiredRecording, match="more than max_age=7d"),
    ):
        ask(1)
    with apirec.recording(tmp_path, mode="replay", max_age="30d"):
        ask(1)  # the argument wins
    with (
        apirec.recording(tmp_path, mode="replay", on_expired="warn"),
        pytest.warns(apirec.ExpiredRecordingWarning),
    ):
        ask(1)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("APIREC_MAX_AGE", "a week", "environment variable APIREC_MAX_AGE: 'a week' is not an age"),
        ("APIREC_EXPIRED", "shout", "environment variable APIREC_EXPIRED: 'shout' is not a valid"),
    ],
)
def test_bad_environment_values_name_the_variable(tmp_path, monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(apirec.InvalidExpiry, match=message):
        apirec.recording(tmp_path)


# -- values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", dt.timedelta(days=30)),
        ("12h", dt.timedelta(hours=12)),
        ("90m", dt.timedelta(minutes=90)),
        ("45s", dt.timedelta(seconds=45)),
        ("2w", dt.timedelta(weeks=2)),
        (" 1d12h ", dt.timedelta(days=1, hours=12)),
        ("0s", dt.timedelta(0)),
        (dt.timedelta(hours=3), dt.timedelta(hours=3)),
        (None, None),
    ],
)
def test_max_age_values(text, expected):
    assert parse_max_age(text) == expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_age": "30x"}, "max_age: '30x' is not an age. Write a number and a unit"),
        ({"max_age": "30 days"}, "max_age: '30 days' is not an age"),
        ({"max_age": "30M"}, "(units: w d h m s, lower case; m is minutes)"),
        ({"max_age": ""}, "max_age: '' is not an age"),
        ({"max_age": 30}, "max_age: 30 is not an age"),
        ({"max_age": dt.timedelta(days=-1)}, "max_age: datetime.timedelta(days=-1) is negative"),
        ({"on_expired": "ignore"}, "on_expired: 'ignore' is not a valid on_expired. Valid "),
    ],
)
def test_bad_values_are_clear_errors_naming_the_option(tmp_path, options, message):
    with pytest.raises(apirec.InvalidExpiry) as raised:
        apirec.recording(tmp_path, **options)
    assert message in str(raised.value)
    assert isinstance(raised.value, ValueError)
