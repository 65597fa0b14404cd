"""Section (f): a replayed openai chat completion through the real client, apirec against vcrpy.

Both sides replay the same HTTP exchange (a fixture chat completion, served by an
``httpx.MockTransport`` while recording and never reached on replay) through the same
``AsyncOpenAI`` client. apirec answers at the SDK's entry point
(``apirec.integrations.patch(rec, "openai")``); vcrpy answers at the HTTP transport, so the
SDK builds the request and parses the response on every call. Each repetition times a batch of
calls on each side in turn, with that side's recording or cassette open (opening is not timed).
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import openai
import vcr

import apirec
import apirec.integrations


def chat_client(body: dict[str, Any], hits: list[int]) -> openai.AsyncOpenAI:
    answer = json.dumps(body).encode()

    async def handle(request: httpx.Request) -> httpx.Response:
        hits.append(1)
        return httpx.Response(200, content=answer, headers={"content-type": "application/json"})

    return openai.AsyncOpenAI(
        api_key="sk-bench",
        base_url="http://127.0.0.1:9/v1",
        max_retries=0,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handle)),
    )


def replay_times(
    tmp: Path,
    recording: dict[str, Any],
    repeats: int,
    number: int,
    clock: Callable[[], int] = time.perf_counter_ns,
) -> tuple[float, float]:
    """Median µs per replayed call: (apirec, vcrpy)."""
    hits: list[int] = []
    client = chat_client(recording["response"]["body"]["__data__"], hits)
    request = recording["request"]["body"]
    store, cassette = tmp / "vs-vcrpy", str(tmp / "vs-vcrpy.yaml")
    # a test replaying the same call again gets the same answer, as with apirec
    cassettes = vcr.VCR(match_on=["method", "uri", "body"])

    async def create() -> Any:
        return await client.chat.completions.create(**request)

    @asynccontextmanager
    async def apirec_side(mode: str) -> Any:
        with apirec.test_context("bench"):
            # the same call timed again and again: the last answer each time
            async with apirec.recording(store, mode=mode, repeats="last") as rec:
                apirec.integrations.patch(rec, "openai")
                yield rec

    @asynccontextmanager
    async def vcrpy_side(mode: str) -> Any:
        mode = "once" if mode == "record" else "none"
        with cassettes.use_cassette(cassette, record_mode=mode, allow_playback_repeats=True):
            yield None

    sides = (apirec_side, vcrpy_side)

    async def batch(side: Any) -> float:
        async with side("replay"):
            gc.collect()
            start = clock()
            for _ in range(number):
                await create()
            return (clock() - start) / number / 1000

    async def run() -> tuple[float, float]:
        answers = []
        for side in sides:
            opened: AbstractAsyncContextManager[Any] = side("record")
            async with opened:
                answers.append(await create())
        served = len(hits)
        for side in sides:
            async with side("replay"):
                assert (await create()) == answers[0]
        samples: list[list[float]] = [[], []]
        for r in range(repeats):
            for i in (0, 1) if r % 2 else (1, 0):
                samples[i].append(await batch(sides[i]))
        assert len(hits) == served, "a replay reached the HTTP transport"
        return statistics.median(samples[0]), statistics.median(samples[1])

    return asyncio.run(run())
