"""``apirec push DIR...`` and ``apirec pull DIR...``: move the objects a checkout's
recordings refer to between the remote store and this machine, ``--jobs`` at a time.

``push`` uploads what the remote lacks, from the ``blobs/`` directory beside the recording or
the local cache, each copy checked against its digest first (a tampered file is never
uploaded); the name is the hash, so pushing twice, or from two branches at once, is safe.
``pull`` fills the local cache with every object not in a ``blobs/`` directory, each checked
against its digest: what a CI step runs before the tests (and what a CI cache keeps). A
missing or altered object is a problem naming the recording, the object and its URL (exit 1);
the others are still moved. Objects a response body object refers to are found once that body
is here, and moved in a second round.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from apirec.cli.base import OK, PROBLEMS, UsageError, plural
from apirec.cli.common import human_size
from apirec.cli.jobs import run_all
from apirec.cli.progress import Progress
from apirec.cli.remote_config import configured_remote
from apirec.cli.remote_refs import Walk, Wanted, local_copy, new_inside, walk
from apirec.errors import StoreError
from apirec.stores import blobs
from apirec.stores.blob_files import BlobFiles
from apirec.stores.remote.cache import AlteredObject, Cache
from apirec.stores.remote.objects import MissingObject, Remote, open_remote

# what became of an object
UPLOADED, THERE, FETCHED, CACHED, LOCAL = "uploaded", "there", "fetched", "cached", "local"
REPLACED = "replaced"
MISSING, ALTERED, UNREACHABLE = "missing", "altered", "unreachable (network or configuration)"
Outcome = tuple[str, bytes | None]  # and a body object's bytes, to find what it refers to


def remote_for(given: str | None, paths: list[str], command: str) -> Remote:
    """The remote the recordings under ``paths`` use (:mod:`apirec.cli.remote_config`:
    ``--remote``, then the pytest ini's ``apirec_remote``, then ``APIREC_REMOTE``)."""
    url = configured_remote(given, Path(paths[0]))
    if url is None:
        raise UsageError(
            f"{command}: no remote store: give --remote URL (s3://bucket/prefix, "
            f"file:///path), set apirec_remote in the pytest ini file, or set APIREC_REMOTE"
        )
    return open_given(url, command)


def open_given(url: str, command: str) -> Remote:
    """The remote at ``url``; a URL apirec cannot use is a usage error (exit 2)."""
    try:
        return open_remote(url, {})
    except (StoreError, ValueError) as e:  # InvalidStore is a ValueError
        raise UsageError(f"{command}: {e}") from None


def push(args: argparse.Namespace) -> int:
    remote = remote_for(args.remote, args.paths, "push")
    if remote.read_only:
        raise UsageError(f"push: {remote.url} is read-only; push to the store it mirrors")
    cache = Cache()

    def upload(wanted: Wanted) -> Outcome:
        size = remote.size(wanted.digest)
        if size == wanted.size and not (args.check and _altered(remote, wanted.digest)):
            # a body there: its objects went up before it
            return THERE, local_copy(wanted, cache) if wanted.body else None
        data = local_copy(wanted, cache)
        if data is None:
            raise StoreError(
                f"{wanted.recording}: refers to the object {wanted.digest}, which is neither "
                f"on {remote.url_of(wanted.digest)}"
                + (" intact" if size is not None else "")
                + f" nor here, intact (in {BlobFiles(wanted.home).dir} or the cache "
                f"{cache.root}): record the answer again, then push again",
                path=wanted.recording,
            )
        remote.put(wanted.digest, data, replace=size is not None)  # a wrong copy: replaced
        return (UPLOADED if size is None else REPLACED), data if wanted.body else None

    found, outcomes, failed = _each(args, "push", upload)
    sent = outcomes[UPLOADED]
    print(
        f"{_failed(found, failed)}uploaded {plural(len(sent), 'object')} "
        f"({human_size(sum(w.size for w in sent))}) to {remote.url}; "
        f"{_were(len(outcomes[THERE]))} there already"
        + (f", {len(outcomes[REPLACED]):,} replaced (altered)" if outcomes[REPLACED] else "")
        + (f", {len(failed):,} could not be uploaded" if failed else "")
        + _read(found)
    )
    return PROBLEMS if failed or found.problems else OK


def pull(args: argparse.Namespace) -> int:
    remote = remote_for(args.remote, args.paths, "pull")
    cache = Cache()
    why: dict[str, str] = {}  # digest: what went wrong (missing, altered, unreachable)

    def fetch(wanted: Wanted) -> Outcome:
        local = BlobFiles(wanted.home)
        if local.path(wanted.digest).is_file():  # replay reads it there (an altered one: a
            data = local.get(wanted.digest, wanted.size, wanted.recording)  # problem)
            return LOCAL, data if wanted.body else None
        cached = cache.cached(wanted.digest)
        if cached is not None and len(cached) == wanted.size:
            return CACHED, cached if wanted.body else None
        try:
            data = cache.fetch(remote, wanted.digest, size=wanted.size)
        except StoreError as e:  # it names the object and its URL; and the recording:
            why[wanted.digest] = _kind(e)
            raise StoreError(f"{wanted.recording}: refers to {e}", path=e.path) from None
        return FETCHED, data if wanted.body else None

    found, outcomes, failed = _each(args, "pull", fetch)
    got, local = outcomes[FETCHED], len(outcomes[LOCAL])
    print(
        f"{_failed(found, failed)}fetched {plural(len(got), 'object')} "
        f"({human_size(sum(w.size for w in got))}) from {remote.url} into {cache.root}; "
        f"{_were(len(outcomes[CACHED]))} cached already"
        + (f", {local:,} {'is' if local == 1 else 'are'} in blobs/" if local else "")
        + "".join(
            f", {n:,} {kind}"
            for kind in (MISSING, ALTERED, UNREACHABLE)
            if (n := sum(why.get(w.digest, UNREACHABLE) == kind for w, _ in failed))
        )
        + _read(found)
    )
    return PROBLEMS if failed or found.problems else OK


def _altered(remote: Remote, digest: str) -> bool:
    """Whether the remote's object of that name is not the bytes the name says (read back)."""
    try:
        return blobs.digest_of(remote.get(digest)) != digest
    except MissingObject:
        return True


def _kind(e: StoreError) -> str:
    """Why an object could not be pulled: not there, not what its name says, or the remote
    could not be asked (the network, the credentials, the configuration)."""
    if isinstance(e, MissingObject):
        return MISSING
    return ALTERED if isinstance(e, AlteredObject) else UNREACHABLE


def _each(
    args: argparse.Namespace, command: str, work: Callable[[Wanted], Outcome]
) -> tuple[Walk, defaultdict[str, list[Wanted]], list[tuple[Wanted, StoreError]]]:
    """``work`` on every object the recordings under ``args.paths`` refer to (then on those
    their body objects refer to); the walk, the objects by outcome, the failures. The
    problems are printed."""
    with Progress(command, quiet=args.quiet) as progress:
        found = walk(args.paths, progress.step)
    outcomes: defaultdict[str, list[Wanted]] = defaultdict(list)
    failed: list[tuple[Wanted, StoreError]] = []
    with Progress(command, "object", quiet=args.quiet) as progress:
        batch = list(found.objects.values())
        progress.total = len(batch)
        while batch:
            done, errors = run_all(batch, work, args.jobs, progress)
            failed += errors
            for wanted, (outcome, _) in done:
                outcomes[outcome].append(wanted)
            batch = new_inside(found, ((w, data) for w, (_, data) in done if w.body))
            progress.total += len(batch)
    for problem in found.problems:
        print(f"PROBLEM  {problem}")
    for _, e in failed:
        print(f"PROBLEM  {e}")
    return found, outcomes, failed


def _failed(found: Walk, failed: list[tuple[Wanted, StoreError]]) -> str:
    return "FAILED: " if failed or found.problems else ""


def _were(n: int) -> str:
    return f"{n:,} {'was' if n == 1 else 'were'}"


def _read(found: Walk) -> str:
    """The recordings the objects came from, for the summary line."""
    unread = len(found.problems)
    return f" ({plural(found.recordings, 'recording')} read" + (
        f", {plural(unread, 'problem')})" if unread else ")"
    )
