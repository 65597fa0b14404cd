"""Many concurrent calls in one process (asyncio tasks, threads) record every answer.

Every call returns a unique token, so a lost, duplicated or overwritten answer shows up as a
difference between what the callers got and what the store holds.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import warnings
from collections import Counter
from pathlib import Path

import pytest
from pydantic import BaseModel

import apirec

from .reliability import decoded_sequences, run_threads


class Answer(BaseModel):
    topic: str
    token: int


_tokens = itertools.count()  # next() on itertools.count is atomic: unique across threads


@apirec.record(name="concurrency.ask_async")
async def ask_async(topic: str) -> Answer:
    await asyncio.sleep(0)  # let the other tasks run between the key and the answer
    token = next(_tokens)
    await asyncio.sleep(0)
    return Answer(topic=topic, token=token)


@apirec.record(name="concurrency.ask_sync")
def ask_sync(topic: str) -> Answer:
    return Answer(topic=topic, token=next(_tokens))


def async_topics() -> list[str]:
    # 100 keys called once, 10 keys called 90 times each: 1,000 calls
    topics = [f"distinct-{i}" for i in range(100)]
    topics += [f"repeated-{i % 10}" for i in range(900)]
    return topics


def stored_answers(root: Path) -> dict[str, list[Answer]]:
    """Every stored answer, by the topic it was asked for."""
    answers: dict[str, list[Answer]] = {}
    for sequence in decoded_sequences(root).values():
        for value in sequence:
            assert isinstance(value, Answer)
            answers.setdefault(value.topic, []).append(value)
    return answers


def check_store(root: Path, topics: list[str], returned: list[Answer]) -> None:
    assert len({a.token for a in returned}) == len(topics), "every call answered once"
    answers = stored_answers(root)
    calls = Counter(topics)
    assert {t: len(a) for t, a in answers.items()} == dict(calls)
    stored = sorted(a.token for group in answers.values() for a in group)
    assert stored == sorted(a.token for a in returned)


async def test_thousand_concurrent_async_calls_record_every_answer(tmp_path: Path) -> None:
    topics = async_topics()
    with apirec.recording(tmp_path, mode="record") as rec:
        returned = await asyncio.gather(*(ask_async(t) for t in topics))
    assert [a.topic for a in returned] == topics
    assert rec.stats.recorded == len(topics)
    check_store(tmp_path, topics, returned)

    # A fresh recording replays the same multiset of answers, never calling through.
    before = next(_tokens)
    with apirec.recording(tmp_path, mode="replay") as replay:
        replayed = await asyncio.gather(*(ask_async(t) for t in topics))
    assert next(_tokens) == before + 1
    assert replay.stats.replayed == len(topics) and replay.stats.missed == 0
    assert Counter(a.model_dump_json() for a in replayed) == Counter(
        a.model_dump_json() for a in returned
    )


def test_eight_threads_of_two_hundred_calls_record_every_answer(tmp_path: Path) -> None:
    n_threads, per_thread = 8, 200
    # each thread: 100 calls of its own keys, 100 calls spread over 5 keys shared by all
    plans = [
        [f"own-{t}-{i}" if i % 2 else f"shared-{i % 5}" for i in range(per_thread)]
        for t in range(n_threads)
    ]
    results: list[list[Answer]] = [[] for _ in range(n_threads)]

    def worker(t: int) -> None:
        for topic in plans[t]:
            results[t].append(ask_sync(topic))

    with apirec.recording(tmp_path, mode="record") as rec:
        run_threads(worker, n_threads)
    topics = [topic for plan in plans for topic in plan]
    returned = [a for r in results for a in r]
    assert rec.stats.recorded == len(topics) == 1600
    check_store(tmp_path, topics, returned)

    replayed: list[Answer] = []
    lock = threading.Lock()

    def replay_worker(t: int) -> None:
        got = [ask_sync(topic) for topic in plans[t]]
        with lock:
            replayed.extend(got)

    with apirec.recording(tmp_path, mode="replay") as replay:
        run_threads(replay_worker, n_threads)
    assert replay.stats.replayed == len(topics) and replay.stats.missed == 0
    assert sorted(a.token for a in replayed) == sorted(a.token for a in returned)


async def test_record_mode_replaces_an_earlier_run_under_concurrency(tmp_path: Path) -> None:
    topics = async_topics()[::4]  # 250 calls: 25 distinct keys, 10 keys called 22 or 23 times
    with apirec.recording(tmp_path, mode="record"):
        await asyncio.gather(*(ask_async(t) for t in topics))
    # Run again at once: the second run replaces every answer of the first, keeping its own.
    with apirec.recording(tmp_path, mode="record"):
        second = await asyncio.gather(*(ask_async(t) for t in topics))
    check_store(tmp_path, topics, second)


async def test_a_cancelled_call_leaves_no_hole_in_the_sequence(tmp_path: Path) -> None:
    # Two identical calls in flight; the first (index 0) is cancelled, the second answers.
    # Its answer must be the sequence's first, or replay would find nothing at index 0.
    released = [asyncio.Event(), asyncio.Event()]
    order = itertools.count()

    @apirec.record(name="concurrency.poll")
    async def poll(job: str) -> int:
        n = next(order)
        await released[n].wait()
        return n

    async with apirec.recording(tmp_path, mode="record-if-missing"):
        first = asyncio.create_task(poll("job"))
        second = asyncio.create_task(poll("job"))
        await asyncio.sleep(0)  # both calls are in flight
        released[1].set()
        assert await second == 1
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
    with apirec.recording(tmp_path, mode="replay") as replay:
        assert await poll("job") == 1
    assert replay.stats.replayed == 1


# -- identical calls in flight at once: stored by the order they started ---------------------

STORES = ["json", "msgpack"]


def _released_in(order: list[int]) -> tuple[list[asyncio.Event], asyncio.Task[None]]:
    """Events that let call n answer, set one by one in ``order`` (each after the previous
    answer was stored)."""
    events = [asyncio.Event() for _ in order]

    async def release() -> None:
        for n in order:
            for _ in range(5):  # the previous call answers and is stored before the next
                await asyncio.sleep(0)
            events[n].set()

    return events, asyncio.ensure_future(release())


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("mode", ["record", "record-if-missing"])
async def test_a_gather_replays_in_the_order_it_returned_live(tmp_path, mode, store):
    started = itertools.count()
    events: list[asyncio.Event] = []

    @apirec.record(name="concurrency.job")
    async def job(name: str) -> int:
        n = next(started)
        await events[n].wait()
        return n

    async with apirec.recording(tmp_path, mode=mode, store=store):
        events, releasing = _released_in([2, 1, 0])  # the last started answers first
        live = await asyncio.gather(job("x"), job("x"), job("x"))
        await releasing
    assert live == [0, 1, 2]
    async with apirec.recording(tmp_path, mode="replay", store=store):
        assert await asyncio.gather(job("x"), job("x"), job("x")) == live


@pytest.mark.parametrize("store", STORES)
def test_threads_replay_in_the_order_their_calls_started(tmp_path, store):
    started = itertools.count()
    entered = [threading.Event() for _ in range(3)]
    gates = [threading.Event() for _ in range(3)]

    @apirec.record(name="concurrency.thread_job")
    def job(name: str) -> int:
        n = next(started)
        entered[n].set()
        gates[n].wait(5)
        return n

    results: dict[int, int] = {}
    with apirec.recording(tmp_path, mode="record", store=store):
        threads = []
        for i in range(3):  # each call is in flight before the next one starts
            threads.append(threading.Thread(target=lambda i=i: results.update({i: job("x")})))
            threads[-1].start()
            assert entered[i].wait(5)
        for n in (2, 1, 0):  # the last started answers first
            gates[n].set()
            threads[n].join(5)
    assert results == {0: 0, 1: 1, 2: 2}
    with apirec.recording(tmp_path, mode="replay", store=store):
        assert [job("x") for _ in range(3)] == [0, 1, 2]


@pytest.mark.parametrize("store", STORES)
async def test_an_earlier_call_cancelled_after_later_ones_answered_leaves_no_hole(tmp_path, store):
    # Four identical calls: the third answers, then the first is cancelled (its slot is
    # closed up), then the fourth and the second answer. Replay gets them in call order.
    started = itertools.count()
    events = [asyncio.Event() for _ in range(4)]

    @apirec.record(name="concurrency.cancelled")
    async def job(name: str) -> int:
        n = next(started)
        await events[n].wait()
        return n

    async with apirec.recording(tmp_path, mode="record", store=store):
        tasks = [asyncio.create_task(job("x")) for _ in range(4)]
        await asyncio.sleep(0)
        events[2].set()
        assert await tasks[2] == 2
        tasks[0].cancel()
        with pytest.raises(asyncio.CancelledError):
            await tasks[0]
        events[3].set()
        assert await tasks[3] == 3
        events[1].set()
        assert await tasks[1] == 1
    async with apirec.recording(tmp_path, mode="replay", store=store) as replay:
        assert [await job("x") for _ in range(3)] == [1, 2, 3]
        with pytest.raises(apirec.SequenceExhausted, match="but 3 answers were recorded"):
            await job("x")  # three answers, in three slots: nothing after them
    assert replay.stats.replayed == 3


async def test_a_stream_never_finished_in_its_block_leaves_no_hole(tmp_path):
    # The first call's stream is still open when the block ends (a sync `with` cannot read
    # an async stream); the second call's answer, stored in its own place, must not stay
    # hidden behind the empty place of the first.
    @apirec.record(name="concurrency.agen")
    async def source():
        for i in range(3):
            yield i

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "not finished when it closed"
        with apirec.recording(tmp_path, mode="record"):
            first = source()
            assert await anext(first) == 0
            assert [c async for c in source()] == [0, 1, 2]
    async with apirec.recording(tmp_path, mode="replay"):
        assert [c async for c in source()] == [0, 1, 2]
    await first.aclose()  # stored now, after the others: still no hole
    names = sorted(p.name for p in tmp_path.glob("*.json"))
    assert sorted(n.count(".") for n in names) == [1, 2]  # <key>.json and <key>.1.json
