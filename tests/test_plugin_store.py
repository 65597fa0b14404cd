"""--apirec-store / ini apirec_store / the marker's store=: the msgpack store under pytest."""

import shlex

import pytest

from .plugin_helpers import setup

TESTS = """
import shlex

import pytest
import provider

def test_add(apirec):
    print("STORE=" + apirec.settings.store)
    assert provider.add(2) == {"sum": 3}

@pytest.mark.apirec(store="json")
def test_marker_store(apirec):
    print("STORE=" + apirec.settings.store)
    assert provider.add(5) == {"sum": 6}
"""


@pytest.mark.parametrize("how", ["cli", "ini"])
def test_msgpack_store_records_then_replays(pytester, how):
    setup(pytester, "apirec_store = msgpack" if how == "ini" else "")
    pytester.makepyfile(test_store=TESTS)
    args = ["-s", "--apirec-dir=recs"] + (["--apirec-store=msgpack"] if how == "cli" else [])
    result = pytester.runpytest(*args, "--apirec-mode=record")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*STORE=msgpack*", "*STORE=json*"])  # the marker wins
    recs = pytester.path / "recs"
    assert (recs / "recordings.apirec").is_file()
    assert len(list(recs.glob("*.json"))) == 1  # the marker's test, in the JSON store
    # replay (the default mode): a miss would fail a test, so both replay from their stores
    result = pytester.runpytest(*args, "-p", "no:randomly")
    result.assert_outcomes(passed=2)


def test_bad_store_name_is_a_usage_error(pytester):
    setup(pytester, "apirec_store = yaml")
    pytester.makepyfile(test_store=TESTS)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*'yaml' is not a valid store. Valid stores are: json, msgpack*"])


def test_a_miss_over_a_msgpack_store_names_the_option_and_its_command_records_there(pytester):
    # Under pytest the hint said store="msgpack" (recording()'s spelling), and the printed
    # command, pasted, recorded a duplicate JSON recording beside recordings.apirec.
    setup(pytester)
    pytester.makepyfile(
        test_store="import provider\n\ndef test_add(apirec):\n    provider.add(2)\n"
    )
    pytester.runpytest("--apirec-store=msgpack", "--apirec-mode=record").assert_outcomes(passed=1)
    recs = pytester.path / "recordings"
    provider_calls = len(list(recs.iterdir()))
    pytester.makepyfile(
        test_store="import provider\n\ndef test_add(apirec):\n    provider.add(7)\n"
    )
    result = pytester.runpytest()  # the JSON store: a miss
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "open it with --apirec-store=msgpack (or apirec_store = msgpack in the ini)" in out
    assert 'store="msgpack"' not in out
    command = next(
        line.lstrip("E ").strip()
        for line in out.splitlines()
        if line.lstrip("E ").startswith("pytest test_store.py")
    )
    assert "--apirec-store=msgpack" in command
    result = pytester.runpytest(*shlex.split(command)[1:])  # pasted
    result.assert_outcomes(passed=1)
    assert not list(recs.glob("*.json")) and len(list(recs.iterdir())) == provider_calls
    pytester.runpytest("--apirec-store=msgpack").assert_outcomes(passed=1)
