"""The pytest plugin as pytest loads it (the ``pytest11`` entry point ``apirec``): cheap.

Every pytest run in an environment where apirec is installed loads this module, so it only
registers the options, ini keys, marker and fixture, and runs each test in
``apirec.test_context(node id)``. The rest of the plugin (:mod:`apirec.pytest.plugin`, which
imports the recorder, codec, stores and SDK integrations) is loaded and registered the first
time the run needs it: a test uses the ``apirec`` fixture or marker; the recorder is imported;
a recording opens or closes; or an xdist worker sends its state. A run configured only by the
common recording settings (ini ``apirec_mode``, ``apirec_integrations``, ``apirec_dir``,
``apirec_store``; ``APIREC_MODE``, ``APIREC_DIR``, ``APIREC_STORE``) waits too: its usage
errors and a replaying run's placeholder API keys come at once, without the plugin
(:mod:`apirec.pytest.configured`). Any other setting (an ``--apirec-*`` option, another ini
key or ``APIREC_*`` variable) loads the plugin as the run configures. What was seen before
the plugin loads is handed over: nothing counts less.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Generator, Iterator
from types import ModuleType
from typing import Any

import pytest

from apirec.pytest import configured, network, suite
from apirec.pytest.servers import CarriedBack
from apirec.record.closing import Recording as ClosedRecording
from apirec.record.closing import observe_closing, observe_opening
from apirec.record.context import test_context

# The choices of the options below; tests/test_startup_imports.py checks they are the
# recorder's own (apirec.record.settings, .expiry, .sequences), which this module must not load.
STORE_KINDS = configured.STORE_KINDS
BLOCK_LEVELS = ("all", "recordings", "off")
ON_EXPIRED = ("warn", "fail", "record")
REPEATS = ("exact", "last")

# any of these modules loaded means a recorder is (or will be) in use in this process
RECORDER = "apirec.record.recording"
NAME = "apirec-plugin"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("apirec", "record and replay function calls")
    group.addoption(
        "--apirec-mode",
        metavar="MODE",
        help="live, record, replay, record-if-missing or compare (default: ini apirec_mode, "
        "then APIREC_MODE, then replay)",
    )
    group.addoption(
        "--apirec-dir",
        metavar="DIR",
        help="one directory for every test's recordings (default: recordings/ beside each "
        "test file)",
    )
    group.addoption(
        "--apirec-prune",
        action="store_true",
        default=None,
        help="delete stored recordings of tests that ran in full but did not use them",
    )
    group.addoption(
        "--apirec-store",
        choices=STORE_KINDS,
        help="json (one pretty file per recording, the default) or msgpack (one compact file)",
    )
    _network_options(group, parser)
    group.addoption(
        "--apirec-rekey",
        action="store_true",
        default=False,
        help="move the recordings of a renamed test (one this run did not collect whose "
        "recordings match a call exactly) to the test that replaced it, and those a test "
        "made under older key rules (ignore=, normalize=...) to today's keys; replay them",
    )
    group.addoption(
        "--apirec-integrations",
        action="append",
        metavar="SDKS",
        help="comma-separated SDK import names each test's recording patches (openai, "
        "anthropic, ollama, google.genai, tavily, mcp, ...; repeatable); replaces the ini list "
        "apirec_integrations (an empty value: with none), +NAME adds to it (=+mcp)",
    )
    parser.addini(
        "apirec_integrations",
        "apirec: SDK import names each test's recording patches",
        type="linelist",
    )
    _expiry_and_sequence_options(group, parser)
    group.addoption(
        "--apirec-usage",
        metavar="FILE",
        help="write a JSON report of the recordings this run used and the tests it ran in "
        "full, for `apirec prune DIR --usage A.json B.json ...` after a sharded run",
    )
    group.addoption(
        "--apirec-prices",
        metavar="FILE",
        help="price the tokens the replay saved: a TOML or JSON table of dollars per million "
        "input and output tokens per model (apirec ships no prices)",
    )
    parser.addini("apirec_prices", "apirec: the price table (relative to the ini file)")
    group.addoption(
        "--apirec-record-budget",
        metavar="BUDGET",
        help="what the live calls of this run may spend: tokens ('200k', '1.5M') or dollars "
        "('$2.50', with --apirec-prices); then live calls fail with apirec.BudgetExceeded "
        "(env: APIREC_RECORD_BUDGET)",
    )
    parser.addini("apirec_record_budget", "apirec: what the live calls of a run may spend")
    group.addoption(
        "--apirec-compare-report",
        metavar="FILE",
        help="in compare mode, write how each live answer differed from the stored one "
        "(JSON, per test and call)",
    )
    group.addoption(
        "--apirec-compare",
        choices=("report", "strict"),
        help="in compare mode, fail the run on structural differences only (report, the "
        "default) or on content differences too (strict)",
    )
    parser.addini("apirec_mode", "apirec mode for the test run", default=None)
    parser.addini("apirec_store", "apirec store kind: json or msgpack", default=None)
    parser.addini("apirec_dir", "apirec recordings directory (relative to the ini file)")
    parser.addini("apirec_prune", "delete unused recordings at the end", type="bool")
    parser.addini(
        "apirec_scrub",
        "apirec: extra patterns the write gate replaces, one regular expression per line",
        type="linelist",
    )


def _network_options(group: Any, parser: pytest.Parser) -> None:
    group.addoption(
        "--apirec-block-network",
        nargs="?",
        const="recordings",
        default=None,
        choices=BLOCK_LEVELS,
        dest="apirec_block_network",
        metavar="all|recordings|off",
        help="in a replay run, block connections to hosts other than loopback and "
        "--apirec-allow-hosts: inside replay recordings (recordings, the default), in every "
        "test (all), or nowhere (off)",
    )
    group.addoption(
        "--apirec-no-block-network",
        action="store_const",
        const="off",
        dest="apirec_block_network",
        help="let replay-mode recordings reach the network (--apirec-block-network=off)",
    )
    group.addoption(
        "--apirec-allow-hosts",
        action="append",
        metavar="HOSTS",
        help="comma-separated hosts, addresses or CIDR networks a replay may connect to "
        "besides loopback (repeatable)",
    )
    parser.addini(
        "apirec_block_network",
        "apirec: block the network in a replay run: all, recordings (or true) or off (false)",
        default=None,  # unset: the environment and the default decide
    )
    parser.addini(
        "apirec_allow_hosts",
        "apirec: hosts, addresses or CIDR networks a replay may reach",
        type="linelist",
    )


def _expiry_and_sequence_options(group: Any, parser: pytest.Parser) -> None:
    group.addoption(
        "--apirec-max-age",
        metavar="AGE",
        help="stored answers older than AGE (30d, 12h, 90m) are expired (default: ini "
        "apirec_max_age, else none expire)",
    )
    group.addoption(
        "--apirec-expired",
        metavar="ACTION",
        help=f"what replaying an expired answer does: {', '.join(ON_EXPIRED)} (re-record it, "
        f"in record-if-missing mode) (default: ini apirec_expired, else warn)",
    )
    parser.addini("apirec_max_age", "apirec: age past which stored answers are expired")
    parser.addini("apirec_expired", "apirec: warn, fail or record an expired answer")
    group.addoption(
        "--apirec-repeats",
        choices=REPEATS,
        help="what a call past the end of a recorded sequence gets in replay: exact (a miss, "
        "the default) or last (the last answer again) (default: ini apirec_repeats, then "
        "APIREC_REPEATS)",
    )
    group.addoption(
        "--apirec-strict",
        action="store_true",
        default=None,
        help="fail a test that leaves recorded answers unplayed (it now makes fewer calls)",
    )
    parser.addini("apirec_repeats", "apirec: exact or last, past the end of a sequence")
    group.addoption(
        "--apirec-replay-timing",
        metavar="PACE",
        help="replay at the recorded pace: 'recorded', or a factor of it (0.5: twice as fast); "
        "'off' (the default) replays at once (env: APIREC_REPLAY_TIMING)",
    )
    parser.addini("apirec_replay_timing", "apirec: replay at the recorded pace (or a factor)")
    group.addoption(
        "--apirec-remote",
        metavar="URL",
        help="keep payloads over 64 KiB in object storage: s3://bucket/prefix, gs://, az://, "
        "file://, or a read-only https:// copy ('' for none) (default: ini apirec_remote, "
        "then APIREC_REMOTE)",
    )
    parser.addini("apirec_remote", "apirec: the object store for payloads over 64 KiB (a URL)")
    parser.addini("apirec_strict", "apirec: fail tests that leave answers unplayed", type="bool")


class Startup:
    """Loads the rest of the plugin when the run first needs it, and hands it what it missed."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.plugin: ModuleType | None = None
        self.in_call = False  # a test's call is running (a recording opened there is its own)
        self.reports: list[tuple[str, str, bool]] = []
        self.closed: list[ClosedRecording] = []
        stop_closing = observe_closing(self._recording_closed)
        # a recording opened anywhere (a conftest's fixture, a test's own with block) is a
        # use: the plugin is loaded before its first call, to see its misses
        stop_opening = observe_opening(self._recording_opened)
        self._observing = [stop_closing, stop_opening]

    def _stop_observing(self) -> None:
        while self._observing:
            self._observing.pop()()

    def load(self) -> ModuleType:
        """The full plugin, registered (its ``pytest_configure`` runs as it is)."""
        if self.plugin is None:
            from apirec.pytest import plugin

            self.plugin = plugin
            self._stop_observing()  # the plugin's own observer takes over
            if not self.config.pluginmanager.is_registered(plugin):  # else -p named it
                self.config.pluginmanager.register(plugin, NAME)
            if self.reports or self.closed:  # none if -p named it: loaded at configure
                plugin.catch_up(self.config, self.reports, self.closed)
            self.reports, self.closed = [], []
        return self.plugin

    def _recording_opened(self, rec: ClosedRecording) -> None:
        if self.plugin is None:
            self.load().late_opening(self.config, rec)

    def _recording_closed(self, rec: ClosedRecording) -> None:
        self.closed.append(rec)
        self.load()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.plugin is None:
            self._stop_observing()

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """``@pytest.mark.apirec`` activates the recording without naming the fixture: first
        in the item's own copy of its fixture list (cheaper than an autouse fixture)."""
        used = RECORDER in sys.modules
        for item in items:
            names = getattr(item, "fixturenames", None)
            marked = item.get_closest_marker("apirec") is not None
            if names is not None and "apirec" not in names and marked:
                item.fixturenames = ["apirec", *names]  # type: ignore[attr-defined]
            used = used or marked or (names is not None and "apirec" in names)
        if used:
            self.load()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        if self.plugin is None and RECORDER in sys.modules:
            self.load()
        with test_context(item.nodeid):
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, object, object]:
        self.in_call = True
        try:
            return (yield)
        finally:
            self.in_call = False

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.plugin is None:  # once loaded, the plugin counts them itself
            self.reports.append((report.nodeid, report.when, report.passed))

    @pytest.hookimpl(optionalhook=True, tryfirst=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        wire = getattr(node, "workeroutput", {}).get("apirec")
        if self.plugin is None and wire is not None:
            # a worker used recordings: this controller merges and reports them. The hooks
            # the plugin registers during this call are not called for this node: each is
            # given it here (its books, its compared calls...), as pytest would have.
            manager = self.config.pluginmanager
            before = {id(p) for p in manager.get_plugins()}
            self.load()
            for registered in manager.get_plugins():
                hook = getattr(registered, "pytest_testnodedown", None)
                if id(registered) not in before and hook is not None:
                    hook(node, error)


class Reached:
    """The count of tests that reached the network outside any recording in a replay run
    (``network.NetworkHooks``): the first one loads the plugin, whose state keeps the count
    (merged from xdist workers, written in the summary)."""

    def __init__(self, startup: Startup) -> None:
        self.startup = startup

    @property
    def reached_network(self) -> int:
        plugin = self.startup.plugin
        return 0 if plugin is None else int(self.startup.config.stash[plugin.STATE].reached_network)

    @reached_network.setter
    def reached_network(self, value: int) -> None:
        plugin = self.startup.load()
        self.startup.config.stash[plugin.STATE].reached_network = value


STARTUP = pytest.StashKey[Startup]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(  # what the marker leaves out is the run's, not recording()'s
        "markers",
        "apirec(path=<the run's --apirec-dir, else recordings/ beside the test file>, *, "
        "mode=<the run's>, store=<the run's>, trusted_modules=(), strict_types=True, store_errors="
        "'permanent', scrub=() (added to the run's), block_network=<the run's>, allow_hosts=<the "
        "run's>, integrations=<the run's>, max_age=<the run's>, on_expired=<the run's>, repeats="
        "<the run's>, replay_timing=<the run's>, remote=<the run's>, remote_options=None): record "
        "or replay this test's calls, with the options of apirec.recording(); an option left out "
        "takes the run's (--apirec-*, ini apirec_*, APIREC_*)",
    )
    network.configure(config)
    suite.configure(config)  # sees the collection, which may end before the plugin loads
    if any(name.startswith("APIREC_") for name in os.environ):  # else nothing to load
        from apirec.pytest.environment_check import check_environment

        check_environment()  # a bad value: one usage error, not an error at every test
    startup = config.stash[STARTUP] = Startup(config)
    config.pluginmanager.register(startup, "apirec-startup")
    hooks = network.NetworkHooks(Reached(startup), configured.replays(config), network.is_in_chain)
    config.pluginmanager.register(hooks, "apirec-network")
    # servers under test: the test id on requests to loopback, replay errors sent back
    config.pluginmanager.register(CarriedBack(), "apirec-servers")
    if configured.loads_plugin_now(config) or RECORDER in sys.modules:
        startup.load()
    else:  # configured by the common settings only, or not at all: the plugin waits
        configured.start_lazily(config)  # last: it may hold placeholder keys


@pytest.fixture
def apirec(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A recording for this test: keyed by its node id, in ``recordings/`` beside the file."""
    plugin = request.config.stash[STARTUP].load()
    yield from plugin.recording_for(request)
