"""The guard's hold in a replay run: its wrappers stay in between tests, and every test is
guarded or observed as when they went in and out around each one (found by a review: a tool
that put back what it saved, monkeypatch's undo, unguarded the tests after it; lookups were
counted as connections).

The socket "layer" of these inner runs is a stub put in by their conftest before the first
test, so nothing leaves the machine: a connection the guard lets through reaches the stub.
"""

from __future__ import annotations

import pytest

from .plugin_helpers import setup

STUB_CONFTEST = """
import socket

REACHED = []

def stub_connect(self, address):  # this run's "real" connect: nothing leaves the machine
    REACHED.append(address)
    raise ConnectionRefusedError("the stub connect")

socket.socket.connect = stub_connect
ORIGINAL = socket.socket.connect  # what a tool saves at import, as pytest-socket does
"""

RESTORES_THEN_CONNECTS = """
import socket
import pytest
import apirec
import conftest

def test_a_tool_restores_what_it_saved():
    # pytest-socket's _remove_restrictions (its teardown with --allow-hosts), a test that
    # undoes its own patch by hand, a library resetting socket: the original it saved
    socket.socket.connect = conftest.ORIGINAL

def test_b_a_replay_recording_still_guards(tmp_path):
    with apirec.recording(tmp_path, mode="replay"):
        with socket.socket() as s:
            s.connect(("203.0.113.7", 443))  # must raise NetworkBlocked
"""


RUN_WIDE = """
import socket
import pytest
import apirec
import conftest

def test_a_tool_restores_what_it_saved():
    socket.socket.connect = conftest.ORIGINAL

def test_b_outside_any_recording():
    with socket.socket() as s:
        s.connect(("203.0.113.7", 443))  # must raise NetworkBlocked
"""


@pytest.mark.parametrize(
    ("tests", "args"),
    [
        (RESTORES_THEN_CONNECTS, []),
        (RESTORES_THEN_CONNECTS, ["--apirec-block-network=all"]),
        (RUN_WIDE, ["--apirec-block-network=all"]),  # outside any recording: the run's guard
    ],
)
def test_the_guard_is_back_in_the_next_test_after_a_tool_restored_socket(pytester, tests, args):
    # before the hold, every test put the wrappers in afresh over whatever was there
    setup(pytester)
    pytester.makeconftest(STUB_CONFTEST)
    pytester.makepyfile(test_restore=tests)
    result = pytester.runpytest_subprocess(*args)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*NetworkBlocked: apirec blocked a connection to 203.0.113.7:443*"]
    )
    assert "the stub connect" not in result.stdout.str()


OBSERVED = """
import socket
import conftest

def test_a_tool_restores_what_it_saved():
    socket.socket.connect = conftest.ORIGINAL

def test_b_reaches_a_host():
    with socket.socket() as s:
        try:
            s.connect(("203.0.113.7", 443))
        except OSError:
            pass
"""


def test_recordings_level_still_counts_after_a_tool_restored_socket(pytester):
    setup(pytester)
    pytester.makeconftest(STUB_CONFTEST)
    pytester.makepyfile(test_restore=OBSERVED)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*apirec: 1 test connected to a non-loopback host*"])


LOOKUP_CONFTEST = """
import socket

def stub_getaddrinfo(host, port, *args, **kwargs):  # no lookup leaves the machine
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("203.0.113.7", port))]

socket.getaddrinfo = stub_getaddrinfo
"""

LOOKUP_ONLY = """
import socket
import apirec

def test_a_opens_a_replay_recording(tmp_path):
    with apirec.recording(tmp_path, mode="replay"):
        pass

def test_b_only_looks_a_name_up():
    socket.getaddrinfo("api.example.com", 443)  # no connection made
"""


@pytest.mark.parametrize("first", ["test_a", "test_b"])
def test_a_lookup_alone_is_counted_the_same_whatever_ran_before(pytester, first):
    # at the recordings level a test outside any recording is observed: its connections
    # (level 1: connect, connect_ex). Held at level 2 by an earlier test's replay recording,
    # the lookup wrappers stay in and report lookups to the observer too
    setup(pytester)
    pytester.makeconftest(LOOKUP_CONFTEST)
    pytester.makepyfile(test_lookup=LOOKUP_ONLY)
    order = [
        "test_lookup.py::test_a_opens_a_replay_recording",
        "test_lookup.py::test_b_only_looks_a_name_up",
    ]
    if first == "test_b":
        order.reverse()
    result = pytester.runpytest_subprocess(*order)
    result.assert_outcomes(passed=2)
    assert "connected to a non-loopback host" not in result.stdout.str()


WRITES_WRAPPED = """
import os, socket
import pytest

def _wrapped():
    return bool(getattr(socket.socket.connect, "__apirec_guard__", False)) or bool(
        getattr(socket.getaddrinfo, "__apirec_guard__", False)
    )

@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    name = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(f"wrapped-{name}.txt", "w") as f:
        f.write(str(_wrapped()))
"""

OPENS = """
import apirec, pytest

@pytest.mark.parametrize("n", range(4))
def test_opens(tmp_path, n):
    with apirec.recording(tmp_path, mode="replay"):
        pass
"""


@pytest.mark.parametrize("args", [["-n", "2"], ["-x"], ["--apirec-block-network=all", "-n", "2"]])
def test_wrappers_come_out_in_every_process(pytester, args):
    setup(pytester)
    pytester.makeconftest(WRITES_WRAPPED)
    pytester.makepyfile(test_opens=OPENS)
    result = pytester.runpytest_subprocess(*args)
    result.assert_outcomes(passed=4)
    written = {p.name: p.read_text() for p in pytester.path.glob("wrapped-*.txt")}
    assert written and set(written.values()) == {"False"}, written


INTERRUPTED = """
import apirec

def test_opens(tmp_path):
    with apirec.recording(tmp_path, mode="replay"):
        pass

def test_interrupted():
    raise KeyboardInterrupt
"""


def test_wrappers_come_out_after_an_interrupt_or_a_collection_error(pytester):
    setup(pytester)
    pytester.makeconftest(WRITES_WRAPPED)
    pytester.makepyfile(test_opens=INTERRUPTED, test_broken="import nowhere_to_be_found\n")

    def wrapped_at_the_end(*args: str) -> list[str]:
        for old in pytester.path.glob("wrapped-*.txt"):
            old.unlink()
        pytester.runpytest_subprocess(*args)  # the file is named after this run's xdist worker
        return [p.read_text() for p in pytester.path.glob("wrapped-*.txt")]

    assert wrapped_at_the_end("test_opens.py") == ["False"]
    assert wrapped_at_the_end(
        "test_opens.py", "test_broken.py", "--continue-on-collection-errors"
    ) == ["False"]


MONKEYPATCHED_THEN_GUARDED = """
import socket
import apirec
import conftest

def test_a_monkeypatches_then_replays(monkeypatch, tmp_path):
    # a test's own fake resolver, then a replay recording: the guard wraps the fake
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [])
    with apirec.recording(tmp_path, mode="replay"):
        pass
    # monkeypatch's undo, at teardown, puts back what it saw: the stub, over the wrapper

def test_b_a_replay_recording_guards_lookups(tmp_path):
    with apirec.recording(tmp_path, mode="replay"):
        socket.getaddrinfo("api.example.com", 443)  # must raise NetworkBlocked
"""


def test_a_monkeypatch_in_one_test_does_not_unguard_the_next(pytester):
    setup(pytester)
    pytester.makeconftest(LOOKUP_CONFTEST)
    pytester.makepyfile(test_mp=MONKEYPATCHED_THEN_GUARDED)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*NetworkBlocked: apirec blocked looking up 'api.example.com'*"])


REFUSED = """
import socket

def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def test_refused():
    with socket.socket() as s:
        s.connect(("127.0.0.1", _closed_port()))  # the line the traceback must end at
"""


@pytest.mark.parametrize("args", [[], ["--apirec-block-network=all"]])
def test_a_failed_connection_ends_its_traceback_in_the_test_not_in_apirec(pytester, args):
    # a project that never uses apirec still runs through the guard's wrappers: their frames
    # are hidden, as pytest hides its own
    setup(pytester)
    pytester.makepyfile(test_refused=REFUSED)
    result = pytester.runpytest_subprocess("--tb=long", *args)
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "ConnectionRefusedError" in out
    assert "the line the traceback must end at" in out
    assert "apirec/guard" not in out, out
