"""``apirec gc REMOTE [DIR...] --usage A.json B.json ... [--dry-run]``: delete the objects
of a remote store that nothing refers to any more.

An object stays when a recording under one of the checkouts given (``DIR``) refers to it, when
a usage report lists it (``objects``: what the recordings of the stores its run opened refer
to, written by ``pytest --apirec-usage``; one report per branch or shard stands for a
checkout that is not here), or when it was stored at or after the moment the oldest report's
run began, or less than ``--min-age`` ago (default one hour): a run recording now uploads its
objects before its recordings exist anywhere. Names under the prefix that are not sha256
digests are not apirec's and are never touched. When some recording cannot be read (under a
``DIR``, or named in a report's ``unreadable``), which objects are needed is unknown: nothing
is deleted. A report that cannot stand for its whole checkout is refused (a usage error):
one whose run may not have collected the whole suite (``suite.narrowed``; ``-k`` and other
deselection are fine, :mod:`apirec.pytest.usage_objects` lists the deselected tests' stores
too), and one written before reports said what they list and could not read.

This is the only command that deletes remote objects; a test run never does.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from apirec.cli import usage
from apirec.cli.base import OK, PROBLEMS, UsageError, plural
from apirec.cli.common import human_size
from apirec.cli.jobs import run_all
from apirec.cli.progress import Progress
from apirec.cli.remote_refs import Walk, Wanted, inside, local_copy, walk
from apirec.cli.transfer import open_given
from apirec.errors import InvalidExpiry, StoreError, command
from apirec.record.expiry import parse_max_age
from apirec.stores.remote.cache import Cache
from apirec.stores.remote.objects import Remote, StoredObject


def gc(args: argparse.Namespace) -> int:
    # `--usage A.json B.json tests/recordings`: a directory after the reports is a checkout
    dirs = [*args.paths, *(p for p in args.usage if Path(p).is_dir())]
    reports = [p for p in args.usage if not Path(p).is_dir()]
    if not dirs and not reports:
        raise UsageError(
            "gc needs what stays: checkouts' recordings (DIR) and/or --usage reports; "
            "it never deletes everything"
        )
    try:
        zero = args.min_age.strip() == "0"  # a zero needs no unit
        min_age = (None if zero else parse_max_age(args.min_age, "--min-age")) or dt.timedelta(0)
    except InvalidExpiry as e:
        raise UsageError(str(e)) from None
    kept, bodies, since, unreadable = _reported(reports)
    remote = open_given(args.remote, "gc")
    if remote.read_only:
        raise UsageError(f"gc: {remote.url} is read-only: it can be neither listed nor cleaned")

    with Progress("gc", quiet=args.quiet) as progress:
        found = walk(dirs, progress.step, every=True)
    kept |= set(found.objects)
    problems = unreadable + found.problems + _inside_bodies(found, bodies, remote, kept)
    if problems:
        for problem in problems:
            print(f"PROBLEM  {problem}")
        print(
            f"FAILED: nothing deleted: which objects are needed is unknown "
            f"({plural(len(problems), 'problem')})"
        )
        return PROBLEMS

    now = dt.datetime.now(dt.UTC)
    stored: list[StoredObject] = []
    doomed: list[StoredObject] = []
    recent = 0
    with Progress("gc", "object", quiet=args.quiet) as progress:
        for obj in remote.list():
            progress.step()
            stored.append(obj)
            if obj.digest in kept:
                continue
            if (  # an object of unknown age is kept as if it were new
                obj.modified is None
                or now - obj.modified < min_age
                or (since is not None and obj.modified >= since)
            ):
                recent += 1
                continue
            doomed.append(obj)

    if kept and not any(obj.digest in kept for obj in stored):
        print(
            f"WARNING  none of the {plural(len(kept), 'referenced object')} is in {remote.url}: "
            f"is the prefix right?"
        )
    verb = "would delete" if args.dry_run else "deleted"
    failed: list[tuple[StoredObject, StoreError]] = []
    if args.dry_run:
        gone = doomed
    else:

        def delete(obj: StoredObject) -> None:
            remote.delete(obj.digest)

        with Progress("gc", "object", quiet=args.quiet) as progress:
            progress.total = len(doomed)
            done, failed = run_all(doomed, delete, args.jobs, progress)
        gone = [obj for obj, _ in done]
        for _, failure in failed:
            print(f"PROBLEM  {failure}")
    for obj in gone:
        print(f"{verb} {remote.url_of(obj.digest)}")
    referenced = len(stored) - len(doomed) - recent
    print(
        f"{'FAILED: ' if failed else ''}{verb} {plural(len(gone), 'object')} "
        f"({human_size(sum(o.size for o in gone))}) of {len(stored):,} in {remote.url}; "
        f"kept {referenced:,} referenced"
        + (f" and {recent:,} stored recently" if recent else "")
        + (f"; {len(failed):,} could not be deleted" if failed else "")
    )
    return PROBLEMS if failed else OK


def _inside_bodies(found: Walk, reported: set[str], remote: Remote, kept: set[str]) -> list[str]:
    """Add to ``kept`` the objects the body objects refer to (read from ``blobs/``, the cache
    or the remote); the problems met."""
    cache = Cache()
    bodies: list[tuple[Wanted, int | None]] = [
        (w, w.size) for w in found.objects.values() if w.body
    ]
    bodies += [(Wanted(d, 0, "a usage report", Path(), body=True), None) for d in reported]
    problems: list[str] = []
    for body, size in bodies:
        try:
            data = local_copy(body, cache) if size is not None else None
            if data is None:
                data = cache.fetch(remote, body.digest, size=size)
            kept.update(w.digest for w in inside(body, data))
        except StoreError as e:
            problems.append(f"{body.recording}: refers to {e}")
    return problems


def _reported(paths: list[str]) -> tuple[set[str], set[str], dt.datetime | None, list[str]]:
    """The objects the usage reports list, the response bodies among them, when the oldest
    report's run began, and the recordings some report could not read (the objects they
    need are unknown). A report that cannot stand for its whole checkout is refused."""
    kept: set[str] = set()
    bodies: set[str] = set()
    since: dt.datetime | None = None
    unreadable: list[str] = []
    for name in paths:
        report = usage.read_report(Path(name))
        objects, unknown = report.get("objects"), report.get("unreadable")
        if objects is None or unknown is None:
            missing = (
                "the remote objects its recordings refer to"
                if objects is None
                else ("which of its recordings it could not read")
            )
            raise UsageError(
                f"{name}: this usage report does not list {missing} (written by an older "
                f"apirec): gc cannot tell what its branch needs; nothing was deleted. Write "
                f"it again with {command('pytest', f'--apirec-usage={name}')}"
            )
        narrowed = report["suite"]["narrowed"]
        if narrowed:
            raise UsageError(
                f"{name}: its run may not have collected the whole suite ({narrowed[0]}), so "
                f"the objects of the tests it left out are not in it: gc cannot tell what its "
                f"branch needs; nothing was deleted. Give gc a report of a run over the whole "
                f"suite (-k, -m and sharding plugins are fine: the stores of the tests they "
                f"deselect are listed), or the branch's checkout (DIR)"
            )
        kept.update(objects)
        bodies.update(report.get("body_objects", ()))
        unreadable += [f"{name}: {problem}" for problem in unknown]
        started = usage.started_at(report, Path(name))
        since = started if since is None else min(since, started)
    return kept, bodies, since, unreadable
