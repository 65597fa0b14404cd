"""``apirec drift DIR [--trust PKG ...] [--json]``: do the recordings still fit the classes
installed now?

Offline: every typed value of every recording (JSON files, msgpack stores, llama-stack's
files) is checked by :mod:`apirec.codec.drift` as replay would decode it, and the findings are
listed per type with a count and an example file, beside the package version the type was
recorded with (the recording's ``versions``; "unknown" in files written before apirec kept
them) and the version installed now. Only the packages named with ``--trust`` (and apirec, for
its own types) may be imported to resolve the recorded types, as in ``apirec verify``; the
modules that were imported are listed. Exit 1 when a recording would no longer replay as its
type (or cannot be read), 0 otherwise: fields the class no longer has are reported, and fail
only when replay would then not give a valid instance.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

# imported here, not by the first store read: not listed among the modules a check imported
import apirec.stores.msgpack.store  # noqa: F401
from apirec.cli.answers import Answers
from apirec.cli.base import MSGPACK_FILE as FILE_NAME
from apirec.cli.base import plural, terminal_width
from apirec.cli.common import (
    NARROWEST,
    OK,
    PROBLEMS,
    UsageError,
    _searched,
    say,
    shorten,
    shorten_end,
    table,
)
from apirec.cli.drift_report import Report, TypeReport, ordered
from apirec.cli.progress import Progress
from apirec.codec.drift import Checker
from apirec.codec.type_resolution import _trusted
from apirec.errors import StoreError
from apirec.stores.json_store import Entry


def drift(args: argparse.Namespace) -> int:
    trusted = tuple(args.trust or ())
    before = set(sys.modules)
    report = Report(trusted)
    checker = Checker(trusted)
    answers = Answers(args.remote, "drift")
    with Progress("drift", quiet=args.quiet) as progress:
        for where, entry in recordings(Path(args.path), report, answers):
            response = entry["response"]
            checked = checker.body(response.get("body"))
            data = response.get("exception_data")
            if response.get("is_exception") and isinstance(data, dict):
                checked += checker.error(data)
            report.add(where, entry.get("versions"), checked)
            progress.step()
    imported = sorted(m for m in set(sys.modules) - before if _trusted(m, trusted))
    if args.json:
        json.dump(report.as_json(imported), sys.stdout, indent=2)
        print()
    else:
        _print(report, imported, sys.stdout)
    return PROBLEMS if report.breaks else OK


def recordings(target: Path, report: Report, answers: Answers) -> Iterator[tuple[str, Entry]]:
    """Every recording at ``target`` (a file, or a directory searched recursively, JSON files
    and msgpack stores alike) as (where, entry), as replay reads it (``answers``: the payloads
    kept apart read back); unreadable ones go to ``report``."""
    if target.is_file():
        if target.name == FILE_NAME:
            yield from _msgpack(target.parent, report, answers)
        else:
            yield from _json(target, report, answers)
        return
    if not target.is_dir():
        raise UsageError(f"{target}: no such file or directory")
    for path in sorted(target.rglob(FILE_NAME)):
        if _searched(target, path) and path.is_file():
            yield from _msgpack(path.parent, report, answers)
    for path in sorted(target.rglob("*.json")):
        if _searched(target, path) and path.is_file():
            yield from _json(path, report, answers)


def _json(path: Path, report: Report, answers: Answers) -> Iterator[tuple[str, Entry]]:
    try:
        entry = answers.load(path).entry
    except StoreError as e:
        report.unreadable.append((str(path), str(e)))
        return
    yield str(path), entry


def _msgpack(root: Path, report: Report, answers: Answers) -> Iterator[tuple[str, Entry]]:
    try:
        store = answers.store(root)
    except StoreError as e:
        report.unreadable.append((str(root / FILE_NAME), str(e)))
        return
    try:
        try:
            listed = list(store.entries())
        except StoreError as e:  # damage: apirec verify and repair say more
            report.unreadable.append((str(root / FILE_NAME), str(e)))
            return
        for key, index, where in listed:
            try:
                entry = store.read(key, index)
            except StoreError as e:
                report.unreadable.append((where, str(e)))
                continue
            if entry is not None:
                yield where, entry
    finally:
        store.close()


# -- the readable report ----------------------------------------------------------------------


def _print(report: Report, imported: list[str], out: TextIO) -> None:
    trusted = ", ".join(report.trusted) or "nothing (pass --trust PKG to check PKG's types)"
    say(f"Trusted to import: {trusted}; imported {plural(len(imported), 'module')}", out)
    for where, why in report.unreadable:
        say(f"UNREADABLE  {where}: {why}", out)
    checked = [t for _, t in sorted(report.types.items()) if t.checked]
    for t in sorted(checked, key=lambda t: (not t.breaks, not t.problems, t.name)):
        print(file=out)
        _print_type(report, t, out)
    unchecked = [t for _, t in sorted(report.types.items()) if not t.checked]
    if unchecked:
        print(file=out)
        say("Not checked (apirec may not import their package, or does not rebuild them):", out)
        rows = [[f"{t.values:,}", f"{len(t.files):,}", t.name, _why(t)] for t in unchecked]
        table(rows, ["VALUES", "FILES", "TYPE", "WHY"], out, fit={2: "end", 3: "start"})
    if report.unversioned_breaks:
        print(file=out)
        say(
            f"Note: {plural(report.unversioned_breaks, 'validation problem')} "
            f"{'is' if report.unversioned_breaks == 1 else 'are'} in "
            f"files that do not say which version recorded them (written before apirec kept "
            f"'versions', or by another recorder): they may never have validated, as SDKs "
            f"build responses without validation. Re-recorded files tell drift from that.",
            out,
        )
    broken = [t for t in checked if t.breaks]
    drifted = [t for t in checked if t.problems and not t.breaks]
    status = "FAILED" if report.breaks else "ok"
    print(file=out)
    say(
        f"{status}: {plural(report.recordings, 'recording')}, "
        f"{plural(len(checked), 'type')} checked: {len(broken):,} would no longer replay as "
        f"their type, {len(drifted):,} with fields the class does not read, "
        f"{len(unchecked):,} not checked"
        + (f"; {plural(len(report.unreadable), 'file')} unreadable" if report.unreadable else ""),
        out,
    )


def _print_type(report: Report, t: TypeReport, out: TextIO) -> None:
    state = "BREAKS REPLAY" if t.breaks else ("unknown fields" if t.problems else "ok")
    state = f"  [{state}]"
    width = terminal_width()  # on a terminal, the name keeps its end (the class)
    name = t.name if width is None else shorten(t.name, max(width - len(state), NARROWEST))
    print(name + state, file=out)
    recorded = ", ".join(
        f"{version} ({plural(n, 'file')})" for version, n in sorted(t.recorded.items())
    )
    installed = report.installed(t.name) or "no distribution"
    say(
        f"{plural(t.values, 'value')} in {plural(len(t.files), 'file')}; "
        f"{t.package} recorded: {recorded}; installed: {installed}",
        out,
        indent="  ",
    )
    if not t.problems:
        return
    rows = [
        [
            "breaks" if p.finding.breaks else "",
            p.finding.kind,
            p.finding.field or "-",
            f"{p.values:,}",
            shorten_end(p.finding.detail, 70),
            p.example,
        ]
        for p in ordered(t)
    ]
    table(
        [["  " + r[0], *r[1:]] for r in rows],
        ["  REPLAY", "PROBLEM", "FIELD", "VALUES", "DETAIL", "EXAMPLE"],
        out,
        fit={2: "start", 4: "start", 5: "end"},  # the example file keeps its name
    )


def _why(t: TypeReport) -> str:
    return next(iter(t.problems.values())).finding.detail
