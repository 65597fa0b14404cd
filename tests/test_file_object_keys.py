"""Review of issue 20 point 13: file objects are keyed by base name and content, read without
moving the caller's position. Three file objects it does not handle."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import apirec


@apirec.record
def upload_batch(file: object, purpose: str) -> dict[str, object]:
    return {"bytes": len(file.read()), "purpose": purpose}  # type: ignore[attr-defined]


def test_a_named_temporary_file_is_keyed_by_its_content(store_dir: Path) -> None:
    # the usual way a test writes a file and hands it to a recorded upload (rec.patch of an
    # SDK's upload, or @apirec.record): a file object, but no io.IOBase (tempfile's wrapper)
    with tempfile.NamedTemporaryFile(suffix=".jsonl") as f:
        f.write(b'{"a": 1}\n')
        f.seek(0)
        with apirec.recording(store_dir, mode="record"):
            # happened: UnhashableArgument ("tempfile._TemporaryFileWrapper has no canonical
            # form"), the error point 13 set out to remove
            assert upload_batch(f, "batch") == {"bytes": 9, "purpose": "batch"}


def test_a_file_that_never_ends_is_refused_not_read_forever(tmp_path: Path) -> None:
    # a character device (or any endless file object) is seekable and readable without end:
    # file_key reads it whole before the call, so the process hangs, at 100% CPU
    code = (
        "import apirec\n"
        "@apirec.record\n"
        "def upload(file):\n"
        "    return file.read(4)\n"
        f"with apirec.recording({str(tmp_path)!r}, mode='record'):\n"
        "    with open('/dev/zero', 'rb') as f:\n"
        "        try:\n"
        "            upload(f)\n"
        "        except apirec.ApirecError:\n"
        "            pass\n"
    )
    try:
        subprocess.run([sys.executable, "-c", code], timeout=15, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail("keying an upload of /dev/zero did not finish in 15 s")


def test_the_position_is_kept_when_the_file_cannot_be_keyed(tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"ab" + b"c" * 9000 + b"\xff")  # text, then a byte utf-8 cannot read
    with apirec.recording(tmp_path / "rec", mode="record"):

        @apirec.record
        def upload(file: object) -> str:
            return "ok"

        with open(path, encoding="utf-8") as f:
            f.read(2)
            with pytest.raises(apirec.UnhashableArgument):
                upload(f)
            # expected: still 2 ("read without moving the caller's file position");
            # happened: 9003, where the digest's read stopped
            assert f.tell() == 2


@pytest.mark.parametrize("kind", ["disk", "memory", "path"])
def test_a_file_larger_than_the_limit_is_refused_naming_its_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    import io

    from apirec.keys import files

    monkeypatch.setattr(files, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * 5000)

    @apirec.record
    def upload(file: object) -> str:
        return "ok"

    with apirec.recording(tmp_path / "rec", mode="record"):
        if kind == "path":  # a Path is read for its key within the same limit
            with pytest.raises(apirec.UnhashableArgument) as caught:
                upload(path)
        else:
            f = open(path, "rb") if kind == "disk" else io.BytesIO(path.read_bytes())  # noqa: SIM115
            with f:
                f.read(3)
                with pytest.raises(apirec.UnhashableArgument) as caught:
                    upload(f)
                assert f.tell() == 3
    text = str(caught.value)
    assert "1000 bytes" in text and "'file'" in text
    assert ("more than 1000" in text) if kind == "memory" else ("5000 bytes" in text)
