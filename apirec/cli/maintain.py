"""``apirec prune`` (delete chosen recordings, and the blobs no recording left refers to) and
``apirec convert`` (json <-> msgpack)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from apirec.cli import usage
from apirec.cli.base import plural
from apirec.cli.common import (
    OK,
    PROBLEMS,
    Filters,
    UsageError,
    blob_homes,
    error,
    load,
    recording_files,
)
from apirec.cli.progress import Progress
from apirec.cli.remote_config import configured_remote
from apirec.errors import ApirecError, StoreError
from apirec.stores.blob_files import DIR, BlobFiles, recordings_beside
from apirec.stores.convert import convert as convert_store
from apirec.stores.json_store import JsonStore
from apirec.stores.metadata import MOVED_AT
from apirec.stores.msgpack.writer import FILE_NAME
from apirec.stores.remote.objects import check_remote, is_read_only
from apirec.stores.remote.payloads import RemotePayloads


def prune(args: argparse.Namespace) -> int:
    """Delete the recordings matching every filter given; at least one filter is required."""
    for option, pattern in (("--function", args.function), ("--test", args.test)):
        # An unset shell variable ("$TEST") would otherwise match, and delete, everything.
        if pattern is not None and not pattern.strip():
            raise UsageError(
                f"prune: {option} is empty (an unset shell variable?); give a pattern, "
                f"or leave {option} out"
            )
    if args.function is None and args.test is None and not args.shared and not args.usage:
        raise UsageError(
            "prune needs --usage, --test, --function or --shared (it never deletes all)"
        )
    root = Path(args.rootdir)
    reports = usage.load(args.usage, root) if args.usage else None
    if reports is not None:
        reports.check_covers(Path(args.path), root)
    doomed: list[Path] = []
    newer: list[Path] = []  # unused by the reports, but made after the run of one began
    broken = 0
    shared_kept = 0
    directories: set[Path] = set()
    progress = Progress("prune", quiet=args.quiet)
    filters = Filters(args.function, args.test)
    for path in recording_files(Path(args.path)):
        progress.step()
        directories.add(path.parent)
        try:
            loaded = load(path)
        except StoreError as e:
            error(f"{e} (left in place)")
            broken += 1
            continue
        info = loaded.info
        if not filters.selects(info) or (args.shared and info.test_id is not None):
            continue
        if reports is not None and not reports.unused(path, info.test_id):
            shared_kept += reports.unused(path, info.test_id, whole_suite=True)
            continue
        moved_at = loaded.entry.get(MOVED_AT)  # given its key by --apirec-rekey then
        if reports is not None and reports.recorded_after(
            path, info.test_id, info.recorded_at, moved_at if isinstance(moved_at, str) else None
        ):
            newer.append(path)
            continue
        doomed.append(path)
    progress.finish()  # its line erased before the list
    filters.say_unmatched(Path(args.path))
    verb = "would delete" if args.dry_run else "deleted"
    for path in doomed:
        if not args.dry_run:
            try:
                os.unlink(path)
            except OSError as e:
                error(f"{path}: cannot be deleted: {e.strerror or e}")
                broken += 1
                continue
        print(f"{verb} {path}")
    print(f"{verb} {plural(len(doomed), 'recording')}")
    directories.update(blob_homes(Path(args.path)))  # also where no recording is left
    broken += _prune_blobs(sorted(directories), set(doomed), args.dry_run)
    if reports is not None:
        _say_kept_newer(reports, newer)
    if shared_kept and reports is not None:
        print(
            f"kept {shared_kept} shared recording{'' if shared_kept == 1 else 's'} no report "
            f"used: {reports.shared_kept}"
        )
    return PROBLEMS if broken else OK


def _say_kept_newer(reports: usage.Usage, newer: list[Path]) -> None:
    """The recordings no report used that were made after a report's run began."""
    for path in newer:
        print(f"kept {path}")
    if newer:
        n = len(newer)
        print(
            f"kept {n} recording{'' if n == 1 else 's'} recorded after the report(s) that "
            f"judged {'it' if n == 1 else 'them'} (the oldest: {reports.oldest()}): run the "
            f"tests again with --apirec-usage to judge {'it' if n == 1 else 'them'}"
        )
    commits = reports.commits()
    if len(commits) > 1:
        print(
            f"note: the reports were made on {len(commits)} different commits: "
            f"{', '.join(sorted(c[:12] for c in commits))}"
        )


def _prune_blobs(directories: list[Path], doomed: set[Path], dry_run: bool) -> int:
    """Delete the blobs no recording left refers to, in the directories searched; returns
    the number of problems."""
    verb = "would delete" if dry_run else "deleted"
    count = problems = 0
    for directory in directories:
        if not BlobFiles(directory).names():
            continue
        if dry_run:
            left = (p for p in recordings_beside(directory) if p not in doomed)
            gone, why = BlobFiles(directory).unreferenced(left)
        else:
            gone, why = JsonStore(directory).remove_unreferenced_blobs()
        for path in gone:
            print(f"{verb} {path}")
        count += len(gone)
        if why is not None:
            error(f"the blobs in {directory / DIR} are kept: {why}")
            problems += 1
    if count:
        print(f"{verb} {count} blob{'' if count == 1 else 's'} no recording refers to")
    return problems


def convert(args: argparse.Namespace) -> int:
    """Copy every recording of SRC into DST in the other format, losslessly (file names,
    bytes and mtimes come back as they were): :func:`apirec.stores.convert.convert`."""
    to = args.to
    source_kind = "msgpack" if to == "json" else "json"
    src, dst = Path(args.src), Path(args.dst)
    if not src.exists():
        raise UsageError(f"{src}: no such file or directory")
    url = configured_remote(args.remote, src if src.is_dir() else src.parent)
    remote = _convert_remote(args, src, url)
    try:
        with Progress("convert", quiet=args.quiet) as progress:
            count = convert_store(
                src, dst, to=to, progress=progress.step, remote=remote, upload=args.upload
            )
    except (ApirecError, OSError) as e:
        error(str(e))
        return PROBLEMS
    # DST is the store's directory: a msgpack store is one file in it, named here
    into = f"msgpack: {dst / FILE_NAME}" if to == "msgpack" else to
    print(f"converted {plural(count, 'recording')} from {src} ({source_kind}) to {dst} ({into})")
    if args.upload:
        print(f"payloads over 64 KiB are kept in {url} (uploaded where it lacked them)")
    return OK


def _convert_remote(args: argparse.Namespace, src: Path, url: str | None) -> RemotePayloads | None:
    """The remote store the recordings refer to, found as every command finds it
    (:mod:`apirec.cli.remote_config`); checked, and writable for ``--upload``."""
    if url is None:
        if args.upload:
            raise UsageError(
                "convert --upload: no remote store: give --remote URL (s3://bucket/prefix, "
                "file:///path), set apirec_remote in the pytest ini file, or set APIREC_REMOTE"
            )
        return None
    try:
        check_remote(url)
    except ValueError as e:  # InvalidStore
        raise UsageError(f"convert: {e}") from None
    if args.upload and is_read_only(url):
        raise UsageError(f"convert --upload: {url} is read-only; upload to the store it mirrors")
    return RemotePayloads.open(url, src)
