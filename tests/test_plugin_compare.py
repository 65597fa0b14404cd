"""``--apirec-mode=compare``: every call goes live, nothing is stored, and each live answer is
compared with the stored one, structure first, then content (issue 21, points 5 and 6).

Through the real openai and anthropic clients against the loopback fakes, whose answers the
tests change between the recording run and the compare run (``change``), and the real plugin
(pytester). Every test checks that the compare run wrote nothing: the bytes of every file in
the store are the same before and after.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .plugin_helpers import setup

OPENAI = """
import os
import openai
import pytest

def client(retries=0):
    return openai.OpenAI(
        base_url=os.environ["FAKE_OPENAI"], api_key="sk-test", max_retries=retries
    )

@pytest.mark.apirec(integrations=["openai"])
def test_chat():
    reply = client().chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hello there"}]
    )
    assert reply.choices[0].message.content.startswith("You")

@pytest.mark.apirec(integrations=["openai"])
def test_stream():
    stream = client().chat.completions.create(
        model="m", messages=[{"role": "user", "content": "tell me more"}], stream=True
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text.startswith("You")
"""

ANTHROPIC = """
import os
import anthropic
import pytest

def client():
    return anthropic.Anthropic(
        base_url=os.environ["FAKE_ANTHROPIC"], api_key="sk-ant-test", max_retries=0
    )

@pytest.mark.apirec(integrations=["anthropic"])
def test_message():
    reply = client().messages.create(
        model="claude", max_tokens=50, messages=[{"role": "user", "content": "hello there"}]
    )
    assert reply.content[0].text.startswith("You")

@pytest.mark.apirec(integrations=["anthropic"])
def test_message_stream():
    with client().messages.stream(
        model="claude", max_tokens=50, messages=[{"role": "user", "content": "go on"}]
    ) as stream:
        assert "".join(stream.text_stream).startswith("You")
"""


def snapshot(store: Path) -> dict[str, bytes]:
    """Every file (and folder: None) under the store, by path, with its bytes."""
    return {
        str(p.relative_to(store)): None if p.is_dir() else p.read_bytes()
        for p in sorted(store.rglob("*"))
    }


@pytest.fixture
def project(pytester, monkeypatch, openai_server, anthropic_server):
    monkeypatch.setenv("FAKE_OPENAI", openai_server.base_url)
    monkeypatch.setenv("FAKE_ANTHROPIC", anthropic_server.base_url)
    setup(pytester)
    pytester.makepyfile(test_openai=OPENAI, test_anthropic=ANTHROPIC)
    recorded = pytester.runpytest("--apirec-mode=record")
    recorded.assert_outcomes(passed=4)
    store = pytester.path / "recordings"
    pytester.stored_before = snapshot(store)
    assert sum(1 for name in pytester.stored_before if name.endswith(".json")) == 4
    yield pytester
    # the compare run wrote nothing, not even recorded_at
    assert snapshot(store) == pytester.stored_before


def compare(pytester, *args):
    result = pytester.runpytest(
        "--apirec-mode=compare", "--apirec-compare-report=report.json", *args
    )
    report = json.loads((pytester.path / "report.json").read_text())
    return result, report


def calls(report, test):
    (test_id,) = [t for t in report["tests"] if t.endswith(test)]
    return report["tests"][test_id]


def differences(call, level="structure"):
    return [(d["kind"], d["path"]) for d in call["differences"] if d["level"] == level]


def test_an_unchanged_service_is_the_same_and_the_run_passes(project, openai_server):
    served = openai_server.requests
    # a compare run judges no recording unused: --apirec-prune deletes nothing
    result, report = compare(project, "--apirec-prune")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        ["apirec: 0 replayed, 0 recorded, 4 live, 0 missed; live calls spent *; deleted 0 *"]
    )
    result.assert_outcomes(passed=4)
    assert openai_server.requests == served + 2  # live: the guard let them through
    (chat,) = calls(report, "test_chat")
    assert chat["outcome"] == "same"
    assert chat["file"].endswith(".json") and Path(chat["file"]).is_file()
    # the ledger of the live call beside the stored one's
    assert chat["ledger"]["stored"]["usage"] == {"input_tokens": 5, "output_tokens": 4}
    assert chat["ledger"]["live"]["usage"] == {"input_tokens": 5, "output_tokens": 4}
    assert chat["ledger"]["live"]["seconds"] >= 0
    (stream,) = calls(report, "test_stream")
    assert not differences(stream)
    assert stream["similarity"] == 1.0
    assert "first_chunk_seconds" in stream["ledger"]["live"]
    assert report["failed"] is False
    result.stdout.fnmatch_lines(["apirec compare: 4 live calls compared: *"])


@pytest.mark.parametrize(
    ("change", "kind", "path"),
    [
        ("added", "field added", "system_fingerprint"),
        ("removed", "field removed", "usage"),
        ("retyped", "changed type", "created"),
    ],
)
def test_an_answer_that_changed_shape_fails_the_run_naming_the_field(
    project, openai_server, change, kind, path
):
    openai_server.change = change
    result, report = compare(project)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=4)  # the tests pass live; the run fails on the report
    (chat,) = calls(report, "test_chat")
    assert chat["outcome"] == "structure"
    assert (kind, path) in differences(chat)
    assert report["failed"] is True
    assert report["totals"]["structure"] == 2  # the stream's chunks changed alike
    result.stdout.fnmatch_lines(
        [
            "apirec compare: *2 structure*",
            "  structure: *test_chat openai.chat.completions.create() call 0 (recordings/*",
            f"      {kind} at {path}: *",
            "apirec compare: the run fails: 2 live answers changed structure",
        ]
    )


def test_a_stream_whose_chunks_changed_shape_is_structural(project, openai_server):
    openai_server.change = "added"
    result, report = compare(project)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    (stream,) = calls(report, "test_stream")
    assert stream["outcome"] == "structure"
    kinds = [k for k, p in differences(stream) if p == "chunks[*].system_fingerprint"]
    assert kinds == ["field added"]


def test_changed_text_is_content_reported_not_failed(project, openai_server, anthropic_server):
    openai_server.change = anthropic_server.change = "text"
    result, report = compare(project)
    assert result.ret == pytest.ExitCode.OK
    (chat,) = calls(report, "test_chat")
    assert chat["outcome"] == "content"
    assert not differences(chat)
    assert ("changed text", "choices.message.content") in [
        (k, p.replace("[0]", "")) for k, p in differences(chat, "content")
    ]
    assert 0.5 < chat["similarity"] < 1
    for test in ("test_stream", "test_message_stream"):
        (stream,) = calls(report, test)
        assert stream["outcome"] == "content", stream
        assert ("changed text", "chunks") in differences(stream, "content")
        assert 0.5 < stream["similarity"] < 1
    assert report["totals"]["content"] == 4
    result.stdout.fnmatch_lines(["  content: *test_chat*: text *% similar"])


def test_strict_fails_the_run_on_content_differences(project, openai_server):
    openai_server.change = "text"
    result, report = compare(project, "--apirec-compare=strict")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert report["strict"] is True and report["failed"] is True
    result.stdout.fnmatch_lines(["apirec compare: the run fails: 2 live answers differ *strict*"])


def test_anthropic_answers_compared_through_the_real_client(project, anthropic_server):
    anthropic_server.change = "added"
    result, report = compare(project)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    (message,) = calls(report, "test_message")
    assert ("field added", "usage.cache_read_input_tokens") in differences(message)
    (stream,) = calls(report, "test_message_stream")
    assert stream["outcome"] == "structure"
    (chat,) = calls(report, "test_chat")
    assert chat["outcome"] == "same"


def test_a_call_with_no_stored_answer_is_new(project):
    project.makepyfile(
        test_more="""
import os, openai, pytest

@pytest.mark.apirec(integrations=["openai"])
def test_new():
    client = openai.OpenAI(base_url=os.environ["FAKE_OPENAI"], api_key="sk-test", max_retries=0)
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "new"}])
"""
    )
    result, report = compare(project)
    assert result.ret == pytest.ExitCode.OK
    (new,) = calls(report, "test_new")
    assert new["outcome"] == "new"
    assert new["file"] is None
    assert new["ledger"]["stored"] is None
    assert new["ledger"]["live"]["usage"]["output_tokens"] == 3
    assert not (project.path / "recordings").joinpath(f"{new['key']}.json").exists()


RETRIES = """
import os, openai, pytest

@pytest.mark.apirec(integrations=["openai"])
def test_busy():
    # the SDK retries a 429 once itself; the application's loop then asks again
    client = openai.OpenAI(base_url=os.environ["FAKE_OPENAI"], api_key="sk-test", max_retries=1)
    for attempt in range(3):
        try:
            reply = client.chat.completions.create(
                model="busy-twice", messages=[{"role": "user", "content": "are you there"}]
            )
            break
        except openai.RateLimitError:
            continue
    assert reply.choices[0].message.content == "You said: are you there"
"""


def test_a_429_is_transient_and_the_retry_is_compared_with_the_stored_answer(
    project, openai_server
):
    project.makepyfile(test_busy=RETRIES)
    project.runpytest("--apirec-mode=record", "test_busy.py").assert_outcomes(passed=1)
    project.stored_before = snapshot(project.path / "recordings")
    openai_server.refused.clear()  # busy again: two 429s, then the answer
    result, report = compare(project, "test_busy.py")
    assert result.ret == pytest.ExitCode.OK
    busy = calls(report, "test_busy")
    assert [c["outcome"] for c in busy] == ["transient", "same"]
    assert "RateLimitError" in busy[0]["error"]
    assert busy[1]["slot"] == 0  # the answer takes the place the 429 gave up, as when recording
    assert not busy[1]["differences"]
    assert report["totals"]["transient"] == 1 and report["failed"] is False


ECHO = """
import os, openai, pytest

@pytest.mark.apirec(integrations=["openai"])
def test_echo():
    client = openai.OpenAI(base_url=os.environ["FAKE_OPENAI"], api_key=os.environ["KEY"])
    reply = client.chat.completions.create(
        model="echo-key", messages=[{"role": "user", "content": "hi"}]
    )
    assert os.environ["KEY"] in reply.choices[0].message.content
"""


def test_a_secret_the_write_gate_replaces_is_no_difference(project, monkeypatch):
    # the service echoes the caller's key: stored scrubbed; compared in its stored form
    monkeypatch.setenv("KEY", "sk-proj-" + "A1b2C3d4E5" * 4)
    project.makepyfile(test_echo=ECHO)
    project.runpytest("--apirec-mode=record", "test_echo.py").assert_outcomes(passed=1)
    project.stored_before = snapshot(project.path / "recordings")
    assert not any(b"A1b2C3d4E5" in (data or b"") for data in project.stored_before.values())
    result, report = compare(project, "test_echo.py")
    assert result.ret == pytest.ExitCode.OK
    (echo,) = calls(report, "test_echo")
    assert echo["outcome"] == "same", echo


def test_compare_under_xdist_merges_the_workers_reports(project, openai_server):
    openai_server.change = "added"
    result = project.runpytest_subprocess(
        "-n", "2", "--apirec-mode=compare", "--apirec-compare-report=report.json"
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    report = json.loads((project.path / "report.json").read_text())
    assert sum(report["totals"].values()) == 4
    assert report["totals"]["structure"] == 2


OWN = """
import os, openai, pytest, apirec, apirec.integrations

def test_own_recording(tmp_path):
    # a recording the test opens itself with mode="compare" is the test's to check
    # test_chat's recording: its answer changed shape, which would fail a compare run
    with apirec.recording("recordings", mode="compare", test_id="test_openai.py::test_chat") as rec:
        apirec.integrations.patch(rec, "openai")
        client = openai.OpenAI(base_url=os.environ["FAKE_OPENAI"], api_key="sk-test")
        client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hello there"}]
        )
    assert [r["outcome"] for r in rec.compared] == ["structure"]

@pytest.mark.apirec(mode="compare", integrations=["openai"])
def test_marked():
    client = openai.OpenAI(base_url=os.environ["FAKE_OPENAI"], api_key="sk-test")
    with apirec.test_context("test_openai.py::test_chat"):  # keyed as test_chat's call
        client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hello there"}]
        )
"""


def test_outside_a_compare_run_only_a_markers_compare_mode_is_judged(project, openai_server):
    project.makepyfile(test_own=OWN)
    openai_server.change = "added"
    result = project.runpytest("test_own.py", "--apirec-compare-report=report.json")
    result.assert_outcomes(passed=2)
    report = json.loads((project.path / "report.json").read_text())
    # the marked test's one call (keyed as test_chat's), not the own recording's
    assert [len(calls) for calls in report["tests"].values()] == [1]
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the marked test's answer changed shape


def test_one_call_and_one_failing_answer_are_singular(project, openai_server):
    """The summary counted 'live calls' and 'live answers' whatever their number."""
    openai_server.change = "added"
    result = project.runpytest("--apirec-mode=compare", "-k", "test_chat")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "apirec compare: 1 live call compared: 1 structure",
            "apirec compare: the run fails: 1 live answer changed structure",
        ]
    )
    strict = project.runpytest(
        "--apirec-mode=compare", "-k", "test_chat", "--apirec-compare=strict"
    )
    strict.stdout.fnmatch_lines(["apirec compare: the run fails: 1 live answer differs *strict*"])


def test_a_live_run_through_the_real_clients_is_held_to_the_budget(project):
    """Live mode under a budget: the SDKs' calls are measured (the integrations no longer go
    straight through), so the budget stops the run's live calls once their usage spent it."""
    result = project.runpytest(
        "--apirec-mode=live", "--apirec-record-budget=10", "-p", "no:randomly"
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) >= 1, result.stdout.str()
    result.stdout.fnmatch_lines(["*BudgetExceeded*", "apirec: *live calls spent*of the 10 budget*"])
