"""``--apirec-usage=FILE``: what this run used, for pruning after a sharded CI run.

A sharded suite (``-k`` halves, pytest-split, one job per directory...) never sees, in one
process, which recordings no test uses: each shard knows only its own tests. Each shard writes
a usage report, and ``apirec prune DIR --usage A.json B.json ...`` decides from all of them.

A report is JSON (``"apirec_usage": 1``), every path relative to the rootdir (posix), so
reports from checkouts in different places agree:

* ``stores``: each recordings directory the run read or wrote, and its kind (json, msgpack);
* ``used``: per store, per key, the answer slots some call asked for (or recorded);
* ``ran_in_full``: per test node id, the stores its recording read, for the tests that
  passed setup, call and teardown with a recording in a mode that reads the store (the
  rule of ``--apirec-prune``);
* ``suite``: whether the run can vouch for the whole suite, for shared (test-less)
  recordings: ``collected`` (every test collected, selected or deselected by ``-k``, ``-m``,
  ``--deselect`` or a sharding plugin), ``passed`` (the tests that passed), and ``narrowed``
  (why the collection may not be the whole suite: test paths on the command line, ``--lf``,
  ``--sw``, ``--ignore`` typed on the command line, collection errors or skipped modules,
  an interrupted run). Under pytest-xdist the workers' parts are merged by the controller;
* test ids (and every other text) as the write gate stores them: a key in a parametrized
  test's id is ``<redacted>`` in the report as in the recording, so the two still match;
* ``objects``: the sha256 of every object (in ``blobs/`` or a remote store, ``remote=``) the
  recordings of the stores the run opened, and of the store of every test it collected
  (selected or deselected, run or skipped), refer to, whether this run used them or not, and
  ``body_objects``, those of them that are response bodies (which may refer to more objects:
  ``apirec gc`` reads them), for ``apirec gc REMOTE --usage ...``: a branch's report keeps
  its objects when its checkout is not at hand (:mod:`apirec.pytest.usage_objects`);
* ``unreadable``: the recordings (and stores) whose objects the report could not tell, each
  with why (a merge conflict, a damaged file); ``apirec gc`` deletes nothing while a report
  names one, and refuses a report whose run was ``narrowed``;
* ``started_at`` (when the run began, UTC, ISO 8601) and ``commit`` (the git HEAD of the
  rootdir's checkout, or null): a recording made after a report's run began was not there to
  be used, so ``apirec prune`` keeps it (a leftover report from an older run must not delete
  what a test gained since).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import Any

import pytest

from apirec.gate.detect import scrub_text
from apirec.pytest.git_head import head_commit
from apirec.pytest.session import SessionState
from apirec.pytest.suite import narrowing_options

FORMAT = 1
WIRE_KEY = "apirec-usage"


StoreOf = Callable[[pytest.Item], Path]  # where a test's recording keeps its answers


def configure(config: pytest.Config, state: SessionState, store_of: StoreOf) -> None:
    target = config.getoption("apirec_usage")
    if target:
        path = config.invocation_params.dir / target
        hooks = UsageHooks(config, state, path, store_of)
        config.pluginmanager.register(hooks, "apirec-usage")


def relative(location: str, root: Path) -> str:
    """``location`` relative to the rootdir, as posix text (``..`` when outside it)."""
    return PurePath(os.path.relpath(location, root)).as_posix()


class UsageHooks:
    """Collects the suite's side of the report; the session state has the recordings' side."""

    def __init__(
        self, config: pytest.Config, state: SessionState, path: Path, store_of: StoreOf
    ) -> None:
        self.config = config
        self.state = state
        self.path = path
        self.store_of = store_of
        self.collected: set[str] = set()
        # the store of every test collected, run or not: the report lists their objects
        self.suite_stores: set[str] = set()
        self.unknown_stores: set[str] = set()
        self.narrowed: set[str] = set()
        self.outcomes: dict[str, bool] = {}  # node id -> passed every phase so far
        self.finished: set[str] = set()  # node ids whose teardown was reported
        # microseconds: a recording's recorded_at (to the second) in the same second is
        # judged by its file's modification time (apirec.cli.usage)
        self.started_at = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self._collect(items)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._collect(session.items)

    def _collect(self, items: list[pytest.Item]) -> None:
        for item in items:
            self.collected.add(item.nodeid)
            try:
                self.suite_stores.add(str(self.store_of(item)))
            except pytest.UsageError as e:  # a bad marker: the test fails when it runs
                self.unknown_stores.add(f"{item.nodeid}: its recordings directory is unknown: {e}")

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.narrowed.add(f"collection error in {report.nodeid or '.'}")
        elif report.skipped:
            self.narrowed.add(f"skipped while collecting: {report.nodeid or '.'}")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        ok = report.passed and self.outcomes.get(report.nodeid, True)
        self.outcomes[report.nodeid] = ok
        if report.when == "teardown":
            self.finished.add(report.nodeid)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        wire = getattr(node, "workeroutput", {}).get(WIRE_KEY)
        if wire is not None:
            self.collected.update(wire["collected"])
            self.narrowed.update(wire["narrowed"])
            self.suite_stores.update(wire["suite_stores"])
            self.unknown_stores.update(wire["unknown_stores"])

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:  # an xdist worker: the controller writes the report
            workeroutput[WIRE_KEY] = {
                "collected": sorted(self.collected),
                "narrowed": sorted(self.narrowed),
                "suite_stores": sorted(self.suite_stores),
                "unknown_stores": sorted(self.unknown_stores),
            }
            return
        self.narrowed.update(narrowing_options(self.config))
        if exitstatus == pytest.ExitCode.INTERRUPTED:
            self.narrowed.add("the run was interrupted")
        write_report(self.path, self.report())

    def report(self) -> dict[str, Any]:
        # here, not at the top: only --apirec-usage runs read stores this way (the msgpack
        # store's package is nine modules)
        from apirec.pytest.usage_objects import referenced_objects
        from apirec.stores.msgpack.writer import FILE_NAME

        root = self.config.rootpath
        stores: dict[str, str] = {}
        used: dict[str, dict[str, list[int]]] = {}
        for location, key, index in sorted(self.state.used):
            name = relative(location, root)
            if name not in used:  # a store only some other recording used (a conftest's)
                msgpack = (Path(location) / FILE_NAME).exists()
                stores.setdefault(name, "msgpack" if msgpack else "json")
            used.setdefault(name, {}).setdefault(key, []).append(index)
        ran: dict[str, list[str]] = {}
        for node_id, locations in sorted(self.state.complete.items()):
            for location, kind in sorted(locations):
                stores[relative(location, root)] = kind  # as the test's recording opened it
            ran[scrub_text(node_id)] = sorted(
                {relative(location, root) for location, _ in locations}
            )
        opened = {location for location, _, _ in self.state.used}
        opened.update(loc for locations in self.state.complete.values() for loc, _ in locations)
        objects = referenced_objects(opened | self.suite_stores)
        unknown = {*objects["unreadable"], *self.unknown_stores}
        objects["unreadable"] = sorted({scrub_text(u) for u in unknown})  # ids as the gate's
        passed = sorted(
            scrub_text(n) for n, ok in self.outcomes.items() if ok and n in self.finished
        )
        return {
            "apirec_usage": FORMAT,
            "rootdir": str(root),
            "started_at": self.started_at,
            "commit": head_commit(root),
            "stores": dict(sorted(stores.items())),
            **objects,
            "used": used,
            "ran_in_full": ran,
            "suite": {
                "collected": sorted({scrub_text(n) for n in self.collected}),
                "passed": passed,
                "narrowed": sorted({scrub_text(n) for n in self.narrowed}),
            },
        }


def write_report(path: Path, report: dict[str, Any]) -> None:
    """Write atomically: a shard killed while writing leaves no half report to mislead."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
