"""The plugin's side of sequences (:mod:`apirec.record.sequences`, DESIGN §13).

* ``repeats``: the marker option ``repeats=``, ``--apirec-repeats=exact|last`` and the ini key
  ``apirec_repeats``; marker > command line > ini > ``APIREC_REPEATS`` > not set (a miss past
  the end; llama-stack keys repeat).
* Answers a test left unplayed (:mod:`apirec.record.unplayed`): judged at the teardown of each
  test whose recording replays (``replay`` or ``record-if-missing``) and whose call passed (a
  test that failed already tells its story); counted in the session summary and named with
  ``-v``; with ``--apirec-strict`` or ini ``apirec_strict`` the test fails at teardown. Each
  store is read once per session for it (:func:`apirec.record.unplayed.owned`): without
  ``--apirec-strict``, as the session ends, when the answers the run played (nearly all, in a
  suite that replays) need no reading; with it, at the first teardown that asks.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from apirec.errors import ApirecError, called
from apirec.pytest.servers import record_command
from apirec.pytest.session import more_verbose
from apirec.record.calls import open_store
from apirec.record.context import open_recordings
from apirec.record.layers import first_given
from apirec.record.modes import Mode
from apirec.record.recording import Recording
from apirec.record.sequences import parse_repeats
from apirec.record.unplayed import Owned, Unplayed, describe, owned, unplayed

MARKER_OPTIONS = ("repeats",)


@dataclass(frozen=True)
class SequenceOptions:
    repeats: str | None
    strict: bool


OPTIONS = pytest.StashKey[SequenceOptions]()
# (directory, store kind) -> its answers by test id, read once per session
INDEX = pytest.StashKey[dict[tuple[str, str], Owned]]()
# the tests judged as the session ends (no --apirec-strict): (node id, the store's directory
# and kind, what counted as played at its teardown)
DEFERRED = pytest.StashKey[list[tuple[str, str, str, "_Played"]]]()


def _read(value: Any, source: str) -> str | None:
    if value is None or value == "":
        return None
    try:
        return parse_repeats(str(value).strip(), source)
    except ValueError as e:
        raise pytest.UsageError(str(e)) from None


def configure(config: pytest.Config) -> None:
    # APIREC_REPEATS, the next layer, is read by the recording (record.sequences)
    given = first_given(
        command_line=("--apirec-repeats", config.getoption("apirec_repeats") or None),
        ini=("ini apirec_repeats", config.getini("apirec_repeats") or None),
    )
    strict = config.getoption("apirec_strict")
    config.stash[OPTIONS] = SequenceOptions(
        repeats=None if given is None else _read(given.value, given.source),
        strict=bool(strict if strict is not None else config.getini("apirec_strict")),
    )
    config.stash[INDEX] = {}
    config.stash[DEFERRED] = []


def settings_layer(config: pytest.Config, marker: dict[str, Any], where: str) -> dict[str, Any]:
    """``repeats`` for one test: marker > command line > ini (None: the environment's)."""
    repeats = _read(marker.get("repeats"), f"{where}: repeats")
    return {"repeats": repeats or config.stash[OPTIONS].repeats}


def judge(
    item: pytest.Item,
    rec: Recording,
    used: set[tuple[str, str, int]],
    found: dict[str, list[Unplayed]],
    location: str | None = None,
) -> None:
    """After a passing test: note the answers it left unplayed in ``found`` (node id ->
    answers) and, under ``--apirec-strict``, fail it naming them. ``location``: the real path
    of the recording's directory, when the caller knows it."""
    if rec.mode not in (Mode.REPLAY, Mode.RECORD_IF_MISSING):
        return
    location = location or str(rec.settings.path.resolve())
    played = _Played(location, used)
    if not item.config.stash[OPTIONS].strict:  # only counted: judged as the session ends
        item.config.stash[DEFERRED].append((item.nodeid, location, rec.settings.store, played))
        return
    index = _index(item.config, location, rec.settings.store)
    if not index.get(item.nodeid):
        return  # nothing stored for this test: the common case for new tests, no store read
    try:
        missing = unplayed(index, [item.nodeid], played, rec.store)  # the one it read
    except ApirecError:
        return
    if not missing:
        return
    found[item.nodeid] = missing
    if item.config.stash[OPTIONS].strict:
        __tracebackhide__ = True
        again = rec.settings.extra.get("record_again_command") or record_command(item, "record")
        pytest.fail(_message(item.nodeid, _shortened(missing), again), pytrace=False)


def judge_deferred(
    config: pytest.Config,
    used: set[tuple[str, str, int]],
    found: dict[str, list[Unplayed]],
    hints: dict[str, str | None] | None = None,
) -> None:
    """As the session ends: note in ``found`` the answers each test judged later left
    unplayed; each store is read once, the answers the run played (``used``) left out."""
    deferred, config.stash[DEFERRED] = config.stash[DEFERRED], []
    by_store: dict[tuple[str, str], list[tuple[str, _Played]]] = defaultdict(list)
    for node_id, location, kind, played in deferred:
        by_store[(location, kind)].append((node_id, played))
    from apirec.record.settings import Settings

    for (location, kind), tests in by_store.items():
        try:
            store = open_store(Settings(path=Path(location), store=kind))
            asked = {node_id for node_id, _ in tests}
            index = owned(store, _Played(location, used, open_too=False), of=asked, hints=hints)
        except ApirecError:
            continue
        for node_id, played in tests:
            if not index.get(node_id):
                continue
            try:
                missing = unplayed(index, [node_id], played, store)
            except ApirecError:
                continue
            if missing:
                found[node_id] = missing


class _Played:
    """Whether a recording on ``location`` played ``(key, slot)``: one that closed (the
    session's books) or one still open (a session fixture's)."""

    def __init__(
        self, location: str, used: set[tuple[str, str, int]], *, open_too: bool = True
    ) -> None:
        self.location, self.used = location, used
        self.open: list[set[tuple[str, int]]] = []
        for rec in open_recordings() if open_too else ():
            settings = getattr(rec, "settings", None)
            if settings is not None and str(settings.path.resolve()) == location:
                self.open.append(getattr(rec, "used", set()))

    def __contains__(self, answer: object) -> bool:
        if not isinstance(answer, tuple) or len(answer) != 2:
            return False
        key, slot = answer
        return (self.location, key, slot) in self.used or any(answer in u for u in self.open)


def _index(config: pytest.Config, location: str, kind: str) -> Owned:
    cache = config.stash[INDEX]
    index = cache.get((location, kind))
    if index is None:
        from apirec.record.settings import Settings

        try:
            index = owned(open_store(Settings(path=Path(location), store=kind)))
        except ApirecError:
            index = {}
        cache[(location, kind)] = index
    return index


def _short(path: str) -> str:
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def _shortened(answers: list[Unplayed]) -> list[Unplayed]:
    return [replace(u, file=_short(u.file)) for u in answers]


def _message(node_id: str, missing: list[Unplayed], record_again: str) -> str:
    n = len(missing)
    lines = [
        f"apirec: {node_id} left {n} recorded {'answer' if n == 1 else 'answers'} unplayed "
        f"(--apirec-strict): the code under test now makes fewer calls than when it was "
        f"recorded."
    ]
    lines += [f"  {called(u.function)} key {u.key} slot {u.slot}: {u.file}" for u in missing]
    lines += [
        "If the fewer calls are right, record the test again (its unplayed answers go):",
        f"  {record_again}",
        "else find why the calls stopped.",
    ]
    return "\n".join(lines)


def write_summary(found: dict[str, list[Unplayed]], reporter: Any) -> None:
    """The line of tests that left answers unplayed, and with ``-v`` what each left (the
    answers ``--apirec-prune`` deleted are gone from ``found``: it counts them)."""
    if not found:
        return
    n = len(found)
    # under --apirec-strict those tests have failed already: the option is no advice then
    options = reporter.config.stash.get(OPTIONS, None)
    strict = options is not None and options.strict
    judged = "--apirec-strict failed them" if strict else "--apirec-strict fails them"
    reporter.write_line(
        f"apirec: {n} {'test' if n == 1 else 'tests'} left answers unplayed "
        f"({more_verbose(reporter.config)} names them; {judged})"
    )
    if reporter.config.getoption("verbose") > 0:
        for node_id in sorted(found):
            for line in describe(_shortened(found[node_id])):
                reporter.write_line(f"  unplayed: {line}")
