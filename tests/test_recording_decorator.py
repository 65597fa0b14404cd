"""@apirec.recording(...) as a decorator on generator functions (yield fixtures, sync and
async) and on test classes."""

import pytest

import apirec

from .plugin_helpers import setup

CALLS: list[int] = []


@apirec.record(name="deco.add")
def add(a: int) -> int:
    CALLS.append(a)
    return a + 100


@apirec.record(name="deco.aadd")
async def aadd(a: int) -> int:
    CALLS.append(a)
    return a + 200


def count(path):
    return len(list(path.glob("*.json")))


def test_a_generator_keeps_the_recording_open_for_its_whole_life(tmp_path):
    def body():
        sent = yield add(1)
        yield add(sent)
        add(3)  # after the last yield: still inside the recording

    for mode in ("record", "replay"):
        CALLS.clear()
        gen = apirec.recording(tmp_path, mode=mode)(body)()
        assert next(gen) == 101
        assert gen.send(2) == 102
        with pytest.raises(StopIteration):
            next(gen)
        assert ([1, 2, 3] if mode == "record" else []) == CALLS
    assert count(tmp_path) == 3


def test_a_generator_closed_early_closes_its_recording_after_its_cleanup(tmp_path):
    @apirec.recording(tmp_path, mode="record")
    def body():
        try:
            yield add(1)
            yield add(2)
        finally:
            add(9)  # cleanup that runs on close(): recorded too

    gen = body()
    assert next(gen) == 101
    gen.close()
    assert count(tmp_path) == 2
    add(5)  # the recording is closed now: a plain call, nothing stored
    assert count(tmp_path) == 2


async def test_an_async_generator_keeps_the_recording_open_for_its_whole_life(tmp_path):
    async def body():
        sent = yield await aadd(1)
        try:
            yield await aadd(sent)
        except KeyError:
            yield await aadd(7)  # what the caller threw in reaches the body
        await aadd(3)

    for mode in ("record", "replay"):
        CALLS.clear()
        agen = apirec.recording(tmp_path, mode=mode)(body)()
        assert await agen.__anext__() == 201
        assert await agen.asend(2) == 202
        assert await agen.athrow(KeyError("k")) == 207
        with pytest.raises(StopAsyncIteration):
            await agen.__anext__()
        assert ([1, 2, 7, 3] if mode == "record" else []) == CALLS
    assert count(tmp_path) == 4

    @apirec.recording(tmp_path / "early", mode="record")
    async def early():
        try:
            yield await aadd(1)
        finally:
            await aadd(9)

    agen = early()
    await agen.__anext__()
    await agen.aclose()
    assert count(tmp_path / "early") == 2


FIXTURES = """
import pytest, apirec, provider

@pytest.fixture
@apirec.recording("recordings")
def answer():
    yield provider.add(1)
    provider.add(2)          # teardown, still recorded / replayed

@pytest.fixture
@apirec.recording("recordings")
async def question():
    yield await provider.ask("why")
    await provider.ask("how")

def test_sync(answer):
    assert answer == {"sum": 2}

async def test_async(question):
    assert question["answer"] == "WHY"

@apirec.recording("recordings")
class TestDecorated:
    def test_one(self):
        assert provider.add(10) == {"sum": 11}

    async def test_two(self):
        assert (await provider.ask("q"))["answer"] == "Q"

    @staticmethod
    def test_static():
        provider.add(20)

    def helper(self):
        return provider.add(30)   # not a test: not wrapped

    def test_uses_helper(self):
        assert self.helper() == {"sum": 31}
"""


def test_yield_fixtures_and_test_classes_record_then_replay(pytester):
    setup(pytester, "pythonpath = .")
    pytester.makepyfile(test_deco=FIXTURES)
    result = pytester.runpytest("--apirec-mode=record")
    result.assert_outcomes(passed=6)
    assert count(pytester.path / "recordings") == 8
    # replay, with the provider unable to call through: everything comes from the recordings
    pytester.makepyfile(
        conftest="import provider\nprovider.calls = None  # calls.append fails if called\n"
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=6)
