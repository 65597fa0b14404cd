"""Whether this run collected the whole suite, and which stored test ids it no longer has.

A recording counts as unused when the test it belongs to ran in full and asked for none of
it (:mod:`apirec.pytest.session`). A test deleted, renamed, or whose parametrized id changed
never runs again, so its recordings would never count: when the run collected the whole suite,
they do too, as recordings of a test the suite no longer has (``--apirec-prune`` deletes them
with the others). The whole suite: no test paths or node ids on the command line, run from
the rootdir, no ``--lf``, ``--sw`` or typed ``--ignore``
(:func:`narrowing_options`), no test deselected (``-k``, ``-m``,
``--deselect``), no collection error or skipped module, and not stopped early (``-x``,
``--maxfail``). A stored test id is then gone when it is not among the collected ones (as the
write gate stores ids: a key in a parametrized id is ``<redacted>``) and its file was
collected, or no longer exists. Under pytest-xdist each worker sends what it collected and
what narrowed it; the controller decides. Registered by the start-up
(:mod:`apirec.pytest.startup`), which is always loaded: the plugin itself may load only when a
test's recording first opens, after the collection.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

WIRE_KEY = "apirec-suite"


class Suite:
    """The node ids and files this run collected, and what kept it from the whole suite."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.collected: set[str] = set()
        self.files: set[str] = set()
        self.narrowed: set[str] = set()
        self._as_stored: set[str] = set()

    def _add(self, node_ids: list[str]) -> None:
        self.collected.update(node_ids)
        self.files.update(node_id.split("::", 1)[0] for node_id in node_ids)

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        if items:
            self.narrowed.add("tests deselected")
        self._add([item.nodeid for item in items])

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._add([item.nodeid for item in session.items])

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed or report.skipped:
            self.narrowed.add(f"collecting {report.nodeid or '.'} failed or was skipped")

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        wire = getattr(node, "workeroutput", {}).get(WIRE_KEY)
        if wire is None:
            self.narrowed.add("a worker sent nothing")
            return
        self._add(wire["collected"])
        self.narrowed.update(wire["narrowed"])

    @pytest.hookimpl(tryfirst=True)  # before the session's hooks judge the unused recordings
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:  # an xdist worker: the controller decides
            workeroutput[WIRE_KEY] = {
                "collected": sorted(self.collected),
                "narrowed": sorted(self.narrowed),
            }
            return
        self.narrowed.update(narrowing_options(self.config))
        if session.shouldfail or session.shouldstop:
            self.narrowed.add("stopped early")
        if not self.collected:
            self.narrowed.add("no test collected")

    @property
    def whole(self) -> bool:
        return not self.narrowed

    def gone(self, test_id: str, location: str) -> bool:
        """``test_id`` (as stored, in the store at ``location``) is a test the whole suite no
        longer has: its file was collected without it, or its file is gone and the store lies
        beside it or above it. A store elsewhere (recordings copied from another project, whose
        ids name files this project never had) is not judged by files that do not exist."""
        if not self._as_stored:  # the ids as the write gate stores them, once, at the end
            from apirec.gate.detect import scrub_text  # the start-up imports this module

            self._as_stored = {scrub_text(node_id) for node_id in self.collected}
        if test_id in self.collected or test_id in self._as_stored:
            return False
        file = test_id.split("::", 1)[0]
        if file in self.files:
            return True
        path = self.config.rootpath / file
        return not path.exists() and Path(location).resolve().parent in path.parents


SUITE = pytest.StashKey[Suite]()


def configure(config: pytest.Config) -> None:
    config.stash[SUITE] = Suite(config)
    config.pluginmanager.register(config.stash[SUITE], "apirec-suite")


def gone_if_whole(config: pytest.Config) -> Callable[[str, str], bool] | None:
    """At the end of the session: :meth:`Suite.gone` if the run collected the whole suite."""
    suite = config.stash[SUITE]
    return suite.gone if suite.whole else None


def narrowing_options(config: pytest.Config) -> list[str]:
    """What may have left tests of the suite out of this run's collection altogether."""
    reasons = []
    if config.args_source is pytest.Config.ArgsSource.ARGS:
        reasons.append(f"test paths given on the command line: {' '.join(config.args)}")
    elif config.invocation_params.dir != config.rootpath:  # testpaths apply only from there
        reasons.append(f"run from {config.invocation_params.dir}, not the rootdir")
    if config.getoption("lf", False):
        reasons.append("--lf (only the tests that failed last time)")
    if config.getoption("stepwise", False):
        reasons.append("--sw (stepwise)")
    typed = [a for a in config.invocation_params.args if str(a).startswith("--ignore")]
    if typed:
        reasons.append(f"{typed[0]} on the command line")
    return reasons
