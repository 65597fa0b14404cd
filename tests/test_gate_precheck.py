"""The key side's pre-check (``might_hold_token``) against the exact search it stands for.

The pre-check looks for shapes only where a whole prefix stands around an anchor, and for query
values only after ``=`` that a name character precedes; it must give exactly the verdict of
the unfenced exact search (``find_spans(text, fenced=False)``) on every input, so a call whose
arguments hold a token is always scrubbed before it is keyed. Checked over every token shape,
look-alikes that share a prefix, and the encodings the gate finds tokens in (escaped, escaped
twice, URL-encoded, after msgpack and protobuf length bytes, dict keys).
"""

from __future__ import annotations

import json
import urllib.parse

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apirec.gate.detect import find_spans, might_hold_token
from apirec.gate.tokens import SHAPES
from tests.test_gate_detector import JWT, OAI, TOKEN_AUTH, TOKENS, b64

SAMPLES = [
    *TOKENS.values(),
    OAI,
    JWT,
    TOKEN_AUTH,
    "Authorization: Bearer abc123DEF456ghi",
    "authorization: bearer 9f8e7d6c5b4a3f2e1d0c",
    "BEARER Zx9Yw8Vu7Ts6Rq5Po4",
    "Authorization: Basic " + b64("alice:pw"),
    "BASIC " + b64("a:b"),
    "glpat-AbCdEf0123456789xyZW",
    "r8_" + "Ab3dEf9hIj" * 4,
    "github_pat_" + "Ab3dEf9hIj" * 3,
    "gho_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5",
    "rk_test_" + "4eC39HqLyjWDarjtT1zd",
    "ASIA" + "IOSFODNN7EXAMPLE",
    "https://user:pa55@host.test/v1/x",
    "https://abcdef0123456789abcdef0123456789@o0.ingest.sentry.io/1",
    "openai GET /models?api_key=abc&limit=2",
    "https://s3.test/o?X-Amz-Signature=ff00&a=b",
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk",
]
# every prefix, cut short or followed by too little: found nowhere, however often
PREFIXES = sorted({prefix for shape in SHAPES for prefix in shape.prefixes})
NEAR = [
    *PREFIXES, "Token limit", "Bearer bonds", "bearer of", "Basic plan", "tokens", "book",
    "task_id", "max_tokens", "ask-1234567890abcdefghijklmnopqrs", "chatcmpl-AbCdEf0123456789",
    "a = b", "x==y", "?q=1&page=2", "someone@example.test", "ssh://git@github.com/o/r.git",
    "eyJhbGciOiJIUzI1NiJ9", "AKIAshort", "gpt-4o-mini", "llama-guard3:1b", "\\n", "%20",
    "%2D", "\\u0020", "%253D", "=", "&", "?", "@", "://", "-", "_", " ",
]  # fmt: skip
PIECES = st.sampled_from(SAMPLES + NEAR) | st.text(
    alphabet="abkeyJTBAISKo_-=&?@:/%\\ 0123456789", max_size=12
)


def encodings(text: str) -> list[bytes]:
    """``text`` as the gate meets it: plain, JSON-escaped once and twice, URL-encoded once
    and twice, packed by msgpack as a value and as a key, after a protobuf length."""
    escaped = json.dumps(text)
    data = text.encode("utf-8", "surrogatepass")
    return [
        data,
        escaped.encode(),
        json.dumps(escaped).encode(),
        urllib.parse.quote(text).encode(),
        urllib.parse.quote(urllib.parse.quote(text)).encode(),
        msgpack.packb(["openai.chat.completions.create", {"messages": [text]}, "t::x"]),
        msgpack.packb({text: 1, "n": [text, text]}),
        b"\x0a" + bytes([len(data) % 256]) + data,
    ]


def exact(data: bytes) -> bool:
    return bool(find_spans(data.decode("latin-1"), fenced=False))


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES, max_size=12).map("".join))
def test_the_pre_check_gives_the_exact_searchs_verdict_in_every_encoding(text):
    for data in encodings(text):
        assert might_hold_token(data) == exact(data), data


@pytest.mark.parametrize("sample", SAMPLES)
def test_every_token_shape_is_seen_in_every_encoding(sample):
    for text in (sample, f"note: {sample}\n", f"{{'k': '{sample}'}}"):
        for data in encodings(text):
            # URL encoding changes a shape's spaces, ``:`` and ``@``: found when it keeps them
            if b"%" not in data or urllib.parse.quote(sample) == sample:
                assert might_hold_token(data), data
            assert might_hold_token(data) == exact(data), data


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.integers(0, 300), st.integers(0, 300))
def test_any_bytes_and_any_range(data, start, end):
    assert might_hold_token(data, start, end) == exact(data[start:end])
