"""Under pytest-xdist (-n 2) workers report counts and used recordings to the controller."""

import json

from .plugin_helpers import setup

# Eight tests over two files so that both workers run some; each drops a call later.
TEMPLATE = """
import os, provider
LATER = os.environ.get("PHASE") == "later"
{tests}
"""
TEST = """
def test_{n}(apirec):
    provider.add({n})
    if not LATER:
        provider.add({n}, b=100)
"""


def _count(pytester):
    return len(list((pytester.path / "recordings").glob("*.json")))


def test_xdist_counts_and_prune_take_the_union_of_the_workers(pytester, monkeypatch):
    setup(pytester, "pythonpath = .")
    for name, numbers in (("test_x", range(4)), ("test_y", range(4, 8))):
        tests = "".join(TEST.format(n=n) for n in numbers)
        pytester.makepyfile(**{name: TEMPLATE.format(tests=tests)})
    monkeypatch.setenv("PHASE", "record")
    result = pytester.runpytest_subprocess("-n", "2", "--apirec-mode=record")
    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(["apirec: 0 replayed, 16 recorded, 0 live, 0 missed; *"])
    assert _count(pytester) == 16

    monkeypatch.setenv("PHASE", "later")
    # a subset under xdist: only test_x's tests ran, so only their recordings count
    result = pytester.runpytest_subprocess("-n", "2", "test_x.py")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        ["apirec: 4 replayed, 0 recorded, 0 live, 0 missed; 4 stored recordings no test used *"]
    )
    result = pytester.runpytest_subprocess("-n", "2", "--apirec-prune", "-v")
    result.assert_outcomes(passed=8)
    # both workers ran tests, so what was pruned is the union of their reports
    assert "[gw0]" in result.stdout.str() and "[gw1]" in result.stdout.str()
    result.stdout.fnmatch_lines(
        ["apirec: 8 replayed, 0 recorded, 0 live, 0 missed; deleted 8 unused recordings"]
    )
    left = [json.loads(p.read_text()) for p in (pytester.path / "recordings").glob("*.json")]
    assert sorted(e["request"]["args"]["a"] for e in left) == list(range(8))
    assert all("b" not in e["request"]["args"] for e in left)
