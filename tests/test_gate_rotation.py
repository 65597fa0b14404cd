"""A secret in an argument, in the shapes the gate must read: nothing of it on disk, and the
same call with the secret rotated replays (its key is computed from the scrubbed form).

Through ``@apirec.record`` and ``apirec.recording``, in the JSON and the msgpack store: bytes
holding msgpack or protobuf (the token right before a value that reads as a letter or digit),
text with escapes or colour codes before a key, JSON escaping a URL's slashes, lower-case
``basic`` and URL-encoded ``Bearer``, a NamedTuple with a ``password`` field.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, NamedTuple

import msgpack
import pytest

import apirec
from tests.test_gate_secrets import store_bytes


class Login(NamedTuple):
    user: str
    password: str


class Point(NamedTuple):
    x: int
    y: int


def openai_key(c: str) -> str:
    return "sk-proj-" + c * 8 + "1234ABCDefgh5678"


def old_key(c: str) -> str:  # 51 characters: as a msgpack str8, its length byte is "3"
    return "sk-" + c * 8 + "T3BlbkFJ" * 5


def aws_key(c: str) -> str:
    return "AKIA" + c * 4 + "SFODNN7EXAMP"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# case: (the argument for a secret made of the letter c, the secret)
CASES: dict[str, tuple[Callable[[str], Any], Callable[[str], str]]] = {
    "msgpack_str8_then_int": (
        lambda c: msgpack.packb({"auth": [old_key(c), 100], "q": "hi"}),
        old_key,
    ),
    "msgpack_fixstr_then_int": (lambda c: msgpack.packb([aws_key(c), 100]), aws_key),
    "msgpack_bin16": (
        lambda c: msgpack.packb(
            openai_key(c).encode() + b" " * (0x3141 - len(openai_key(c))), use_bin_type=True
        ),
        openai_key,
    ),
    "protobuf_then_field_6": (
        lambda c: b"\x0a" + bytes([len(old_key(c))]) + old_key(c).encode() + b"\x32\x02hi",
        old_key,
    ),
    "bytes_repr": (lambda c: repr("é".encode() + openai_key(c).encode()), openai_key),
    "ansi_colour": (lambda c: "invalid key \x1b[1m" + openai_key(c) + "\x1b[0m", openai_key),
    "unicode_escape": (lambda c: "\\U0001F600" + openai_key(c), openai_key),
    "html_reference": (lambda c: "caf&#233" + openai_key(c), openai_key),
    "json_escaped_slashes": (
        lambda c: '{"dsn": "postgres:\\/\\/admin:' + c * 6 + 'Passw0rd@db.example.com\\/app"}',
        lambda c: c * 6 + "Passw0rd",
    ),
    "lower_case_basic": (
        lambda c: "authorization: basic " + b64(f"alice:{c * 8}pw"),
        lambda c: b64(f"alice:{c * 8}pw").rstrip("="),
    ),
    "url_encoded_bearer": (
        lambda c: f"https://e.test/cb?h=Bearer%20abcDEF{c * 6}123",
        lambda c: f"abcDEF{c * 6}123",
    ),
    "form_encoded_bearer": (
        lambda c: f"header=Bearer+abcDEF{c * 6}123",
        lambda c: f"abcDEF{c * 6}123",
    ),
    "named_tuple_password": (lambda c: Login("alice", f"hunter2-{c * 12}"), lambda c: c * 12),
}


@apirec.record(name="gate.rotation.call")
def call(argument: object) -> str:
    return "ok"


def on_disk(data: bytes, secret: bytes) -> bool:
    """``secret`` in ``data`` as it is, or in base64 at any of the 3 alignments (the JSON
    store keeps bytes as base64)."""
    assert len(secret) >= 12, "too short to be found in base64"
    if secret in data:
        return True
    return any(base64.b64encode(b"x" * i + secret)[4:-4] in data for i in range(3))


@pytest.mark.parametrize("store", ["json", "msgpack"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_secret_in_an_argument_is_never_stored_and_a_rotated_one_replays(tmp_path, store, case):
    argument, secret = CASES[case]
    with apirec.recording(tmp_path, mode="record", store=store):
        call(argument("Q"))
    assert not on_disk(store_bytes(tmp_path), secret("Q").encode()), "the secret was stored"
    with apirec.recording(tmp_path, mode="replay", store=store) as replay:
        call(argument("Z"))  # the same call, the secret rotated
    assert replay.stats.replayed == 1


def test_a_named_tuple_is_keyed_by_its_user_not_its_password(tmp_path):
    with apirec.recording(tmp_path, mode="record"):
        call(Login("alice", "hunter2-one"))
    with apirec.recording(tmp_path, mode="replay"), pytest.raises(apirec.RecordingNotFound):
        call(Login("bob", "hunter2-one"))


def test_a_named_tuple_without_a_secret_field_keeps_the_key_of_a_tuple(tmp_path):
    """Keyed as the list of its values, as before: recordings made earlier still replay."""
    with apirec.recording(tmp_path, mode="record"):
        call((1, 2))
    with apirec.recording(tmp_path, mode="replay") as replay:
        call(Point(1, 2))
    assert replay.stats.replayed == 1


@apirec.record(name="gate.rotation.header")
def header() -> tuple[str, str]:
    return ("X-Api-Key", "hunter2-stored-value")


@pytest.mark.parametrize("store", ["json", "msgpack"])
def test_a_tuple_pair_in_an_answer_is_read_as_the_key_reads_one(tmp_path, store):
    """``("X-Api-Key", value)`` is a header pair whether it is an argument (keyed without
    its value) or an answer (stored without it); a list of two strings is no pair."""
    with apirec.recording(tmp_path, mode="record", store=store):
        assert header() == ("X-Api-Key", "hunter2-stored-value")  # the caller gets it live
    assert b"hunter2-stored-value" not in store_bytes(tmp_path)
    with apirec.recording(tmp_path, mode="replay", store=store):
        assert header() == ("X-Api-Key", "<redacted>")
