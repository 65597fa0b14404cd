"""A replay miss fails the test with the closest stored call, a diff and the command to run."""

import json

from .plugin_helpers import setup

ASK = """
import provider

async def test_ask(apirec):
    reply = await provider.ask("{question}", model="{model}")
    assert reply["model"] == "{model}"
"""


def test_miss_shows_closest_call_diff_and_command(pytester):
    setup(pytester)
    pytester.makepyfile(test_q=ASK.format(question="where do llamas live", model="m2"))
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=1)

    pytester.makepyfile(test_q=ASK.format(question="where do llamas live", model="m3"))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*RecordingNotFound: No recording of demo.ask() for this call (mode 'replay').",
            "*  key: * [0-9a-f]*",
            "*  test: * test_q.py::test_ask",
            "*Closest stored call of demo.ask(): *recordings/*.json",
            "*  arguments, stored -> this call:",
            "*    --- stored call",
            "*    +++ this call",
            '*-  "model": "m2",',
            '*+  "model": "m3",',
            "*To record it, run:",
            "*  pytest test_q.py::test_ask --apirec-mode=record-if-missing",
        ]
    )
    assert '   "question": "where do llamas live"' in out  # unchanged context line
    assert "apirec: 0 replayed, 0 recorded, 0 live, 1 missed" in out

    # the printed command does record it, and then the test replays
    pytester.runpytest("test_q.py::test_ask", "--apirec-mode=record-if-missing").assert_outcomes(
        passed=1
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_miss_with_nothing_stored_and_marker_mode(pytester):
    setup(pytester)
    pytester.makepyfile(
        """
        import pytest, provider

        @pytest.mark.apirec(mode="replay")
        def test_add():
            provider.add(1)
        """
    )
    result = pytester.runpytest("--apirec-dir=rec", "--apirec-mode=record")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*No stored call of demo.add() in this store to compare with.",
            "*set mode='record-if-missing' in @pytest.mark.apirec on *::test_add (it overrides*",
        ]
    )


def test_same_arguments_in_another_test_says_keys_are_scoped(pytester):
    setup(pytester)
    pytester.makepyfile(
        test_one="import provider\ndef test_one(apirec):\n    provider.add(7)\n",
    )
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=1)
    pytester.makepyfile(test_two="import provider\ndef test_two(apirec):\n    provider.add(7)\n")
    result = pytester.runpytest("test_two.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*recorded by test: test_one.py::test_one", "*same arguments: the key differs by test id*"]
    )


def test_a_swallowed_miss_still_fails_the_test_at_teardown(pytester):
    setup(pytester)
    pytester.makepyfile(
        """
        import provider

        def agent_loop():
            try:
                return provider.add(3)
            except Exception:          # an agent loop that survives any tool error
                return None

        def test_agent(apirec):
            assert agent_loop() is None   # the test itself passes...

        def test_propagated(apirec):
            provider.add(4)               # ...this one fails once, not twice

        def test_grouped(apirec):
            errors = []
            try:                          # as a task group reports it: still only once
                provider.add(5)
            except Exception as e:
                errors.append(e)
            raise ExceptionGroup("task group", errors)
        """
    )
    result = pytester.runpytest("-rfE")
    result.assert_outcomes(passed=1, failed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_agent*",
            "*a replay miss was caught by the code under test; the test fails anyway:",
            "*No recording of demo.add() for this call (mode 'replay').",
            "*  key: *",
            "*  test: *::test_agent",
        ]
    )
    result.stdout.fnmatch_lines(["FAILED *::test_propagated*"])
    result.stdout.fnmatch_lines(["ERROR *::test_agent*"])
    assert "ERROR at teardown of test_propagated" not in result.stdout.str()
    assert "ERROR at teardown of test_grouped" not in result.stdout.str()


def test_a_miss_is_an_assertion_error():
    import apirec

    assert issubclass(apirec.RecordingNotFound, AssertionError)


def test_the_command_works_from_where_pytest_was_started(pytester, monkeypatch):
    setup(pytester)
    suite = pytester.mkpydir("suite")
    (suite / "test_p.py").write_text(
        "import pytest, provider\n"
        "@pytest.mark.parametrize('n', [1])\n"
        "def test_p(apirec, n):\n"
        "    provider.add(n)\n"
    )
    monkeypatch.chdir(suite)
    result = pytester.runpytest("test_p.py")
    result.assert_outcomes(failed=1)
    # the node id is suite/test_p.py::test_p[1]; from suite/ the file is test_p.py
    assert (
        "  pytest 'test_p.py::test_p[1]' --apirec-mode=record-if-missing\n" in result.stdout.str()
    )
    result = pytester.runpytest("test_p.py::test_p[1]", "--apirec-mode=record-if-missing")
    result.assert_outcomes(passed=1)


def test_the_summary_tells_changed_calls_from_new_ones(pytester, monkeypatch):
    """A miss is "changed" when its test (for a shared function: the shared recordings) has a
    stored call of that function, else "new"."""
    setup(pytester)
    pytester.makepyfile(
        """
        import os, apirec, provider
        N = int(os.environ.get("N", "1"))

        def test_changed(apirec):
            provider.add(N)           # a stored call of demo.add whose argument changed

        @apirec.record(name="demo.square", shared=True)
        def square(x):
            return x * x

        def test_shared(apirec):
            square(N)                 # shared: the shared recordings hold a call of it

        def test_new(apirec):
            provider.models()         # shared: replays
            if N > 1:
                provider.add(N)       # another test has demo.add recorded: still new here
        """
    )
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=3)
    monkeypatch.setenv("N", "2")
    result = pytester.runpytest()
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(
        ["apirec: 1 replayed, 0 recorded, 0 live, 3 missed: 2 changed, 1 new;*"]
    )


def test_every_miss_is_counted_as_one_kind_and_the_kinds_add_up(pytester, monkeypatch):
    """A call past the end of a recorded sequence is a changed call (its test has stored
    calls of it), never "expired" with no max_age set; an expired answer refused
    (on_expired="fail") is "expired"; the kinds add up to the misses (issue 18 follow-up)."""
    setup(pytester)
    pytester.makepyfile(
        """
        import os, apirec, pytest, provider
        N = int(os.environ.get("N", "1"))

        def test_more(apirec):
            for _ in range(N):
                provider.add(1)       # call 2 is past the end of a sequence of one

        def test_changed(apirec):
            provider.add(N + 10)      # a stored call of demo.add whose argument changed

        async def test_new(apirec):
            provider.models()         # shared: replays
            if N > 1:
                await provider.ask("q")  # no call of demo.ask stored for this test: new

        @pytest.mark.apirec(max_age="1d", on_expired="fail")
        def test_old(apirec):
            provider.add(100)         # replays until it is made old
        """
    )
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=4)
    monkeypatch.setenv("N", "2")
    result = pytester.runpytest("-p", "no:randomly", "-k", "not old")
    result.assert_outcomes(passed=0, failed=3)
    result.stdout.fnmatch_lines(
        [
            "*SequenceExhausted: call 2 of demo.add()*",
            "apirec: 2 replayed, 0 recorded, 0 live, 3 missed: 2 changed, 1 new;*",
        ]
    )
    assert "expired" not in result.stdout.str()
    for path in (pytester.path / "recordings").glob("*.json"):
        entry = json.loads(path.read_text())
        if (entry["test_id"] or "").endswith("test_old"):
            entry["recorded_at"] = "2020-01-01T00:00:00Z"
            path.write_text(json.dumps(entry))
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(failed=4)
    result.stdout.fnmatch_lines(
        ["apirec: 2 replayed, 0 recorded, 0 live, 4 missed: 2 changed, 1 new, 1 expired;*"]
    )


def test_a_swallowed_read_past_a_truncated_stream_still_fails_the_test(pytester, monkeypatch):
    """IncompleteRecording is a miss too: a stream loop that catches it (and keeps the chunks
    it got as if the model had said only that) fails the test at teardown."""
    setup(pytester)
    pytester.makepyfile(
        """
        import os
        import apirec

        @apirec.record(name="demo.words")
        def words():  # endless: recorded up to the bound on its rest, so stored truncated
            i = 0
            while True:
                yield f"w{i}"
                i += 1

        def read():
            got = []
            try:
                for word in words():
                    got.append(word)
                    if os.environ.get("PHASE") == "record":
                        break
            except Exception:              # a loop that survives any stream error
                pass
            return got

        def test_words(apirec):
            assert read()
        """
    )
    monkeypatch.setenv("PHASE", "record")
    pytester.runpytest("--apirec-mode=record", "-W", "ignore::RuntimeWarning").assert_outcomes(
        passed=1
    )
    monkeypatch.setenv("PHASE", "replay")
    result = pytester.runpytest("--apirec-mode=replay")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*a replay miss was caught by the code under test*", "*read past the end of a stream*"]
    )
