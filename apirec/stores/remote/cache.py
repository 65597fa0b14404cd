"""The local read-through cache of remote objects (DESIGN §15).

One directory per user (``APIREC_CACHE_DIR``, else ``$XDG_CACHE_HOME/apirec``, else
``~/.cache/apirec``; ``%LOCALAPPDATA%\\apirec`` on Windows), holding ``objects/<d[:2]>/<d>``.
Objects are named by their content, so one cache serves every remote, checkout and branch, and
what is in it never goes stale. Written atomically (a temporary file in the same directory,
then renamed over the name): pytest-xdist workers and parallel jobs fetching the same object
at once each write the same bytes, and a reader sees a whole file or none.

Every object is checked against its digest when it is fetched and every time it is read
from the cache. A cached copy that fails the check (a disk error, a hand edit) is discarded
and fetched again: the cache is disposable, the remote is the truth. What the remote gives
that fails the check is never cached and is a :class:`~apirec.errors.StoreError`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from pathlib import Path

from apirec.errors import StoreError
from apirec.stores import blobs
from apirec.stores.files import io_error, write_atomically
from apirec.stores.remote.objects import Remote

__all__ = ["ENV_CACHE_DIR", "AlteredObject", "Cache", "default_cache_dir"]

ENV_CACHE_DIR = "APIREC_CACHE_DIR"
_OBJECTS = "objects"
_TMP = ".tmp"


class AlteredObject(StoreError):
    """The remote gave an object whose bytes are not the ones its name (a digest) says."""


def default_cache_dir() -> Path:
    """``APIREC_CACHE_DIR``, else the user's cache directory plus ``apirec``."""
    configured = os.environ.get(ENV_CACHE_DIR, "").strip()
    if configured:
        return Path(configured).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA", "").strip()
        if base:
            return Path(base) / "apirec"
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    if xdg and os.path.isabs(xdg):  # the spec: a relative value is to be ignored
        return Path(xdg) / "apirec"
    return Path.home() / ".cache" / "apirec"


class Cache:
    """Objects fetched from remotes, kept in ``root`` (default: :func:`default_cache_dir`)."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()
        self.dir = self.root / _OBJECTS

    def path(self, digest: str) -> Path:
        if not blobs.is_digest(digest):  # names come from recordings: never a path
            raise ValueError(f"not a sha256 digest (64 lowercase hex digits): {digest!r}")
        return self.dir / digest[:2] / digest

    def cached(self, digest: str) -> bytes | None:
        """The cached object, checked against its digest; None when it is not cached (or
        was damaged: then it is removed, to be fetched again)."""
        path = self.path(digest)
        try:
            data = _read_regular(path)
        except FileNotFoundError:
            return None
        except OSError:
            data = None  # not a readable regular file: treated as damaged
        if data is not None and blobs.digest_of(data) == digest:
            return data
        with contextlib.suppress(OSError):
            path.unlink()
        return None

    def has(self, digest: str) -> bool:
        """Whether an intact copy is cached (``apirec pull`` skips those)."""
        return self.cached(digest) is not None

    def put(self, digest: str, data: bytes) -> None:
        """Keep ``data`` (whose sha256 must be ``digest``) in the cache, atomically."""
        if blobs.digest_of(data) != digest:
            raise ValueError(f"the data given for object {digest} has another sha256")
        target = self.path(digest)
        tmp_dir = self.dir / _TMP
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise io_error(target, "written", e) from None
        write_atomically(tmp_dir, data, target)

    def fetch(self, remote: Remote, digest: str, *, size: int | None = None) -> bytes:
        """The object of ``digest``: from the cache when an intact copy is there, else from
        ``remote`` (checked, then cached). A bad or missing object is a StoreError naming
        it and the URL (:class:`~apirec.stores.remote.objects.MissingObject` when missing);
        a cached copy is checked against ``size`` as a download is, and a cache that cannot
        keep the download costs only the next download."""
        data = self.cached(digest)
        if data is not None and (size is None or len(data) == size):
            return data
        data = remote.get(digest)
        actual = blobs.digest_of(data)
        if actual != digest or (size is not None and len(data) != size):
            where = remote.url_of(digest)
            found = f"sha256 {actual}" if actual != digest else f"{len(data):,} bytes"
            raise AlteredObject(
                f"{where}: the remote object was altered ({found}, {len(data):,} bytes; "
                f"expected sha256 {digest}"
                + (f", {size:,} bytes" if size is not None else "")
                + "); replace it with apirec push --check DIR from a checkout whose blobs/ or "
                "cache has the right one (recording the answer again puts it in the cache; "
                "it does not replace what the remote has)",
                path=where,
            )
        with contextlib.suppress(StoreError):  # verified: served whether or not it is kept
            self.put(digest, data)
        return data


def _read_regular(path: Path) -> bytes:
    """A regular file's bytes, never through a symbolic link (a planted link would make the
    cache read some other file; its digest check would fail, but it is not read at all)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if e.errno == errno.ENOENT:
            raise FileNotFoundError(e.errno, e.strerror, str(path)) from None
        raise
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        return f.read()
