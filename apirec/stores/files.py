"""File-system care for the JSON store: what a recording file may be, temporary files (written
whole before a rename, and the leftovers of writers that died), and the clock that file times
are stamped with."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import socket
import stat
import sys
import time
from pathlib import Path

from apirec.errors import StoreError

# Linux's CLOCK_REALTIME_COARSE: the clock the kernel stamps file times with.
_COARSE_CLOCK = 5


def read_regular_file(path: str | Path) -> bytes:
    """The bytes of ``path``, refusing anything but a regular file: a recording from a pull
    request may be a symlink to ``/dev/zero`` or a FIFO, which would never end. Plain ``os``
    calls: a replay reads a file per call."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "a device, FIFO or socket"
            raise StoreError(f"{path}: is {kind}, not a recording", path=str(path))
        chunks, size = [], info.st_size + 1  # one read, and one that finds the end
        while chunk := os.read(fd, size):
            chunks.append(chunk)
            size = 65536  # it grew since fstat: read on
        return b"".join(chunks)
    finally:
        os.close(fd)


def clean_temp_files(tmp_dir: str | os.PathLike[str], *, grace: float = 600.0) -> None:
    """Remove temporary files left by writers that died: their process is gone, or they are old.

    Names are ``<pid>-<host>-<random>.tmp``. A pid means nothing on another host (or in another
    container sharing the directory), so another host's files go only once they are old.
    """
    try:
        names = os.listdir(tmp_dir)
    except OSError:
        return
    now = time.time()
    here = host_tag()
    for name in names:
        path = Path(tmp_dir, name)
        parts = name.split("-")
        local = len(parts) < 3 or parts[1] == here
        try:
            dead = local and not (parts[0].isdigit() and process_alive(int(parts[0])))
            if dead or now - path.stat().st_mtime > grace:
                path.unlink()
        except OSError:
            continue


def host_tag() -> str:
    """This host, as it appears in temporary file names."""
    return re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname())[:64] or "_"


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` of this host still runs (one we may not signal does)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # not ours to signal (EPERM): it runs
        return True
    return True


def record_start() -> float:
    """A start time for ``record`` mode: files written before this call have an earlier mtime
    and files written after it a later or equal one, so :meth:`JsonStore.reset` tells an
    earlier run's answers from those of writers running now.

    The kernel stamps files with its coarse clock, up to a tick or two (1-10 ms) behind
    ``time.time()``; waiting until that clock has passed "now" makes the split exact.
    Elsewhere, a 50 ms margin.
    """
    now = time.time()
    if sys.platform.startswith("linux"):
        try:
            deadline = time.monotonic() + 0.2
            while time.monotonic() < deadline:
                coarse = time.clock_gettime(_COARSE_CLOCK)
                if coarse >= now:
                    return coarse
                time.sleep(0.0005)
        except OSError:
            pass
    return now - 0.05


def io_error(path: Path, what: str, error: OSError) -> StoreError:
    reason = "disk full" if error.errno == errno.ENOSPC else (error.strerror or str(error))
    return StoreError(f"{path}: cannot be {what}: {reason}", path=str(path))


def _new_temp(tmp_dir: Path, prefix: str) -> tuple[int, str]:
    """A new, empty file of a name no one else has: tempfile.mkstemp's way, but created with
    mode 0666 less the umask, as the user's other files are (mkstemp's 0600 would make every
    recording private, unlike the msgpack store's file and the rest of the repository)."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_BINARY", 0)
    for _ in range(100):
        name = os.path.join(tmp_dir, f"{prefix}{os.urandom(6).hex()}.tmp")
        try:
            return os.open(name, flags, 0o666), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(tmp_dir))


def write_temp(tmp_dir: Path, data: bytes, target: Path, prefix: str = "") -> str:
    """A new file in ``tmp_dir`` holding ``data``, synced to disk, for an atomic rename onto
    ``target`` (named in errors); returns its path. ``prefix`` goes before the usual name."""
    fd = -1
    name = ""
    try:
        fd, name = _new_temp(tmp_dir, f"{prefix}{os.getpid()}-{host_tag()}-")
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
        fd, closing = -1, fd
        os.close(closing)
        return name
    except BaseException as e:  # also KeyboardInterrupt: never leave half a temp file
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
        if name:
            with contextlib.suppress(OSError):
                os.unlink(name)
        if isinstance(e, OSError):
            raise io_error(target, "written", e) from None
        raise


def same_file(fd: int, path: Path) -> bool:
    """Whether ``fd`` is still the file at ``path`` (not removed, nor replaced)."""
    try:
        here, there = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def write_atomically(tmp_dir: Path, data: bytes, target: Path) -> None:
    """Put ``data`` at ``target`` whole or not at all: a temp file in ``tmp_dir``, renamed."""
    tmp = write_temp(tmp_dir, data, target)
    try:
        os.replace(tmp, target)
    except OSError as e:
        raise io_error(target, "written", e) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
