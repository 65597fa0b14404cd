"""Recordings read with msgspec (the ``fast`` extra) give what the standard library gives:
the same values, of the same types, in the same order, and the files stay as they were."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import apirec
from apirec.errors import StoreError
from apirec.integrations import patch
from apirec.stores import json_format
from apirec.stores.json_store import JsonStore, dumps, parse

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**40), max_value=10**40)  # past 64 bits: still ints
    | st.floats()  # NaN and infinities too: json.dumps writes NaN, Infinity
    | st.text()  # lone surrogates too: json.dumps escapes them
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


def _typed(value: object) -> str:
    """The value as written, with types and key order: 1 and 1.0, -0.0, NaN told apart."""
    return repr(value) if not isinstance(value, float) or not math.isnan(value) else "nan"


def _same(a: object, b: object) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and _typed(a) == _typed(b)


def test_msgspec_reads_recordings_when_installed() -> None:
    pytest.importorskip("msgspec")
    assert json_format._fast_decoder() is not None


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_the_same_values_as_the_standard_library(value: object) -> None:
    raw = dumps({"request": {}, "response": {"body": value, "is_streaming": False}})
    fast, plain = parse(raw, "x.json"), json.loads(raw)
    assert _same(fast, plain)
    assert dumps(fast) == raw  # written back, byte for byte


@pytest.mark.parametrize(
    "body",
    [
        b"123456789012345678901234567890",
        b"-98765432109876543210987654321",
        b"18446744073709551616",
        b"NaN",
        b"[Infinity, -Infinity, 1e400]",
        b'"\\ud800 alone"',
        b"0.1000000000000000055511151231257827",
    ],
)
def test_what_msgspec_refuses_or_might_round_reads_as_before(body: bytes) -> None:
    raw = b'{"response": {"body": ' + body + b"}}"
    assert _same(parse(raw, "x.json"), json.loads(raw))
    with_bom = b"\xef\xbb\xbf" + raw  # the standard library reads past a BOM
    assert _same(parse(with_bom, "x.json"), json.loads(with_bom))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            b'{"response": {"body": 1}',
            "not valid JSON (line 1, column 25: Expecting ',' delimiter)",
        ),
        (b'{"response": {"body": "\xff"}}', "not valid JSON (UnicodeDecodeError"),
    ],
)
def test_bad_files_fail_with_the_standard_librarys_words(raw: bytes, message: str) -> None:
    with pytest.raises(StoreError) as caught:
        parse(raw, "x.json")
    assert f"x.json: {message}" in str(caught.value)


async def _scenario(client):
    chat = await client.chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": "llamas eat grass"}]
    )
    stream = await client.chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": "llamas"}], stream=True
    )
    chunks = [chunk async for chunk in stream]
    vectors = await client.embeddings.create(model="text-embedding-test", input="llamas")
    return chat, chunks, vectors


async def test_replayed_with_and_without_msgspec_alike(
    tmp_path: Path, openai_server, make_client, closed_url: str, monkeypatch
) -> None:
    """Recorded through the real openai client, replayed with msgspec reading the files and
    with the standard library alone: equal answers, files untouched."""
    with apirec.recording(tmp_path, mode="record") as rec:
        patch(rec, "openai")
        live = await _scenario(make_client(openai_server.base_url))
    files = {p: p.read_bytes() for p in tmp_path.glob("*.json")}
    assert len(files) == 3
    replays = []
    for fast in (True, False):
        if not fast:
            monkeypatch.setattr(json_format, "_fast_decoder", lambda: None)
        with apirec.recording(tmp_path, mode="replay") as rec:
            patch(rec, "openai")
            replays.append(await _scenario(make_client(closed_url)))
        assert rec.stats.replayed == 3
        store = JsonStore(tmp_path)
        for path, raw in files.items():
            assert dumps(store.read(path.stem, 0) or {}) == raw
    assert {p: p.read_bytes() for p in tmp_path.glob("*.json")} == files
    for replayed in replays:
        chat, chunks, vectors = replayed
        assert chat == live[0]
        assert [c.model_dump() for c in chunks] == [c.model_dump() for c in live[1]]
        assert vectors == live[2]
