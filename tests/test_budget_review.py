"""the record budget and what the ledger counts."""

from __future__ import annotations

from google.genai import types

import apirec
from apirec.record.budget import Budget
from apirec.stores.ledger import ledger_of

from .plugin_helpers import INI

LLM = """
import threading, time
import apirec

calls = []

@apirec.record(name="llm.chat")
def chat(prompt, model="gpt-4o"):
    calls.append(prompt)
    time.sleep(0.2)
    return {"model": model, "text": prompt.upper(),
            "usage": {"prompt_tokens": 1200, "completion_tokens": 300}}
"""


def project(pytester, tests: str) -> None:
    pytester.makeini(INI.format(extra="\npythonpath = ."))
    pytester.makepyfile(llm=LLM, test_calls=tests)


def test_a_recording_the_test_opens_itself_is_held_to_the_budget(pytester):
    """docs/pytest.md: 'Once the answers the run recorded have spent it, the next live call is
    refused before it is made'. A test that opens its own recording (as the docs show for
    sessions and fixtures) records live calls past the budget: the budget is only in the
    plugin's own recordings' settings.extra."""
    project(
        pytester,
        """
import apirec, llm

def test_own(tmp_path):
    with apirec.recording(tmp_path / "own", mode="record"):
        for n in range(4):
            llm.chat(f"question {n}")
""",
    )
    result = pytester.runpytest("--apirec-mode=record", "--apirec-record-budget=2k")
    # 1,500 tokens a call: the third call must be refused (3,000 >= 2,000)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*BudgetExceeded*"])


def test_concurrent_live_calls_overspend_the_budget(pytester):
    """Every call checks the budget before it is made but spends only when its answer is
    stored: N calls started together all pass the check, so a 2k budget lets 5 x 1.5k = 7.5k
    through (async gather or threads: the same)."""
    project(
        pytester,
        """
import threading
import llm

def test_many(apirec):
    errors = []
    def one(n):
        try:
            llm.chat(f"question {n}")
        except Exception as e:
            errors.append(e)
    threads = [threading.Thread(target=one, args=(n,)) for n in range(5)]
    for t in threads: t.start()
    for t in threads: t.join()
    # 1,500 a call against 2,000: no more than 2 may be made
    assert len(llm.calls) <= 2, (len(llm.calls), errors)
""",
    )
    result = pytester.runpytest("--apirec-mode=record", "--apirec-record-budget=2k")
    # the refusals the test caught still fail it, at teardown
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*call refused by the record budget was caught*"])


def test_genai_thinking_tokens_are_spent(tmp_path):
    """google.genai bills thoughts_token_count as output, and it is NOT part of
    candidates_token_count (unlike openai's reasoning tokens inside completion_tokens): a
    thinking model's answer of 10 in, 5 out, 1,000 thoughts spends 15 of a token budget."""
    answer = types.GenerateContentResponse(
        model_version="gemini-2.5-pro",
        usage_metadata=types.GenerateContentResponseUsageMetadata(
            prompt_token_count=10,
            candidates_token_count=5,
            thoughts_token_count=1000,
            total_token_count=1015,
        ),
    )
    ledger = ledger_of({"body": apirec.encode(answer), "is_streaming": False}, 0.1)
    budget = Budget.parse("1k", None, tmp_path / "spent")
    budget.spend(ledger)
    assert budget.spent()[0] >= 1015, (ledger, budget.spent())


def test_anthropic_cache_tokens_are_spent(tmp_path):
    """anthropic's input_tokens excludes cache reads and cache writes (billed apart); openai's
    prompt_tokens includes its cached tokens. 20k tokens read from cache and 5k written spend
    13 tokens of the budget; cache_creation_input_tokens is not read at all."""
    body = {
        "__type__": "anthropic.types.message.Message",
        "__data__": {
            "model": "claude-sonnet-4",
            "usage": {
                "input_tokens": 3,
                "output_tokens": 10,
                "cache_creation_input_tokens": 5000,
                "cache_read_input_tokens": 20000,
            },
        },
    }
    ledger = ledger_of({"body": body, "is_streaming": False}, 0.1)
    budget = Budget.parse("1k", None, tmp_path / "spent")
    budget.spend(ledger)
    assert budget.spent()[0] >= 25013, (ledger, budget.spent())


def test_a_dollar_budget_stops_calls_of_a_model_the_prices_do_not_list(pytester):
    """A dollar budget prices each answer by its model; an answer of a model the table does not
    list (or of no model: cohere's v2 chat answers name none) spends $0, silently: a '$2' budget
    never refuses anything and the run spends without bound. Expected: such calls are refused,
    or the run is told the budget cannot price them."""
    pytester.makeini(INI.format(extra="apirec_prices = prices.toml\npythonpath = ."))
    pytester.path.joinpath("prices.toml").write_text("[gpt-4o]\ninput = 1000\noutput = 0\n")
    pytester.makepyfile(
        llm=LLM,
        test_calls="""
import llm

def test_calls(apirec):
    for n in range(5):
        llm.chat(f"question {n}", model="claude-sonnet-4")
""",
    )
    result = pytester.runpytest("--apirec-mode=record", "--apirec-record-budget=$2")
    # 1,200 input tokens a call at any price near gpt-4o's: 5 calls are far past $2
    out = result.stdout.str()
    told = "unpriced" in out or "not priced" in out or "do not list" in out
    assert result.ret != 0 or told, [line for line in result.outlines if "apirec:" in line]


def test_concurrent_async_calls_hold_to_the_budget(pytester):
    """The same under ``asyncio.gather``: a waiting call sleeps without holding the loop, so the
    call in flight ends and the budget is kept."""
    pytester.makeini(INI.format(extra="\npythonpath = ."))
    pytester.makepyfile(
        llm="""
import asyncio
import apirec

calls = []

@apirec.record(name="llm.achat")
async def achat(prompt):
    calls.append(prompt)
    await asyncio.sleep(0.2)
    return {"model": "gpt-4o", "text": prompt,
            "usage": {"prompt_tokens": 1200, "completion_tokens": 300}}
""",
        test_calls="""
import asyncio
from apirec import BudgetExceeded
import llm

async def test_many(apirec):
    results = await asyncio.gather(
        *(llm.achat(f"question {n}") for n in range(5)), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, BudgetExceeded)]
    assert len(llm.calls) <= 2 and len(refused) == 5 - len(llm.calls), (llm.calls, results)
""",
    )
    result = pytester.runpytest("--apirec-mode=record", "--apirec-record-budget=2k")
    # the refusals the test caught still fail it, at teardown
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*call refused by the record budget was caught*"])
    result.stdout.fnmatch_lines(["*3 calls refused by the budget*"])


def test_workers_calling_at_the_same_time_hold_to_the_budget(pytester, monkeypatch):
    """Two xdist workers start a call at the same moment (a barrier of files): with a check
    alone both pass it and the run spends 3,000 of a 1,000 budget; the first call's
    reservation makes the other wait for its answer, then refuses it."""
    pytester.makeini(INI.format(extra="\npythonpath = ."))
    pytester.makepyfile(
        llm=LLM,
        test_calls="""
import os, pathlib, time
import llm

def meet(name):
    here = pathlib.Path(os.environ["MEET"])
    (here / name).touch()
    deadline = time.monotonic() + 60
    while len(list(here.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)

def test_a(apirec):
    meet("a")
    llm.chat("a")

def test_b(apirec):
    meet("b")
    llm.chat("b")
""",
    )
    meet = pytester.path / "meet"
    meet.mkdir()
    monkeypatch.setenv("MEET", str(meet))
    result = pytester.runpytest_subprocess(
        "-n", "2", "--apirec-mode=record", "--apirec-record-budget=1k"
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*BudgetExceeded*", "*1 call refused by the budget*"])


def test_a_sync_call_does_not_wait_for_a_stream_its_own_thread_holds(pytester):
    """A task opened a stream (in flight, unread) and then calls a sync function: blocking the
    thread to wait for the stream would wait for ever (the loop cannot run it), so it does not
    wait (here, with no answer counted yet, it is made)."""
    pytester.makeini(INI.format(extra="\npythonpath = ."))
    pytester.makeconftest(
        'import importlib\nimportlib.import_module("apirec.record.budget")._WAIT = 3.0\n'
    )
    pytester.makepyfile(
        llm="""
import apirec

async def _words(prompt):
    for word in prompt.split():
        yield word

@apirec.record(name="llm.words")
async def words(prompt):  # awaited by the task, returns the stream (as openai's create)
    return _words(prompt)

@apirec.record(name="llm.count")
def count(text):
    return {"n": len(text), "usage": {"prompt_tokens": 10, "completion_tokens": 1}}
""",
        test_calls="""
import llm

async def test_stream_then_sync(apirec):
    stream = await llm.words("one two three")
    first = await anext(stream)  # the stream's call is made and in flight
    assert llm.count(first) == {"n": 3, "usage": {"prompt_tokens": 10, "completion_tokens": 1}}
    assert [w async for w in stream] == ["two", "three"]
""",
    )
    result = pytester.runpytest("--apirec-mode=record", "--apirec-record-budget=2k")
    result.assert_outcomes(passed=1)
