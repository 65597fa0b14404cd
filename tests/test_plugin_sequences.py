"""Sequences under pytest (issue 18, C9 and C10): a call past the end of a recorded sequence
fails the test unless ``repeats="last"`` (marker > command line > ini); answers a test left
unplayed are counted in the summary, named with ``-v`` and fail the test under
``--apirec-strict`` or ini ``apirec_strict``.

The inner test is an agent loop on the real openai SDK against the loopback fake server: it
asks the same question ``STEPS`` times (identical calls, one key, a sequence of answers) and,
with ``SUMMARY=1``, one other question after it.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

import pytest

from .plugin_helpers import setup

AGENT = """
import os
import openai
import pytest
import provider

def agent(steps, summary):
    client = openai.OpenAI(base_url=os.environ["FAKE_OPENAI"], api_key="sk-test", max_retries=0)
    said = []
    for _ in range(steps):
        reply = client.chat.completions.create(
            model="m", messages=[{{"role": "user", "content": "next step"}}]
        )
        said.append(reply.choices[0].message.content)
    if summary:
        reply = client.chat.completions.create(
            model="m", messages=[{{"role": "user", "content": "sum up"}}]
        )
        said.append(reply.choices[0].message.content)
    return said

@pytest.mark.apirec(integrations=["openai"]{options})
def test_agent():
    steps, summary = int(os.environ["STEPS"]), os.environ.get("SUMMARY") == "1"
    provider.models()  # shared: never judged
    said = agent(steps, summary)
    assert said[:steps] == ["You said: next step"] * steps
    assert os.environ.get("BREAK") != "1"
"""

CREATE = "openai.chat.completions.create"


@pytest.fixture
def agent(pytester, monkeypatch, openai_server):
    """Records the agent with ``steps`` (and ``summary``); returns a runner for replays."""
    monkeypatch.setenv("FAKE_OPENAI", openai_server.base_url)

    def make(steps=2, summary=False, options="", ini=""):
        setup(pytester, ini)
        pytester.makepyfile(test_agent=AGENT.format(options=options))
        monkeypatch.setenv("STEPS", str(steps))
        monkeypatch.setenv("SUMMARY", "1" if summary else "0")
        pytester.runpytest("--apirec-mode=record", "-p", "no:randomly").assert_outcomes(passed=1)
        served = openai_server.requests

        def run(steps, *args, summary=False, broken=False, live=0):
            monkeypatch.setenv("STEPS", str(steps))
            monkeypatch.setenv("SUMMARY", "1" if summary else "0")
            monkeypatch.setenv("BREAK", "1" if broken else "0")
            result = pytester.runpytest("-p", "no:randomly", *args)
            assert openai_server.requests == served + live  # replay reached no server
            return result

        return run

    return make


def test_one_call_more_than_recorded_fails_saying_how_many_were_recorded(agent):
    run = agent(steps=2)
    run(2).assert_outcomes(passed=1)
    result = run(3)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            f"*SequenceExhausted: call 3 of {CREATE}() but 2 answers were recorded for it*",
            "*recorded:  *.json, *.1.json",
            "*pytest test_agent.py::test_agent --apirec-mode=record-if-missing -p no:randomly",
            "*repeats='last' on @apirec.record, or for the whole recording (so for SDK "
            "integration calls) on apirec.recording(), @pytest.mark.apirec, --apirec-repeats, "
            "ini apirec_repeats or APIREC_REPEATS.",
            "apirec: 3 replayed, 0 recorded, 0 live, 1 missed*",  # models(), two steps; the third
        ]
    )


@pytest.mark.parametrize(
    ("options", "ini", "args", "passes"),
    [
        (", repeats='last'", "", [], True),
        ("", "apirec_repeats = last", [], True),
        ("", "", ["--apirec-repeats=last"], True),
        ("", "apirec_repeats = exact", ["--apirec-repeats=last"], True),  # command line > ini
        (", repeats='exact'", "apirec_repeats = last", ["--apirec-repeats=last"], False),
        ("", "apirec_repeats = last", ["--apirec-repeats=exact"], False),
    ],
)
def test_repeats_last_replays_the_last_answer_marker_over_command_line_over_ini(
    agent, options, ini, args, passes
):
    run = agent(steps=2, options=options, ini=ini)
    result = run(4, *args)
    if passes:
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines(["apirec: 5 replayed, 0 recorded, 0 live, 0 missed*"])
    else:
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(["*call 3 of * but 2 answers were recorded*"])


def test_repeats_from_the_environment_and_a_bad_value_is_a_usage_error(
    agent, monkeypatch, pytester
):
    run = agent(steps=1)
    monkeypatch.setenv("APIREC_REPEATS", "last")
    run(3).assert_outcomes(passed=1)
    monkeypatch.delenv("APIREC_REPEATS")
    result = run(1, "--apirec-repeats=often")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    setup(pytester, "apirec_repeats = often")
    result = run(1)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ini apirec_repeats: 'often' is not a valid repeats value*"])


def test_record_if_missing_records_a_call_past_the_end_as_the_next_answer(agent):
    run = agent(steps=1)
    result = run(2, "--apirec-mode=record-if-missing", live=1)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["apirec: 2 replayed, 1 recorded, 0 live, 0 missed*"])
    run(2, live=1).assert_outcomes(passed=1)  # both answers replay now


def test_one_call_fewer_leaves_an_answer_unplayed_in_the_summary_and_v_names_it(agent):
    run = agent(steps=3)
    result = run(2)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["apirec: 1 test left answers unplayed (-v names them; --apirec-strict fails them)"]
    )
    assert "unplayed: " not in result.stdout.str()
    result = run(1, "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "apirec: 1 test left answers unplayed*",
            f"  unplayed: test_agent.py::test_agent: 2 answers of {CREATE}() unplayed (*#1, *#2;*",
        ]
    )
    result = run(3)  # all played: no line
    result.assert_outcomes(passed=1)
    assert "left answers unplayed" not in result.stdout.str()


@pytest.mark.parametrize(("ini", "args"), [("", ["--apirec-strict"]), ("apirec_strict = true", [])])
def test_strict_fails_the_test_at_teardown_naming_the_unplayed_answers(agent, ini, args):
    run = agent(steps=2, summary=True, ini=ini)
    run(2, *args, summary=True).assert_outcomes(passed=1)
    result = run(1, *args)  # one step fewer, and the summary call removed entirely
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_agent*",
            "*test_agent.py::test_agent left 2 recorded answers unplayed (--apirec-strict)*",
            f"*{CREATE}() key * slot 1: *recordings*.1.json",
            f"*{CREATE}() key * slot 0: *recordings*.json",
            "*If the fewer calls are right, record the test again (its unplayed answers go):",
            "*  pytest test_agent.py::test_agent --apirec-mode=record -p no:randomly*",
            "*else find why the calls stopped.",
            # the option is on: said as what happened, not offered as advice
            "apirec: 1 test left answers unplayed (-v names them; --apirec-strict failed them)",
        ]
    )
    assert "--apirec-strict fails them" not in result.stdout.str()


def test_strict_prints_a_command_that_records_the_test_again_when_pasted(agent, pytester):
    # was prose: "Record the test again (pytest --apirec-mode=record on it)"
    run = agent(steps=2)
    result = run(1, "--apirec-strict")
    result.assert_outcomes(passed=1, errors=1)
    lines = result.stdout.lines
    at = lines.index(
        "If the fewer calls are right, record the test again (its unplayed answers go):"
    )
    command = lines[at + 1].strip()
    # the run's options (apirec.pytest.invocation), not its --apirec-mode
    assert command == (
        "pytest test_agent.py::test_agent --apirec-mode=record -p no:randomly --apirec-strict"
    )
    pasted = subprocess.run(
        [sys.executable, "-m", *shlex.split(command), "-p", "no:randomly"],
        cwd=pytester.path,
        env=os.environ | {"STEPS": "1", "BREAK": "0"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "1 passed" in pasted.stdout, pasted.stdout
    # recorded again (its one live call), so nothing is left unplayed, and it replays
    run(1, "--apirec-strict", live=1).assert_outcomes(passed=1)


def test_the_unplayed_line_names_every_file(agent):
    # two keys of one function unplayed: the line named the first file only
    run = agent(steps=1, summary=True)
    result = run(0, "-v")
    result.assert_outcomes(passed=1)
    (line,) = [x for x in result.stdout.lines if x.startswith("  unplayed: ")]
    assert f"2 answers of {CREATE}() unplayed (" in line
    files = line.rsplit("; ", 1)[1].rstrip(")").split(", ")
    assert len(files) == 2 and len(set(files)) == 2, line
    assert all(f.startswith("recordings/") and f.endswith(".json") for f in files), line


def test_a_test_that_failed_anyway_is_not_judged(agent):
    run = agent(steps=3)
    result = run(1, "--apirec-strict", broken=True)
    result.assert_outcomes(failed=1)
    assert "left answers unplayed" not in result.stdout.str()
    assert "ERROR at teardown" not in result.stdout.str()


def test_unplayed_answers_of_xdist_workers_reach_the_summary(agent):
    pytest.importorskip("xdist")
    run = agent(steps=2)
    result = run(1, "-n", "2", "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "apirec: 1 test left answers unplayed*",
            f"  unplayed: test_agent.py::test_agent: 1 answer of {CREATE}() unplayed*",
        ]
    )


@pytest.mark.parametrize("workers", [[], ["-n", "2"]])
def test_answers_prune_deletes_are_not_reported_unplayed_afterwards(agent, workers):
    if workers:
        pytest.importorskip("xdist")
    run = agent(steps=3)
    result = run(1, "-v", "--apirec-prune", *workers)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["apirec: * missed; *deleted 2 unused recordings"])
    text = result.stdout.str()
    assert "left answers unplayed" not in text and "  unplayed: " not in text
    run(1).assert_outcomes(passed=1)  # the answer it played is still there


def test_answers_the_run_played_are_not_read_again_to_find_unplayed_ones(agent, monkeypatch):
    from apirec.stores.json_store import JsonStore

    run = agent(steps=3, summary=True)
    reads: list[tuple[str, int]] = []
    real = JsonStore.read

    def counting(self, key, index, *, resolve_blobs=True):  # type: ignore[no-untyped-def]
        if not resolve_blobs:  # how the books read a file for its test id
            reads.append((key, index))
        return real(self, key, index, resolve_blobs=resolve_blobs)

    monkeypatch.setattr(JsonStore, "read", counting)
    result = run(3, summary=True)  # every answer played: none read for the books
    result.assert_outcomes(passed=1)
    assert "left answers unplayed" not in result.stdout.str()
    assert reads == []
    result = run(1)  # three answers left: only they are read (here and for unused ones)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["apirec: 1 test left answers unplayed*"])
    assert len(set(reads)) == 3
