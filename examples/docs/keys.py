"""README's and docs/keys.md's key options, complete: what they leave out of keys and files.

Records once, then replays calls that differ only in what the options leave out, and reads
the stored files to show what was kept.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path

from pydantic import BaseModel

import apirec


class ChatReply(BaseModel):
    text: str


@apirec.record(ignore=["request_id", "extra_headers.X-Trace"], redact=["session"])
async def search(query: str, *, request_id: str, extra_headers: dict, session: str): ...


@apirec.record(name="models.list")
async def list_models() -> list[str]:
    return ["small", "large"]


def drop_timestamps(arguments: dict) -> dict:
    return {k: v for k, v in arguments.items() if k != "sent_at"}


# fmt: off
@apirec.record(
    name="llm.chat",                         # the name in keys and recordings
    ignore=["request_id", "extra_headers.X-Trace"],   # not in the key, not stored
    redact=["session"],                      # stored as "<redacted>", not in the key
    normalize=drop_timestamps,               # canonical arguments -> those hashed and stored
    shared=False,                            # True: one answer for every test
    float_digits=6,                          # floats rounded before hashing
)
async def chat(messages: list[dict], *, request_id: str, extra_headers: dict,
               session: str, sent_at: float) -> ChatReply:
    return ChatReply(text=f"{len(messages)} message(s), at temperature {messages[0]['t']}")
# fmt: on


async def calls(request_id: str, trace: str, sent_at: float, t: float) -> tuple[object, ...]:
    headers = {"X-Trace": trace, "Accept": "json"}
    found = await search("llamas", request_id=request_id, extra_headers=headers, session="s-1")
    with apirec.test_context(None):  # outside any test, even while one runs
        models = await list_models()
    reply = await chat(
        [{"role": "user", "t": t}],
        request_id=request_id,
        extra_headers=headers,
        session="s-2",
        sent_at=sent_at,
    )
    return found, models, reply


async def main() -> None:
    with apirec.recording("tests/recordings", mode="record"), apirec.test_context("test_a"):
        recorded = await calls("req-1", "trace-1", sent_at=1.0, t=0.1234567)
    # the same calls, but for what the options leave out: replayed, not missed
    with apirec.recording("tests/recordings"), apirec.test_context("test_a"):
        replayed = await calls("req-2", "trace-2", sent_at=2.0, t=0.1234568)
    assert replayed == recorded
    stored = "".join(p.read_text() for p in Path("tests/recordings").glob("*.json"))
    for left_out in ("req-1", "trace-1", "s-1", "s-2", "sent_at"):
        assert left_out not in stored, left_out
    assert "<redacted>" in stored and '"Accept": "json"' in stored
    models = [json.loads(p.read_text()) for p in Path("tests/recordings").glob("*.json")]
    assert [m["test_id"] for m in models if m["request"]["function"] == "models.list"] == [None]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        asyncio.run(main())
    print("keys: what the options leave out replays, and is not stored")
