"""One guard over the whole test: a swallowed block fails the test however its replay recording
was opened (issue 17, point 8), and ``--apirec-block-network=all|recordings|off`` (point 9).

The "remote" host of these runs is this machine's own non-loopback address (``own_address``),
where a listening socket accepts: a connection that gets through stays on the machine.
"""

from __future__ import annotations

import pytest

from .plugin_helpers import setup
from .test_network_guard import _socket_attributes

SWALLOWING = """
import socket
import apirec

def answer():
    try:
        socket.create_connection(("192.0.2.1", 80), timeout=5)
    except Exception:  # what an SDK's retry-then-fallback does
        return "fallback"
    return "network"

@apirec.recording("recs", mode="replay")
def test_decorated():
    assert answer() == "fallback"

def test_with_block(tmp_path):
    with apirec.recording(tmp_path, mode="replay"):
        assert answer() == "fallback"

async def test_async_with(tmp_path):
    async with apirec.recording(tmp_path, mode="replay"):
        assert answer() == "fallback"

def test_outside_any_recording():
    assert answer() == "fallback"  # blocks nothing with the default level
"""


def test_a_swallowed_block_fails_the_test_however_its_recording_was_opened(pytester):
    setup(pytester)
    pytester.makepyfile(test_net=SWALLOWING)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=4, errors=3)
    for name in ("test_decorated", "test_with_block", "test_async_with"):
        result.stdout.fnmatch_lines([f"*ERROR at teardown of {name}*"])
    result.stdout.fnmatch_lines(
        ["*NetworkBlocked: a blocked connection was caught by the code under test*"]
    )


SKIPPING = """
import socket
import pytest
import apirec

def fetch():
    with socket.create_connection(("192.0.2.1", 443), timeout=5) as s:
        return s.recv(1)

@pytest.mark.apirec
def test_marker_skip():
    try:
        fetch()
    except OSError:  # "service unreachable: skip", a common idiom
        pytest.skip("service unreachable")

def test_fixture_xfail(apirec):
    try:
        fetch()
    except ConnectionError:
        pytest.xfail("flaky upstream")

@apirec.recording("recs", mode="replay")
def test_skip_outside_except():
    try:
        fetch()
    except OSError as e:
        reason = str(e)
    pytest.skip(reason)  # no chain: still swallowed, the block was not raised

def test_plain_skip():
    pytest.skip("no network involved")  # control: a skip with nothing blocked stays a skip
"""


def test_a_block_turned_into_a_skip_or_xfail_fails_the_test(pytester):
    setup(pytester)
    pytester.makepyfile(test_net=SKIPPING)
    result = pytester.runpytest("-p", "no:randomly", "--apirec-mode=replay")
    result.assert_outcomes(skipped=3, xfailed=1, errors=3)
    for name in ("test_marker_skip", "test_fixture_xfail", "test_skip_outside_except"):
        result.stdout.fnmatch_lines([f"*ERROR at teardown of {name}*"])
    result.stdout.fnmatch_lines(
        ["*NetworkBlocked: a blocked connection was caught by the code under test*"]
    )


REACHES = """
import socket
import pytest

def _connect(host):
    server = socket.socket()
    server.bind(("0.0.0.0", 0))
    server.listen()
    try:
        socket.create_connection((host, server.getsockname()[1]), timeout=5).close()
    finally:
        server.close()

{marker}
def test_reaches():
    _connect("{ip}")

def test_loopback():
    _connect("127.0.0.1")
"""
SUMMARY = (
    "apirec: 1 test connected to a non-loopback host outside any recording in this replay "
    "run; block them with --apirec-block-network=all*"
)


@pytest.mark.parametrize(
    ("args", "ini", "env"),
    [
        (["--apirec-block-network=all"], "", {}),
        ([], "apirec_block_network = all", {}),
        ([], "", {"APIREC_BLOCK_NETWORK": "all"}),
        (["--apirec-block-network=all"], "apirec_block_network = off", {}),
    ],
)
def test_all_blocks_tests_that_asked_for_no_recording(
    pytester, monkeypatch, own_address, args, ini, env
):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    setup(pytester, ini_extra=ini)
    pytester.makepyfile(test_reach=REACHES.format(ip=own_address, marker=""))
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            f"*NetworkBlocked: apirec blocked a connection to {own_address}:* in a replay run "
            "(--apirec-block-network=all)*"
        ]
    )
    assert "outside any recording in this replay run" not in result.stdout.str()


def test_by_default_the_summary_counts_tests_that_reached_the_network(pytester, own_address):
    setup(pytester)
    pytester.makepyfile(test_reach=REACHES.format(ip=own_address, marker=""))
    result = pytester.runpytest()
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*-- apirec --*", SUMMARY])


def test_the_count_is_merged_from_xdist_workers(pytester, own_address):
    setup(pytester)
    pytester.makepyfile(test_reach=REACHES.format(ip=own_address, marker=""))
    result = pytester.runpytest_subprocess("-n", "2")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([SUMMARY])


@pytest.mark.parametrize(
    ("args", "marker"),
    [
        (["--apirec-block-network=off"], ""),
        (["--apirec-no-block-network"], ""),
        (["--apirec-block-network=all", "--apirec-mode=record"], ""),  # not a replay run
        (["--apirec-block-network=all", "--apirec-allow-hosts={ip}"], ""),
        # a test whose recording records reaches the network in a replay run
        (["--apirec-block-network=all"], "@pytest.mark.apirec(mode='record')"),
        (["--apirec-block-network=all"], "@pytest.mark.apirec(block_network=False)"),
    ],
)
def test_what_all_lets_through(pytester, own_address, args, marker):
    setup(pytester)
    pytester.makepyfile(test_reach=REACHES.format(ip=own_address, marker=marker))
    args = [a.format(ip=own_address) for a in args]
    result = pytester.runpytest("-W", "ignore::apirec.NothingRecordedWarning", *args)
    result.assert_outcomes(passed=2)
    assert "outside any recording" not in result.stdout.str()


def test_a_swallowed_block_outside_any_recording_fails_with_all(pytester):
    setup(pytester)
    pytester.makepyfile(test_net=SWALLOWING)
    result = pytester.runpytest("--apirec-block-network=all")
    result.assert_outcomes(passed=4, errors=4)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_outside_any_recording*"])


@pytest.mark.parametrize(
    ("args", "ini", "message"),
    [
        (["--apirec-block-network=sometimes"], "", "*invalid choice: 'sometimes'*"),
        ([], "apirec_block_network = sometimes", "*ini apirec_block_network: 'sometimes'*"),
    ],
)
def test_a_bad_level_is_a_usage_error(pytester, args, ini, message):
    setup(pytester, ini_extra=ini)
    pytester.makepyfile(test_ok="def test_ok():\n    pass\n")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


@pytest.mark.parametrize("args", [[], ["--apirec-block-network=all"]])
def test_a_run_leaves_the_socket_layer_as_it_found_it(pytester, own_address, args):
    setup(pytester)
    pytester.makepyfile(test_reach=REACHES.format(ip=own_address, marker=""))
    before = _socket_attributes()
    pytester.runpytest(*args)  # in this process: its guard comes and goes here
    assert _socket_attributes() == before


WRAPPED_AT_THE_END = """
import socket
import pytest

def _wrapped():
    return bool(getattr(socket.socket.connect, "__apirec_guard__", False))

@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session):
    print(f"\\nat the session's end: {_wrapped()}")

@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    print(f"after the run: {_wrapped()}")
"""


@pytest.mark.parametrize(("mode", "held"), [("replay", True), ("record", False)])
def test_a_replay_run_keeps_the_guards_wrappers_in_until_it_ends(pytester, mode, held):
    # put in and taken out around each test cost more than they check while inert
    setup(pytester)
    pytester.makeconftest(WRAPPED_AT_THE_END)
    pytester.makepyfile(test_two="def test_one():\n    pass\n\ndef test_two():\n    pass\n")
    result = pytester.runpytest_subprocess("-s", f"--apirec-mode={mode}")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([f"at the session's end: {held}", "after the run: False"])
