"""The `apirec` fixture: a recording per test, keyed by node id, beside the test file."""

from .plugin_helpers import setup, stored

TESTS = """
import apirec
import provider

def test_add(apirec):
    assert provider.add(2, b=3) == {"sum": 5}
    assert provider.add(2, 3) == {"sum": 5}    # same call: second answer of the sequence
    real_calls = [c for c in provider.calls if c[0] == "add"]
    assert len(real_calls) == (0 if apirec.mode == "replay" else 2)

def test_patch(apirec):
    apirec.patch("provider.fetch")
    assert provider.fetch("Lima") == {"city": "Lima", "temp": 4}
    real_calls = [c for c in provider.calls if c[0] == "fetch"]
    assert len(real_calls) == (0 if apirec.mode == "replay" else 1)

def test_no_fixture():
    # no recording: calls through, stores nothing, even though the run is in replay mode
    assert provider.add(40) == {"sum": 41}
    assert provider.calls[-1] == ("add", 40, 1)
"""


def test_records_then_replays_beside_the_test_file(pytester):
    setup(pytester)
    sub = pytester.mkpydir("sub")
    (sub / "test_calc.py").write_text(TESTS)
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=3)
    assert not (pytester.path / "recordings").exists()
    entries = stored(sub / "recordings")
    assert sorted(e["test_id"] for e in entries) == [
        "sub/test_calc.py::test_add",
        "sub/test_calc.py::test_add",
        "sub/test_calc.py::test_patch",
    ]
    assert {e["request"]["function"] for e in entries} == {"demo.add", "provider.fetch"}

    result = pytester.runpytest()  # replay by default
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["apirec: 3 replayed, 0 recorded, 0 live, 0 missed; *"])


def test_the_fixture_is_a_recording_scoped_to_the_node_id(pytester):
    setup(pytester)
    pytester.makepyfile(
        """
        import pytest
        from apirec import Recording
        from apirec.record.context import active_recording, current_test_id

        @pytest.mark.parametrize("n", [1, 2])
        def test_it(apirec, request, n):
            assert type(apirec) is Recording
            assert active_recording() is apirec
            # keyed by the test's context, not a fixed id: test_context(None) inside still works
            assert apirec.settings.test_id is None
            assert current_test_id() == request.node.nodeid
            assert apirec.settings.path == request.path.parent / "recordings"
            assert apirec.is_open
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_no_summary_when_no_test_uses_apirec(pytester):
    setup(pytester)
    pytester.makepyfile("def test_plain():\n    assert True\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert "apirec:" not in result.stdout.str()
