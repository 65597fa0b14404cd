"""A store's large payloads kept in a remote store: the blob backend both stores use when
``remote=`` is set (DESIGN §15).

Writing: bytes over the blob threshold, then a response body whose compact JSON is over it
(:mod:`apirec.stores.blobs`), become references; the objects are uploaded (idempotently, named
by their sha256) before the recording that refers to them is written, so an upload that fails
leaves no recording pointing at a missing object. Reading: each reference is resolved from
the ``blobs/`` directory beside the recordings when the object is there (recordings made
without a remote), else through the local cache from the remote, every object checked
against its digest. A missing or altered object is a :class:`~apirec.errors.StoreError`
naming the recording, the object and the URL.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from apirec.errors import StoreError
from apirec.stores import blobs
from apirec.stores.blob_files import BlobFiles
from apirec.stores.remote.cache import Cache
from apirec.stores.remote.objects import MissingObject, Remote, open_remote

__all__ = ["RemotePayloads", "missing_remote"]


class RemotePayloads:
    """The large payloads of the recordings in ``root``, kept in ``remote``."""

    def __init__(
        self, remote: Remote | Callable[[], Remote], root: Path, cache: Cache | None = None
    ) -> None:
        self._remote = remote  # or how to open it: when an object is not here (see open)
        self.cache = cache if cache is not None else Cache()
        self._local = BlobFiles(root)

    @functools.cached_property
    def remote(self) -> Remote:
        return self._remote if isinstance(self._remote, Remote) else self._remote()

    @classmethod
    def open(
        cls,
        url: str,
        root: str | os.PathLike[str],
        options: Mapping[str, str] | None = None,
        cache: Cache | None = None,
    ) -> RemotePayloads:
        """Opened on first use: building the client costs milliseconds per recording, and a
        replay from a warm cache never needs it (nor the client library installed)."""
        return cls(lambda: open_remote(url, options), Path(root), cache)

    def split(self, entry: Any) -> tuple[Any, dict[str, bytes]]:
        """``entry`` as stored with this remote (large bytes, then a large body, replaced by
        references) and the objects to upload, by digest."""
        stored, payloads = blobs.split(entry)
        stored, body = blobs.split_body(stored)
        return stored, payloads | body

    def upload(self, payloads: Mapping[str, bytes], where: str) -> None:
        """Put each object on the remote (skipped when it is there) and in the cache; a
        failure is a StoreError naming the recording ``where`` that would refer to it."""
        for digest, data in payloads.items():
            try:
                self.remote.put(digest, data)
            except StoreError as e:
                raise StoreError(
                    f"{where}: not written: a payload it refers to could not be uploaded: {e}",
                    path=where,
                ) from None
            with contextlib.suppress(StoreError):  # the cache only saves a download later
                self.cache.put(digest, data)

    def get(self, digest: str, size: int, where: str) -> bytes:
        """The payload ``where`` (a recording) refers to, checked against its digest."""
        if self._local.path(digest).is_file():  # recorded without the remote, or not pushed
            return self._local.get(digest, size, where)
        cached = self.cache.cached(digest)  # checked against the digest
        if cached is not None and len(cached) == size:
            return cached  # the remote not even opened
        try:
            remote = self.remote
        except StoreError as e:  # no client library, or no remote set (the CLI says how)
            raise StoreError(
                f"{where}: refers to the object {digest}, missing here (not in "
                f"{self._local.path(digest)} nor in the cache {self.cache.root}): {e}",
                path=where,
            ) from None
        try:
            return self.cache.fetch(remote, digest, size=size)
        except MissingObject:
            raise StoreError(
                f"{where}: refers to the object {self.remote.url_of(digest)}, which is "
                f"missing from the remote (upload it from the checkout that recorded it with "
                f"apirec push, or record the answer again)",
                path=where,
            ) from None
        except StoreError as e:  # it starts with the object's URL: said once
            url = self.remote.url_of(digest)
            detail = str(e).removeprefix(f"{url}: ")
            raise StoreError(f"{where}: refers to the object {url}: {detail}", path=where) from None

    def fetcher(self, where: str) -> blobs.Fetch:
        return lambda digest, size: self.get(digest, size, where)


def missing_remote(where: str) -> blobs.Fetch:
    """The fetch of a store with no remote set, for references only a remote can resolve."""

    def fetch(digest: str, size: int) -> bytes:
        raise StoreError(
            f"{where}: refers to the object {digest}, kept in a remote store, and no remote "
            f"is set (give its URL: remote=, --apirec-remote or APIREC_REMOTE)",
            path=where,
        )

    return fetch
