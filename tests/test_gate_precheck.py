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
from apirec.gate.prefixes import holds_a_prefix
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
    # a key glued to an id by a hyphen or underscore (the fence is letters and digits)
    "acme-" + OAI,
    "tenant_" + TOKENS["github_token"],
    "x%2D" + OAI,
    # spellings the detector reads: lower-case basic, a URL- or form-encoded space
    "authorization: basic " + b64("alice:pw"),
    "Bearer%20abc123DEF456ghi",
    "h=Token+9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b",
    # escapes before a key: \xNN, octal, \U, an HTML reference, an ANSI colour code
    "b'\\xc3\\xa9" + OAI + "'",
    "\\303\\251" + OAI,
    "\\U0001F600" + OAI,
    "caf&#233" + OAI,
    "\x1b[1m" + OAI + "\x1b[0m",
]
# every prefix, cut short or followed by too little: found nowhere, however often
PREFIXES = sorted({prefix for shape in SHAPES for prefix in shape.prefixes})
NEAR = [
    *PREFIXES, "Token limit", "Bearer bonds", "bearer of", "Basic plan", "tokens", "book",
    "task_id", "max_tokens", "ask-1234567890abcdefghijklmnopqrs", "chatcmpl-AbCdEf0123456789",
    "a = b", "x==y", "?q=1&page=2", "someone@example.test", "ssh://git@github.com/o/r.git",
    "eyJhbGciOiJIUzI1NiJ9", "AKIAshort", "gpt-4o-mini", "llama-guard3:1b", "\\n", "%20",
    "%2D", "\\u0020", "%253D", "=", "&", "?", "@", "://", "-", "_", " ", "acme-", "x_", "sk-",
    "-sk-proj-", "_ghp_", "basic", "basic plan", "Bearer+", "Bearer%20", "Bearer+bonds", ":\\/\\/",
    "\\x1b[1m", "\x1b[0m", "\\xc3\\xa9", "&#233", "\\101", "\\U0001F600",
]  # fmt: skip
PIECES = st.sampled_from(SAMPLES + NEAR) | st.text(
    alphabet="abkeyJTBAISKos_-=&?@:/%\\ 0123456789", max_size=12
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
        assert might_hold_token(data) >= exact(data), data


@pytest.mark.parametrize("sample", SAMPLES)
def test_every_token_shape_is_seen_in_every_encoding(sample):
    for text in (sample, f"note: {sample}\n", f"{{'k': '{sample}'}}"):
        for data in encodings(text):
            # URL encoding changes a shape's spaces, ``:`` and ``@``: found when it keeps them
            if b"%" not in data or urllib.parse.quote(sample) == sample:
                assert might_hold_token(data), data
            assert might_hold_token(data) >= exact(data), data


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.integers(0, 300), st.integers(0, 300))
def test_any_bytes_and_any_range(data, start, end):
    assert might_hold_token(data, start, end) >= exact(data[start:end])


# Unicode around and inside every shape: spaces ``\\s`` matches on a str (NBSP, NEL, EM and
# IDEOGRAPHIC SPACE, LINE SEPARATOR...), digits ``str.isdigit`` counts (Arabic-Indic,
# Devanagari, fullwidth), letters and text of other scripts; their UTF-8 bytes are none of these
SPACES = ["\u00a0", "\x85", "\u2003", "\u3000", "\u2028", "\u1680", "\x1c"]
OTHERS = ["\u0661", "\u0967", "\uff11", "\u00b2", "é", "ß", "Ω", "日本語", "\u200b", "à"]
UNICODE_SAMPLES = [  # where ``\\s+`` follows the prefix (Bearer, Token, Basic): still tokens
    text
    for text in (s.replace(" ", space, 1) for s in SAMPLES if " " in s for space in SPACES)
    if find_spans(text, fenced=False)
]
UNICODE_PIECES = (
    PIECES
    | st.sampled_from(UNICODE_SAMPLES + SPACES + OTHERS)
    | st.text(st.characters(min_codepoint=0x80, max_codepoint=0x3100), max_size=3)
)
VALUES = (
    st.lists(UNICODE_PIECES, max_size=10).map("".join) | st.integers(0, 127) | st.binary(max_size=4)
)


@settings(max_examples=500, deadline=None)
@given(st.lists(VALUES, max_size=4), st.dictionaries(st.text(max_size=3), VALUES, max_size=3))
def test_the_pre_check_never_misses_what_the_exact_search_finds_in_a_string_of_the_call(
    values, named
):
    """Packed as the key packs a call (``[name, arguments, test id]``, the arguments' bytes
    checked): whatever the exact search finds in one of the strings, the pre-check flags."""
    packed = msgpack.packb(["f", {"a": values, "b": named}, "t::x"], use_bin_type=True)
    strings = [v for v in [*values, *named, *named.values()] if isinstance(v, str)]
    if any(find_spans(s, fenced=False) for s in strings):
        assert might_hold_token(packed, 3, len(packed) - 5), packed  # ["f", args, "t::x"]


@pytest.mark.parametrize("sample", UNICODE_SAMPLES)
def test_a_unicode_space_after_the_prefix_is_flagged(sample):
    for text in (sample, f"Ω {sample} ß", f"{sample}\u0661"):
        packed = msgpack.packb(["f", {"h": [text, 65, "/"]}, "t::x"], use_bin_type=True)
        assert might_hold_token(packed), packed


@pytest.mark.parametrize("prefix", sorted({p for shape in SHAPES for p in shape.prefixes}))
def test_the_one_compiled_search_knows_every_prefix(prefix):
    """Text with no shape's prefix skips the detector's passes: every prefix must be one the
    compiled search finds, wherever it stands in a long text and next to non-ASCII bytes."""
    long = "plain words, ids_and-dashes " * 120
    for text in (prefix, long + prefix, prefix + long, f"\xe9{prefix}\xff", long + prefix + long):
        assert holds_a_prefix(text), text
    assert not holds_a_prefix(long)
    assert not holds_a_prefix(long + prefix[:-1] + "\xe9" + prefix[-1])


def test_text_the_compiled_search_cannot_read_is_searched_the_slow_way():
    """A lone surrogate (text decoded with surrogateescape) cannot be handed to the compiled
    search, which would refuse it as "no prefix": such text still finds its token."""
    pad = "plain words " * 20  # long enough for the compiled search to be asked
    bearer = "Authorization: Bearer abc123DEF456ghi"
    for text in (f"\udcff {pad}{OAI}", f"{OAI} {pad}\udc80", f"x\ud800y {pad}{bearer}"):
        assert find_spans(text), text
        assert find_spans(text, fenced=False), text


# A JSON text that escapes its slashes: escaped again, ``:\\\\/`` is no scheme's end (the
# detector does not find it there, nor does the pre-check need to)
ESCAPED_SLASHES = [
    '"https:\\/\\/user:pa55@host.test\\/v1"',
    '{"dsn": "postgres:\\/\\/admin:s3cretPassw0rd@db.example.com\\/app"}',
]


@pytest.mark.parametrize("text", ESCAPED_SLASHES)
def test_a_url_with_escaped_slashes_is_flagged(text):
    for data in (text.encode(), msgpack.packb(["f", {"a": [text]}, "t::x"], use_bin_type=True)):
        assert exact(data) and might_hold_token(data), data


LENGTHS = st.sampled_from([b"\xd9", b"\x0a", b"\xc4", b"\xc5\x00", b"\xda\x00", b""])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(LENGTHS, PIECES, st.integers(0, 127)), max_size=4))
def test_the_pre_check_flags_what_the_binary_search_finds_in_bytes(parts):
    """Bytes are scrubbed as binary data (a token ends where a length before it says its
    string ends): what that search finds in a bytes argument, the pre-check flags."""
    data = b"".join(
        prefix + bytes([len(piece.encode()) % 256]) + piece.encode() + bytes([after])
        for prefix, piece, after in parts
    )
    packed = msgpack.packb(["f", {"body": data}, "t::x"], use_bin_type=True)
    if find_spans(data.decode("latin-1"), fenced=False, binary=True):
        assert might_hold_token(packed, 3, len(packed) - 5), packed
