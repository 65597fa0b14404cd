"""Compare mode must write nothing to the store."""

from __future__ import annotations

import pytest

from .plugin_helpers import INI

LLM = """
import os
import apirec

@apirec.record(name="llm.chat")
def chat(prompt):
    return {"model": "m", "text": prompt.upper() + os.environ.get("CHANGE", ""),
            "usage": {"prompt_tokens": 12, "completion_tokens": 3}}
"""
TESTS = """
import llm

def test_one(apirec):
    assert llm.chat("one")["text"].startswith("ONE")

def test_two(apirec):
    assert llm.chat("two")["text"].startswith("TWO")
"""


def store_bytes(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("option", ["--apirec-prune", "--apirec-rekey", "--apirec-usage=u.json"])
def test_a_compare_run_writes_nothing_whatever_else_is_asked(pytester, option):
    """docs: compare mode 'every call live, nothing stored'. In compare mode the stored
    answers are read but never marked used: with --apirec-prune the run may take every stored
    recording for unused."""
    pytester.makeini(INI.format(extra="\npythonpath = ."))
    pytester.makepyfile(llm=LLM, test_calls=TESTS)
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=2)
    before = store_bytes(pytester.path / "recordings")
    assert len(before) == 2
    result = pytester.runpytest("--apirec-mode=compare", option)
    result.assert_outcomes(passed=2)
    assert store_bytes(pytester.path / "recordings") == before, result.stdout.str()


def _recorded_stream(openai_server, tmp_path):
    import json

    import openai

    import apirec
    from apirec import integrations

    client = openai.OpenAI(base_url=openai_server.base_url, api_key="sk-test", max_retries=0)
    with apirec.recording(tmp_path, mode="record") as rec:
        integrations.patch(rec, "openai")
        for _ in client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi there you"}], stream=True
        ):
            pass
    client.close()
    [path] = tmp_path.rglob("*.json")
    return json.loads(path.read_text())["response"]


def test_an_openai_stream_that_now_ends_early_is_structural(openai_server, tmp_path):
    """An openai stream (no include_usage: the default) whose live answer ends before its
    finish chunk (no finish_reason, half the text) is reported as 'content' only: every chunk
    is one kind, finish_reason is null in most, so its disappearance is 'null on one side'.
    Code waiting for finish_reason (or the whole answer) breaks; the run exits 0."""
    from apirec.codec.answer_diff import compare_answers

    stored = _recorded_stream(openai_server, tmp_path)
    live = {**stored, "body": stored["body"][:3]}  # the head, the role chunk, one word
    comparison = compare_answers(stored, live)
    assert comparison.structural, [d.as_dict() for d in comparison.differences]


def test_a_value_every_chunk_holds_now_null_at_the_end_stays_content(openai_server, tmp_path):
    """Only what marks the end (a value the last chunk alone holds) makes an early end: a
    field every chunk carries (``model`` here; ``system_fingerprint`` live) that is null in
    the live chunks is an optional field, content as it is in a value."""
    import copy

    from apirec.codec.answer_diff import compare_answers

    stored = _recorded_stream(openai_server, tmp_path)
    live = copy.deepcopy(stored)
    for chunk in live["body"][1:]:
        chunk["__data__"]["model"] = None
    comparison = compare_answers(stored, live)
    assert not comparison.structural and comparison.content, comparison.differences


def test_a_whole_answer_that_is_now_null_is_structural():
    """'null against a value is content' is meant for optional fields; at the root it says a
    function that now returns None instead of a ChatCompletion changed only its content."""
    from apirec.codec.answer_diff import compare_answers

    stored = {
        "body": {
            "__type__": "openai.types.chat.ChatCompletion",
            "__data__": {"choices": [{"message": {"content": "hi"}}]},
        },
        "is_streaming": False,
    }
    comparison = compare_answers(stored, {"body": None, "is_streaming": False})
    assert comparison.structural, [d.as_dict() for d in comparison.differences]


SECRET = "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk"
LEAKY = """
import os
import apirec

@apirec.record(name="llm.chat")
def chat(prompt):
    how = os.environ.get("HOW", "")
    if how == "transient":  # a 503 whose message echoes the caller's key
        raise ConnectionError(f"upstream 503: key {os.environ['KEY']} was rejected")
    model = os.environ["KEY"] if how == "model" else "gpt-4o"  # a proxy echoing the key
    return {"model": model, "text": prompt, "usage": {"prompt_tokens": 3, "completion_tokens": 1}}
"""
LEAKY_TEST = """
import llm

def test_one(apirec):
    try:
        llm.chat("one")
    except ConnectionError:
        pass
"""


@pytest.mark.parametrize("how", ["model", "transient"])
def test_the_compare_report_passes_the_write_gate(pytester, monkeypatch, how):
    """The stored answers pass the write gate; the compare report (a file on disk, often a CI
    artifact) and the summary do not: the live ledger is taken from the ungated answer (a
    model name holding a key), and a transient error is written as its raw repr."""
    monkeypatch.setenv("KEY", SECRET)
    pytester.makeini(INI.format(extra="\npythonpath = ."))
    pytester.makepyfile(llm=LEAKY, test_calls=LEAKY_TEST)
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=1)
    assert SECRET not in "".join(
        p.read_text() for p in (pytester.path / "recordings").rglob("*.json")
    )
    monkeypatch.setenv("HOW", how)
    result = pytester.runpytest("--apirec-mode=compare", "--apirec-compare-report=report.json")
    assert SECRET not in (pytester.path / "report.json").read_text()
    assert SECRET not in result.stdout.str()


def test_compare_follows_repeats_last(tmp_path):
    """With repeats='last' (a status poll), replay gives every call past the recorded sequence
    the last answer; compare mode compares those calls with nothing ('new', never failing), so
    a poll answer that now changed structure on its later calls passes the compare run."""
    import apirec

    live = {"n": 0}

    @apirec.record(name="job.status", repeats="last")
    def status():
        live["n"] += 1
        return {"state": "done"} if live["n"] == 1 else {"state": ["done"]}

    with apirec.recording(tmp_path, mode="record"):
        status()
    live["n"] = 0
    with apirec.recording(tmp_path, mode="compare") as rec:
        for _ in range(3):
            status()
    outcomes = [(r["call"], r["outcome"]) for r in rec.compared]
    assert outcomes == [(0, "same"), (1, "structure"), (2, "structure")], outcomes
