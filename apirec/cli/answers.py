"""Reading what recordings answered, as replay reads it: the one place every command that
reads answers (``show``, ``diff``, ``verify``, ``drift``, ``scan``) resolves the references a
recording holds (DESIGN §11, §15).

A recording may keep payloads apart (:mod:`apirec.stores.blobs`): large bytes in ``blobs/``
beside it, and, with a remote store, large bytes and whole response bodies (``apirec.json``)
as objects named by their sha256. Each is read as replay reads it
(:class:`~apirec.stores.remote.payloads.RemotePayloads`): from ``blobs/`` beside the
recording, else from the local cache, else from the remote configured for the recordings'
directory (``--remote``, ``APIREC_REMOTE``, the pytest ini: :mod:`apirec.cli.remote_config`),
every copy checked against its digest. The remote is opened only when an object is in
neither place, so a warm cache (``apirec pull``, or the run that recorded) needs no network
and no remote configured. An object found nowhere, or altered, is a
:class:`~apirec.errors.StoreError` naming the recording, the object and its URL (with no
remote set: where it looked and how to set one); each command says what it does with it.

Commands that read only what a recording says about itself (``ls``, ``stats``, ``prune``:
its function, test, ledger and size) read the stored form and fetch nothing.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from apirec.cli.base import UsageError
from apirec.cli.common import Loaded, load
from apirec.cli.remote_config import configured_remote
from apirec.errors import InvalidStore, StoreError
from apirec.stores import blobs
from apirec.stores.blob_files import DIR as BLOBS_DIR
from apirec.stores.json_format import Entry
from apirec.stores.remote.cache import Cache
from apirec.stores.remote.objects import Remote, check_remote, open_remote
from apirec.stores.remote.payloads import RemotePayloads

if TYPE_CHECKING:  # imported when a msgpack store is read: listing JSON files needs no msgpack
    from apirec.stores.msgpack.store import MsgpackStore


class Answers:
    """The objects recordings refer to, for the command ``command`` (named in its errors);
    ``given``: its ``--remote`` (None: the configured one, per directory; ``""``: none)."""

    def __init__(self, given: str | None, command: str, cache: Cache | None = None) -> None:
        if given:  # a URL on the command line that apirec cannot use: a usage error, now
            _checked(given, command)
        self.given, self.command = given, command
        self.cache = cache if cache is not None else Cache()
        self._payloads: dict[Path, RemotePayloads] = {}
        self._remotes: dict[str, Remote] = {}

    def payloads(self, home: Path) -> RemotePayloads:
        """How the recordings in directory ``home`` (a msgpack store's too) read objects."""
        found = self._payloads.get(home)
        if found is None:
            url = configured_remote(self.given, home)
            found = RemotePayloads(lambda: self._remote(url, home), home, self.cache)
            self._payloads[home] = found
        return found

    def resolved(self, entry: Entry, where: str, home: Path) -> Entry:
        """``entry`` (the recording ``where``, in directory ``home``) with every payload it
        keeps apart read back: as replay decodes it."""
        fetch = self.payloads(home).fetcher(where)
        return blobs.join(entry, fetch, where)  # type: ignore[no-any-return]

    def with_body(self, entry: Entry, where: str, home: Path) -> Entry:
        """``entry`` with only a response body kept apart read back; its large bytes stay
        references (``show`` and ``diff``: people see the body, sizes for the bytes)."""
        if not any(blobs.body_references(entry, where)):
            return entry
        fetch = self.payloads(home).fetcher(where)
        return blobs.join_body(entry, fetch, where)  # type: ignore[no-any-return]

    def load(self, path: Path) -> Loaded:
        """The recording file ``path``, read and checked (:func:`~apirec.cli.common.load`),
        with every payload it keeps apart read back."""
        loaded = load(path)
        entry = self.resolved(loaded.entry, str(path), path.parent)
        return loaded if entry is loaded.entry else dataclasses.replace(loaded, entry=entry)

    def store(self, root: Path, *, salvage: bool = False) -> MsgpackStore:
        """The msgpack store in ``root``, reading its objects through here."""
        from apirec.stores.msgpack.store import MsgpackStore

        return MsgpackStore(root, salvage=salvage, remote=self.payloads(root))

    def _remote(self, url: str | None, home: Path) -> Remote:
        """The remote at ``url`` (opened once per command); with none set, the StoreError
        that says where the object was looked for."""
        if url is None:
            raise StoreError(
                f"no remote store is set for {home} to fetch it from (give --remote URL, set "
                f"APIREC_REMOTE, or apirec_remote in the pytest ini file; a blob of "
                f"{BLOBS_DIR}/: restore it from version control, or record the answer again)"
            )
        remote = self._remotes.get(url)
        if remote is None:
            _checked(url, self.command)
            remote = self._remotes[url] = open_remote(url, {})
        return remote


def _checked(url: str, command: str) -> None:
    try:
        check_remote(url)
    except InvalidStore as e:
        raise UsageError(f"{command}: {e}") from None
