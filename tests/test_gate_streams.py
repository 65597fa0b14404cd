"""The write gate on streams: a secret a service cuts across chunks is found in the text the
chunks make and cut out of every piece, on its way to either store; ``apirec scan`` finds
such secrets in recordings the gate never saw (apirec.gate.joined)."""

from __future__ import annotations

import json

import anthropic
import openai
import pytest

import apirec
from apirec.cli.app import main
from apirec.gate.detect import find_spans
from apirec.gate.rules import compile_rules
from apirec.gate.walk import findings, scrub_entry
from apirec.integrations.openai import patch_openai
from tests.anthropic_server import AnthropicServer
from tests.test_gate_secrets import KEY, assert_clean

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9P"
MESSAGES = [{"role": "user", "content": f"my token {JWT} ok"}]
SAID = "You called with <redacted>, right? You said: my token <redacted> ok"


def joined_content(chunks) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def record_and_replay_openai(store_dir, store, base_url, closed_url):
    with apirec.recording(store_dir, mode="record", store=store) as rec:
        patch_openai(rec)
        with openai.OpenAI(base_url=base_url, api_key=KEY, max_retries=0) as c:
            live = list(c.chat.completions.create(model="echo-key", messages=MESSAGES, stream=True))
    assert KEY in joined_content(live) and JWT in joined_content(live)  # the caller got it all
    assert rec.stats.recorded == 1
    with apirec.recording(store_dir, mode="replay", store=store) as rec:
        patch_openai(rec)
        with openai.OpenAI(base_url=closed_url, api_key=KEY, max_retries=0) as c:
            replayed = list(
                c.chat.completions.create(model="echo-key", messages=MESSAGES, stream=True)
            )
    assert rec.stats.replayed == 1
    return live, replayed


@pytest.mark.parametrize("store", ["json", "msgpack"])
def test_an_openai_stream_cutting_a_key_and_a_jwt_across_chunks_stores_neither(
    openai_server, store_dir, closed_url, store, capsys
):
    live, replayed = record_and_replay_openai(store_dir, store, openai_server.base_url, closed_url)
    assert len(live[1].choices[0].delta.content) == 8  # really cut in small pieces
    assert_clean(store_dir, JWT, KEY[8:16], JWT[-16:])
    # the replayed chunks keep their number and type; their text reads as the live one did
    assert len(replayed) == len(live)
    assert [type(c) for c in replayed] == [type(c) for c in live]
    assert joined_content(replayed) == SAID
    assert main(["scan", str(store_dir)]) == 0
    assert "clean" in capsys.readouterr().out


async def test_an_anthropic_stream_cutting_a_key_stores_it_nowhere(store_dir, closed_url):
    server = AnthropicServer().start()
    key = "sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jj1Ii0Hh-AA"
    ask = {"model": "echo-key", "max_tokens": 50, "messages": MESSAGES}
    try:
        async with apirec.recording(store_dir, mode="record") as rec:
            apirec.integrations.patch(rec, "anthropic")
            url = server.base_url.removesuffix("/v1")
            async with (
                anthropic.AsyncAnthropic(base_url=url, api_key=key, max_retries=0) as c,
                c.messages.stream(**ask) as stream,
            ):
                live = await stream.get_final_text()
    finally:
        server.stop()
    assert key in live and JWT in live
    assert_clean(store_dir, key, JWT, key[8:16])
    async with apirec.recording(store_dir, mode="replay") as rec:
        apirec.integrations.patch(rec, "anthropic")
        url = closed_url.removesuffix("/v1")
        async with (
            anthropic.AsyncAnthropic(base_url=url, api_key=key, max_retries=0) as c,
            c.messages.stream(**ask) as stream,
        ):
            replayed = await stream.get_final_text()
    assert replayed == "Your key is <redacted>. You said: my token <redacted> ok"


# -- the joining on its own ---------------------------------------------------------------


def chunk(text, index=0, **more):
    delta = {"content": text} if text is not None else {}
    data = {"id": "chatcmpl-1", "choices": [{"index": index, "delta": delta}], **more}
    return {"__type__": "openai.types.chat.ChatCompletionChunk", "__data__": data}


def stream_entry(chunks):
    return {"request": {}, "response": {"body": chunks, "is_streaming": True}}


def text_of(entry, index=0):
    return "".join(
        choice["delta"].get("content", "")
        for c in entry["response"]["body"]
        for choice in c["__data__"].get("choices", [])
        if choice["index"] == index
    )


def cut(text, size, **more):
    return [chunk(text[i : i + size], **more) for i in range(0, len(text), size)]


@pytest.mark.parametrize("size", [1, 3, 8, 20])
def test_a_split_key_is_cut_out_of_every_piece_and_found_by_scan(size):
    entry = stream_entry([chunk(None), *cut(f"key: {KEY}, and {JWT}.", size), chunk(None)])
    scrubbed = scrub_entry(entry)
    assert text_of(scrubbed) == "key: <redacted>, and <redacted>."
    assert len(scrubbed["response"]["body"]) == len(entry["response"]["body"])
    assert scrub_entry(scrubbed) == scrubbed  # idempotent
    assert "Q7xW" in text_of(entry)  # the input is left as it was
    kinds = sorted(kind for _, kind in findings(entry))
    assert kinds == ["jwt", "openai_key"]
    assert findings(scrubbed) == []
    if size == 8:
        (where, _) = next(f for f in findings(entry) if f[1] == "openai_key")
        assert where == "response.body[1..6].__data__.choices[0].delta.content"


def test_interleaved_choices_are_joined_each_on_its_own():
    first, second = cut(f"A {KEY} a", 5), cut("B no secret at all here, sk- or not", 5)
    for c in second:
        c["__data__"]["choices"][0]["index"] = 1
    chunks = [c for pair in zip(first, second, strict=False) for c in pair]
    chunks += first[len(second) :] + second[len(first) :]
    scrubbed = scrub_entry(stream_entry(chunks))
    assert text_of(scrubbed, 0) == "A <redacted> a"
    assert text_of(scrubbed, 1) == "B no secret at all here, sk- or not"


def test_a_ping_between_pieces_does_not_hide_the_key():
    pieces = cut(f"is {KEY}!", 6)
    pieces.insert(3, {"__type__": "Ping", "__data__": {"type": "ping"}})
    assert text_of(scrub_entry(stream_entry(pieces))) == "is <redacted>!"


@pytest.mark.parametrize(
    "chunks",
    [
        # the same short id in every chunk: no text, never joined into a "key"
        [chunk(w, system_fingerprint="sk-9aB3") for w in ["one ", "two ", "three ", "four"] * 3],
        # two places whose strings would make a key only if mixed
        [chunk("sk-proj-", note="Ab3dEf6hIj9kLm2nOp5qRs8t"), chunk("word", note="more")],
        # prose that only looks like a start of one
        cut("Bearer bonds and Basic information: sk- is a prefix; eyJ too.", 4),
    ],
    ids=["repeated-id", "other-places", "prose"],
)
def test_no_false_positive_across_fields_or_repeats(chunks):
    entry = stream_entry(chunks)
    assert scrub_entry(entry) == entry
    assert findings(entry) == []


def test_scrub_rules_see_the_joined_text_too():
    entry = stream_entry(cut("the code is ZETA-4471-OMEGA, keep it", 4))
    rules = compile_rules([r"ZETA-\d+-OMEGA"])
    assert text_of(scrub_entry(entry, rules)) == "the code is <redacted>, keep it"
    assert [kind for _, kind in findings(entry, rules)] == ["scrub_rule"]
    by_function = compile_rules([lambda s: s.replace("ZETA-4471-OMEGA", "[code]")])
    assert text_of(scrub_entry(entry, by_function)) == "the code is [code], keep it"


def test_scan_finds_a_key_split_in_a_recording_the_gate_never_saw(tmp_path, capsys):
    entry = stream_entry([chunk(None), *cut(f"your key is {KEY}", 8)])
    (tmp_path / "k.json").write_text(json.dumps(entry, indent=2))
    assert not find_spans((tmp_path / "k.json").read_text())  # no piece looks like one
    assert main(["scan", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "response.body[2..7].__data__.choices[0].delta.content: openai_key" in out
    assert KEY[8:16] not in out


@apirec.record(name="gate.pieces")
def pieces(text: str, size: int):
    for start in range(0, len(text), size):
        yield text[start : start + size]


@pytest.mark.parametrize("store", ["json", "msgpack"])
def test_a_generator_of_plain_strings_is_joined_too(tmp_path, store):
    text = f"token: {KEY} and {JWT} done"
    with apirec.recording(tmp_path, mode="record", store=store):
        assert "".join(pieces(text, 3)) == text
    assert_clean(tmp_path, JWT, KEY[6:12])
    with apirec.recording(tmp_path, mode="replay", store=store):
        replayed = list(pieces(text, 3))
    assert len(replayed) == len(range(0, len(text), 3))
    assert "".join(replayed) == "token: <redacted> and <redacted> done"
