"""Usage reports (``pytest --apirec-usage=FILE``) read by ``apirec prune DIR --usage ...``.

The reports of every shard are merged: a recording goes when some report ran its test in full
with its store, and no report used it. A sequence never gets a gap: of a key's answers, only
those past the last one any report used can go. A shared recording (no test id) goes only
when no report used it and the reports vouch for the whole suite together: none was narrowed
(see :mod:`apirec.pytest.usage`), all collected the same tests, and every one of those tests
passed in some report. Store paths in reports are relative to the pytest rootdir; they are
found here relative to ``--rootdir`` (default: the current directory).

A recording made, or moved to its key by ``--apirec-rekey``, after the run of a report that
judged it began (the later of its ``recorded_at`` and ``moved_at``, else, or within the same
second, its file's modification time, at or after the report's ``started_at``) was not there
to be used: it stays. Of the reports that judged it (ran its
test in full with its store; all of them, for a shared one), the oldest decides. A report
without ``started_at`` (written by an older apirec) is refused: it cannot tell what came
after it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apirec.cli.common import UsageError, key_of
from apirec.errors import command
from apirec.stores import blobs

FORMAT = 1


@dataclass
class Usage:
    """What all the reports say together."""

    stores: set[Path] = field(default_factory=set)
    highest_used: dict[tuple[Path, str], int] = field(default_factory=dict)
    ran: dict[str, set[Path]] = field(default_factory=lambda: defaultdict(set))
    shared_kept: str | None = None  # why shared recordings stay, None when they may go
    # (test id, store) -> when the oldest report that ran it in full began; None: shared
    judged_since: dict[tuple[str | None, Path], dt.datetime] = field(default_factory=dict)
    # (file, started_at, commit) of each report
    reports: list[tuple[str, dt.datetime, str | None]] = field(default_factory=list)

    def unused(self, path: Path, test_id: str | None, *, whole_suite: bool = False) -> bool:
        """Whether the recording at ``path`` (of ``test_id``) may go by these reports;
        ``whole_suite``: as if they vouched for the whole suite (to count what that keeps)."""
        store = path.parent.resolve()
        if store not in self.stores:
            return False
        key, index = key_of(path)
        if index <= self.highest_used.get((store, key), -1):
            return False
        if test_id is None:
            return whole_suite or self.shared_kept is None
        return store in self.ran.get(test_id, ())

    def recorded_after(
        self, path: Path, test_id: str | None, recorded_at: str | None, moved_at: str | None = None
    ) -> bool:
        """Whether the recording at ``path`` was made, or moved to its key (``moved_at``), after
        the oldest report that judged it began (the later of ``recorded_at`` and ``moved_at``
        as stored, else the file's modification time)."""
        since = self.judged_since.get((test_id, path.parent.resolve()))
        if since is None:
            return False
        return _recorded(path, recorded_at, moved_at, since) >= since

    def oldest(self) -> str:
        """The oldest report, for messages: its file, when it began, its commit."""
        name, started, commit = min(self.reports, key=lambda report: report[1])
        at = started.strftime("%Y-%m-%dT%H:%M:%SZ")  # to the second, as recorded_at
        return f"{name} (started {at}{f', commit {commit[:12]}' if commit else ''})"

    def commits(self) -> set[str]:
        return {commit for _, _, commit in self.reports if commit}

    def check_covers(self, target: Path, root: Path) -> None:
        """Fail when no store the reports name is in ``target``: most likely the reports'
        rootdir is not ``root`` (a wrong working directory), and nothing would be pruned."""
        base = target.resolve()
        if not any(store == base or base in store.parents for store in self.stores):
            named = ", ".join(sorted(_shown(s, root) for s in self.stores)) or "none"
            raise UsageError(
                f"prune: none of the stores the usage reports name is under {target} "
                f"(they name: {named}); their paths are relative to the pytest rootdir: "
                f"run from there or pass --rootdir"
            )


def _recorded(
    path: Path, recorded_at: str | None, moved_at: str | None, since: dt.datetime
) -> dt.datetime:
    """When the recording got its key, as compared with ``since``: the later of its
    ``recorded_at`` and ``moved_at`` (to the second; a report written before a move never
    saw the new key), else, or when that is the very second of ``since``, its file's
    modification time (a fresh checkout makes that later, never earlier: such a recording
    is kept)."""
    when = max((t for t in (_utc(recorded_at), _utc(moved_at)) if t is not None), default=None)
    if when is not None and not when <= since < when + dt.timedelta(seconds=1):
        return when
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
    except OSError:  # gone: as if made now (kept)
        return dt.datetime.now(dt.UTC)


def _utc(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _judged(usage: Usage, key: tuple[str | None, Path], started: dt.datetime) -> None:
    known = usage.judged_since.get(key)
    if known is None or started < known:
        usage.judged_since[key] = started


def _shown(store: Path, root: Path) -> str:
    try:
        return str(store.relative_to(root.resolve()))
    except ValueError:
        return str(store)


def load(paths: list[str], root: Path) -> Usage:
    """Read and merge the reports; a malformed one is a :class:`UsageError` naming it."""
    usage = Usage()
    base = root.resolve()
    suites: list[tuple[str, dict[str, Any]]] = []
    for name in paths:
        report = read_report(Path(name))
        for store in report["stores"]:
            usage.stores.add((base / store).resolve())
        for store, keys in report["used"].items():
            location = (base / store).resolve()
            usage.stores.add(location)
            for key, slots in keys.items():
                top = max(slots, default=-1)
                if top > usage.highest_used.get((location, key), -1):
                    usage.highest_used[(location, key)] = top
        started = started_at(report, Path(name))
        usage.reports.append((name, started, report.get("commit")))
        for test_id, stores in report["ran_in_full"].items():
            locations = {(base / s).resolve() for s in stores}
            usage.ran[test_id].update(locations)
            for location in locations:
                _judged(usage, (test_id, location), started)
        for store in report["stores"]:  # every report judges the shared recordings
            _judged(usage, (None, (base / store).resolve()), started)
        suites.append((name, report["suite"]))
    usage.shared_kept = _not_whole_suite(suites)
    return usage


def _not_whole_suite(suites: list[tuple[str, dict[str, Any]]]) -> str | None:
    """Why the reports together do not vouch for every test of the suite, or None."""
    for name, suite in suites:
        if suite["narrowed"]:
            return f"{name} may not cover the whole suite: {suite['narrowed'][0]}"
    first_name, first = suites[0]
    collected = set(first["collected"])
    if not collected:
        return f"{first_name} collected no tests"
    for name, suite in suites[1:]:
        if set(suite["collected"]) != collected:
            return (
                f"the reports collected different tests ({first_name}: {len(collected)}, "
                f"{name}: {len(set(suite['collected']))}); were they run on the same commit?"
            )
    passed: set[str] = set()
    for _, suite in suites:
        passed.update(suite["passed"])
    missing = sorted(collected - passed)
    if missing:
        return (
            f"{len(missing)} test{'' if len(missing) == 1 else 's'} of the suite passed in "
            f"no report (failed, skipped or not run), such as {missing[0]}"
        )
    return None


def started_at(report: dict[str, Any], path: Path) -> dt.datetime:
    started = report.get("started_at")
    if started is None:
        raise UsageError(
            f"{path}: this usage report does not say when its run began (written by an "
            f"older apirec), so prune cannot tell the recordings made after it from those it "
            f"did not use; nothing was deleted. Write it again with "
            f"{command('pytest', f'--apirec-usage={path}')}, or leave it out if it is a leftover"
        )
    when = _utc(started)
    assert when is not None  # checked by _problem
    return when


def read_report(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise UsageError(f"{path}: cannot be read: {e.strerror or e}") from None
    try:
        report = json.loads(raw)
    except json.JSONDecodeError as e:
        raise UsageError(
            f"{path}: not an apirec usage report: not valid JSON (line {e.lineno}, "
            f"column {e.colno}: {e.msg})"
        ) from None
    except (UnicodeDecodeError, RecursionError, ValueError) as e:
        raise UsageError(f"{path}: not an apirec usage report: {e}") from None
    problem = _problem(report)
    if problem is not None:
        raise UsageError(
            f"{path}: not an apirec usage report ({problem}); write one with "
            f"{command('pytest', f'--apirec-usage={path}')}"
        )
    return report  # type: ignore[no-any-return]


def _problem(report: Any) -> str | None:
    """What is wrong with a report's shape, or None."""
    if not isinstance(report, dict):
        return "not a JSON object"
    version = report.get("apirec_usage")
    if version != FORMAT:
        if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT:
            return f"format {version}, newer than this apirec reads ({FORMAT}): upgrade apirec"
        return "no 'apirec_usage': 1"
    if not _mapping_of(report.get("stores"), lambda v: isinstance(v, str)):
        return "'stores' must map store paths to kinds"
    if not _mapping_of(report.get("used"), lambda keys: _mapping_of(keys, _slots)):
        return "'used' must map store paths to {key: [slots]}"
    if not _mapping_of(report.get("ran_in_full"), _strings):
        return "'ran_in_full' must map test ids to lists of store paths"
    started = report.get("started_at")
    if started is not None and not _is_time(started):
        return "'started_at' must be an ISO 8601 time"
    for part in ("objects", "body_objects"):  # for apirec gc; not in older reports
        digests = report.get(part)
        if digests is not None and not (_strings(digests) and all(map(blobs.is_digest, digests))):
            return f"'{part}' must be a list of sha256 digests"
    unreadable = report.get("unreadable")  # for apirec gc; not in older reports
    if unreadable is not None and not _strings(unreadable):
        return "'unreadable' must be a list of strings"
    commit = report.get("commit")
    if commit is not None and not isinstance(commit, str):
        return "'commit' must be a string or null"
    suite = report.get("suite")
    if not isinstance(suite, dict):
        return "'suite' must be an object"
    for part in ("collected", "passed", "narrowed"):
        if not _strings(suite.get(part)):
            return f"'suite.{part}' must be a list of strings"
    return None


def _mapping_of(value: Any, check: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and check(v) for k, v in value.items()
    )


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _slots(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value
    )


def _is_time(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True
