"""Lazy decoding: opening a store parses nothing; a replayed stream decodes as it is read."""

import json

import pytest
from openai.types.chat import ChatCompletionChunk
from pydantic import BaseModel

import apirec
from apirec.stores import json_store
from apirec.stores.convert import convert
from apirec.stores.json_store import JsonStore
from apirec.stores.msgpack import reading as store_msgpack
from apirec.stores.msgpack.store import MsgpackStore


class Answer(BaseModel):
    n: int
    notes: dict


@apirec.record(name="ask")
def ask(n: int) -> Answer:
    return Answer(n=n, notes={"seen": [n]})


def chunk(i: int) -> ChatCompletionChunk:
    return ChatCompletionChunk.model_validate(
        {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "m",
            "choices": [{"index": 0, "delta": {"content": f"w{i}"}, "finish_reason": None}],
        }
    )


@apirec.record(name="stream")
async def stream(n: int):
    for i in range(n):
        yield chunk(i)


def record_answers(path, store, n=4):
    with apirec.recording(path, mode="record", store=store):
        for i in range(n):
            ask(i)


def damage(path, store):
    """Break the stored answer of ask(1) in the store's own way; return how it is named."""
    if store == "json":
        victim = next(p for p in path.glob("*.json") if '"n": 1' in p.read_text())
        victim.write_text('{"response": {"body": ')
        return victim.name
    s = MsgpackStore(path)
    s.compact()  # indexed, so the index still leads to the damaged frame
    key = next(k for k, i, _ in s.entries() if s.read(k, i)["request"]["args"] == {"n": 1})
    slot = s._slots(key)[0]
    with open(s.path, "r+b") as f:
        f.seek(slot.offset + slot.length - 8)
        f.write(b"\xff" * 8)
    return f"{key}.json"


@pytest.mark.parametrize("store", ["json", "msgpack"])
def test_a_damaged_recording_fails_alone_and_the_store_still_opens(tmp_path, store):
    record_answers(tmp_path, store)
    name = damage(tmp_path, store)
    with apirec.recording(tmp_path, mode="replay", store=store) as rec:
        assert [ask(i).n for i in (0, 2, 3)] == [0, 2, 3]
        with pytest.raises(apirec.StoreError) as info:
            ask(1)
        assert rec.stats.replayed == 3
    assert name in str(info.value)


@pytest.mark.parametrize("store", ["json", "msgpack"])
def test_opening_parses_nothing_until_a_key_is_asked_for(tmp_path, store, monkeypatch):
    record_answers(tmp_path, store, n=30)
    if store == "msgpack":
        MsgpackStore(tmp_path).compact()
    parsed = []
    module = json_store if store == "json" else store_msgpack
    real = module.parse if store == "json" else module.msgpack.unpackb

    def counting(*args, **kwargs):
        parsed.append(1)
        return real(*args, **kwargs)

    if store == "json":
        monkeypatch.setattr(json_store, "parse", counting)
        opened = JsonStore(tmp_path)
    else:
        monkeypatch.setattr(store_msgpack.msgpack, "unpackb", counting)
        opened = MsgpackStore(tmp_path)
    assert parsed == []
    key = next(k for k, _, _ in opened.entries())
    parsed.clear()
    assert opened.read(key, 0)["request"]["function"] == "ask"
    assert parsed  # asked for, it is read


@pytest.mark.parametrize("store", ["json", "msgpack"])
async def test_a_replayed_stream_decodes_chunk_by_chunk(tmp_path, store):
    src = tmp_path / "json"
    with apirec.recording(src, mode="record"):
        async for _ in stream(3):
            pass
    (path,) = src.glob("*.json")
    entry = json.loads(path.read_text())
    entry["response"]["body"][2]["__type__"] = "not_imported_pkg.Chunk"
    path.write_text(json.dumps(entry, indent=2) + "\n")
    if store == "msgpack":
        convert(src, tmp_path / "mp")
    where = src if store == "json" else tmp_path / "mp"
    with apirec.recording(where, mode="replay", store=store, repeats="last"):
        for _ in range(2):  # the second time through the plans made the first time
            replayed = stream(3)
            assert (await replayed.__anext__()).choices[0].delta.content == "w0"
            assert (await replayed.__anext__()).choices[0].delta.content == "w1"
            with pytest.raises(apirec.DecodeError, match=r"\$\[2\].*not_imported_pkg"):
                await replayed.__anext__()


@pytest.mark.parametrize("store", ["json", "msgpack"])
async def test_mutating_replayed_chunks_never_changes_the_next_replay(tmp_path, store):
    with apirec.recording(tmp_path, mode="record", store=store):
        async for _ in stream(3):
            pass
    with apirec.recording(tmp_path, mode="replay", store=store, repeats="last"):
        for _ in range(3):
            chunks = [c async for c in stream(3)]
            assert [c.choices[0].delta.content for c in chunks] == ["w0", "w1", "w2"]
            for c in chunks:
                c.choices[0].delta.content = "changed"
                c.choices.append(c.choices[0])


class Piece(BaseModel):
    meta: dict  # nested values are kept by reference by pydantic


@apirec.record(name="pieces")
async def pieces():
    for i in range(3):
        yield Piece(meta={"i": i, "seen": []})


@pytest.mark.parametrize("store", ["json", "msgpack"])
async def test_interleaved_replays_of_one_stream_share_nothing(tmp_path, store):
    with apirec.recording(tmp_path, mode="record", store=store):
        assert len([p async for p in pieces()]) == 3
    with apirec.recording(tmp_path, mode="replay", store=store, repeats="last"):
        first, second = pieces(), pieces()  # past the end: the same stored stream twice
        for i in range(3):
            a, b = await first.__anext__(), await second.__anext__()
            a.meta["seen"].append("first")
            a.meta["i"] = -1
            assert b.meta == {"i": i, "seen": []}
        assert [p.meta for p in [p async for p in pieces()]] == [
            {"i": i, "seen": []} for i in range(3)
        ]
