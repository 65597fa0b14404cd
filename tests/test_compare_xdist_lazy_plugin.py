"""A compare run configured by the ini alone
(``apirec_mode = compare``) under xdist. The controller now loads the plugin when the first
worker that used a recording goes down; the compare hooks it registers then never saw that
worker's results, so the summary counted (and the run's verdict judged) only the others."""

from __future__ import annotations

import pytest

pytest.importorskip("xdist")

APP = """
import apirec

@apirec.record(name="myapp.get")
def get(a):
    return {"a": a, "b": %s}
"""
TESTS = "".join(
    f"\ndef test_f{i}(apirec):\n    from myapp import get\n    assert get({i})['a'] == {i}\n"
    for i in range(4)
)


def test_every_workers_compared_calls_are_counted(pytester, monkeypatch):
    for name in ("APIREC_MODE", "APIREC_DIR", "APIREC_STORE"):
        monkeypatch.delenv(name, raising=False)
    pytester.makeini("[pytest]\napirec_mode = compare\napirec_dir = recs\n")
    pytester.makepyfile(myapp=APP % "[1, 2]", test_a=TESTS)
    recorded = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--apirec-mode=record")
    recorded.assert_outcomes(passed=4)
    pytester.makepyfile(myapp=APP % "'changed'")  # every answer changes structure
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.stdout.fnmatch_lines(["apirec compare: 4 live calls compared: 4 structure"])
    assert result.ret == 1
