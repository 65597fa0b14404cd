"""A recording that cannot be written raises apirec.StoreError naming the path, after the call,
and leaves no partial file: neither half a recording nor a temporary file.

The suite may run as root, where ``chmod`` does not stop writes: a read-only directory is then
made with ``chattr +i`` (immutable, refused even to root). A full disk is simulated by making
``os.write`` fail with ENOSPC halfway, and shown for real with a file size limit
(``RLIMIT_FSIZE``) in a child process, where the kernel itself refuses the write.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import apirec
from apirec.stores import json_store as store_module
from apirec.stores.json_store import TMP_DIR

calls: list[str] = []


@apirec.record(name="failures.answer")
def answer(question: str) -> dict[str, str]:
    calls.append(question)
    return {"question": question, "answer": "42"}


@apirec.record(name="failures.answer_async")
async def answer_async(question: str) -> dict[str, str]:
    calls.append(question)
    return {"question": question, "answer": "42"}


@pytest.fixture(autouse=True)
def _fresh_calls() -> None:
    calls.clear()


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def check_store_error(error: apirec.StoreError, root: Path) -> None:
    assert str(root) in str(error)
    assert error.path.startswith(str(root))
    assert "failures.answer" in str(error) and "was called" in str(error)


@pytest.fixture
def make_read_only() -> Iterator[Callable[[Path], None]]:
    undo: list[list[str] | Path] = []

    def make(path: Path) -> None:
        if os.geteuid() != 0:
            path.chmod(0o555)
            undo.append(path)
            return
        chattr = shutil.which("chattr")
        if chattr is None:
            pytest.skip("running as root without chattr: no way to make a directory read-only")
        done = subprocess.run([chattr, "+i", str(path)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"running as root and chattr +i is refused: {done.stderr.strip()}")
        undo.append([chattr, "-i", str(path)])

    yield make
    for item in reversed(undo):
        if isinstance(item, Path):
            item.chmod(0o755)
        else:
            subprocess.run(item, check=True)


def test_read_only_directory(tmp_path: Path, make_read_only: Callable[[Path], None]) -> None:
    root = tmp_path / "recordings"
    root.mkdir()
    make_read_only(root)
    with pytest.raises(apirec.StoreError) as caught, apirec.recording(root, mode="record"):
        answer("life")
    assert calls == ["life"], "the call was made before the write failed"
    check_store_error(caught.value, root)
    assert files_under(root) == {}


@pytest.mark.parametrize("mode", ["record", "record-if-missing"])
def test_read_only_directory_keeps_the_previous_recordings(
    tmp_path: Path, make_read_only: Callable[[Path], None], mode: str
) -> None:
    root = tmp_path / "recordings"
    with apirec.recording(root, mode="record"):
        answer("life")
        answer("universe")
    before = files_under(root)
    make_read_only(root)  # its temporary directory stays writable: the final link fails
    with pytest.raises(apirec.StoreError) as caught, apirec.recording(root, mode=mode):
        answer("life")  # record: replaces; record-if-missing: replays
        answer("everything")  # a new answer in both modes
    check_store_error(caught.value, root)
    assert files_under(root) == before, "no partial or temporary file, nothing lost"
    with apirec.recording(root, mode="replay"):
        assert answer("universe") == {"question": "universe", "answer": "42"}


def test_directory_under_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "plain-file").write_text("not a directory")
    root = tmp_path / "plain-file" / "recordings"
    with pytest.raises(apirec.StoreError) as caught, apirec.recording(root, mode="record"):
        answer("life")
    assert calls == ["life"]
    check_store_error(caught.value, root)


def fail_halfway(monkeypatch: pytest.MonkeyPatch, syscall: str, code: int) -> None:
    real = getattr(os, syscall)

    def failing(*args: object) -> object:
        if syscall == "write":  # part of the data reaches the disk first
            fd, data = args
            real(fd, bytes(data[: len(data) // 2]))  # type: ignore[index]
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(store_module.os, syscall, failing)


@pytest.mark.parametrize(
    ("syscall", "code", "reason"),
    [
        ("write", errno.ENOSPC, "disk full"),
        ("fsync", errno.EIO, os.strerror(errno.EIO)),
        ("link", errno.ENOSPC, "disk full"),
    ],
)
@pytest.mark.parametrize("flavour", ["sync", "async"])
async def test_full_disk(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    syscall: str,
    code: int,
    reason: str,
    flavour: str,
) -> None:
    root = tmp_path / "recordings"
    with apirec.recording(root, mode="record"):
        answer("life")
    before = files_under(root)
    fail_halfway(monkeypatch, syscall, code)
    with pytest.raises(apirec.StoreError) as caught:
        async with apirec.recording(root, mode="record-if-missing"):
            assert answer("life") == {"question": "life", "answer": "42"}  # replayed
            if flavour == "sync":
                answer("universe")
            else:
                await answer_async("universe")
    monkeypatch.undo()
    assert calls == ["life", "universe"]
    assert reason in str(caught.value)
    assert str(root) in str(caught.value)
    assert files_under(root) == before, "no partial or temporary file, nothing lost"


FSIZE_CHILD = """
import json, resource, signal, sys
import apirec

@apirec.record(name="failures.blob")
def blob(size: int) -> str:
    return "x" * size

root = sys.argv[1]
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
result = {}
with apirec.recording(root, mode="record"):
    blob(100)
    try:
        blob(1_000_000)
    except apirec.StoreError as e:
        result = {"type": type(e).__name__, "message": str(e), "path": e.path}
print(json.dumps(result))
"""


def test_file_size_limit_refused_by_the_kernel(tmp_path: Path) -> None:
    root = tmp_path / "recordings"
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(FSIZE_CHILD), str(root)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["type"] == "StoreError"
    assert os.strerror(errno.EFBIG) in result["message"]
    assert result["path"].startswith(str(root))
    left = files_under(root)
    assert len(left) == 1, "only the small recording, complete"
    ((name, data),) = left.items()
    assert TMP_DIR not in name
    assert json.loads(data)["response"]["body"] == "x" * 100


@pytest.mark.parametrize("syscall", ["stat", "open"])
def test_unreadable_store_is_a_store_error_naming_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, syscall: str
) -> None:
    # Reading fails too (a directory without search permission, an I/O error): a StoreError
    # naming the file, not a bare OSError from inside pathlib.
    root = tmp_path / "recordings"
    with apirec.recording(root, mode="record"):
        answer("life")
    real = getattr(os, syscall)

    def refused(path: object, *args: object, **kwargs: object) -> object:
        if str(path).startswith(str(root)) and str(path).endswith(".json"):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(store_module.os, syscall, refused)
    with pytest.raises(apirec.StoreError) as caught, apirec.recording(root, mode="replay"):
        answer("life")
    monkeypatch.undo()
    assert str(root) in str(caught.value) and caught.value.path.startswith(str(root))
    assert os.strerror(errno.EACCES) in str(caught.value)
    assert calls == ["life"], "replay never calls through"
