"""Recordings a conftest opens itself (not the plugin's fixture) get the plugin's guarantees:
a swallowed miss fails its test, the summary counts their calls, unused recordings are judged.
Three ways a migrated suite opens them: a session fixture on one shared directory, an autouse
fixture per test, and a recording opened when conftest.py is imported; in one process and
under xdist."""

import json

import pytest

from .plugin_helpers import setup

SESSION = """
import apirec, pytest

@pytest.fixture(scope="session", autouse=True)
def recordings():
    with apirec.recording("recordings") as rec:
        yield rec

@pytest.fixture(autouse=True)
def test_id(request):               # as llama-stack's conftest does; the plugin does it too
    with apirec.test_context(request.node.nodeid):
        yield
"""

PER_TEST = """
import apirec, pytest

@pytest.fixture(autouse=True)
def recordings(request):
    with apirec.recording("recordings") as rec, apirec.test_context(request.node.nodeid):
        yield rec
"""

AT_IMPORT = """
import apirec

RECORDING = apirec.recording("recordings")
RECORDING.__enter__()               # open for the whole run, never closed
"""

TESTS = """
import os, apirec, provider
LATER = os.environ.get("PHASE") == "later"

def quietly(n):
    try:
        return provider.add(n)
    except Exception:              # an agent loop that survives any tool error
        return None

def test_swallows():
    quietly(10 if LATER else 1)    # changed later: a miss, swallowed

def test_steady():
    assert provider.add(2) == {"sum": 3}
    if not LATER:
        provider.add(3)            # not called later: unused

def test_outside_any_test():
    with apirec.test_context(None):
        quietly(20 if LATER else 4)    # belongs to no test: fails none
"""

WAYS = {"session": SESSION, "per-test": PER_TEST, "at-import": AT_IMPORT}
XDIST = {"one-process": [], "xdist": ["-n", "2"]}


def _files(pytester) -> dict[str, int]:
    return {
        p.name: json.loads(p.read_text())["request"]["args"]["a"]
        for p in (pytester.path / "recordings").glob("*.json")
    }


@pytest.mark.parametrize("xdist", XDIST.values(), ids=XDIST.keys())
@pytest.mark.parametrize("conftest", WAYS.values(), ids=WAYS.keys())
def test_a_conftest_recording_gets_the_plugins_guarantees(pytester, monkeypatch, conftest, xdist):
    setup(pytester, "pythonpath = .")
    pytester.makeconftest(conftest)
    pytester.makepyfile(test_m=TESTS)
    # one opened at import never closes: not in this process; and it is opened before the
    # plugin reads --apirec-mode, so it takes APIREC_MODE
    at_import = conftest is AT_IMPORT
    run = pytester.runpytest_subprocess if xdist or at_import else pytester.runpytest
    monkeypatch.setenv("PHASE", "record")
    if at_import:
        monkeypatch.setenv("APIREC_MODE", "record")
        result = run(*xdist)
        monkeypatch.delenv("APIREC_MODE")
    else:
        result = run(*xdist, "--apirec-mode=record")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["apirec: 0 replayed, 4 recorded, 0 live, 0 missed; *"])
    assert sorted(_files(pytester).values()) == [1, 2, 3, 4]

    monkeypatch.setenv("PHASE", "later")
    result = run(*xdist, "-rE")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*a replay miss was caught by the code under test; the test fails anyway:",
            "*No recording of demo.add() for this call (mode 'replay').",
            "*  test: *test_m.py::test_swallows",
        ]
    )
    result.stdout.fnmatch_lines(["ERROR *test_m.py::test_swallows*"])
    assert "test_outside_any_test - " not in result.stdout.str()
    # both misses are counted; test_steady ran in full and left add(3) unused; test_swallows
    # failed, so its add(1) is not judged
    result.stdout.fnmatch_lines(
        [
            "apirec: 1 replayed, 0 recorded, 0 live, 2 missed: *; "
            "1 stored recording no test used (delete with --apirec-prune; -v lists them)"
        ]
    )

    result = run(*xdist, "--apirec-prune")
    result.stdout.fnmatch_lines(["apirec: 1 replayed, *; deleted 1 unused recording"])
    assert sorted(_files(pytester).values()) == [1, 2, 4]


def test_a_miss_the_test_raised_fails_it_once(pytester):
    setup(pytester)
    pytester.makeconftest(SESSION)
    pytester.makepyfile(test_m="import provider\ndef test_raises():\n    provider.add(5)\n")
    result = pytester.runpytest("-rfE")
    result.assert_outcomes(failed=1)
    assert "ERROR at teardown" not in result.stdout.str()
    result.stdout.fnmatch_lines(["apirec: 0 replayed, 0 recorded, 0 live, 1 missed: *"])


def test_a_recording_opened_by_a_fixture_loads_the_plugin_in_time(pytester):
    """The recorder is first imported, and its recording opened, in a fixture of the test
    module: the plugin, not loaded until then, still sees the miss the test swallowed."""
    setup(pytester, "pythonpath = .")
    pytester.makepyfile(
        test_m="""
        import pytest

        @pytest.fixture
        def late():
            from apirec.record.recording import Recording
            with Recording("recordings"):
                yield

        def quietly(n):
            import provider
            try:
                return provider.add(n)
            except Exception:
                return None

        def test_late(late):
            quietly(6)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:xdist")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*a replay miss was caught by the code under test*"])


def test_a_recording_the_test_opens_itself_is_left_to_it(pytester):
    """The misses of a recording the test's own code opens are the test's to assert
    (``pytest.raises`` inside or around it); the test's own code opening it in a helper or
    late-loading the recorder changes nothing."""
    setup(pytester, "pythonpath = .")
    pytester.makepyfile(
        test_m="""
        import apirec, pytest

        def test_expects_a_miss_inside():
            import provider
            with apirec.recording("own"):
                with pytest.raises(apirec.RecordingNotFound):
                    provider.add(7)

        def test_expects_a_miss_around():
            import provider
            with pytest.raises(apirec.RecordingNotFound), apirec.recording("own"):
                provider.add(8)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:xdist")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["apirec: 0 replayed, 0 recorded, 0 live, 2 missed: *"])


def test_a_store_damaged_during_the_run_is_not_judged_and_the_session_ends(pytester, monkeypatch):
    """Judging the unused recordings of a store that a test damaged after its calls (a test of
    damage, a disk fault) reads no entry of it: the session ends with its summary."""
    setup(pytester)
    pytester.makeconftest(
        """
        import apirec, pytest

        @pytest.fixture(autouse=True)
        def recordings():
            with apirec.recording("recs", store="msgpack") as rec:
                yield rec
        """
    )
    pytester.makepyfile(
        test_m="""
        import os, provider
        from pathlib import Path

        def test_damages_its_store():
            provider.add(1)
            if os.environ.get("PHASE") == "later":
                path = Path("recs/recordings.apirec")
                data = bytearray(path.read_bytes())
                data[len(data) // 2] ^= 0xFF     # a byte changed after it was written
                path.write_bytes(bytes(data))
        """
    )
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=1)
    monkeypatch.setenv("PHASE", "later")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["apirec: 1 replayed, 0 recorded, 0 live, 0 missed; *"])
    assert "INTERNALERROR" not in result.stdout.str()
