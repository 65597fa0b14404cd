"""``apirec push DIR...`` and ``apirec pull DIR...``: move the objects a checkout's
recordings refer to between the remote store and this machine, ``--jobs`` at a time.

``push`` uploads what the remote lacks, from the local cache or a ``blobs/`` directory
beside the recording, each copy checked against its digest first (a tampered file is never
uploaded); the name is the hash, so pushing twice, or from two branches at once, is safe.
``pull`` fills the local cache with every object, checked against its digest: what a CI step
runs before the tests (and what a CI cache keeps). A missing or altered object is a problem
naming the recording, the object and its URL (exit 1); the rest are still moved.
"""

from __future__ import annotations

import argparse

from apirec.cli.base import OK, PROBLEMS, UsageError, plural
from apirec.cli.common import human_size
from apirec.cli.jobs import run_all
from apirec.cli.progress import Progress
from apirec.cli.remote_refs import Wanted, Walk, walk
from apirec.cli.remote_url import remote_url
from apirec.errors import StoreError
from apirec.stores.blob_files import BlobFiles
from apirec.stores.remote.cache import Cache
from apirec.stores.remote.objects import Remote, open_remote


def _open(args: argparse.Namespace, command: str) -> Remote:
    url = remote_url(args.remote, args.paths)
    assert url is not None  # required
    try:
        return open_remote(url, {})
    except StoreError as e:
        raise UsageError(f"{command}: {e}") from None


def _walk(args: argparse.Namespace, command: str) -> Walk:
    with Progress(command, quiet=args.quiet) as progress:
        return walk(args.paths, progress.step)


def _report(problems: list[str], failed: list[tuple[Wanted, StoreError]]) -> None:
    for problem in problems:
        print(f"PROBLEM  {problem}")
    for _, e in failed:
        print(f"PROBLEM  {e}")


def push(args: argparse.Namespace) -> int:
    remote = _open(args, "push")
    if remote.read_only:
        raise UsageError(f"push: {remote.url} is read-only; push to the store it mirrors")
    found = _walk(args, "push")
    cache = Cache()

    def upload(wanted: Wanted) -> bool:
        """Whether it was uploaded (False: the remote had it)."""
        if remote.has(wanted.digest):
            return False
        data = _local_copy(wanted, cache)
        if data is None:
            raise StoreError(
                f"{wanted.recording}: refers to the object {wanted.digest}, which is neither "
                f"on {remote.url_of(wanted.digest)} nor here (in the cache {cache.root} or "
                f"{BlobFiles(wanted.recording.parent).dir}): record the answer again",
                path=str(wanted.recording),
            )
        remote.put(wanted.digest, data)
        return True

    with Progress("push", "object", quiet=args.quiet) as progress:
        progress.total = len(found.objects)
        done, failed = run_all(found.objects.values(), upload, args.jobs, progress)
    _report(found.problems, failed)
    sent = [w for w, uploaded in done if uploaded]
    there = len(done) - len(sent)
    print(
        f"{'FAILED: ' if failed or found.problems else ''}uploaded "
        f"{plural(len(sent), 'object')} ({human_size(sum(w.size for w in sent))}) to "
        f"{remote.url}; {there:,} {'was' if there == 1 else 'were'} there already"
        + (f", {len(failed):,} could not be uploaded" if failed else "")
        + _of(found)
    )
    return PROBLEMS if failed or found.problems else OK


def _local_copy(wanted: Wanted, cache: Cache) -> bytes | None:
    """The object's bytes from the cache or the ``blobs/`` beside its recording, if one of
    them holds an intact copy."""
    data = cache.cached(wanted.digest)
    if data is not None and len(data) == wanted.size:
        return data
    try:  # checked against the digest by get
        return BlobFiles(wanted.recording.parent).get(
            wanted.digest, wanted.size, str(wanted.recording)
        )
    except StoreError:
        return None


def pull(args: argparse.Namespace) -> int:
    remote = _open(args, "pull")
    found = _walk(args, "pull")
    cache = Cache()

    def fetch(wanted: Wanted) -> bool:
        """Whether it was fetched (False: the cache had an intact copy)."""
        if cache.has(wanted.digest):
            return False
        try:
            cache.fetch(remote, wanted.digest, size=wanted.size)
        except StoreError as e:  # it names the object and its URL; and the recording:
            raise StoreError(f"{wanted.recording}: refers to {e}", path=e.path) from None
        return True

    with Progress("pull", "object", quiet=args.quiet) as progress:
        progress.total = len(found.objects)
        done, failed = run_all(found.objects.values(), fetch, args.jobs, progress)
    _report(found.problems, failed)
    got = [w for w, fetched in done if fetched]
    cached = len(done) - len(got)
    print(
        f"{'FAILED: ' if failed or found.problems else ''}fetched "
        f"{plural(len(got), 'object')} ({human_size(sum(w.size for w in got))}) from "
        f"{remote.url} into {cache.root}; {cached:,} {'was' if cached == 1 else 'were'} "
        f"cached already"
        + (f", {len(failed):,} missing or altered" if failed else "")
        + _of(found)
    )
    return PROBLEMS if failed or found.problems else OK


def _of(found: Walk) -> str:
    """Where the objects came from, for the summary line."""
    unread = len(found.problems)
    return f" ({plural(found.recordings, 'recording')} read" + (
        f", {unread:,} unreadable)" if unread else ")"
    )
