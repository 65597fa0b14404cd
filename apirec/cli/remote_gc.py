"""``apirec gc REMOTE [DIR...] --usage A.json B.json ... [--dry-run]``: delete the objects
of a remote store that nothing refers to any more.

An object stays when a recording under one of the checkouts given (``DIR``) refers to it, when
a usage report lists it (``objects``: what the recordings of the stores its run opened refer
to, written by ``pytest --apirec-usage``; one report per branch or shard stands for a
checkout that is not here), or when it was stored at or after the moment the oldest report's
run began, or less than ``--min-age`` ago (default one hour): a run recording now uploads its
objects before its recordings exist anywhere. Names under the prefix that are not sha256
digests are not apirec's and are never touched. When some recording cannot be read, or a
report does not list its objects, which objects are needed is unknown: nothing is deleted.

This is the only command that deletes remote objects; a test run never does.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from apirec.cli import usage
from apirec.cli.base import OK, PROBLEMS, UsageError, plural
from apirec.cli.common import human_size
from apirec.cli.jobs import run_all
from apirec.cli.progress import Progress
from apirec.cli.remote_refs import walk
from apirec.errors import InvalidExpiry, StoreError
from apirec.record.expiry import parse_max_age
from apirec.stores import blobs
from apirec.stores.remote.objects import Remote, open_remote


@dataclass(frozen=True)
class Stored:
    """An object under the remote's prefix."""

    digest: str
    size: int
    modified: dt.datetime | None


def listing(remote: Remote) -> Iterator[Stored]:
    """Every apirec object under the prefix with its size and when it was stored (which
    ``Remote.list``, names only, does not say; gc needs both)."""
    import obstore

    if remote.read_only:
        raise StoreError(f"{remote.url}: an http(s) remote cannot be listed", path=remote.url)
    try:
        for batch in obstore.list(remote._store):
            for meta in batch:
                name = meta["path"]
                if blobs.is_digest(name):  # other names under the prefix are not apirec's
                    modified = meta.get("last_modified")
                    yield Stored(name, int(meta["size"]), modified)
    except StoreError:
        raise
    except Exception as e:
        reason = str(e).strip().split("\n", 1)[0] or type(e).__name__
        raise StoreError(f"{remote.url}: cannot be listed: {reason}", path=remote.url) from None


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
        min_age = parse_max_age(args.min_age, "--min-age") or dt.timedelta(0)
    except InvalidExpiry as e:
        raise UsageError(str(e)) from None
    kept, since = _reported(reports)
    try:
        remote = open_remote(args.remote, {})
    except StoreError as e:
        raise UsageError(f"gc: {e}") from None
    if remote.read_only and not args.dry_run:
        raise UsageError(f"gc: {remote.url} is read-only: nothing can be deleted there")

    with Progress("gc", quiet=args.quiet) as progress:
        found = walk(dirs, progress.step)
    if found.problems:
        for problem in found.problems:
            print(f"PROBLEM  {problem}")
        print(
            f"FAILED: nothing deleted: {plural(len(found.problems), 'recording')} cannot be "
            f"read, so the objects {'it needs are' if len(found.problems) == 1 else 'they need are'} "
            f"unknown"
        )
        return PROBLEMS
    kept |= set(found.objects)

    now = dt.datetime.now(dt.UTC)
    stored: list[Stored] = []
    doomed: list[Stored] = []
    recent = 0
    with Progress("gc", "object", quiet=args.quiet) as progress:
        for obj in listing(remote):
            progress.step()
            stored.append(obj)
            if obj.digest in kept:
                continue
            if obj.modified is not None and (
                now - obj.modified < min_age or (since is not None and obj.modified >= since)
            ):
                recent += 1
                continue
            doomed.append(obj)

    verb = "would delete" if args.dry_run else "deleted"
    failed: list[tuple[Stored, StoreError]] = []
    if args.dry_run:
        gone = doomed
    else:

        def delete(obj: Stored) -> None:
            remote.delete(obj.digest)

        with Progress("gc", "object", quiet=args.quiet) as progress:
            progress.total = len(doomed)
            done, failed = run_all(doomed, delete, args.jobs, progress)
        gone = [obj for obj, _ in done]
        for obj, e in failed:
            print(f"PROBLEM  {obj.digest}: cannot be deleted: {e}")
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


def _reported(paths: list[str]) -> tuple[set[str], dt.datetime | None]:
    """The objects the usage reports list, and when the oldest report's run began."""
    kept: set[str] = set()
    since: dt.datetime | None = None
    for name in paths:
        report = usage.read_report(Path(name))
        objects = report.get("objects")
        if objects is None:
            raise UsageError(
                f"{name}: this usage report does not list the remote objects its recordings "
                f"refer to (written by an older apirec): gc cannot tell what its branch "
                f"needs; nothing was deleted. Write it again with "
                f"pytest --apirec-usage={Path(name).name}"
            )
        kept.update(objects)
        started = usage.started_at(report, Path(name))
        since = started if since is None else min(since, started)
    return kept, since
