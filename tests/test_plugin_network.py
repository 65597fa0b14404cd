"""The network guard under pytest: options in every layer, and a blocked connection that the
code under test swallowed still fails the test (issue 11, D17)."""

from __future__ import annotations

import pytest

from .plugin_helpers import setup

SWALLOWED = """
import socket
import pytest

def answer():
    try:
        socket.create_connection(("192.0.2.1", 80), timeout=5)
    except Exception:  # what an SDK's retry-then-fallback does
        return "fallback"
    return "network"

@pytest.mark.apirec
def test_falls_back():
    assert answer() == "fallback"
"""


def test_a_swallowed_blocked_connection_fails_the_test_at_teardown(pytester):
    setup(pytester)
    pytester.makepyfile(test_net=SWALLOWED)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_falls_back*",
            "*NetworkBlocked: a blocked connection was caught by the code under test; the test "
            "fails anyway:",
            "*apirec blocked a connection to 192.0.2.1:80 under replay (recording *recordings)*",
        ]
    )
    # the teardown's traceback is the story, not the plugin's hook wrappers it passed through
    assert "apirec/pytest/" not in result.stdout.str()


@pytest.mark.parametrize("marker", ["@pytest.mark.apirec", "@pytest.mark.apirec(mode='record')"])
def test_blocked_by_a_conftest_recording_inside_the_marker_also_fails(pytester, marker):
    """The migration pattern: the marker's recording outside (even one in record mode, which
    blocks nothing itself), a conftest fixture's own replay recording inside; the inner one
    blocks, and the test still fails for it."""
    setup(pytester)
    pytester.makeconftest(
        """
        import apirec
        import pytest

        @pytest.fixture(autouse=True)
        def legacy(tmp_path):
            with apirec.recording(tmp_path / "legacy", mode="replay"):
                yield
        """
    )
    pytester.makepyfile(test_net=SWALLOWED.replace("@pytest.mark.apirec", marker))
    # the socket is no intercepted call: in record mode the test says it recorded nothing
    result = pytester.runpytest("-W", "ignore::apirec.NothingRecordedWarning")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*apirec blocked a connection to 192.0.2.1:80 under replay (recording *legacy)*"]
    )


def test_a_blocked_connection_that_fails_the_test_is_reported_once(pytester):
    setup(pytester)
    pytester.makepyfile(
        """
        import socket
        import pytest

        @pytest.mark.apirec
        def test_connects():
            socket.create_connection(("192.0.2.1", 80), timeout=5)
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*NetworkBlocked: apirec blocked a connection to 192.0.2.1:80*"])


# Each inner test prints what its recording was given; the outer test checks the layering.
SHOW = """
import pytest

{marker}
def test_show(apirec):
    s = apirec.settings
    print("GUARD", s.block_network, ",".join(s.allow_hosts), s.guards_network)
"""


@pytest.mark.parametrize(
    ("ini", "args", "env", "marker", "expected"),
    [
        ("", [], {}, "", "GUARD None  True"),
        ("", [], {"APIREC_BLOCK_NETWORK": "0"}, "", "GUARD False  False"),
        ("", [], {"APIREC_ALLOW_HOSTS": "a.test, b.test"}, "", "GUARD None a.test,b.test True"),
        (
            "apirec_block_network = false",
            [],
            {"APIREC_BLOCK_NETWORK": "1"},
            "",
            "GUARD False  False",
        ),
        (
            "apirec_allow_hosts = a.test\n    10.0.0.0/8",
            [],
            {},
            "",
            "GUARD None a.test,10.0.0.0/8 True",
        ),
        (
            "apirec_block_network = false",
            ["--apirec-block-network"],
            {},
            "",
            "GUARD True  True",
        ),
        ("", ["--apirec-no-block-network"], {}, "", "GUARD False  False"),
        (
            "apirec_allow_hosts = ini.test",
            ["--apirec-allow-hosts=a.test,b.test", "--apirec-allow-hosts", "c.test"],
            {},
            "",
            "GUARD None a.test,b.test,c.test True",
        ),
        (
            "",
            ["--apirec-no-block-network", "--apirec-allow-hosts=a.test"],
            {},
            "@pytest.mark.apirec(block_network=True, allow_hosts=['m.test'])",
            "GUARD True m.test True",
        ),
        ("", [], {}, "@pytest.mark.apirec(allow_hosts='m.test')", "GUARD None m.test True"),
        (
            "",
            ["--apirec-mode=record"],
            {},
            "@pytest.mark.apirec(block_network=True)",
            "GUARD True  False",  # only replay blocks
        ),
    ],
)
def test_marker_over_command_line_over_ini_over_environment(
    pytester, monkeypatch, ini, args, env, marker, expected
):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    setup(pytester, ini_extra=ini)
    pytester.makepyfile(test_show=SHOW.format(marker=marker))
    result = pytester.runpytest("-s", "-W", "ignore::apirec.NothingRecordedWarning", *args)
    result.assert_outcomes(passed=1)
    assert f"{expected}\n" in result.stdout.str()


def test_bad_command_line_hosts_are_a_usage_error(pytester):
    setup(pytester)
    pytester.makepyfile(test_bad="def test_bad():\n    pass\n")
    result = pytester.runpytest("--apirec-allow-hosts=api.test:443")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--apirec-allow-hosts: allow_hosts: 'api.test:443'*host:port*"])


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("@pytest.mark.apirec(allow_hosts=['a b'])", "*test_bad.py::test_bad: allow_hosts*'a b'*"),
        ("@pytest.mark.apirec(block_network='no')", "*block_network must be True or False*"),
    ],
)
def test_bad_marker_options_fail_the_test_clearly(pytester, marker, message):
    setup(pytester)
    pytester.makepyfile(test_bad=f"import pytest\n\n{marker}\ndef test_bad():\n    pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([message])


OWN_RECORDING = """
import apirec

def test_own_recording(tmp_path):
    with apirec.recording(tmp_path, mode="replay") as rec:
        print("OWN", rec.settings.block_network, ",".join(rec.settings.allow_hosts))
"""


def test_command_line_reaches_recordings_the_tests_open_themselves(pytester):
    setup(pytester)
    pytester.makepyfile(test_own=OWN_RECORDING)
    args = ["-s", "--apirec-no-block-network", "--apirec-allow-hosts=a.test"]
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=1)
    assert "OWN False a.test\n" in result.stdout.str()


XDIST = """
import socket
import threading
import pytest

@pytest.mark.apirec
@pytest.mark.parametrize("n", range(4))
def test_loopback(n):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    socket.create_connection(server.getsockname(), timeout=5).close()
    server.close()

@pytest.mark.apirec
def test_swallowed():
    try:
        socket.create_connection(("192.0.2.1", 80), timeout=5)
    except OSError:
        pass
"""


def test_guard_under_xdist_workers(pytester):
    """Workers talk to the controller over pipes: a guard in every test leaves them alone,
    and a worker's teardown failure reaches the controller."""
    setup(pytester)
    pytester.makepyfile(test_x=XDIST)
    result = pytester.runpytest_subprocess("-n", "2")
    result.assert_outcomes(passed=5, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_swallowed*"])
