"""The fixture and marker with pytest-asyncio and anyio tests: tasks, task groups, fixtures."""

import pytest

from .plugin_helpers import setup

ASYNCIO_TESTS = """
import asyncio, pytest, provider

@pytest.fixture
async def greeting(apirec):                 # an async fixture calling through the recording
    return await provider.ask("hello")

async def test_gather_and_tasks(apirec, greeting):
    assert greeting == {"answer": "HELLO", "model": "m1"}
    replies = await asyncio.gather(*(provider.ask(f"q{i}") for i in range(3)))
    task = asyncio.create_task(provider.ask("in a task", model="m2"))
    assert [r["answer"] for r in replies] == ["Q0", "Q1", "Q2"]
    assert (await task)["model"] == "m2"
    assert apirec.stats.recorded + apirec.stats.replayed == 5

@pytest.mark.apirec(mode="record-if-missing")
async def test_marker_on_async():
    assert (await provider.ask("marked"))["answer"] == "MARKED"
"""

ANYIO_TESTS = """
import anyio, pytest, provider

pytestmark = pytest.mark.anyio

@pytest.fixture
def anyio_backend():
    return "asyncio"

async def test_task_group(apirec):
    results = {}
    async def one(q):
        results[q] = await provider.ask(q)
    async with anyio.create_task_group() as tg:
        for q in ("a", "b", "c"):
            tg.start_soon(one, q)
    assert {q: r["answer"] for q, r in results.items()} == {"a": "A", "b": "B", "c": "C"}

async def test_thread(apirec):
    # a sync recorded call made from a worker thread still goes to this test's recording
    assert await anyio.to_thread.run_sync(provider.add, 20) == {"sum": 21}
"""


@pytest.mark.parametrize(
    ("ini", "tests", "n_tests", "n_calls"),
    [
        ("", ASYNCIO_TESTS, 2, 6),
        ("asyncio_mode = strict", ANYIO_TESTS, 2, 4),
    ],
    ids=["pytest-asyncio", "anyio"],
)
def test_async_tests_record_then_replay(pytester, ini, tests, n_tests, n_calls):
    setup(pytester)
    if ini:
        pytester.makeini(
            "[pytest]\naddopts = -p no:hypothesispytest\n"
            f"{ini}\nasyncio_default_fixture_loop_scope = function\n"
            "filterwarnings =\n    error\n    ignore::pytest.PytestAssertRewriteWarning\n"
        )
    pytester.makepyfile(test_async=tests)
    result = pytester.runpytest("--apirec-mode=record")
    result.assert_outcomes(passed=n_tests)
    result.stdout.fnmatch_lines([f"apirec: 0 replayed, {n_calls} recorded, *"])
    result = pytester.runpytest()
    result.assert_outcomes(passed=n_tests)
    result.stdout.fnmatch_lines(
        [f"apirec: {n_calls} replayed, 0 recorded, 0 live, 0 missed; 0 stored recordings *"]
    )
