"""Recordings orphaned by a change of key rules (issue 18 C11): adding ``ignore=[...]`` (or a
``normalize=``) changes every key of a function. A miss whose test holds recordings of the
function whose stored arguments, keyed under today's rules, give the missing key names them;
``--apirec-rekey`` moves them (file names and request.key, JSON and msgpack stores) and they
replay in the same run. Nothing is recorded again."""

from __future__ import annotations

import json

import pytest

from apirec.keys.spec import compute_key

from .plugin_helpers import setup

# RULES=new: request_id is left out of the key (what a user adds when ids are generated per
# call). The arguments also hold a secret, a header pair holding one, and bytes (stored as an
# envelope), which the new keys must see as the old ones did.
PROVIDER = """
import os
import apirec

calls = []
NEW = os.environ.get("RULES") == "new"

@apirec.record(name="demo.lookup", ignore=["request_id"] if NEW else [])
def lookup(city, request_id, api_key=None, header=None, payload=b""):
    calls.append(city)
    return {"city": city, "n": len(calls)}

def strip_stamp(arguments):
    return {k: v for k, v in arguments.items() if k != "stamp"}

@apirec.record(name="demo.shared_list", shared=True, normalize=strip_stamp if NEW else None)
def shared_list(stamp):
    calls.append("list")
    return ["m1", "m2"]
"""

# PHASE=record: fixed request ids; later: fresh ones, as generated ids are on every run
TEST = """
import os, uuid
import pytest
import rules_provider as p

def rid(fixed):
    return fixed if os.environ.get("PHASE") == "record" else str(uuid.uuid4())

@pytest.mark.apirec
def test_lookup():
    first = p.lookup("paris", rid("r1"), api_key="sk-secret", header=("Authorization", "Bearer x"),
                     payload=b"\\x00\\xff")
    again = p.lookup("paris", rid("r1"), api_key="sk-secret", header=("Authorization", "Bearer x"),
                     payload=b"\\x00\\xff")
    other = p.lookup("rome", rid("r2"))
    assert [first["n"], again["n"], other["n"]] == [1, 2, 3]
"""

# as keyed today (names sorted): the secret and the header pair's value left out
NEW_ARGS = {"city": "paris", "header": ["Authorization"], "payload": b"\x00\xff"}


def recordings(pytester):
    return pytester.path / "recordings"


def record(pytester, monkeypatch, store="json", test=TEST):
    setup(pytester)
    pytester.makepyfile(rules_provider=PROVIDER, test_rules=test)
    monkeypatch.setenv("PHASE", "record")
    result = pytester.runpytest("--apirec-mode=record", f"--apirec-store={store}")
    result.assert_outcomes(passed=1)
    monkeypatch.setenv("PHASE", "later")
    monkeypatch.setenv("RULES", "new")


def files(pytester):
    return sorted(p.name for p in recordings(pytester).glob("*.json"))


def test_a_miss_names_the_recordings_made_under_older_key_rules(pytester, monkeypatch):
    record(pytester, monkeypatch)
    before = files(pytester)
    assert len(before) == 3  # paris r1 twice (key.json, key.1.json), rome r2
    result = pytester.runpytest("--apirec-mode=replay")
    result.assert_outcomes(failed=1)
    old = compute_key(
        "demo.lookup",
        {**NEW_ARGS, "request_id": "r1"},
        "test_rules.py::test_lookup",
    )
    result.stdout.fnmatch_lines(
        [
            "*This call matches recordings of this test made under older key rules*",
            f"*recorded under older key rules: *{old}.json",
            f"*recorded under older key rules: *{old}.1.json",
            "*Run pytest with --apirec-rekey to move them to this call's key*",
        ]
    )
    result.stdout.fnmatch_lines(["*1 missed: 1 changed, 0 new*"])
    assert files(pytester) == before  # a plain replay moves nothing


@pytest.mark.parametrize("store", ["json", "msgpack"])
def test_rekey_moves_them_to_todays_keys_and_they_replay(pytester, monkeypatch, store):
    record(pytester, monkeypatch, store)
    result = pytester.runpytest("--apirec-mode=replay", "--apirec-rekey", f"--apirec-store={store}")
    result.assert_outcomes(passed=1)
    new = compute_key("demo.lookup", NEW_ARGS, "test_rules.py::test_lookup")
    rome = compute_key("demo.lookup", {"city": "rome"}, "test_rules.py::test_lookup")
    old = compute_key("demo.lookup", {**NEW_ARGS, "request_id": "r1"}, "test_rules.py::test_lookup")
    result.stdout.fnmatch_lines(
        [
            "*apirec: 3 replayed, 0 recorded, 0 live, 0 missed*",
            "*moved 3 recordings made under older key rules*to their keys today (--apirec-rekey):",
            "*test_rules.py::test_lookup: 3 files",
            f"*{old}.json -> *{new}.json",
            f"*{old}.1.json -> *{new}.1.json",
        ]
    )
    result.stdout.no_fnmatch_line("*renamed test*")
    if store == "json":
        assert files(pytester) == sorted([f"{new}.json", f"{new}.1.json", f"{rome}.json"])
        moved = json.loads((recordings(pytester) / f"{new}.1.json").read_text())
        assert moved["request"]["key"] == new
        assert moved["test_id"] == "test_rules.py::test_lookup"
        assert moved["response"]["body"] == {"city": "paris", "n": 2}  # the order kept
        # stored as today's rules store it: request_id is no longer there, secrets still are not
        assert "request_id" not in moved["request"]["args"]
        assert moved["request"]["args"]["api_key"] == "<redacted>"
        assert moved["request"]["args"]["header"] == ["Authorization", "<redacted>"]
    # the moved recordings are at home: a plain replay passes and moves nothing
    result = pytester.runpytest("--apirec-mode=replay", f"--apirec-store={store}")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*apirec: 3 replayed, 0 recorded, 0 live, 0 missed*"])
    result.stdout.no_fnmatch_line("*moved*")


MERGE_TEST = """
import os, uuid
import pytest
import rules_provider as p

def rid(fixed):
    return fixed if os.environ.get("PHASE") == "record" else str(uuid.uuid4())

@pytest.mark.apirec
def test_lookup():
    # two ids under the old rules, one sequence of two identical calls under the new ones
    got = [p.lookup("paris", rid("a"))["n"], p.lookup("paris", rid("b"))["n"]]
    assert got == [int(n) for n in os.environ.get("EXPECT", "1,2").split(",")]
"""


def _date(pytester, name, when):
    path = recordings(pytester) / name
    entry = json.loads(path.read_text())
    entry["recorded_at"] = when
    path.write_text(json.dumps(entry, indent=2))


def test_several_old_keys_merge_in_the_order_they_were_recorded(pytester, monkeypatch):
    record(pytester, monkeypatch, test=MERGE_TEST)
    test_id = "test_rules.py::test_lookup"
    a = compute_key("demo.lookup", {"city": "paris", "request_id": "a"}, test_id) + ".json"
    b = compute_key("demo.lookup", {"city": "paris", "request_id": "b"}, test_id) + ".json"
    before = files(pytester)
    assert before == sorted([a, b])
    # recorded in the same second: the order of the calls is unknown, so nothing moves
    _date(pytester, a, "2026-01-01T10:00:00Z")
    _date(pytester, b, "2026-01-01T10:00:00Z")
    result = pytester.runpytest("--apirec-mode=replay", "--apirec-rekey")
    result.assert_outcomes(failed=1)
    for name in (a, b):
        result.stdout.fnmatch_lines([f"*recorded under older key rules: *{name}"])
    result.stdout.fnmatch_lines(
        ["*not moved: 2 old keys give this key today, and their recording times cannot tell*"]
    )
    assert files(pytester) == before
    # b (the second call, n=2) recorded first: its answer comes first, whatever the keys' order
    _date(pytester, b, "2026-01-01T10:00:00Z")
    _date(pytester, a, "2026-01-01T10:00:05Z")
    monkeypatch.setenv("EXPECT", "2,1")
    result = pytester.runpytest("--apirec-mode=replay", "--apirec-rekey")
    result.assert_outcomes(passed=1)
    new = compute_key("demo.lookup", {"city": "paris"}, test_id)
    result.stdout.fnmatch_lines([f"*{b} -> *{new}.json", f"*{a} -> *{new}.1.json"])
    assert files(pytester) == sorted([f"{new}.json", f"{new}.1.json"])


def test_a_shared_recording_made_before_a_normalize_is_rekeyed(pytester, monkeypatch):
    test = "import rules_provider as p\n\ndef test_list(apirec):\n    p.shared_list(STAMP)\n"
    record(pytester, monkeypatch, test=test.replace("STAMP", "'2026-01-01'"))
    pytester.makepyfile(test_rules=test.replace("STAMP", "'2026-12-07'"))
    result = pytester.runpytest("--apirec-mode=replay")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*This call matches shared recordings made under older key*"])
    result = pytester.runpytest("--apirec-mode=replay", "--apirec-rekey")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*(shared): 1 file"])
    entry = json.loads(next(recordings(pytester).glob("*.json")).read_text())
    assert entry["test_id"] is None
    assert entry["request"]["key"] == compute_key("demo.shared_list", {}, None)


def test_record_if_missing_with_rekey_moves_instead_of_calling(pytester, monkeypatch):
    record(pytester, monkeypatch)
    result = pytester.runpytest("--apirec-mode=record-if-missing", "--apirec-rekey")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*apirec: 3 replayed, 0 recorded, 0 live, 0 missed*"])


# The real openai SDK against the local fake server: a per-call `user` id was keyed; the
# integration is now patched with ignore=["user"].
OPENAI_TEST = """
import os, uuid
import openai
from apirec import integrations

def test_chat(apirec):
    new_rules = os.environ.get("RULES") == "new"
    integrations.patch(apirec, "openai", ignore=["user"] if new_rules else [])
    client = openai.OpenAI(base_url=os.environ["FAKE_OPENAI"], api_key="sk-test", max_retries=0)
    user = "u-1" if os.environ.get("PHASE") == "record" else str(uuid.uuid4())
    for text in ("hello there", "and again"):
        reply = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": text}], user=user
        )
        assert reply.choices[0].message.content == f"You said: {text}"
"""


@pytest.mark.parametrize("store", ["json", "msgpack"])
def test_an_sdk_call_recorded_before_an_ignore_replays_after_rekey(
    pytester, monkeypatch, openai_server, store
):
    monkeypatch.setenv("FAKE_OPENAI", openai_server.base_url)
    record(pytester, monkeypatch, store, test=OPENAI_TEST)
    served = openai_server.requests
    assert served == 2
    result = pytester.runpytest("--apirec-mode=replay", f"--apirec-store={store}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*recorded under older key rules: *"])
    result = pytester.runpytest("--apirec-mode=replay", "--apirec-rekey", f"--apirec-store={store}")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*apirec: 2 replayed, 0 recorded, 0 live, 0 missed*",
            "*moved 2 recordings made under older key rules*",
        ]
    )
    assert openai_server.requests == served  # nothing was recorded again
    result = pytester.runpytest("--apirec-mode=replay", f"--apirec-store={store}")
    result.assert_outcomes(passed=1)


def test_rekey_under_xdist_lists_the_moves_of_the_workers(pytester, monkeypatch):
    record(pytester, monkeypatch)
    result = pytester.runpytest_subprocess("--apirec-mode=replay", "--apirec-rekey", "-n", "2")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*apirec: 3 replayed, 0 recorded, 0 live, 0 missed*",
            "*moved 3 recordings made under older key rules*",
            "*test_rules.py::test_lookup: 3 files",
        ]
    )
