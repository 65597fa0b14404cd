"""The plugin's side of the network guard: options, the guard of a whole replay run, and
failing a test whose code swallowed a :class:`~apirec.NetworkBlocked`.

``--apirec-block-network[=all|recordings|off]`` (bare: ``recordings``),
``--apirec-no-block-network`` (``off``) and ``--apirec-allow-hosts=a,b`` (repeatable), the ini
keys ``apirec_block_network`` (a level, or true/false for recordings/off) and
``apirec_allow_hosts`` (comma- or line-separated), the marker options ``block_network=`` and
``allow_hosts=``. Precedence as everywhere: marker > command line > ini > environment
(``APIREC_BLOCK_NETWORK``, ``APIREC_ALLOW_HOSTS``) > defaults (``recordings``: replay-mode
recordings block, loopback only). Command-line values also go to the environment for the run
(:mod:`apirec.pytest.environment`), so recordings a conftest opens itself follow them.

In a replay run, ``all`` guards every test, also the calls it makes outside any recording;
``recordings`` guards only inside replay recordings and counts the tests that reached a
non-loopback host outside any recording (the summary names ``all``). Whichever way a test's
replay recording was opened (fixture, marker, ``@apirec.recording`` on the test, ``with``
inside it, a conftest's), a blocked connection its code swallowed fails it at teardown.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

import pytest

from apirec.errors import NetworkBlocked
from apirec.guard import core as guard

if TYPE_CHECKING:
    from apirec.pytest.run_guard import RunGuard

# apirec.record.settings's (tests/test_startup_imports.py checks): the plugin's start-up loads
# this module in every run, so it imports the recorder's settings only when it parses them
BLOCK_LEVELS = ("all", "recordings", "off")
ENV_BLOCK_NETWORK = "APIREC_BLOCK_NETWORK"
ENV_ALLOW_HOSTS = "APIREC_ALLOW_HOSTS"

MARKER_OPTIONS = ("block_network", "allow_hosts")


class NetworkOptions:
    """The command-line and ini layers of the guard's settings, read once per session.

    A plain class: every pytest run loads this module, and a dataclass costs ~0.5 ms to make.
    """

    __slots__ = ("allow_hosts", "block_network", "level")

    def __init__(
        self,
        block_network: bool | None,
        allow_hosts: tuple[str, ...] | None,
        level: str = "recordings",  # the run's: all, recordings or off
    ) -> None:
        self.block_network = block_network
        self.allow_hosts = allow_hosts
        self.level = level


OPTIONS = pytest.StashKey[NetworkOptions]()
# per test: the blocked connections seen, the errors its setup and call raised
BLOCKED = pytest.StashKey[list[NetworkBlocked]]()
RAISED = pytest.StashKey[list[BaseException]]()


def _level(value: object, source: str) -> str | None:
    """all / recordings / off, from a level or a boolean's spelling (true: recordings)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "recordings" if value else "off"
    text = str(value).strip().lower()
    if text in BLOCK_LEVELS:
        return text
    from apirec.record.settings import parse_flag

    try:
        return "recordings" if parse_flag(text, source) else "off"
    except ValueError:
        raise pytest.UsageError(
            f"{source}: {value!r} is not a valid level. Valid levels are: "
            f"{', '.join(BLOCK_LEVELS)} (or true/false)"
        ) from None


def configure(config: pytest.Config) -> None:
    cli_level = config.getoption("apirec_block_network")
    cli_hosts = config.getoption("apirec_allow_hosts")
    ini_level = _level(config.getini("apirec_block_network"), "ini apirec_block_network")
    env_level = _level(os.environ.get(ENV_BLOCK_NETWORK), ENV_BLOCK_NETWORK)
    ini_hosts = config.getini("apirec_allow_hosts")
    hosts = _hosts(",".join(cli_hosts), "--apirec-allow-hosts") if cli_hosts else None
    if hosts is None and ini_hosts:
        hosts = _hosts(",".join(ini_hosts), "ini apirec_allow_hosts")
    layer = cli_level or ini_level
    config.stash[OPTIONS] = NetworkOptions(
        block_network=None if layer is None else layer != "off",
        allow_hosts=hosts,
        level=layer or env_level or "recordings",
    )


def _hosts(text: str, source: str) -> tuple[str, ...]:
    from apirec.guard.hosts import HostRules
    from apirec.record.settings import split_hosts

    hosts = split_hosts(text)
    try:
        HostRules.parse(hosts)
    except (TypeError, ValueError) as e:
        raise pytest.UsageError(f"{source}: {e}") from None
    return hosts


def settings_layer(config: pytest.Config, marker: dict[str, Any], where: str) -> dict[str, Any]:
    """``block_network`` and ``allow_hosts`` for one test: marker > command line > ini;
    None leaves them to the environment and the defaults."""
    options = config.stash[OPTIONS]
    block = marker.get("block_network", options.block_network)
    if block is not None and not isinstance(block, bool):
        raise pytest.UsageError(f"{where}: block_network must be True or False, not {block!r}")
    hosts = marker.get("allow_hosts", options.allow_hosts)
    if hosts is not None:
        from apirec.guard.hosts import HostRules

        hosts = (hosts,) if isinstance(hosts, str) else tuple(hosts)
        try:
            HostRules.parse(hosts)
        except (TypeError, ValueError) as e:
            raise pytest.UsageError(f"{where}: {e}") from None
    return {"block_network": block, "allow_hosts": hosts}


@contextmanager
def guarding(item: pytest.Item, replays: bool) -> Iterator[list[tuple[str, Any]]]:
    """Around one test: collect every connection blocked while it runs, by any guard (for
    :func:`fail_if_swallowed`); in a replay run, guard the whole test (``all``) or list the
    non-loopback hosts it reached outside any recording (``recordings``)."""
    options = item.config.stash[OPTIONS]
    if options.level == "off":  # the plugin stays out of the network
        yield []
        return
    item.stash[BLOCKED] = guard.watch()
    item.stash[RAISED] = []
    run: RunGuard | None = None
    reached: list[tuple[str, Any]] = []
    if replays and options.level == "all":
        from apirec.pytest.run_guard import guard_the_run

        run = guard_the_run(options.allow_hosts, os.environ.get(ENV_ALLOW_HOSTS, ""))
    elif replays and options.level == "recordings":
        reached = guard.observe()
    try:
        yield reached
    finally:
        if run is not None:
            guard.on_close(run)
        guard.unobserve(reached)
        guard.unwatch(item.stash[BLOCKED])


class Counted(Protocol):
    reached_network: int  # the session's count (apirec.pytest.session.SessionState)


InChain = Callable[[BaseException, BaseException | None], bool]


class NetworkHooks:
    """The plugin's hooks for the guard, registered once per session: each test runs inside
    :func:`guarding`, and fails at teardown for a blocked connection its code swallowed."""

    def __init__(self, state: Counted, replays: bool, in_chain: InChain) -> None:
        self.state = state
        self.replays = replays  # the run's mode is replay
        self.in_chain = in_chain
        self.holds = False

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        # every test of a replay run observes (or guards) and most open a recording: the
        # guard's wrappers stay in from the first test on instead of going in and out per test
        if self.replays and session.config.stash[OPTIONS].level != "off":
            guard.hold()
            self.holds = True

    def pytest_unconfigure(self) -> None:
        if self.holds:
            self.holds = False
            guard.release()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        with guarding(item, self.replays) as reached:
            result = yield
        if reached:  # connected outside any recording, with the guard only in recordings
            self.state.reached_network += 1
        return result

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, object, object]:
        result = yield  # a teardown that failed already tells its story
        __tracebackhide__ = True
        fail_if_swallowed(item, self.in_chain)
        return result

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        note_raised(item, call)
        return report


def note_raised(item: pytest.Item, call: pytest.CallInfo[None]) -> None:
    """What the test's setup or call raised: a blocked connection in it was not swallowed."""
    if call.excinfo is not None and call.when in ("setup", "call") and RAISED in item.stash:
        if isinstance(call.excinfo.value, _OUTCOMES):
            return  # ``except OSError: pytest.skip(...)``: a skip or xfail hides the block
        item.stash[RAISED].append(call.excinfo.value)


# pytest's skip and xfail outcomes: a block in their chain was swallowed, not raised
_OUTCOMES = (pytest.skip.Exception, pytest.xfail.Exception)


def caught_anyway(what: str, swallowed: list[Any]) -> str:
    """The message of a test failed for errors its code swallowed (a miss, a block)."""
    more = f" (and {len(swallowed) - 1} more)" if len(swallowed) > 1 else ""
    return (
        f"a {what} was caught by the code under test{more}; the test fails anyway:\n{swallowed[0]}"
    )


def fail_if_swallowed(item: pytest.Item, in_chain: InChain) -> None:
    """Fail the test when a connection was blocked and the code under test hid it."""
    raised = item.stash.get(RAISED, [])
    seen = item.stash.get(BLOCKED, [])
    swallowed = [b for b in seen if not any(in_chain(b, r) for r in raised)]
    if not swallowed:
        return
    __tracebackhide__ = True
    first = swallowed[0]
    raise NetworkBlocked(
        caught_anyway("blocked connection", swallowed),
        host=first.host,
        port=first.port,
        recording=first.recording,
        action=first.action,
    )


def write_summary(reached: int, reporter: Any, *, heading: bool) -> None:
    """How many tests of a replay run reached a non-loopback host outside any recording."""
    if not reached:
        return
    if heading:
        reporter.write_sep("-", "apirec")
    tests = "1 test" if reached == 1 else f"{reached} tests"
    reporter.write_line(
        f"apirec: {tests} connected to a non-loopback host outside any recording in this "
        f"replay run; block them with --apirec-block-network=all (ini apirec_block_network "
        f"= all)"
    )


def is_in_chain(error: BaseException, raised: BaseException | None, depth: int = 0) -> bool:
    """Whether ``error`` is ``raised``, its cause or context, or inside an exception group."""
    while raised is not None and depth < 50:
        if raised is error:
            return True
        if isinstance(raised, BaseExceptionGroup) and any(
            is_in_chain(error, inner, depth + 1) for inner in raised.exceptions
        ):
            return True
        raised = raised.__cause__ or raised.__context__
        depth += 1
    return False
