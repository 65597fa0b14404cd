"""``@apirec.record`` on a test itself is refused: replay would return the test's stored
result (``None``) and its body would never run again, a test that passes whatever its code
does. Decorating what the test calls, or a function merely named ``test_...`` outside a test
file, is fine."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

APP = """
import apirec

@apirec.record
def shout(text):
    return text.upper()

@apirec.record
def test_connection():  # an application's health check, not a test: not in a test file
    return "ok"
"""

DECORATED_TEST = """
import apirec
import app

@apirec.record
def test_shout():
    print("BODY RAN")
    assert app.shout("deco") == "DECO"
"""

CALLED_FUNCTION = """
import apirec
import app

def test_shout(apirec):
    assert app.shout("deco") == "DECO"
    assert app.test_connection() == "ok"
"""


def test_a_recorded_test_is_refused_where_it_is_decorated(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(app=APP, test_deco=DECORATED_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s")
    result.assert_outcomes(errors=1)
    line = "*@apirec.record on the test test_shout (*test_deco.py:*): replay would return its*"
    result.stdout.fnmatch_lines([line])
    assert "BODY RAN" not in result.stdout.str()


def test_a_test_method_is_refused_too(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        checks_test="""
        import apirec

        class TestShout:
            @apirec.record
            def test_it(self):
                pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "checks_test.py")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*@apirec.record on the test TestShout.test_it*"])


def test_what_a_test_calls_records_and_replays(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(app=APP, test_calls=CALLED_FUNCTION)
    record = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--apirec-mode=record")
    record.assert_outcomes(passed=1)
    replay = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--apirec-mode=replay")
    replay.assert_outcomes(passed=1)
    replay.stdout.fnmatch_lines(["*apirec: 2 replayed*"])
