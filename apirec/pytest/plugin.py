"""pytest plugin for apirec: the part loaded on first use by ``apirec.pytest.startup`` (the
``pytest11`` entry point, which also defines the options, marker and fixture).

* Settings per test. Precedence: marker > command line > ini > ``APIREC_*`` > default. Named
  with ``-p apirec.pytest.plugin``, it registers the start-up too (``by_module_name``).
* The ``apirec`` fixture: a :class:`~apirec.Recording` active for the test, keyed by its node
  id, stored in ``recordings/`` beside the test file. ``@pytest.mark.apirec(...)`` takes the
  options of :func:`apirec.recording` and activates it without asking for the fixture. Tests
  with neither run with no recording: decorated functions call straight through.
* Expiry: ``--apirec-max-age``, ``--apirec-expired``, ini keys, marker (``apirec.pytest.expiry``).
* The run's command-line settings, record budget and prices reach the recordings the fixture
  does not open (a conftest's, a program started under ``apirec run``) through ``APIREC_*``
  variables, all set in one place (``apirec.pytest.environment``).
* A miss the code under test swallowed still fails the test at teardown, and so does a
  connection the network guard blocked, whichever way the test's recording was opened
  (``apirec.pytest.opened``, which registers every recording that opens, also a conftest's;
  ``apirec.pytest.network``, which also guards a whole replay run with
  ``--apirec-block-network=all``).
* A test whose recordings (the plugin's and any it opened itself) got no call in ``record`` or
  ``record-if-missing`` mode warns ``apirec.NothingRecordedWarning`` and is counted.
* End of session: counts from every recording that closed (transient errors not stored among
  them), and the recordings no test used, or whose test the whole suite no longer has
  (``apirec.pytest.suite``): ``--apirec-prune`` deletes them and the blobs only they used;
  what any recording on a directory used counts as used.
* Renamed tests (``apirec.pytest.renames``): a miss names the recordings of a test this run
  did not collect that answer its call; ``--apirec-rekey`` moves them to the new test.
* Sequences (``apirec.pytest.sequences``): ``repeats=`` (marker, ``--apirec-repeats``, ini
  ``apirec_repeats``); answers a test left unplayed are counted, and fail it under
  ``--apirec-strict``.
* ``--apirec-usage=FILE`` writes what the run used, for ``apirec prune DIR --usage ...``
  after a sharded run (``apirec.pytest.usage``).
* ``--apirec-mode=compare``: the report (``--apirec-compare-report``), the summary and the
  run's verdict (``--apirec-compare=strict``) of a compare run (``apirec.pytest.compare``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from apirec.errors import InvalidMode
from apirec.pytest import (
    advice,
    budget,
    by_module_name,
    compare,
    environment,
    expiry,
    integrations,
    network,
    nothing_recorded,
    opened,
    pacing,
    prices,
    remote,
    renames,
    sequences,
    suite,
    tracebacks,
    usage,
)
from apirec.pytest.async_tests import streams_finished_in_the_tests_loop
from apirec.pytest.lazy_extra import LazyExtra
from apirec.pytest.session import SessionState, write_summary
from apirec.record.closing import Recording as ClosedRecording
from apirec.record.closing import observe_closing
from apirec.record.modes import Mode, parse_mode
from apirec.record.recording import Recording
from apirec.record.settings import STORE_KINDS, Settings

MARKER_OPTIONS = (
    "path",
    "mode",
    "store",
    "trusted_modules",
    "strict_types",
    "store_errors",
    "scrub",
    *network.MARKER_OPTIONS,
    *integrations.MARKER_OPTIONS,
    *expiry.MARKER_OPTIONS,
    *sequences.MARKER_OPTIONS,
    *pacing.MARKER_OPTIONS,
    *remote.MARKER_OPTIONS,
)


@dataclass(frozen=True)
class Options:
    """The command-line and ini layers, read once per session."""

    cli_mode: Mode | None
    ini_mode: Mode | None
    cli_dir: Path | None
    ini_dir: Path | None
    cli_dir_text: str | None
    prune: bool
    store: str | None = None  # --apirec-store, else ini apirec_store


STATE = pytest.StashKey[SessionState]()
OPTIONS = pytest.StashKey[Options]()
CALL_ERROR = pytest.StashKey[BaseException | None]()  # what the test call raised
pytest_addoption = by_module_name.pytest_addoption  # -p apirec.pytest.plugin: the start-up too


def _mode(value: Any, source: str) -> Mode | None:
    if value is None or value == "":
        return None
    try:
        return parse_mode(str(value), source=source)
    except InvalidMode as e:
        raise pytest.UsageError(str(e)) from None


def _store(config: pytest.Config) -> str | None:
    store = config.getoption("apirec_store") or config.getini("apirec_store") or None
    if store is not None and store not in STORE_KINDS:
        raise pytest.UsageError(
            f"ini apirec_store: {store!r} is not a valid store. Valid stores are: "
            f"{', '.join(STORE_KINDS)}"
        )
    return store


def pytest_configure(config: pytest.Config) -> None:
    # the network's options and hooks are the start-up's (apirec.pytest.startup): every run
    integrations.configure(config)
    prices.settings_extra(config)  # a bad price table is a usage error before any test
    budget.configure(config)
    expiry.configure(config)
    sequences.configure(config)
    pacing.configure(config)
    remote.configure(config)
    cli_dir = config.getoption("apirec_dir")
    ini_dir = config.getini("apirec_dir")
    ini_base = config.inipath.parent if config.inipath else config.rootpath
    cli_prune = config.getoption("apirec_prune")
    config.stash[OPTIONS] = Options(
        cli_mode=_mode(config.getoption("apirec_mode"), "--apirec-mode"),
        ini_mode=_mode(config.getini("apirec_mode"), "ini apirec_mode"),
        cli_dir=(config.invocation_params.dir / cli_dir).resolve() if cli_dir else None,
        ini_dir=(ini_base / ini_dir).resolve() if ini_dir else None,
        cli_dir_text=cli_dir,
        prune=bool(cli_prune if cli_prune is not None else config.getini("apirec_prune")),
        store=_store(config),
    )
    config.stash[STATE] = state = SessionState()
    renames.configure(config, state.moves, state.recorded_again)
    config.pluginmanager.register(SessionHooks(config), "apirec-session")
    advice.configure(config)  # the misses of recordings the fixture did not open
    # loaded while a test's call runs: a recording opening now is the test's own
    in_call = bool(getattr(config.pluginmanager.get_plugin("apirec-startup"), "in_call", False))
    config.pluginmanager.register(opened.OpenedHooks(state, in_call), "apirec-opened")
    usage.configure(config, config.stash[STATE], store_path)
    compare.configure(config, config.stash[OPTIONS].cli_mode or config.stash[OPTIONS].ini_mode)
    # after every usage error above: pytest calls no unconfigure for a configure that raised,
    # and the placeholder keys this sets would outlive the run
    integrations.hold_credentials(
        config, config.stash[OPTIONS].cli_mode or config.stash[OPTIONS].ini_mode
    )
    # Recordings the plugin's fixture does not open (a conftest's apirec.recording(dir), a
    # program a test starts under apirec run) get the run's settings through the environment,
    # every option checked above: one place sets them all
    environment.export(
        config,
        {
            **environment.command_line_variables(config),
            **budget.variables(config),
            **prices.variables(config),
        },
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    environment.unexport(config)
    integrations.unconfigure(config)


def _marker_options(item: pytest.Item) -> dict[str, Any]:
    marker = item.get_closest_marker("apirec")
    if marker is None:
        return {}
    if len(marker.args) > 1:
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.apirec takes one positional path")
    options = dict(marker.kwargs)
    if marker.args:
        options["path"] = marker.args[0]
    if unknown := sorted(set(options) - set(MARKER_OPTIONS)):
        raise pytest.UsageError(
            f"{item.nodeid}: @pytest.mark.apirec got unknown option(s) {', '.join(unknown)}; "
            f"it takes {', '.join(MARKER_OPTIONS)}"
        )
    return options


def store_path(item: pytest.Item) -> Path:
    """Where the recording of the test ``item`` stores: marker > command line > ini > a
    ``recordings`` directory beside the test file."""
    path = _marker_options(item).get("path")
    if path is not None:  # relative to the test file, like the default
        return item.path.parent / Path(path)
    options = item.config.stash[OPTIONS]
    return options.cli_dir or options.ini_dir or item.path.parent / "recordings"


def settings_for(item: pytest.Item) -> Settings:
    """The recording settings of one test: marker > command line > ini > environment."""
    options = item.config.stash[OPTIONS]
    marker = _marker_options(item)
    path = store_path(item)
    mode = _mode(marker.get("mode"), f"@pytest.mark.apirec on {item.nodeid}")
    mode = mode or options.cli_mode or options.ini_mode
    settings = Settings.build(
        path,
        mode=mode,  # None: APIREC_MODE, else replay
        store=marker.get("store") or options.store or "json",
        trusted_modules=marker.get("trusted_modules", ()),
        strict_types=marker.get("strict_types", True),
        store_errors=marker.get("store_errors", "permanent"),
        # the ini's patterns, then the marker's: rules add up (apirec.gate.rules)
        scrub=[*item.config.getini("apirec_scrub"), *marker.get("scrub", ())],
        **network.settings_layer(item.config, marker, f"@pytest.mark.apirec on {item.nodeid}"),
        **expiry.settings_layer(item.config, marker, f"@pytest.mark.apirec on {item.nodeid}"),
        **sequences.settings_layer(item.config, marker, f"@pytest.mark.apirec on {item.nodeid}"),
        **pacing.settings_layer(item.config, marker, f"@pytest.mark.apirec on {item.nodeid}"),
        **remote.settings_layer(item.config, marker, f"@pytest.mark.apirec on {item.nodeid}"),
        # no fixed test_id: the test's test_context(node id) scopes keys, and a block of it
        # under test_context(None) or another id must keep that scope
    )
    marker_sets_mode, marker_sets_store = "mode" in marker, marker.get("store") is not None

    def command(mode: str = "record-if-missing") -> str:  # only a miss or an expired answer
        text = advice.record_command(item, mode, marker_sets_mode=marker_sets_mode)  # words it
        if not marker_sets_store:  # a store kind the marker sets is not the option's to change
            text += advice.store_option(item, settings.path)
        return text

    extra = {
        "store_switch": (
            f'store="{{kind}}" in @pytest.mark.apirec on {item.nodeid}'
            if marker_sets_store
            else "--apirec-store={kind} (or apirec_store = {kind} in the ini)"
        ),
        **renames.settings_extra(item.config),
        **prices.settings_extra(item.config),
        **budget.settings_extra(item.config),
    }
    later: dict[str, Callable[[], Any]] = {"record_command": command}
    later["record_again_command"] = lambda: command("record")  # --apirec-strict's advice
    later["expired_advice"] = lambda: expiry.advice(marker, item.nodeid, command)
    return replace(settings, extra=LazyExtra(extra, later))


def catch_up(
    config: pytest.Config, reports: list[tuple[str, str, bool]], closed: list[ClosedRecording]
) -> None:
    """Count what the run did before this module was loaded (``apirec.pytest.startup``)."""
    state = config.stash[STATE]
    for nodeid, when, passed in reports:
        state.add_report(nodeid, when, passed=passed)
    for rec in closed:
        state.recording_closed(rec)


def late_opening(config: pytest.Config, rec: ClosedRecording) -> None:
    """``rec``'s opening loaded this module (``apirec.pytest.startup``): it was not told."""
    hooks = config.pluginmanager.get_plugin("apirec-opened")
    if isinstance(hooks, opened.OpenedHooks):
        hooks.opened(rec)


def recording_for(request: pytest.FixtureRequest) -> Iterator[Recording]:
    """The ``apirec`` fixture: a recording for this test, keyed by its node id."""
    item = request.node
    rec = Recording(settings=settings_for(item))
    sdks = integrations.names_for(
        item, _marker_options(item), f"@pytest.mark.apirec on {item.nodeid}"
    )
    # judged below by every recording the test opened (a conftest's may get the calls)
    rec.warn_if_nothing_recorded = False
    item.stash[CALL_ERROR] = None
    with rec, streams_finished_in_the_tests_loop(item, rec):
        integrations.patch_into(rec, sdks)
        yield rec
    state = request.config.stash[STATE]
    state.add_recording(item.nodeid, rec)
    compare.judge(request.config, rec)
    raised = item.stash.get(CALL_ERROR, None)
    if raised is None:
        nothing_recorded.judge(item.nodeid, rec, state)
    # swallowed misses fail the test at teardown, with those of every other recording
    # (apirec.pytest.opened); this recording's are the test's whatever their context
    item.stash[opened.OWN_MISSES] = rec.misses
    if raised is None and not rec.misses:
        location = state.location_of(rec.settings.path)
        sequences.judge(item, rec, state.used, state.unplayed, location)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    if call.excinfo is not None:  # a miss or a refused call shows the caller's line
        tracebacks.hide_our_frames(item.config, call.excinfo)
        integrations.explain_missing_key(item, call)
    report = yield
    if call.when != "teardown" and CALL_ERROR in item.stash and call.excinfo is not None:
        # the miss that failed the test itself, or a setup that failed: no call to judge
        item.stash[CALL_ERROR] = call.excinfo.value
    return report


class SessionHooks:
    """The hooks that need the session's state; registered once per process."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.state = config.stash[STATE]
        self._stop_observing = observe_closing(self.state.recording_closed)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self._stop_observing()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.state.add_report(report.nodeid, report.when, passed=report.passed)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        wire = getattr(node, "workeroutput", {}).get("apirec")
        if wire is not None:
            self.state.merge(wire)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        # the msgpack stores this process wrote to get their index now, not at exit, so the
        # next run (or the xdist controller's) opens them without scanning; not loaded: none
        written = sys.modules.get("apirec.stores.msgpack.session_index")
        if written is not None:
            written.update_indexes()
        state = self.state
        sequences.judge_deferred(self.config, state.used, state.unplayed, state.owner_hints)
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:  # an xdist worker: the controller decides
            workeroutput["apirec"] = self.state.to_wire()
            return
        if exitstatus == pytest.ExitCode.INTERRUPTED:
            return
        self.state.find_unused(suite.gone_if_whole(self.config))
        if self.config.stash[OPTIONS].prune:
            self.state.prune()

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if hasattr(self.config, "workerinput"):
            return
        state = self.state
        if state.recordings or state.seen:
            write_summary(
                state,
                self.config.stash[OPTIONS].prune,
                terminalreporter,
                budget.budget_of(self.config),
            )
            sequences.write_summary(state.unplayed, terminalreporter)
            renames.write_summary(
                state.moves,
                state.recorded_again,
                terminalreporter,
                rekey=bool(self.config.getoption("apirec_rekey")),
            )
        network.write_summary(
            state.reached_network, terminalreporter, heading=not (state.recordings or state.seen)
        )
