"""Keying stored arguments again under today's rules (apirec.record.key_rules.key_today): a
call's stored arguments, recorded under older rules, give the key the same call gets today."""

from __future__ import annotations

import dataclasses

import pytest

from apirec.codec.envelope import encode
from apirec.keys.spec import KeySpec
from apirec.record.key_rules import _merged, key_today

SCOPE = "tests/test_x.py::test_y"


@dataclasses.dataclass
class Point:
    x: float
    y: float


def call(prompt, request_id=None, api_key=None, headers=None, extra=None, blob=b"", at=None):
    return prompt


def _stamp_free(arguments):
    return {k: v for k, v in arguments.items() if k != "at"}


def _views(spec, kwargs):
    return spec.canonical(spec.bind(None, (), kwargs))


CASES = {
    "ignore added": ({}, {"ignore": ["request_id"]}, {"prompt": "hi", "request_id": "r-1"}),
    "dotted ignore added": (
        {},
        {"ignore": ["extra.trace"]},
        {"prompt": "hi", "extra": {"trace": "t-9", "keep": [1, 2.5]}},
    ),
    "normalize added": ({}, {"normalize": _stamp_free}, {"prompt": "hi", "at": "2026-01-01"}),
    "secrets stored redacted": (
        {},
        {"ignore": ["request_id"]},
        {
            "prompt": "hi",
            "request_id": "r-2",
            "api_key": "sk-live",
            "headers": ("Authorization", "Bearer abc"),
            "extra": {"token": "t", "pairs": [("x-api-key", "k"), ("accept", "json")]},
        },
    ),
    "typed values": (
        {},
        {"ignore": ["request_id"]},
        {
            "prompt": "hi",
            "request_id": 7,
            "blob": b"\x00\xff",
            "extra": {1: "int key", "__type__": "a dict key", "p": Point(0.1234567, 2)},
        },
    ),
    "redact added": ({}, {"redact": ["extra.user"]}, {"prompt": "hi", "extra": {"user": "bob"}}),
}


@pytest.mark.parametrize(("old", "new", "kwargs"), list(CASES.values()), ids=list(CASES))
def test_stored_arguments_give_todays_key(old, new, kwargs):
    before = KeySpec(call, name="m.call", **old)
    today = KeySpec(call, name="m.call", **new)
    old_key_view, stored = _views(before, kwargs)
    new_key_view, _ = _views(today, kwargs)
    assert before.key(old_key_view, SCOPE) != today.key(new_key_view, SCOPE)  # rules changed
    assert key_today(today, encode(stored), SCOPE) == today.key(new_key_view, SCOPE)


def test_arguments_that_differ_today_do_not_match():
    today = KeySpec(call, name="m.call", ignore=["request_id"])
    _, stored = _views(KeySpec(call, name="m.call"), {"prompt": "hi", "request_id": "r"})
    other, _ = _views(today, {"prompt": "bye"})
    assert key_today(today, encode(stored), SCOPE) != today.key(other, SCOPE)
    assert key_today(today, encode(stored), "another::test") != key_today(
        today, encode(stored), SCOPE
    )


@pytest.mark.parametrize(
    "stored", [["not", "a", "mapping"], {"__type__": "no.such.Type", "__data__": {}}, "text"]
)
def test_what_cannot_be_keyed_is_no_match(stored):
    assert key_today(KeySpec(call, name="m.call"), stored, SCOPE) is None


def test_several_keys_merge_by_recording_time_and_refuse_ties():
    t = "2026-01-01T10:00:0{}Z".format
    assert _merged({"a": [t(0), t(2)], "b": [t(1)]}) == (("a", 0), ("b", 0), ("a", 1))
    assert _merged({"a": [t(5)], "b": [t(1), t(3)]}) == (("b", 0), ("b", 1), ("a", 0))
    assert _merged({"a": [t(0)], "b": [t(0)]}) is None  # same second: order unknown
    assert _merged({"a": [t(0)], "b": [None]}) is None  # no time
