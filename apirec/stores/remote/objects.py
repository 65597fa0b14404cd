"""Objects in a remote store, named by their sha256 under a URL's prefix (DESIGN §15).

A thin layer over `obstore <https://developmentseed.org/obstore/>`_ (the ``s3``, ``gcs`` and
``azure`` extras): one Rust wheel with no Python dependencies that speaks S3 (and every
S3-compatible server), Google Cloud Storage, Azure Blob Storage, plain HTTP(S) and local
directories, and configures itself as each storage's own tools do (for S3 the standard
``AWS_*`` variables, ``AWS_ENDPOINT_URL`` included). ``obstore`` is imported only when a
remote is opened, so a run without one never pays for it.

URLs: ``s3://bucket/prefix``, ``gs://bucket/prefix``, ``az://container/prefix`` (and the other
spellings obstore reads), ``file:///absolute/dir``, and ``https://host/prefix``: a public,
read-only copy (no credentials; ``http://`` only on loopback, for tests). The object of digest
``d`` is ``<prefix>/<d>``. Every failure is a :class:`~apirec.errors.StoreError` that names the
object and the URL; an object that is not there is a :class:`MissingObject`.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from apirec.errors import InvalidStore, StoreError, called
from apirec.stores import blobs
from apirec.stores.remote.hosts import (
    ENV_PREFIXES,
    configured_endpoint,
    is_loopback,
    remote_hosts,
)
from apirec.stores.remote.shown import reason, shown_url

if TYPE_CHECKING:
    from obstore.store import ObjectStore

__all__ = [
    "EXTRAS",
    "MissingObject",
    "Remote",
    "StoredObject",
    "check_remote",
    "is_read_only",
    "open_remote",
    "remote_host",
]

# the pip extra that brings each scheme's client: what an ImportError tells the user
EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "az": "azure", "abfs": "azure", "abfss": "azure"}
_READ_ONLY = ("http", "https")
_WRITABLE = ("s3", "s3a", "gs", "az", "adl", "azure", "abfs", "abfss", "file")
# remote_options that configure the HTTP client rather than the storage (obstore's ClientConfig)
_CLIENT_KEYS = frozenset(
    [
        "allow_http",
        "allow_invalid_certificates",
        "connect_timeout",
        "default_content_type",
        "pool_idle_timeout",
        "pool_max_idle_per_host",
        "proxy_url",
        "proxy_ca_certificate",
        "proxy_excludes",
        "randomize_addresses",
        "read_timeout",
        "timeout",
        "user_agent",
    ]
)
_FLAGS = frozenset({"allow_http", "allow_invalid_certificates", "randomize_addresses"})
# apirec's own: how often a failed request is tried again (obstore's default, 10 tries over
# up to 3 minutes, would hold a test run long after a server went away)
MAX_RETRIES = "max_retries"
_DEFAULT_RETRIES = 2
_DEFAULT_CLIENT = {"connect_timeout": "5s", "timeout": "120s"}
_ENV_PREFIXES = ENV_PREFIXES
# an object a recording re-uses is uploaded again when stored longer ago than this, so it
# counts as new for gc's --min-age (at least this; default 1h) until the recording is pushed
REFRESH_AFTER = dt.timedelta(minutes=10)


class MissingObject(StoreError):
    """The remote answered that it has no object of that digest."""


@dataclass(frozen=True)
class StoredObject:
    """An object under a remote's prefix: its digest (its name), its size in bytes and when
    it was stored (None when the storage does not say)."""

    digest: str
    size: int
    modified: dt.datetime | None


class Remote:
    """The objects under one URL's prefix; see the module docstring.

    ``url`` is the URL as given less any ``user:password@`` (what messages show), ``host``
    the host requests go to (for the network guard; None for ``file://``), ``read_only``
    whether writes are refused here (``http(s)://``).
    """

    def __init__(self, url: str, store: ObjectStore, *, read_only: bool, host: str | None):
        self.url = url
        self.read_only = read_only
        self.host = host
        self._store = store

    def __repr__(self) -> str:
        return f"Remote({self.url!r})"

    def url_of(self, digest: str) -> str:
        """Where the object of ``digest`` lives, for messages and for people (any query
        string of the remote's URL left out, as in :attr:`url`)."""
        return f"{self.url.removesuffix('?...').rstrip('/')}/{digest}"

    def get(self, digest: str) -> bytes:
        """The object's bytes as the remote holds them (the caller checks the digest)."""
        import obstore

        _check(digest)
        try:
            return bytes(obstore.get(self._store, digest).bytes())
        except FileNotFoundError:
            raise MissingObject(
                f"{self.url_of(digest)}: no such object on the remote", path=self.url_of(digest)
            ) from None
        except Exception as e:
            raise self._failed(digest, "read", e) from None

    def has(self, digest: str) -> bool:
        """Whether the remote holds an object of that name."""
        return self.size(digest) is not None

    def size(self, digest: str) -> int | None:
        """The size of the object of that name on the remote (None: it has none); one HEAD."""
        stored = self.stat(digest)
        return None if stored is None else stored.size

    def stat(self, digest: str) -> StoredObject | None:
        """The object of that name on the remote, its size and when it was stored (None: the
        remote has none); one HEAD."""
        import obstore

        _check(digest)
        try:
            meta = obstore.head(self._store, digest)
        except FileNotFoundError:
            return None
        except Exception as e:
            raise self._failed(digest, "looked up", e) from None
        return StoredObject(digest, int(meta["size"]), meta.get("last_modified"))

    def put(self, digest: str, data: bytes, *, replace: bool = False) -> None:
        """Upload ``data`` (whose sha256 is ``digest``) unless the remote has it (``replace``:
        over what it has, a copy found wrong). Idempotent: the name is the content's hash.

        A copy the remote has of another size (altered), or that was stored more than
        :data:`REFRESH_AFTER` ago, is uploaded again over it: a recording made now refers to
        it, and ``apirec gc --min-age`` protects what a run records now by the objects' age
        alone (storages have no cheap "touch")."""
        import obstore

        _check(digest)
        if blobs.digest_of(data) != digest:
            raise ValueError(f"the data given for object {digest} has another sha256")
        if self.read_only:
            raise StoreError(
                f"{self.url_of(digest)}: cannot be written: {self.url} is a read-only remote "
                f"(http(s)); record against the writable store (s3://, gs://, az://, file://)",
                path=self.url_of(digest),
            )
        stored = None if replace else self.stat(digest)
        if stored is not None and stored.size == len(data) and _fresh(stored):
            return  # (a copy of another size is altered: replaced)
        try:
            obstore.put(self._store, digest, data)
        except Exception as e:
            raise self._failed(digest, "written", e) from None

    def delete(self, digest: str) -> None:
        """Remove the object (``apirec gc``; never during a test run)."""
        import obstore

        _check(digest)
        if self.read_only:
            raise StoreError(
                f"{self.url_of(digest)}: cannot be deleted: {self.url} is read-only",
                path=self.url_of(digest),
            )
        try:
            obstore.delete(self._store, digest)
        except FileNotFoundError:
            return
        except Exception as e:
            raise self._failed(digest, "deleted", e) from None

    def list(self) -> Iterator[StoredObject]:
        """The apirec objects under the prefix, with their sizes and when each was stored
        (``apirec gc``); other names there are not apirec's and are left out."""
        import obstore

        if self.read_only:
            raise StoreError(
                f"{self.url}: an http(s) remote cannot be listed; list the writable store",
                path=self.url,
            )
        try:
            for batch in obstore.list(self._store):
                for meta in batch:
                    name = meta["path"]
                    if blobs.is_digest(name):
                        modified = meta.get("last_modified")
                        yield StoredObject(name, int(meta["size"]), modified)
        except StoreError:
            raise
        except Exception as e:
            raise StoreError(f"{self.url}: cannot be listed: {reason(e)}", path=self.url) from None

    def _failed(self, digest: str, what: str, e: BaseException) -> StoreError:
        where = self.url_of(digest)
        return StoreError(f"{where}: cannot be {what}: {reason(e)}", path=where)


def is_read_only(url: str) -> bool:
    """Whether the remote at ``url`` only serves objects (``http(s)://``): nothing can be
    recorded against it."""
    return urlsplit(url).scheme.lower() in _READ_ONLY


def read_only_refusal(url: str, function: str) -> StoreError:
    """The error of a call that would be recorded against the read-only remote ``url``."""
    url = shown_url(url)
    return StoreError(
        f"{called(function)} was not called: this recording would store its answer, but its "
        f"remote {url} is read-only (http(s)); record against the writable store (s3://, "
        f"gs://, az://, file://), or replay only",
        path=url,
    )


def check_remote(url: object, options: object = None) -> None:
    """An :class:`~apirec.errors.InvalidStore` (a ValueError) unless ``url`` is a remote
    apirec can use and ``options`` a mapping of strings; pure, so settings check it early."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidStore(f"remote must be a URL (a str), not {url!r}")
    if options is not None and not isinstance(options, Mapping):
        raise InvalidStore(f"remote_options must be a mapping of str to str, not {options!r}")
    for k, v in (options or {}).items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise InvalidStore(f"remote_options: {k!r}: {v!r}: keys and values must be strings")
    shown = shown_url(url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _READ_ONLY + _WRITABLE:
        raise InvalidStore(
            f"remote={shown!r} is not a remote apirec can use; use s3://, gs://, az://, "
            f"file:// or a read-only https:// URL"
        )
    if scheme == "http" and not is_loopback(parts.hostname):
        allowed = (options or {}).get("allow_http", "")
        if str(allowed).strip().lower() not in ("1", "true", "yes", "on"):
            raise InvalidStore(
                f"remote={shown!r}: plain http is allowed on loopback only; use https://"
            )
    if scheme == "file" and (
        parts.netloc.lower() not in ("", "localhost") or not parts.path.startswith("/")
    ):
        raise InvalidStore(
            f"remote={shown!r}: a file:// remote needs an absolute directory, "
            f"file:///absolute/dir (three slashes); a relative one (file://./objects) is "
            f"not resolved against any directory"
        )
    if parts.username is not None or parts.password is not None:
        raise InvalidStore(
            f"remote={shown!r}: credentials do not go in the URL; configure them as the "
            f"storage's own tools do (AWS_ACCESS_KEY_ID...) or in remote_options"
        )


def open_remote(url: str, options: Mapping[str, str] | None = None) -> Remote:
    """The remote store at ``url``; ``options`` configure it as the storage's own settings do
    (obstore's names: ``aws_region``, ``aws_skip_signature``, ``google_service_account``,
    ``azure_storage_account_name``, ... and the HTTP client's ``timeout``, ``allow_http``,
    ``proxy_url``...; plus ``max_retries``). Credentials come from those and the
    environment; none of them is ever stored. Nothing is requested until an object is."""
    check_remote(url, options)
    given = dict(options or {})
    options = dict(given)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    shown = shown_url(url)
    try:
        import obstore.store as stores
    except ImportError:
        extra = EXTRAS.get(scheme, "s3")
        raise StoreError(
            f"{shown}: a remote store needs obstore: pip install 'apirec[{extra}]'", path=shown
        ) from None
    retries = options.pop(MAX_RETRIES, None)
    client: dict[str, Any] = dict(_DEFAULT_CLIENT)
    # obstore reads the HTTP client's settings from the environment (AWS_ALLOW_HTTP...) only
    # when given none: read them as it would, under the options
    env_prefix = _ENV_PREFIXES.get(scheme)
    if env_prefix is not None:
        for k in _CLIENT_KEYS:
            value = os.environ.get(f"{env_prefix}{k.upper()}")
            if value is not None and k not in options:
                options[k] = value
    if _is_http(configured_endpoint(scheme, given)):
        # an endpoint given as http:// (MinIO, a local server) is a choice of plain http;
        # an explicit allow_http (AWS_ALLOW_HTTP=false...) still wins
        options.setdefault("allow_http", "true")
    for k in [k for k in options if k in _CLIENT_KEYS]:
        value = options.pop(k)
        client[k] = _flag(k, value) if k in _FLAGS else value
    retry: dict[str, Any] = {
        "max_retries": _retries(retries),
        "backoff": {"init_backoff": dt.timedelta(milliseconds=100), "base": 2},
        "retry_timeout": dt.timedelta(seconds=30),
    }
    host = parts.hostname
    try:
        if scheme in _READ_ONLY:
            if options:
                raise StoreError(
                    f"{shown}: an http(s) remote takes only HTTP client options, not "
                    f"{', '.join(sorted(options))}",
                    path=shown,
                )
            if scheme == "http":
                client.setdefault("allow_http", True)  # loopback, or allowed: check_remote
            http_store: Any = stores.HTTPStore.from_url
            store = http_store(url.rstrip("/"), client_options=client, retry_config=retry)
            return Remote(shown, store, read_only=True, host=host)
        if scheme == "file":
            if options or retries is not None:
                raise StoreError(f"{shown}: a file:// remote takes no options", path=shown)
            path = parts.path.rstrip("/") + "/"
            store = stores.LocalStore.from_url(f"file://{path}", mkdir=True)
            return Remote(shown, store, read_only=False, host=None)
        by_url: Any = stores.from_url  # options are checked by obstore, not by overloads
        store = by_url(url, config=options or None, client_options=client, retry_config=retry)
    except StoreError:
        raise
    except Exception as e:
        raise StoreError(f"{shown}: cannot be opened: {reason(e)}", path=shown) from None
    return Remote(shown, store, read_only=False, host=remote_host(url, given))


def remote_host(url: str, options: Mapping[str, str] | None = None) -> str | None:
    """The first of :func:`~apirec.stores.remote.hosts.remote_hosts`; None for ``file://``."""
    return next(iter(remote_hosts(url, options)), None)


def _is_http(endpoint: str | None) -> bool:
    return endpoint is not None and urlsplit(endpoint).scheme.lower() == "http"


def _flag(key: str, value: str) -> bool:
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"remote_options: {key}={value!r} is not true or false")


def _retries(value: str | None) -> int:
    if value is None:
        return _DEFAULT_RETRIES
    if not value.isdigit():
        raise ValueError(f"remote_options: {MAX_RETRIES}={value!r} is not a whole number")
    return int(value)


def _fresh(stored: StoredObject | None) -> bool:
    """Whether the remote has the object, stored less than REFRESH_AFTER ago (or at a time
    the storage does not say: then nothing is gained by uploading it again)."""
    if stored is None:
        return False
    if stored.modified is None:
        return True
    return dt.datetime.now(dt.UTC) - stored.modified < REFRESH_AFTER


def _check(digest: str) -> None:
    if not blobs.is_digest(digest):  # names come from recordings: never a path
        raise ValueError(f"not a sha256 digest (64 lowercase hex digits): {digest!r}")
