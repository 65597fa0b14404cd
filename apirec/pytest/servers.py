"""Servers under test: each test's requests to loopback hosts carry its id, and replay errors
a server met while serving them fail the test (``apirec.servers``).

Loaded by the plugin's start-up on every run, so it stays cheap: the client hooks
(:mod:`apirec.servers.clients`) are installed only once httpx, requests or aiohttp is
imported, checked before each test's setup and again before its call (a fixture may import
one). A client imported inside the test function itself is hooked from the next test on;
``apirec.test_headers()`` gives the header for it, and for any other client.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Generator

import pytest

CLIENTS = ("httpx", "requests", "aiohttp")


class CarriedBack:
    """The plugin's hooks; what servers sent back, by the test whose request it answered."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_test: dict[str, list[tuple[str, str]]] = {}
        self.installed = False
        # the test running now: a request answered meanwhile was sent by it, whatever test
        # id it carried (the test may scope its calls with apirec.test_context)
        self.running: str | None = None
        self.item: pytest.Item | None = None  # and its item (apirec.pytest.advice)

    def report(self, test_id: str, value: str, where: str) -> None:
        with self.lock:
            self.by_test.setdefault(self.running or test_id, []).append((value, where))

    def _install(self) -> None:
        if any(name in sys.modules for name in CLIENTS):
            from apirec.servers.clients import HOOKS

            HOOKS.install(self.report)
            self.installed = True

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        with self.lock:
            self.by_test.pop(item.nodeid, None)  # a rerun starts afresh
            self.running, self.item = item.nodeid, item
        self._install()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> None:
        self._install()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, object, object]:
        __tracebackhide__ = True  # a teardown's error passes through this frame: not shown
        try:
            result = yield  # requests made while fixtures tear down count too
        except BaseException as e:
            carried = self._collect(item)
            if carried:  # the teardown's own error goes first; the miss is still said
                from apirec.servers.misses import carried_error

                e.add_note(str(carried_error(carried, record_command(item))))
            raise
        carried = self._collect(item)
        if carried:
            __tracebackhide__ = True
            from apirec.servers.misses import carried_error

            raise carried_error(carried, record_command(item))
        return result

    def _collect(self, item: pytest.Item) -> list[tuple[str, str]]:
        with self.lock:
            self.running = self.item = None
            return self.by_test.pop(item.nodeid, [])

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.installed:
            from apirec.servers.clients import HOOKS

            HOOKS.uninstall()


def record_command(item: pytest.Item, mode: str | None = "record-if-missing") -> str:
    """The command that records ``item``'s misses: its own, with the mode (None: none, the
    code sets it) and the run's options (:mod:`apirec.pytest.invocation`). Also what records
    a server's misses for it (the run's mode reaches the server through APIREC_MODE)."""
    from apirec.pytest import invocation  # here: loaded on every run, used on a miss only

    return invocation.rerun(item.config, [here(item)], mode)


def here(item: pytest.Item) -> str:
    """The node id as seen from where pytest was started, which need not be the rootdir."""
    _, sep, rest = item.nodeid.partition("::")
    return os.path.relpath(item.path, item.config.invocation_params.dir) + sep + rest
