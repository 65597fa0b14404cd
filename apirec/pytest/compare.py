"""``--apirec-mode=compare`` under pytest: the report and the verdict of a compare run.

Every recording in compare mode (the plugin's, or one a test opened itself) lists how each
live answer differed from the stored one (:mod:`apirec.record.comparing`). At the end of the
run (the xdist workers' results merged by the controller) the plugin writes them, per test and
call, to ``--apirec-compare-report=FILE`` (JSON), prints a summary, and fails the run (exit 1)
when an answer changed structure, or, with ``--apirec-compare=strict``, content too. The tests
themselves pass or fail as they do live: the verdict is the session's.

In a compare run (``--apirec-mode``, ini ``apirec_mode`` or ``APIREC_MODE``) every compare
recording is judged as it closes, wherever it was opened (a conftest's too); in another run only
the plugin's own recordings that a marker put in compare mode are, and a recording a test opens
itself with ``mode="compare"`` is that test's to check (``rec.compared``). A pytest session run
inside a test (pytester, in process) takes the results of the recordings closed while it runs,
and the session around it does not judge them (``_SESSION``).
"""

from __future__ import annotations

import json
import os
import tempfile
import weakref
from collections import Counter, defaultdict
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import pytest

from apirec.errors import InvalidMode, called
from apirec.pytest.usage import relative
from apirec.record.closing import Recording as ClosedRecording
from apirec.record.closing import observe_closing
from apirec.record.comparing import CONTENT, NEW, OUTCOMES, STRUCTURE, TRANSIENT
from apirec.record.modes import Mode, resolve_mode

FORMAT = 1
WIRE_KEY = "apirec-compare"
STRICTNESS = ("report", "strict")
_LISTED = 10  # calls listed per outcome in the summary (all are in the report)
# the innermost session configured in this context: it alone takes the results
_SESSION: ContextVar[CompareHooks | None] = ContextVar("apirec_compare_session", default=None)


HOOKS = pytest.StashKey["CompareHooks"]()


def configure(config: pytest.Config, mode: Mode | None) -> None:
    """``mode``: the run's, from the command line or the ini file (else the environment's)."""
    try:
        resolved = resolve_mode(mode).value
    except InvalidMode:  # a bad APIREC_MODE: each test's recording says so
        resolved = "invalid"
    hooks = config.stash[HOOKS] = CompareHooks(config, resolved == Mode.COMPARE.value)
    hooks.mode = resolved
    config.pluginmanager.register(hooks, "apirec-compare")


def judge(config: pytest.Config, rec: ClosedRecording) -> None:
    """The plugin's own recording of a test closed: judged even when the run is not a compare
    run (a marker's ``mode="compare"``)."""
    hooks = config.stash.get(HOOKS, None)
    if hooks is not None:
        hooks.take(rec)


class CompareHooks:
    def __init__(self, config: pytest.Config, compares: bool) -> None:
        self.config = config
        self.compares = compares  # the run's mode is compare: every recording is judged
        self.strict = config.getoption("apirec_compare", None) == "strict"
        target = config.getoption("apirec_compare_report", None)
        self.path = config.invocation_params.dir / target if target else None
        if self.path is not None and self.path.is_dir():  # refused before any call is paid for
            raise pytest.UsageError(
                f"--apirec-compare-report: {self.path} is a directory; name the report's file "
                f"(such as {self.path / 'compare.json'})"
            )
        self.results: list[dict[str, Any]] = []
        self.mode = Mode.COMPARE.value  # the run's mode, for the error of a report not made
        self.misused = ""  # a report was asked for and nothing was compared: why
        self._taken: weakref.WeakKeyDictionary[ClosedRecording, int] = weakref.WeakKeyDictionary()
        self._stop_observing = observe_closing(self._closed)
        self._outer = _SESSION.get()
        _SESSION.set(self)

    def _closed(self, rec: ClosedRecording) -> None:
        session = _SESSION.get()
        if not self.compares or (session is not None and session is not self):
            return  # not a compare run, or a session run inside this one's tests
        self.take(rec)

    def take(self, rec: ClosedRecording) -> None:
        """A recording closed (it may close many times, and be seen twice): its new results."""
        compared = getattr(rec, "compared", None)
        if not compared:
            return
        taken = self._taken.get(rec, 0)
        self.results.extend(compared[taken:])
        self._taken[rec] = len(compared)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self._stop_observing()
        if _SESSION.get() is self:
            _SESSION.set(self._outer)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        self.results.extend(getattr(node, "workeroutput", {}).get(WIRE_KEY, ()))

    def failing(self) -> list[dict[str, Any]]:
        """The calls that fail the run: a structural difference (or any, when strict)."""
        failing = (STRUCTURE, CONTENT) if self.strict else (STRUCTURE,)
        return [r for r in self.results if r["outcome"] in failing]

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:  # an xdist worker: the controller reports
            workeroutput[WIRE_KEY] = self.results
            return
        if not self.results and self.path is None:
            return
        if not self.results and not self.compares:
            # a nightly job run in the wrong mode must not go green on an empty report
            self.misused = (
                f"--apirec-compare-report={_short(str(self.path))}: the run's mode is "
                f"{self.mode}, not compare, and no test's marker set mode='compare': nothing "
                f"was compared and no report was written; run with --apirec-mode=compare"
            )
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
            return
        if self.path is not None:
            self._write(self.path)
        if self.failing() and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _write(self, path: Path) -> None:
        tests: dict[str, list[dict[str, Any]]] = defaultdict(list)
        root = self.config.rootpath
        for result in self.results:
            if result.get("file"):  # relative to the rootdir, as usage reports' paths are
                result = {**result, "file": relative(str(result["file"]), root)}
            tests[str(result["test"])].append(result)
        report = {
            "apirec_compare": FORMAT,
            "strict": self.strict,
            "totals": _totals(self.results),
            "failed": bool(self.failing()),
            "tests": dict(sorted(tests.items())),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(report, f, indent=2, sort_keys=False)
                f.write("\n")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.misused:
            terminalreporter.write_sep("-", "apirec compare")
            terminalreporter.write_line(f"apirec compare: error: {self.misused}", red=True)
        if hasattr(self.config, "workerinput") or not self.results:
            return
        write = terminalreporter.write_line
        terminalreporter.write_sep("-", "apirec compare")
        # calls the record budget refused were never made: not counted as live calls
        refused = sum(1 for r in self.results if r.get("refused_by_budget"))
        made = [r for r in self.results if not r.get("refused_by_budget")]
        counts = ", ".join(f"{n} {outcome}" for outcome, n in _totals(made).items() if n)
        line = f"apirec compare: {_plural(len(made), 'live call')} compared"
        line += f": {counts}" if counts else ""
        if refused:
            line += f"; {_plural(refused, 'call')} refused by the record budget (not made)"
        write(line)
        for outcome in (STRUCTURE, CONTENT, NEW, TRANSIENT):
            listed = [r for r in self.results if r["outcome"] == outcome]
            for result in listed[:_LISTED]:
                write(f"  {outcome}: {_line(result)}")
                if outcome in (STRUCTURE, CONTENT):
                    for difference in result["differences"]:
                        if outcome == CONTENT or difference["level"] == STRUCTURE:
                            write(f"      {_difference(difference)}")
            if len(listed) > _LISTED:
                write(f"  ... and {len(listed) - _LISTED} more {outcome} (see the report)")
        if self.path is not None:
            write(f"apirec compare: report written to {_short(str(self.path))}")
        failing = self.failing()
        if failing:
            one = len(failing) == 1
            differ = "differs" if one else "differ"
            why = "changed structure" if not self.strict else f"{differ} (--apirec-compare=strict)"
            write(f"apirec compare: the run fails: {_plural(len(failing), 'live answer')} {why}")


def _totals(results: list[dict[str, Any]]) -> dict[str, int]:
    counted = Counter(r["outcome"] for r in results)
    return {outcome: counted.get(outcome, 0) for outcome in OUTCOMES}


def _line(result: dict[str, Any]) -> str:
    where = ""
    if result.get("file"):  # a msgpack store's recording as apirec show takes it: FILE::ENTRY
        entry = f"::{result['entry']}" if result.get("entry") else ""
        where = f" ({_short(result['file'])}{entry})"
    extra = f": {result['error']}" if result.get("error") else ""
    similar = result.get("similarity")
    if result["outcome"] == CONTENT and similar is not None:
        extra = f": text {similar:.0%} similar"
    return f"{result['test']} {called(result['function'])} call {result['call']}{where}{extra}"


def _plural(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _difference(difference: dict[str, str]) -> str:
    path = difference["path"] or "answer"
    return f"{difference['kind']} at {path}: {difference['detail']}"


def _short(path: str) -> str:
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative
