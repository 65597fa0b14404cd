"""What the pytest plugin keeps for a session: counts, used recordings, tests that ran in full.

Kept in ``config.stash`` (one per process). Under pytest-xdist each worker sends
:meth:`SessionState.to_wire` to the controller, which merges them before deciding which
recordings no test used. A recording counts as unused only when the test it belongs to
(its ``test_id``) ran in full in this session: passed setup, call and teardown, with its
recording in a mode that reads the store, or, in a run that collected the whole suite, is a
test the suite no longer has (:mod:`apirec.pytest.suite`). Recordings with no test id
(``shared=True``) are never unused: the plugin cannot know that every test that shares them ran.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from collections import defaultdict
from collections.abc import Callable
from dataclasses import astuple, dataclass, field, fields
from pathlib import Path
from typing import Any

from apirec.errors import ApirecError
from apirec.record.calls import Stats, open_store
from apirec.record.closing import Recording as ClosedRecording
from apirec.record.context import current_test_id
from apirec.record.modes import Mode
from apirec.record.recording import Recording
from apirec.record.renames import Move
from apirec.record.settings import Settings
from apirec.record.unplayed import Unplayed
from apirec.stores.entry_summary import test_id_of
from apirec.stores.json_store import JsonStore
from apirec.stores.ledger import money_text, tokens_count

# Modes whose tests say something about which recordings are needed; live reads nothing.
READING = (Mode.REPLAY, Mode.RECORD_IF_MISSING, Mode.RECORD)
_COUNTS = tuple(f.name for f in fields(Stats))


@dataclass(frozen=True)
class Unused:
    store: str
    key: str
    index: int
    path: str
    test_id: str
    gone: bool = False  # its test is not in the suite any more (apirec.pytest.suite)


@dataclass
class SessionState:
    stats: Stats = field(default_factory=Stats)
    used: set[tuple[str, str, int]] = field(default_factory=set)
    # node id -> stores (directory, kind) its recording used, once it has run in full
    complete: dict[str, set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))
    pending: dict[str, set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))
    failed: set[str] = field(default_factory=set)
    recordings: int = 0  # tests that had a recording
    seen: int = 0  # recordings opened in the session, the plugin's or not (apirec.pytest.opened)
    nothing_recorded: int = 0  # tests whose recordings in a recording mode got no call
    # tests of a replay run that reached a non-loopback host outside any recording
    reached_network: int = 0
    # tests during which some recording (the plugin's or one the test opened) got a call
    intercepted: set[str] = field(default_factory=set)
    # the counts of each recording already added (one recording may close many times)
    _counted: weakref.WeakKeyDictionary[ClosedRecording, Stats] = field(
        default_factory=weakref.WeakKeyDictionary
    )
    unused: list[Unused] | None = None  # None until the end of a session that was not cut short
    whole_suite: bool = False  # the run collected the whole suite: find_unused counted gone tests
    deleted: list[str] = field(default_factory=list)
    deleted_blobs: list[str] = field(default_factory=list)  # blobs/ files no recording needs
    judged: list[tuple[str, str]] = field(default_factory=list)  # stores find_unused looked in
    prune_errors: list[str] = field(default_factory=list)
    # renamed tests (apirec.pytest.renames): recordings moved, and calls recorded again
    moves: list[Move] = field(default_factory=list)
    recorded_again: list[tuple[str, str]] = field(default_factory=list)
    # node id -> the answers it left unplayed (apirec.pytest.sequences); prune drops those it
    # deletes
    unplayed: dict[str, list[Unplayed]] = field(default_factory=dict)
    _locations: dict[tuple[str, str], str] = field(default_factory=dict)  # see location_of
    # file -> its owner hint, shared by the session end's unplayed and unused books
    owner_hints: dict[str, str | None] = field(default_factory=dict)

    def location_of(self, path: Path) -> str:
        """``str(path.resolve())``, how the books name a store, without a walk over each
        component of the path per recording: the real path found before (per path and, for
        a relative one, working directory) stands while it is still the very directory the
        path names; otherwise (made anew, a symlink changed, gone) it is looked up again."""
        name = os.fspath(path)
        key = ("" if os.path.isabs(name) else os.getcwd(), name)
        known = self._locations.get(key)
        if known is not None:
            with contextlib.suppress(OSError):
                if os.path.samestat(os.stat(name), os.stat(known)):
                    return known
        location = str(path.resolve())
        self._locations[key] = location
        return location

    def recording_closed(self, rec: ClosedRecording) -> None:
        """Any recording has closed (the plugin's or one the tests opened themselves, such as
        a conftest's ``apirec.recording(dir)``): add its new counts and what it used, so that
        a recording some other recording on the directory used is never judged unused."""
        counted = self._counted.setdefault(rec, Stats())
        for name in _COUNTS:
            now = getattr(rec.stats, name)
            setattr(self.stats, name, getattr(self.stats, name) + now - getattr(counted, name))
            setattr(counted, name, now)
        location = self.location_of(rec.settings.path)
        self.used.update((location, key, index) for key, index in rec.used)
        test_id = current_test_id()
        if test_id is not None and rec.intercepted:
            self.intercepted.add(test_id)

    def add_recording(self, node_id: str, rec: Recording) -> None:
        """The plugin's recording of a test has closed: its stores are judged once it passed."""
        self.recordings += 1
        if rec.mode in READING:
            location = self.location_of(rec.settings.path)
            self.pending[node_id].add((location, rec.settings.store))

    def add_report(self, node_id: str, when: str, passed: bool) -> None:
        if not passed:
            self.failed.add(node_id)
        if when != "teardown":
            return
        stores = self.pending.pop(node_id, None)
        if stores and node_id not in self.failed:
            self.complete[node_id].update(stores)

    # -- xdist -------------------------------------------------------------------------------

    def to_wire(self) -> dict[str, Any]:
        """Plain data for execnet (lists, dicts, str, int)."""
        return {
            "stats": [getattr(self.stats, f.name) for f in fields(Stats)],
            "used": sorted(self.used),
            "complete": {k: sorted(v) for k, v in self.complete.items()},
            "recordings": self.recordings,
            "seen": self.seen,
            "nothing_recorded": self.nothing_recorded,
            "reached_network": self.reached_network,
            "moves": [astuple(move) for move in self.moves],
            "recorded_again": [list(pair) for pair in self.recorded_again],
            "unplayed": {k: [astuple(u) for u in v] for k, v in self.unplayed.items()},
        }

    def merge(self, wire: dict[str, Any]) -> None:
        for f, n in zip(fields(Stats), wire["stats"], strict=True):
            setattr(self.stats, f.name, getattr(self.stats, f.name) + n)
        self.used.update((s, k, i) for s, k, i in wire["used"])
        for node_id, stores in wire["complete"].items():
            self.complete[node_id].update((d, kind) for d, kind in stores)
        self.recordings += wire["recordings"]
        self.seen += wire.get("seen", 0)
        self.nothing_recorded += wire["nothing_recorded"]
        self.reached_network += wire.get("reached_network", 0)
        self.moves.extend(Move(*move) for move in wire["moves"])
        self.recorded_again.extend((old, new) for old, new in wire["recorded_again"])
        for node_id, answers in wire.get("unplayed", {}).items():
            self.unplayed[node_id] = [Unplayed(*answer) for answer in answers]

    # -- end of session ----------------------------------------------------------------------

    def find_unused(self, gone: Callable[[str, str], bool] | None = None) -> list[Unused]:
        """Stored recordings of tests that ran in full that none of their calls asked for, and
        with ``gone`` (the run collected the whole suite), those of the tests it says are gone."""
        self.whole_suite = gone is not None
        by_store: dict[tuple[str, str], set[str]] = defaultdict(set)
        for node_id, stores in self.complete.items():
            for store in stores:
                by_store[store].add(node_id)
        unused: list[Unused] = []
        self.judged = sorted(by_store)
        for (location, kind), tests in sorted(by_store.items()):
            unused.extend(self._unused_in(location, kind, tests, gone))
        self.unused = unused
        return unused

    def _unused_in(
        self, location: str, kind: str, tests: set[str], gone: Callable[[str, str], bool] | None
    ) -> list[Unused]:
        try:
            store = open_store(Settings(path=Path(location), store=kind))
        except ApirecError:
            return []
        highest_used: dict[str, int] = {}
        for loc, key, index in self.used:
            if loc == location:
                highest_used[key] = max(index, highest_used.get(key, -1))
        found: list[Unused] = []
        try:
            entries = list(store.entries())
        except ApirecError:
            return found  # a damaged store is not "unused"; `apirec verify` reports it
        for key, index, path in entries:
            # Never open a gap in a sequence: only answers past the last one used can go.
            if index <= highest_used.get(key, -1):
                continue
            if isinstance(store, JsonStore):
                # the other tests' recordings are passed over unparsed: only skipping trusts
                # the hint, every recording judged unused is parsed below
                hint = store.owner_hint(key, index, self.owner_hints)
                if (
                    hint is not None
                    and hint not in tests
                    and (gone is None or not gone(hint, location))
                ):
                    continue
            try:
                if isinstance(store, JsonStore):  # its test id is all that is needed here
                    entry = store.read(key, index, resolve_blobs=False)
                else:
                    entry = store.read(key, index)
            except ApirecError:
                continue  # a broken file is not "unused"; `apirec verify` reports it
            if entry is None:
                continue
            owner = test_id_of(entry)
            if owner is not None and owner in tests:
                found.append(Unused(location, key, index, path, owner))
            elif owner is not None and gone is not None and gone(owner, location):
                found.append(Unused(location, key, index, path, owner, gone=True))
        return found

    def prune(self) -> None:
        """Delete the unused recordings found (JSON store files only)."""
        for item in self.unused or ():
            path = Path(item.path)
            if path.parent != Path(item.store) or path.suffix != ".json":
                self.prune_errors.append(f"{item.path}: not a JSON store file, left in place")
                continue
            try:
                os.unlink(path)
            except FileNotFoundError:
                continue
            except OSError as e:
                self.prune_errors.append(f"{item.path}: {e.strerror or e}")
                continue
            self.deleted.append(item.path)
        self._forget_deleted()
        for location, kind in self.judged:  # with the recordings go the blobs only they used
            if kind == "json":
                gone, why = JsonStore(location).remove_unreferenced_blobs()
                self.deleted_blobs += [str(path) for path in gone]
                if why is not None:
                    self.prune_errors.append(f"the blobs in {location} are kept: {why}")

    def _forget_deleted(self) -> None:
        """Answers just deleted are no longer unplayed: the summary counts them as deleted."""
        gone = {os.path.abspath(path) for path in self.deleted}
        for node_id, answers in list(self.unplayed.items()):
            kept = [u for u in answers if os.path.abspath(u.file) not in gone]
            if kept:
                self.unplayed[node_id] = kept
            else:
                del self.unplayed[node_id]


def _plural(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _short(path: str) -> str:
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def _miss_kinds(s: Stats) -> str:
    """``: 2 changed, 1 new``: whether the test had a stored call of the function that missed
    (shared recordings, for a shared function), and the expired answers refused: each miss
    is counted as one of them (apirec.record.stored_answers.Answers.missed)."""
    text = f": {s.missed_changed} changed, {s.missed_new} new"
    return text + (f", {s.missed_expired} expired" if s.missed_expired else "")


def _duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    return f"{minutes // 60}h {minutes % 60:02d}m"


def _worth_saying(seconds: float, tokens: int) -> bool:
    """Tokens, or a second at least: a suite of quick functions of its own hears nothing."""
    return bool(tokens) or seconds >= 1.0


def _saved(s: Stats) -> str:
    """``; saved 14m 02s of live calls and 1.2M tokens ($3.06)``, from the replayed answers'
    ledgers; nothing when none of them has one (recorded before apirec kept a ledger), or they
    add up to less than a second and no tokens. Answers that name a model and report no usage
    are counted apart: their tokens are unknown, not zero."""
    known = s.replayed - s.saved_unknown
    if (
        s.replayed == 0
        or known <= 0
        or not _worth_saying(s.saved_seconds, s.saved_input_tokens + s.saved_output_tokens)
    ):
        return ""
    text = f"; saved {_duration(s.saved_seconds)} of live calls"
    tokens = s.saved_input_tokens + s.saved_output_tokens
    if tokens:
        text += f" and {tokens_count(tokens)}"
    text += _cost(s.saved_cost, s.saved_unpriced)
    text += _no_usage(s.saved_no_usage)
    if s.saved_unknown:
        text += f" ({s.saved_unknown} recorded before the ledger: unknown)"
    return text


def _cost(dollars: float, unpriced: int) -> str:
    """`` ($0.41, 2 answers of unpriced models)``: the cost of the priced answers, and how many
    are not priced, each when there is one (priced answers that cost nothing say nothing)."""
    parts = [money_text(dollars)] if dollars else []
    if unpriced:
        parts.append(f"{_plural(unpriced, 'answer')} of unpriced models")
    return f" ({', '.join(parts)})" if parts else ""


def _no_usage(answers: int) -> str:
    return f" ({_plural(answers, 'answer')} reported no usage: tokens unknown)" if answers else ""


def _spent(s: Stats, budget: Any) -> str:
    """``; recording spent 45.1s and 12.3k tokens ($0.41) of the 200k budget`` (``live calls
    spent``: a compare run's, or a live run's under a budget; they store nothing). Under a
    budget the tokens and dollars are the budget's count: every process of the run (xdist
    workers, programs the tests started under ``apirec run``), not only this one's."""
    tokens, cost = s.spent_tokens, s.spent_cost
    if budget is not None:
        tokens, dollars = budget.spent()
        cost = dollars if dollars else cost
    here = bool(s.recorded or s.live)  # this process made live calls: their time is known
    if not (here or tokens) or not (budget is not None or _worth_saying(s.spent_seconds, tokens)):
        return ""
    what = "live calls" if s.live and not s.recorded else "recording"
    parts = [_duration(s.spent_seconds)] if here else []
    if tokens:
        parts.append(tokens_count(tokens))
    text = f"; {what} spent {' and '.join(parts)}"
    if cost:
        text += f" ({money_text(cost)})"
    if budget is not None:
        text += f" of the {budget.text} budget"
    return text + _no_usage(s.spent_no_usage)


def write_summary(state: SessionState, prune: bool, reporter: Any, budget: Any = None) -> None:
    """The end-of-session line, and with ``-v`` the unused files."""
    s = state.stats
    counts = f"{s.replayed} replayed, {s.recorded} recorded, {s.live} live, {s.missed} missed"
    if s.missed:
        counts += _miss_kinds(s)
    counts += _saved(s)
    counts += _spent(s, budget)
    if s.refused_by_budget:
        counts += f"; {_plural(s.refused_by_budget, 'call')} refused by the budget"
    unused = len(state.unused or ())
    # a run of part of the suite cannot tell the recordings of tests the suite no longer has
    notes = [] if state.whole_suite else ["counting only the tests that ran"]
    lost = sum(item.gone for item in state.unused or ())
    of_lost = f", {lost} of them of tests the suite no longer has" if lost else ""
    if state.unused is None:
        tail = "unused recordings not checked (the run was interrupted)"
    elif prune:
        tail = f"deleted {_plural(len(state.deleted), 'unused recording')}{of_lost}"
        if state.deleted_blobs:
            tail += f" and {_plural(len(state.deleted_blobs), 'blob')} no recording refers to"
        tail += f" ({notes[0]})" if notes else ""
    else:
        tail = f"{_plural(unused, 'stored recording')} no test used{of_lost}"
        if unused:
            notes += ["delete with --apirec-prune", f"{more_verbose(reporter.config)} lists them"]
        tail += f" ({'; '.join(notes)})" if notes else ""
    if s.errors_not_stored:
        counts += f"; {_plural(s.errors_not_stored, 'transient error')} not stored"
    if state.nothing_recorded:
        counts += f"; {_plural(state.nothing_recorded, 'test')} recorded nothing"
    reporter.write_sep("-", "apirec")
    reporter.write_line(f"apirec: {counts}; {tail}")
    if reporter.config.getoption("verbose") > 0 and not prune:
        for item in state.unused or ():
            note = ", not in the suite any more" if item.gone else ""
            reporter.write_line(f"  unused: {_short(item.path)} ({item.test_id}{note})")
    for problem in state.prune_errors:
        reporter.write_line(f"  not deleted: {problem}")


def more_verbose(config: Any) -> str:
    """The flag that, added to this run's, lists what a summary line counts: ``-v``, or
    ``-vv`` when ``-q`` was given (``-q -v`` is the default verbosity, which lists nothing)."""
    verbosity = int(config.getoption("verbose"))
    return "-" + "v" * max(1, 1 - verbosity)
