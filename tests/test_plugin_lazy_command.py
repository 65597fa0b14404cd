"""The command that records a test again is worded only when a miss needs it: a test that
replays does not pay for it (its relative node id, a ``stat`` for the store option)."""

from __future__ import annotations

import pytest

from apirec.pytest import advice

from .plugin_helpers import setup

TESTS = """
import provider

def test_one(apirec):
    assert provider.add(1) == {"sum": 2}

def test_two(apirec):
    assert provider.add(2) == {"sum": 3}
"""


def test_replayed_tests_word_no_record_command_and_a_miss_does(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup(pytester)
    pytester.makepyfile(test_calls=TESTS)
    pytester.runpytest("--apirec-mode=record", "--apirec-store=msgpack").assert_outcomes(passed=2)
    worded: list[str] = []
    real = advice.record_command

    def counting(*args: object, **kwargs: object) -> str:
        worded.append(real(*args, **kwargs))  # type: ignore[arg-type]
        return worded[-1]

    monkeypatch.setattr(advice, "record_command", counting)
    pytester.runpytest("--apirec-store=msgpack").assert_outcomes(passed=2)
    assert worded == []

    pytester.makepyfile(test_calls=TESTS.replace('add(2) == {"sum": 3}', 'add(5) == {"sum": 6}'))
    result = pytester.runpytest("--apirec-store=msgpack")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*To record it, run:",
            "*  pytest test_calls.py::test_two --apirec-mode=record-if-missing"
            " --apirec-store=msgpack",
        ]
    )
    assert len(worded) == 1
