"""Every recording opened while pytest runs, not only the plugin's own: a conftest's session or
autouse fixture doing ``with apirec.recording(dir):`` (the migration from llama-stack), one
opened at import of a conftest.py, or one a test opens itself. Each registers with the session
as it opens (:func:`apirec.record.closing.observe_opening`), so that:

* a replay miss made in a test's context (its node id, which the plugin sets for every test,
  and which threads and tasks with no test of their own fall back to) that the code under test
  swallowed fails that test at teardown, with the miss message. A miss under
  ``apirec.test_context(None)`` (or another test's id) belongs to no test here and fails none;
  the misses of the plugin's own recording of a test are that test's whatever their context;
  those of a recording the test's own code opened (``with apirec.recording`` in its body,
  around ``pytest.raises`` or not) are left to the test, as before;
* its calls count in the session summary, and a recording still open when the session ends
  (one opened at import) is counted then;
* the unused recordings (``--apirec-prune``, ``--apirec-usage``) of a test in a store are
  judged once the test ran in full with a recording on that store open in a mode that reads
  it, and that recording got a call while the test ran: a store whose calls went to another
  process (a server under test) is never judged from here.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Generator

import pytest

from apirec.errors import BudgetExceeded, RecordingNotFound, StoreError
from apirec.pytest.network import caught_anyway, is_in_chain
from apirec.pytest.session import READING, SessionState
from apirec.record.closing import Recording, observe_misses, observe_opening
from apirec.record.context import current_test_id, open_recordings
from apirec.record.recording import Recording as OpenRecording

# per test: the errors its setup and call raised (a miss in them was not swallowed), and the
# misses of the plugin's own recording of it
RAISED = pytest.StashKey[list[BaseException]]()
OWN_MISSES = pytest.StashKey[list[RecordingNotFound]]()
# a replay miss, or a stored answer that could not be read (a payload missing from the remote)
Miss = RecordingNotFound | StoreError | BudgetExceeded
# pytest's skip and xfail outcomes: a miss in their chain was swallowed, not raised
_OUTCOMES = (pytest.skip.Exception, pytest.xfail.Exception)


def _calls(rec: Recording) -> int:
    s = rec.stats
    return s.replayed + s.recorded + s.live + s.missed


class OpenedHooks:
    """The session's view of every recording that opens; registered once per process."""

    def __init__(self, state: SessionState, in_call: bool = False) -> None:
        self.state = state
        self.known: weakref.WeakSet[Recording] = weakref.WeakSet()
        self.misses: dict[str, list[Miss]] = defaultdict(list)
        # while a test runs: each recording open during it -> its calls when it began
        self.window: dict[Recording, int] | None = None
        self._undo = [
            observe_opening(self.opened),
            observe_misses(self.missed),
        ]
        if current_test_id() is not None:  # loaded while a test runs: its window starts now
            self.window = {}
        # recordings a test's own code opened (in its call): it asserts their misses itself
        self.in_call = False
        self.own: list[Recording] = []
        for rec in open_recordings():  # opened before the plugin loaded (a conftest's import)
            if isinstance(rec, OpenRecording):
                self.opened(rec)
        # the one whose opening loaded the plugin is told again (late_opening)
        self.in_call = in_call

    def opened(self, rec: Recording) -> None:
        if rec not in self.known:
            self.known.add(rec)
            self.state.seen += 1
        if self.window is not None:
            self.window.setdefault(rec, _calls(rec))
        if self.in_call:
            self.own.append(rec)

    def missed(self, error: Miss) -> None:
        test_id = current_test_id()  # the caller's context: the test that made the call
        if test_id is not None:
            self.misses[test_id].append(error)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        for undo in self._undo:
            undo()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.misses.clear()  # a miss of a test that has ended fails nothing now
        self.own = []
        item.stash[RAISED] = []
        self.window = {}
        for rec in open_recordings():
            if isinstance(rec, OpenRecording):
                self.opened(rec)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, object, object]:
        self.in_call = True
        try:
            return (yield)
        finally:
            self.in_call = False

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, object, object]:
        __tracebackhide__ = True  # set before the yield: an error passes through it too
        try:
            result = yield  # a teardown that failed already tells its story
        finally:
            self._judge_stores(item.nodeid)
        own, self.own = self.own, []
        left = {
            id(m)
            for rec in own
            for m in (*getattr(rec, "misses", ()), *getattr(rec, "read_errors", ()))
        }
        fail_if_swallowed(item, self.misses.pop(item.nodeid, []), left)
        return result

    def _judge_stores(self, node_id: str) -> None:
        window, self.window = self.window or {}, None
        for rec, before in window.items():
            if rec.mode in READING and _calls(rec) > before:
                location = self.state.location_of(rec.settings.path)  # resolve(), cached
                self.state.pending[node_id].add((location, rec.settings.store))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        error = call.excinfo.value if call.excinfo is not None else None
        # ``except Exception: pytest.skip(...)`` swallowed it all the same
        if (
            error is not None
            and call.when in ("setup", "call")
            and not isinstance(error, _OUTCOMES)
        ):
            item.stash.setdefault(RAISED, []).append(error)
        return report

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        # recordings still open (opened at import, never closed) count what they did so far
        for rec in open_recordings():
            if isinstance(rec, OpenRecording):
                self.state.recording_closed(rec)


def fail_if_swallowed(item: pytest.Item, misses: list[Miss], left_to_the_test: set[int]) -> None:
    """Fail the test when a miss of its own was not in what its setup or call raised
    (``left_to_the_test``: the ids of the misses of recordings the test opened itself)."""
    seen = {id(m) for m in misses}
    misses = [m for m in misses if id(m) not in left_to_the_test]
    misses += [m for m in item.stash.get(OWN_MISSES, []) if id(m) not in seen]
    raised = item.stash.get(RAISED, [])
    swallowed = [m for m in misses if not any(is_in_chain(m, r) for r in raised)]
    if not swallowed:
        return
    __tracebackhide__ = True
    first = swallowed[0]
    if isinstance(first, StoreError):
        raise StoreError(caught_anyway("store error", swallowed), path=first.path)
    if isinstance(first, BudgetExceeded):
        raise BudgetExceeded(
            caught_anyway("call refused by the record budget", swallowed),
            budget=first.budget,
            spent=first.spent,
        )
    raise RecordingNotFound(
        caught_anyway("replay miss", swallowed),
        function=first.function,
        key=first.key,
        arguments=first.arguments,
        location=first.location,
        test_id=first.test_id,
    )
