"""The plugin's side of renamed tests: which test ids are gone, ``--apirec-rekey``, the summary.

A test id is gone when this run did not collect it although it would have: its file was
collected in full (no node id of it named on the command line; tests deselected by ``-k``,
``-m`` or ``--deselect`` count as collected), or its file no longer exists. Tests of files
the run left out are not gone, only not run. See :mod:`apirec.record.renames`.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from apirec.pytest.suite import SUITE
from apirec.record.renames import KEY_RULES, RENAMED, Move, Renames

RENAMES = pytest.StashKey[Renames]()
HINT = "Run pytest with --apirec-rekey to move them to this test."


class Collected:
    """Which test ids are gone, from what the run collected (:mod:`apirec.pytest.suite`, which
    the start-up registers before the collection: the plugin may load after it) and the
    files it narrowed to node ids."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.narrowed = {
            self._file_of_arg(arg) for arg in config.args if "::" in arg
        }  # a node id named on the command line: its file's other tests are not collected

    def _file_of_arg(self, arg: str) -> str:
        path = (self.config.invocation_params.dir / arg.split("::", 1)[0]).resolve()
        try:
            return path.relative_to(self.config.rootpath.resolve()).as_posix()
        except ValueError:
            return path.as_posix()

    def gone(self, test_id: str) -> bool:
        suite = self.config.stash[SUITE]  # registered by the start-up's configure, run or not yet
        if test_id in suite.collected:
            return False
        file = test_id.split("::", 1)[0]
        if file in self.narrowed:
            return False
        if file in suite.files:
            return True
        return not (self.config.rootpath / file).exists()


def configure(
    config: pytest.Config, moves: list[Move], recorded_again: list[tuple[str, str]]
) -> None:
    """Keep the session's :class:`Renames` (its books are the session state's lists)."""
    collected = Collected(config)
    config.stash[RENAMES] = Renames(
        collected.gone,
        rekey=bool(config.getoption("apirec_rekey")),
        hint=HINT,
        moves=moves,
        recorded_again=recorded_again,
    )


def settings_extra(config: pytest.Config) -> dict[str, Any]:
    return {"renames": config.stash[RENAMES]} if RENAMES in config.stash else {}


def _short(path: str) -> str:
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path


def write_summary(
    moves: list[Move], recorded_again: list[tuple[str, str]], reporter: Any, *, rekey: bool
) -> None:
    """The moves of ``--apirec-rekey``, and the calls of renamed tests recorded again (without
    it, or with it when several old tests matched)."""
    by_test: dict[tuple[str, str], list[Move]] = defaultdict(list)
    for move in moves:
        if move.reason == RENAMED:
            by_test[(move.old_test, move.new_test)].append(move)
    _write_key_rule_moves([m for m in moves if m.reason == KEY_RULES], reporter)
    if by_test:
        n = len(by_test)
        reporter.write_line(
            f"apirec: moved the recordings of {n} renamed test{'' if n == 1 else 's'} "
            f"(--apirec-rekey):"
        )
        for (old, new), moved in sorted(by_test.items()):
            reporter.write_line(
                f"  {old} -> {new}: {len(moved)} file{'' if len(moved) == 1 else 's'}"
            )
            for move in moved:
                reporter.write_line(f"    {_short(move.old_file)} -> {_short(move.new_file)}")
    again = sorted(set(recorded_again))
    if again:
        tests = len({new for _, new in again})
        reporter.write_line(
            f"apirec: recorded again calls of {tests} test{'' if tests == 1 else 's'} that "
            f"match the recordings of a test this run did not collect (renamed?):"
        )
        why = (
            "several old tests match: not moved, apirec does not guess"
            if rekey
            else "--apirec-rekey moves such recordings instead of recording again"
        )
        for old, new in again:
            reporter.write_line(f"  {old} -> {new} ({why})")


def _write_key_rule_moves(moves: list[Move], reporter: Any) -> None:
    """The recordings ``--apirec-rekey`` moved to the keys today's key rules give them."""
    by_test: dict[str, list[Move]] = defaultdict(list)
    for move in moves:
        by_test[move.new_test].append(move)
    if not by_test:
        return
    n = len(moves)
    reporter.write_line(
        f"apirec: moved {n} recording{'' if n == 1 else 's'} made under older key rules "
        f"(ignore=, normalize=, scrub=...) to their keys today (--apirec-rekey):"
    )
    for test, moved in sorted(by_test.items()):
        reporter.write_line(
            f"  {test or '(shared)'}: {len(moved)} file{'' if len(moved) == 1 else 's'}"
        )
        for move in moved:
            reporter.write_line(f"    {_short(move.old_file)} -> {_short(move.new_file)}")
